//! A small readline for the interactive shell on a terminal: cursor keys,
//! home/end, backspace/delete, kill keys, history and tab completion. Keys
//! are decoded and applied by pure code (tested without a terminal); only
//! `read_line` switches the terminal to raw mode, restoring it on every exit.

use std::io::{self, Write};
use std::os::fd::BorrowedFd;
use std::path::Path;

use rustix::termios::{self, InputModes, LocalModes, OptionalActions, Termios};

use super::console::FdReader;

/// Characters that end the word being completed (Python's readline
/// defaults without `:`, `*` and `-`, as 4.3 sets them).
const COMPLETER_DELIMS: &str = " \t\n`~!@#$%^&()=+[{]}\\|;'\",<>/?";

/// Tab completion: (word being completed, whole line) -> candidates.
pub type Completer = dyn FnMut(&str, &str) -> Vec<String>;

/// What one `read_line` produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    Line(String),
    /// Ctrl-D on an empty line, or the terminal closed.
    Eof,
    /// Ctrl-C.
    Interrupt,
}

/// A decoded key press.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Enter,
    Backspace,
    Delete,
    /// Ctrl-D: end of input on an empty line, else delete.
    EndOfInput,
    Left,
    Right,
    Home,
    End,
    Up,
    Down,
    Tab,
    Interrupt,
    KillToEnd,
    KillToStart,
    KillWordBack,
    Redraw,
    Ignored,
}

/// A source of raw input bytes.
pub trait ByteSource {
    fn next_byte(&mut self) -> io::Result<Option<u8>>;
}

impl<F: std::os::fd::AsFd> ByteSource for FdReader<F> {
    fn next_byte(&mut self) -> io::Result<Option<u8>> {
        self.read_byte()
    }
}

impl ByteSource for std::collections::VecDeque<u8> {
    fn next_byte(&mut self) -> io::Result<Option<u8>> {
        Ok(self.pop_front())
    }
}

/// Reads one key; None when the input ended.
pub fn read_key(src: &mut dyn ByteSource) -> io::Result<Option<Key>> {
    let Some(b) = src.next_byte()? else {
        return Ok(None);
    };
    let key = match b {
        0x01 => Key::Home,
        0x02 => Key::Left,
        0x03 => Key::Interrupt,
        0x04 => Key::EndOfInput,
        0x05 => Key::End,
        0x06 => Key::Right,
        0x08 | 0x7f => Key::Backspace,
        0x09 => Key::Tab,
        0x0a | 0x0d => Key::Enter,
        0x0b => Key::KillToEnd,
        0x0c => Key::Redraw,
        0x0e => Key::Down,
        0x10 => Key::Up,
        0x15 => Key::KillToStart,
        0x17 => Key::KillWordBack,
        0x1b => read_escape(src)?,
        b if b < 0x20 => Key::Ignored,
        b => read_char(b, src)?,
    };
    Ok(Some(key))
}

/// Decodes `ESC [ ...` and `ESC O ...` sequences.
fn read_escape(src: &mut dyn ByteSource) -> io::Result<Key> {
    let Some(kind) = src.next_byte()? else {
        return Ok(Key::Ignored);
    };
    if kind != b'[' && kind != b'O' {
        return Ok(Key::Ignored);
    }
    let mut params = Vec::new();
    loop {
        let Some(b) = src.next_byte()? else {
            return Ok(Key::Ignored);
        };
        if b.is_ascii_digit() || b == b';' {
            if params.len() < 16 {
                params.push(b);
            }
            continue;
        }
        let first: String = params
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .map(|&b| b as char)
            .collect();
        return Ok(match b {
            b'A' => Key::Up,
            b'B' => Key::Down,
            b'C' => Key::Right,
            b'D' => Key::Left,
            b'H' => Key::Home,
            b'F' => Key::End,
            b'~' => match first.as_str() {
                "1" | "7" => Key::Home,
                "4" | "8" => Key::End,
                "3" => Key::Delete,
                _ => Key::Ignored,
            },
            _ => Key::Ignored,
        });
    }
}

