//! The input side of supervisorctl: Python's `input()` (with readline on a
//! terminal, a plain prompt and line read otherwise) and `getpass()`. One
//! buffered reader of fd 0 serves the shell, its y/N questions and `fg`, so
//! no typed-ahead line is lost between them.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::path::PathBuf;

use rustix::termios::{self, LocalModes, OptionalActions};

use super::interrupt;
use super::lineedit::{Completer, Edit, LineEditor};

/// Why no line came back.
#[derive(Debug)]
pub enum InputError {
    /// End of input: Python's `EOFError`.
    Eof,
    /// Ctrl-C: Python's `KeyboardInterrupt`.
    Interrupt,
    Io(io::Error),
}

impl From<io::Error> for InputError {
    fn from(e: io::Error) -> Self {
        if interrupt::is_interrupt(&e) {
            InputError::Interrupt
        } else {
            InputError::Io(e)
        }
    }
}

/// Where commands read what the user types.
pub trait Console {
    /// `input(prompt)`: one line, without its newline.
    fn input(&mut self, prompt: &str) -> Result<String, InputError>;
    /// `getpass.getpass(prompt)`: one line, not echoed.
    fn getpass(&mut self, prompt: &str) -> Result<String, InputError>;
    /// `input()` while `fg` streams output (no prompt, no line editor).
    fn fg_line(&mut self) -> Result<String, InputError>;
    /// Offers completions to the line editor, when there is one.
    fn set_completer(&mut self, _completer: Option<Box<Completer>>) {}
    /// Loads and later saves readline history (the shell's `history_file`).
    fn use_history_file(&mut self, _path: Option<PathBuf>) {}
    /// Saves the history, as 4.3's `atexit` hook does.
    fn save_history(&mut self) {}
}

/// Buffered, interruptible reads of a file descriptor (normally stdin).
pub struct FdReader<F: AsFd> {
    fd: F,
    buf: Vec<u8>,
    pos: usize,
}

impl<F: AsFd> FdReader<F> {
    pub fn new(fd: F) -> Self {
        FdReader {
            fd,
            buf: Vec::new(),
            pos: 0,
        }
    }

    fn fill(&mut self) -> io::Result<bool> {
        if self.pos < self.buf.len() {
            return Ok(true);
        }
        interrupt::wait_readable(self.fd.as_fd(), None)?;
        let mut chunk = [0u8; 4096];
        let n = loop {
            match rustix::io::read(&self.fd, &mut chunk) {
                Ok(n) => break n,
                Err(rustix::io::Errno::INTR) => continue,
                Err(rustix::io::Errno::AGAIN) => {
                    interrupt::wait_readable(self.fd.as_fd(), None)?;
                }
                Err(e) => return Err(e.into()),
            }
        };
        if n == 0 {
            // A terminal delivers EOF once per Ctrl-D; later reads may bring more.
            return Ok(false);
        }
        self.buf = chunk.get(..n).unwrap_or_default().to_vec();
        self.pos = 0;
        Ok(true)
    }

    /// One byte, or None at end of input.
    pub fn read_byte(&mut self) -> io::Result<Option<u8>> {
        if !self.fill()? {
            return Ok(None);
        }
        let b = self.buf.get(self.pos).copied();
        self.pos += 1;
        Ok(b)
    }

    /// Python's `readline()`: a line with its newline, empty at EOF.
    pub fn read_line(&mut self) -> io::Result<Vec<u8>> {
        let mut line = Vec::new();
        while let Some(b) = self.read_byte()? {
            line.push(b);
            if b == b'\n' {
                break;
            }
        }
        Ok(line)
    }
}

/// `input()`'s way of reading without readline: EOF only when nothing came.
fn line_without_newline(raw: Vec<u8>) -> Result<String, InputError> {
    if raw.is_empty() {
        return Err(InputError::Eof);
    }
    let mut text = String::from_utf8_lossy(&raw).into_owned();
    if text.ends_with('\n') {
        text.pop();
    }
    Ok(text)
}

/// The real terminal/pipe console of the process.
pub struct StdConsole {
    stdin: FdReader<BorrowedFd<'static>>,
    editor: Option<LineEditor>,
    completer: Option<Box<Completer>>,
    history_file: Option<PathBuf>,
}

impl StdConsole {
    pub fn new() -> Self {
        let stdin = rustix::stdio::stdin();
        let stdout = rustix::stdio::stdout();
        // Python's input() uses readline only when both ends are terminals.
        let editor = (termios::isatty(stdin) && termios::isatty(stdout)).then(LineEditor::new);
        StdConsole {
            stdin: FdReader::new(stdin),
            editor,
            completer: None,
            history_file: None,
        }
    }
}

impl Default for StdConsole {
    fn default() -> Self {
        Self::new()
    }
}