/// Completes a UTF-8 character whose first byte is `first`.
fn read_char(first: u8, src: &mut dyn ByteSource) -> io::Result<Key> {
    let len = match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return Ok(Key::Ignored),
    };
    let mut bytes = vec![first];
    while bytes.len() < len {
        match src.next_byte()? {
            Some(b) => bytes.push(b),
            None => break,
        }
    }
    Ok(std::str::from_utf8(&bytes)
        .ok()
        .and_then(|s| s.chars().next())
        .map_or(Key::Ignored, Key::Char))
}

/// The line being edited and where the cursor is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LineState {
    pub chars: Vec<char>,
    pub cursor: usize,
}

impl LineState {
    pub fn text(&self) -> String {
        self.chars.iter().collect()
    }

    fn set(&mut self, text: &str) {
        self.chars = text.chars().collect();
        self.cursor = self.chars.len();
    }
}

/// What the terminal needs after a key was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Paint {
    Nothing,
    /// Only a character was appended at the end: echo it.
    Echo(char),
    /// Only text was appended at the end (a completion): echo it.
    EchoText(String),
    Redraw,
    Bell,
}

/// The readline-like editor with its history.
#[derive(Debug, Clone, Default)]
pub struct LineEditor {
    history: Vec<String>,
}

/// One editing session: state plus the history cursor.
struct Session<'h> {
    line: LineState,
    history: &'h [String],
    /// Index into history while browsing; `history.len()` = the new line.
    browse: usize,
    draft: String,
    tab_pending: bool,
}

impl<'h> Session<'h> {
    fn new(history: &'h [String]) -> Self {
        Session {
            line: LineState::default(),
            history,
            browse: history.len(),
            draft: String::new(),
            tab_pending: false,
        }
    }

    /// Applies an editing key (not Enter/Ctrl-C/Tab, which the caller handles).
    fn apply(&mut self, key: Key) -> Paint {
        let line = &mut self.line;
        match key {
            Key::Char(c) => {
                let at_end = line.cursor == line.chars.len();
                line.chars.insert(line.cursor, c);
                line.cursor += 1;
                if at_end {
                    Paint::Echo(c)
                } else {
                    Paint::Redraw
                }
            }
            Key::Backspace if line.cursor > 0 => {
                line.cursor -= 1;
                line.chars.remove(line.cursor);
                Paint::Redraw
            }
            Key::Delete | Key::EndOfInput if line.cursor < line.chars.len() => {
                line.chars.remove(line.cursor);
                Paint::Redraw
            }
            Key::Left if line.cursor > 0 => {
                line.cursor -= 1;
                Paint::Redraw
            }
            Key::Right if line.cursor < line.chars.len() => {
                line.cursor += 1;
                Paint::Redraw
            }
            Key::Home => {
                line.cursor = 0;
                Paint::Redraw
            }
            Key::End => {
                line.cursor = line.chars.len();
                Paint::Redraw
            }
            Key::KillToEnd => {
                line.chars.truncate(line.cursor);
                Paint::Redraw
            }
            Key::KillToStart => {
                line.chars.drain(..line.cursor);
                line.cursor = 0;
                Paint::Redraw
            }
            Key::KillWordBack => {
                let mut start = line.cursor;
                while start > 0 && line.chars.get(start - 1).is_some_and(|c| c.is_whitespace()) {
                    start -= 1;
                }
                while start > 0
                    && line
                        .chars
                        .get(start - 1)
                        .is_some_and(|c| !c.is_whitespace())
                {
                    start -= 1;
                }
                line.chars.drain(start..line.cursor);
                line.cursor = start;
                Paint::Redraw
            }
            Key::Up if self.browse > 0 => {
                if self.browse == self.history.len() {
                    self.draft = line.text();
                }
                self.browse -= 1;
                let entry = self.history.get(self.browse).cloned().unwrap_or_default();
                line.set(&entry);
                Paint::Redraw
            }
            Key::Down if self.browse < self.history.len() => {
                self.browse += 1;
                let entry = if self.browse == self.history.len() {
                    self.draft.clone()
                } else {
                    self.history.get(self.browse).cloned().unwrap_or_default()
                };
                line.set(&entry);
                Paint::Redraw
            }
            Key::Redraw => Paint::Redraw,
            Key::Ignored => Paint::Nothing,
            _ => Paint::Bell,
        }
    }

    /// Tab: complete the word before the cursor from `candidates`. Returns
    /// the candidates to list when the second Tab finds several.
    fn complete(&mut self, completer: &mut Completer) -> (Paint, Option<Vec<String>>) {
        let before: String = self.line.chars.iter().take(self.line.cursor).collect();
        let start = before
            .char_indices()
            .filter(|(_, c)| COMPLETER_DELIMS.contains(*c))
            .map(|(i, c)| i + c.len_utf8())
            .next_back()
            .unwrap_or(0);
        let word = before.get(start..).unwrap_or("").to_string();
        let line_text = self.line.text();
        let matches = completer(&word, &line_text);
        let matches: Vec<String> = matches
            .into_iter()
            .filter(|m| m.starts_with(&word))
            .collect();
        let repeat = std::mem::replace(&mut self.tab_pending, true);
        match matches.len() {
            0 => (Paint::Bell, None),
            1 => {
                let extra: Vec<char> = matches
                    .first()
                    .map(|m| m.chars().skip(word.chars().count()).collect())
                    .unwrap_or_default();
                self.tab_pending = false;
                (self.insert(&extra), None)
            }
            _ => {
                let prefix = common_prefix(&matches);
                let extra: Vec<char> = prefix.chars().skip(word.chars().count()).collect();
                if !extra.is_empty() {
                    (self.insert(&extra), None)
                } else if repeat {
                    (Paint::Redraw, Some(matches))
                } else {
                    (Paint::Bell, None)
                }
            }
        }
    }

    /// Inserts at the cursor; appending at the end only needs an echo.
    fn insert(&mut self, extra: &[char]) -> Paint {
        let at_end = self.line.cursor == self.line.chars.len();
        for &c in extra {
            self.line.chars.insert(self.line.cursor, c);
            self.line.cursor += 1;
        }
        if at_end {
            Paint::EchoText(extra.iter().collect())
        } else {
            Paint::Redraw
        }
    }
}

fn common_prefix(words: &[String]) -> String {
    let Some(first) = words.first() else {
        return String::new();
    };
    let mut len = first.len();
    for w in words.iter().skip(1) {
        len = first
            .char_indices()
            .zip(w.chars())
            .take_while(|((_, a), b)| a == b)
            .map(|((i, a), _)| i + a.len_utf8())
            .last()
            .unwrap_or(0)
            .min(len);
    }
    first.get(..len).unwrap_or("").to_string()
}

/// The terminal in raw mode until dropped.
struct RawMode<'fd> {
    fd: BorrowedFd<'fd>,
    saved: Termios,
}

impl<'fd> RawMode<'fd> {
    fn enter(fd: BorrowedFd<'fd>) -> io::Result<Self> {
        let saved = termios::tcgetattr(fd)?;
        let mut raw = saved.clone();
        raw.local_modes
            .remove(LocalModes::ICANON | LocalModes::ECHO | LocalModes::ISIG | LocalModes::IEXTEN);
        raw.input_modes
            .remove(InputModes::IXON | InputModes::ICRNL | InputModes::INLCR);
        raw.special_codes[termios::SpecialCodeIndex::VMIN] = 1;
        raw.special_codes[termios::SpecialCodeIndex::VTIME] = 0;
        termios::tcsetattr(fd, OptionalActions::Drain, &raw)?;
        Ok(RawMode { fd, saved })
    }
}

impl Drop for RawMode<'_> {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(self.fd, OptionalActions::Drain, &self.saved);
    }
}