impl Console for StdConsole {
    fn input(&mut self, prompt: &str) -> Result<String, InputError> {
        if let Some(editor) = self.editor.as_mut() {
            let mut out = io::stdout().lock();
            let completer = self.completer.as_deref_mut();
            return match editor.read_line(prompt, &mut self.stdin, &mut out, completer)? {
                Edit::Line(line) => Ok(line),
                Edit::Eof => Err(InputError::Eof),
                Edit::Interrupt => Err(InputError::Interrupt),
            };
        }
        {
            let mut out = io::stdout().lock();
            // A vanished stdout must not stop us from reading the answer.
            let _ = out.write_all(prompt.as_bytes());
            let _ = out.flush();
        }
        let raw = self.stdin.read_line()?;
        line_without_newline(raw)
    }

    fn getpass(&mut self, prompt: &str) -> Result<String, InputError> {
        if let Ok(tty) = open_tty() {
            return getpass_on(&tty, &tty, prompt);
        }
        let stdin = rustix::stdio::stdin();
        if termios::isatty(stdin) {
            let mut err = io::stderr();
            let line = with_echo_off(stdin, || {
                let _ = err.write_all(prompt.as_bytes());
                let _ = err.flush();
                self.stdin.read_line()
            })?;
            let _ = err.write_all(b"\n");
            return line_without_newline(line);
        }
        // Python's fallback_getpass: a warning, the prompt on stderr, a plain read.
        let mut err = io::stderr();
        let _ = write!(err, "Warning: Password input may be echoed.\n{prompt}");
        let _ = err.flush();
        let line = self.stdin.read_line();
        let line = line?;
        if line.is_empty() {
            // getpass raises a bare EOFError before writing its final newline.
            return Err(InputError::Eof);
        }
        let _ = err.write_all(b"\n");
        line_without_newline(line)
    }

    fn fg_line(&mut self) -> Result<String, InputError> {
        let raw = self.stdin.read_line()?;
        line_without_newline(raw)
    }

    fn set_completer(&mut self, completer: Option<Box<Completer>>) {
        self.completer = completer;
    }

    fn use_history_file(&mut self, path: Option<PathBuf>) {
        if let (Some(editor), Some(path)) = (self.editor.as_mut(), path.as_ref()) {
            editor.load_history(path);
        }
        self.history_file = path;
    }

    fn save_history(&mut self) {
        let Some(path) = self.history_file.as_ref() else {
            return;
        };
        let empty = LineEditor::new();
        let editor = self.editor.as_ref().unwrap_or(&empty);
        let _ = editor.save_history(path);
    }
}

fn open_tty() -> io::Result<File> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(
        "/dev/tty",
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    Ok(File::from(fd))
}

/// Runs `read` with the terminal's echo turned off, restoring it after.
fn with_echo_off<T>(fd: BorrowedFd<'_>, read: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    let saved = termios::tcgetattr(fd)?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    termios::tcsetattr(fd, OptionalActions::Flush, &quiet)?;
    let result = read();
    let _ = termios::tcsetattr(fd, OptionalActions::Flush, &saved);
    result
}

/// getpass on the controlling terminal: prompt, silent read, newline.
fn getpass_on(input: &File, output: &File, prompt: &str) -> Result<String, InputError> {
    let mut writer = output;
    let mut reader = FdReader::new(input.as_fd());
    let line = with_echo_off(input.as_fd(), || {
        writer.write_all(prompt.as_bytes())?;
        writer.flush()?;
        reader.read_line()
    });
    let _ = writer.write_all(b"\n");
    line_without_newline(line?)
}

/// Reads all of a file for history loading; missing files are fine.
pub fn read_to_string_lossy(path: &std::path::Path) -> Option<String> {
    let mut data = Vec::new();
    File::open(path).ok()?.read_to_end(&mut data).ok()?;
    Some(String::from_utf8_lossy(&data).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream;

    #[test]
    fn reader_splits_lines_and_reports_eof() {
        let (mut a, b) = UnixStream::pair().unwrap();
        a.write_all(b"one\ntwo\nthree").unwrap();
        drop(a);
        let mut r = FdReader::new(b);
        assert_eq!(r.read_line().unwrap(), b"one\n");
        assert_eq!(line_without_newline(r.read_line().unwrap()).unwrap(), "two");
        assert_eq!(
            line_without_newline(r.read_line().unwrap()).unwrap(),
            "three"
        );
        assert!(matches!(
            line_without_newline(r.read_line().unwrap()),
            Err(InputError::Eof)
        ));
    }

    #[test]
    fn bytes_then_lines_share_one_buffer() {
        let (mut a, b) = UnixStream::pair().unwrap();
        a.write_all(b"xy\nz\n").unwrap();
        drop(a);
        let mut r = FdReader::new(b);
        assert_eq!(r.read_byte().unwrap(), Some(b'x'));
        assert_eq!(r.read_line().unwrap(), b"y\n");
        assert_eq!(r.read_line().unwrap(), b"z\n");
        assert_eq!(r.read_byte().unwrap(), None);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        assert_eq!(
            line_without_newline(b"a\xffb\n".to_vec()).unwrap(),
            "a\u{fffd}b"
        );
    }
}