/// Where the terminal cursor is relative to the prompt, so a redraw of a
/// line that wraps over several rows can start from the prompt's row.
#[derive(Debug, Clone, Copy)]
struct Screen {
    width: usize,
    prompt_cols: usize,
    /// Row of the terminal cursor, counted from the prompt's row.
    cursor_row: usize,
}

impl Screen {
    fn new(width: usize, prompt: &str) -> Screen {
        Screen {
            width: width.max(1),
            prompt_cols: prompt.chars().count(),
            cursor_row: 0,
        }
    }

    /// Whether appending at the end can be shown by echoing alone: the
    /// cursor must not land on a row boundary (wrapping is left to redraws).
    fn can_echo(&self, line: &LineState) -> bool {
        line.cursor == line.chars.len()
            && !(self.prompt_cols + line.chars.len()).is_multiple_of(self.width)
    }

    fn paint(
        &mut self,
        out: &mut dyn Write,
        prompt: &str,
        line: &LineState,
        what: &Paint,
    ) -> io::Result<()> {
        match what {
            Paint::Nothing => {}
            Paint::Echo(_) | Paint::EchoText(_) if !self.can_echo(line) => {
                self.redraw(out, prompt, line)?
            }
            Paint::Echo(c) => write!(out, "{c}")?,
            Paint::EchoText(text) => out.write_all(text.as_bytes())?,
            Paint::Bell => out.write_all(b"\x07")?,
            Paint::Redraw => self.redraw(out, prompt, line)?,
        }
        self.cursor_row = (self.prompt_cols + line.cursor) / self.width;
        out.flush()
    }

    /// Rewrites prompt and line from the prompt's row, then places the cursor.
    fn redraw(&mut self, out: &mut dyn Write, prompt: &str, line: &LineState) -> io::Result<()> {
        if self.cursor_row > 0 {
            write!(out, "\x1b[{}A", self.cursor_row)?;
        }
        // Clear first: erasing after writing would eat a last-column char.
        write!(out, "\r\x1b[J{prompt}{}", line.text())?;
        let end = self.prompt_cols + line.chars.len();
        let mut end_row = end / self.width;
        if end > 0 && end.is_multiple_of(self.width) {
            if line.cursor == line.chars.len() {
                // Leave the terminal's pending-wrap state: go to the next row.
                out.write_all(b"\n")?;
            } else {
                end_row -= 1;
            }
        }
        let target = self.prompt_cols + line.cursor;
        let (row, col) = (target / self.width, target % self.width);
        if end_row > row {
            write!(out, "\x1b[{}A", end_row - row)?;
        }
        out.write_all(b"\r")?;
        if col > 0 {
            write!(out, "\x1b[{col}C")?;
        }
        Ok(())
    }
}

impl LineEditor {
    pub fn new() -> Self {
        LineEditor::default()
    }

    #[cfg(test)]
    pub fn history(&self) -> &[String] {
        &self.history
    }

    /// Adds a line as CPython's readline hook does: non-empty and not a
    /// repeat of the last entry.
    pub fn remember(&mut self, line: &str) {
        if !line.is_empty() && self.history.last().map(String::as_str) != Some(line) {
            self.history.push(line.to_string());
        }
    }

    /// Reads a GNU readline history file (timestamp lines skipped).
    pub fn load_history(&mut self, path: &Path) {
        let Some(text) = super::console::read_to_string_lossy(path) else {
            return;
        };
        for line in text.lines() {
            let is_timestamp = line.len() > 1
                && line.starts_with('#')
                && line
                    .get(1..)
                    .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()));
            if !is_timestamp {
                self.history.push(line.to_string());
            }
        }
    }

    pub fn save_history(&self, path: &Path) -> io::Result<()> {
        let mut text = String::new();
        for line in &self.history {
            text.push_str(line);
            text.push('\n');
        }
        std::fs::write(path, text)
    }

    /// Edits one line on the terminal behind `input`, echoing to `out`.
    pub fn read_line<F: std::os::fd::AsFd>(
        &mut self,
        prompt: &str,
        input: &mut FdReader<F>,
        out: &mut dyn Write,
        completer: Option<&mut Completer>,
    ) -> io::Result<Edit> {
        out.write_all(prompt.as_bytes())?;
        out.flush()?;
        // The editor only ever runs on the process's own terminal stdin.
        let _raw = RawMode::enter(rustix::stdio::stdin())?;
        let width = termios::tcgetwinsize(rustix::stdio::stdout())
            .map(|w| usize::from(w.ws_col))
            .ok()
            .filter(|w| *w > 0)
            .unwrap_or(80);
        let edit = self.edit(prompt, width, input, out, completer)?;
        if let Edit::Line(line) = &edit {
            self.remember(line);
        }
        Ok(edit)
    }

    /// The editing loop, independent of the terminal (testable).
    pub fn edit(
        &mut self,
        prompt: &str,
        width: usize,
        input: &mut dyn ByteSource,
        out: &mut dyn Write,
        mut completer: Option<&mut Completer>,
    ) -> io::Result<Edit> {
        let history = self.history.clone();
        let mut session = Session::new(&history);
        let mut screen = Screen::new(width, prompt);
        loop {
            let Some(key) = read_key(input)? else {
                return Ok(if session.line.chars.is_empty() {
                    Edit::Eof
                } else {
                    Edit::Line(session.line.text())
                });
            };
            if key != Key::Tab {
                session.tab_pending = false;
            }
            let what = match key {
                Key::Enter => {
                    if session.line.cursor < session.line.chars.len() {
                        session.line.cursor = session.line.chars.len();
                        screen.paint(out, prompt, &session.line, &Paint::Redraw)?;
                    }
                    out.write_all(b"\n")?;
                    out.flush()?;
                    return Ok(Edit::Line(session.line.text()));
                }
                Key::Interrupt => return Ok(Edit::Interrupt),
                Key::EndOfInput if session.line.chars.is_empty() => return Ok(Edit::Eof),
                Key::Tab => match completer.as_deref_mut() {
                    Some(c) => {
                        let (what, listing) = session.complete(c);
                        if let Some(words) = listing {
                            let refs: Vec<&str> = words.iter().map(|w| w.trim_end()).collect();
                            write!(
                                out,
                                "\n{}",
                                super::py::columnize(&refs, width.saturating_sub(1))
                            )?;
                            // The listing ends on a fresh row: the prompt goes there.
                            screen.cursor_row = 0;
                        }
                        what
                    }
                    None => Paint::Bell,
                },
                other => session.apply(other),
            };
            screen.paint(out, prompt, &session.line, &what)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    fn run(editor: &mut LineEditor, keys: &[u8]) -> (Edit, String) {
        let mut input: VecDeque<u8> = keys.iter().copied().collect();
        let mut out = Vec::new();
        let edit = editor.edit("p> ", 80, &mut input, &mut out, None).unwrap();
        if let Edit::Line(l) = &edit {
            editor.remember(l);
        }
        (edit, String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn typing_echoes_and_enter_returns_the_line() {
        let mut e = LineEditor::new();
        let (edit, out) = run(&mut e, b"status\r");
        assert_eq!(edit, Edit::Line("status".into()));
        assert_eq!(out, "status\n");
    }

    #[test]
    fn cursor_keys_edit_in_the_middle() {
        let mut e = LineEditor::new();
        // "sttus", left x3, insert 'a' -> "status"; Home, Delete -> "tatus"; End, 'x'.
        let (edit, _) = run(&mut e, b"sttus\x1b[D\x1b[D\x1b[Da\x01\x1b[3~\x05x\r");
        assert_eq!(edit, Edit::Line("tatusx".into()));
        let (edit, _) = run(&mut e, b"abc\x7f\x7f\x7fz\r");
        assert_eq!(edit, Edit::Line("z".into()));
        let (edit, _) = run(&mut e, b"one two\x17x\r");
        assert_eq!(edit, Edit::Line("one x".into()));
        let (edit, _) = run(&mut e, b"abcdef\x02\x02\x0b\r");
        assert_eq!(edit, Edit::Line("abcd".into()));
        let (edit, _) = run(&mut e, b"abcdef\x02\x02\x15\r");
        assert_eq!(edit, Edit::Line("ef".into()));
    }

    #[test]
    fn ctrl_c_and_ctrl_d() {
        let mut e = LineEditor::new();
        assert_eq!(run(&mut e, b"ver\x03").0, Edit::Interrupt);
        assert_eq!(run(&mut e, b"\x04").0, Edit::Eof);
        // Ctrl-D on a non-empty line deletes under the cursor.
        assert_eq!(run(&mut e, b"ab\x02\x04\r").0, Edit::Line("a".into()));
        assert_eq!(run(&mut e, b"").0, Edit::Eof);
        assert_eq!(run(&mut e, b"part").0, Edit::Line("part".into()));
    }

    #[test]
    fn history_browsing_and_dedup() {
        let mut e = LineEditor::new();
        run(&mut e, b"first\r");
        run(&mut e, b"second\r");
        run(&mut e, b"second\r");
        assert_eq!(e.history(), ["first", "second"]);
        assert_eq!(run(&mut e, b"\x1b[A\x1b[A\r").0, Edit::Line("first".into()));
        assert_eq!(run(&mut e, b"dr\x1b[A\x1b[B\r").0, Edit::Line("dr".into()));
        assert_eq!(run(&mut e, b"\x10\x0e\x0e\r").0, Edit::Line("".into()));
        run(&mut e, b"\r");
        assert_eq!(e.history().len(), 4);
    }

    #[test]
    fn utf8_and_unknown_escapes() {
        let mut e = LineEditor::new();
        assert_eq!(run(&mut e, "é€\r".as_bytes()).0, Edit::Line("é€".into()));
        assert_eq!(
            run(&mut e, b"a\x1b[99Zb\x1bxc\xff\r").0,
            Edit::Line("abc".into())
        );
    }

    #[test]
    fn tab_completion_single_and_common_prefix() {
        let mut e = LineEditor::new();
        let mut comp = |_text: &str, _line: &str| {
            vec![
                "start ".to_string(),
                "status ".to_string(),
                "stop ".to_string(),
            ]
        };
        let mut input: VecDeque<u8> = b"sta\tr\t\r".iter().copied().collect();
        let mut out = Vec::new();
        let edit = e
            .edit("p> ", 80, &mut input, &mut out, Some(&mut comp))
            .unwrap();
        assert_eq!(edit, Edit::Line("start ".into()));
        let mut input: VecDeque<u8> = b"st\t\t\r".iter().copied().collect();
        let mut out = Vec::new();
        e.edit("p> ", 80, &mut input, &mut out, Some(&mut comp))
            .unwrap();
        let shown = String::from_utf8_lossy(&out);
        assert!(shown.contains("start"), "{shown}");
        assert!(shown.contains("stop"), "{shown}");
    }

    #[test]
    fn history_file_round_trip() {
        let dir = std::env::temp_dir().join(format!("ctl-hist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("h");
        std::fs::write(&path, "#1700000000\nstatus\nversion\n").unwrap();
        let mut e = LineEditor::new();
        e.load_history(&path);
        assert_eq!(e.history(), ["status", "version"]);
        e.remember("pid");
        e.save_history(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "status\nversion\npid\n"
        );
        e.load_history(&dir.join("missing"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Replays the escape sequences we emit on a tiny virtual terminal and
    /// returns its rows and cursor, so redraws of wrapped lines are checked
    /// by what a user would see.
    fn screen_after(width: usize, bytes: &[u8]) -> (Vec<String>, (usize, usize)) {
        let mut rows: Vec<Vec<char>> = vec![Vec::new()];
        let (mut r, mut c) = (0usize, 0usize);
        let mut pending_wrap = false;
        let text = String::from_utf8_lossy(bytes).into_owned();
        let mut chars = text.chars().peekable();
        let ensure = |rows: &mut Vec<Vec<char>>, r: usize| {
            while rows.len() <= r {
                rows.push(Vec::new());
            }
        };
        while let Some(ch) = chars.next() {
            match ch {
                '\r' => {
                    c = 0;
                    pending_wrap = false;
                }
                '\n' => {
                    r += 1;
                    c = 0;
                    pending_wrap = false;
                    ensure(&mut rows, r);
                }
                '\x07' => {}
                '\x1b' => {
                    chars.next();
                    let mut n = String::new();
                    let mut fin = ' ';
                    for d in chars.by_ref() {
                        if d.is_ascii_digit() {
                            n.push(d);
                        } else {
                            fin = d;
                            break;
                        }
                    }
                    let n: usize = n.parse().unwrap_or(1);
                    pending_wrap = false;
                    match fin {
                        'A' => r = r.saturating_sub(n),
                        'B' => r += n,
                        'C' => c = (c + n).min(width - 1),
                        'D' => c = c.saturating_sub(n),
                        'J' => {
                            rows[r].truncate(c);
                            rows.truncate(r + 1);
                        }
                        'K' => rows[r].truncate(c),
                        _ => {}
                    }
                    ensure(&mut rows, r);
                }
                ch => {
                    if pending_wrap {
                        r += 1;
                        c = 0;
                        pending_wrap = false;
                        ensure(&mut rows, r);
                    }
                    let row = &mut rows[r];
                    while row.len() < c {
                        row.push(' ');
                    }
                    if row.len() == c {
                        row.push(ch);
                    } else {
                        row[c] = ch;
                    }
                    if c + 1 == width {
                        pending_wrap = true;
                    } else {
                        c += 1;
                    }
                }
            }
        }
        (
            rows.into_iter().map(|r| r.into_iter().collect()).collect(),
            (r, c),
        )
    }

    fn typed(width: usize, keys: &[u8]) -> (Vec<String>, (usize, usize), Edit) {
        let mut e = LineEditor::new();
        let mut input: VecDeque<u8> = keys.iter().copied().collect();
        let mut out = b"p> ".to_vec();
        let edit = e.edit("p> ", width, &mut input, &mut out, None).unwrap();
        let (rows, cursor) = screen_after(width, &out);
        (rows, cursor, edit)
    }

    #[test]
    fn wrapped_lines_redraw_in_place() {
        // Width 10: "p> " + 12 chars spans two rows.
        let (rows, cursor, _) = typed(10, b"abcdefghijkl");
        assert_eq!(rows, vec!["p> abcdefg", "hijkl"]);
        assert_eq!(cursor, (1, 5));
        // Home, then delete the first char: the whole line shifts back.
        let (rows, cursor, _) = typed(10, b"abcdefghijkl\x01\x1b[3~");
        assert_eq!(rows, vec!["p> bcdefgh", "ijkl"]);
        assert_eq!(cursor, (0, 3));
        // Exactly filling a row moves the cursor to the next row.
        let (rows, cursor, _) = typed(10, b"abcdefg");
        assert_eq!(rows, vec!["p> abcdefg", ""]);
        assert_eq!(cursor, (1, 0));
        // Backspace across the row boundary.
        let (rows, cursor, _) = typed(10, b"abcdefgh\x7f\x7f");
        assert_eq!(rows, vec!["p> abcdef"]);
        assert_eq!(cursor, (0, 9));
        // Enter from the middle ends below the whole line.
        let (rows, cursor, edit) = typed(10, b"abcdefghijkl\x01\r");
        assert_eq!(edit, Edit::Line("abcdefghijkl".into()));
        assert_eq!(rows, vec!["p> abcdefg", "hijkl", ""]);
        assert_eq!(cursor, (2, 0));
    }

    #[test]
    fn common_prefix_of_words() {
        assert_eq!(common_prefix(&["start ".into(), "status ".into()]), "sta");
        assert_eq!(common_prefix(&[]), "");
        assert_eq!(common_prefix(&["é1".into(), "é2".into()]), "é");
    }
}
