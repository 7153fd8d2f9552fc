//! The raw INI layer: sections and `key = value` lines exactly as Python's
//! RawConfigParser reads them for Supervisor 4.3 (inline `;`/`#` comments
//! only after whitespace, `:` or `=` separators, lower-cased keys, indented
//! continuation lines, `strict=False` so a repeated section or key merges and
//! the later value wins, and `[DEFAULT]` values visible in every section).
//!
//! ini_core splits the text into lines (with `\n`, `\r\n` and `\r` endings,
//! as Python's universal newlines do); its own item rules differ from
//! Python's (no `:` separator, no continuations, `;` only at column 0), so
//! each line is re-read here with Python's rules. Every entry keeps its file
//! and line so later errors can point at it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::values::{is_py_space, py_strip, repr};

/// One `key = value`, after continuation lines were joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Lower-cased, as optionxform does.
    pub key: String,
    pub value: String,
    /// The file the line was read from (`%(here)s` is its directory).
    pub file: Arc<Path>,
    /// 1-based line of the key.
    pub line: usize,
}

/// One section; its entries in reading order, later ones overriding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// As written between the brackets (case and spaces kept).
    pub name: String,
    /// Where the section first appeared.
    pub file: Arc<Path>,
    pub line: usize,
    entries: Vec<Entry>,
}

impl Section {
    /// The value in effect for `key` (the last one read).
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| e.key == key)
    }

    #[cfg(test)]
    /// Distinct keys in the order they first appeared.
    pub fn keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = Vec::new();
        for e in &self.entries {
            if !keys.contains(&e.key.as_str()) {
                keys.push(&e.key);
            }
        }
        keys
    }
}

/// A whole configuration: sections in the order they first appeared.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Document {
    sections: Vec<Section>,
    /// `[DEFAULT]`: fallbacks for every section.
    defaults: Vec<Entry>,
}

/// A file that is not INI as Python reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

/// The section name that holds defaults, as in Python.
pub const DEFAULT_SECTION: &str = "DEFAULT";

impl Document {
    /// Parses raw bytes; text that is not UTF-8 is an error naming the line.
    pub fn parse_bytes(bytes: &[u8], file: &Path) -> Result<Document, IniError> {
        match std::str::from_utf8(bytes) {
            Ok(text) => Document::parse(text, file),
            Err(e) => {
                let before = bytes.get(..e.valid_up_to()).unwrap_or_default();
                let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
                Err(IniError {
                    file: file.to_path_buf(),
                    line,
                    message: "file is not valid UTF-8 text".to_string(),
                })
            }
        }
    }

    /// Parses one file's text as RawConfigParser does.
    pub fn parse(text: &str, file: &Path) -> Result<Document, IniError> {
        // A UTF-8 byte order mark is not part of the first line (Python
        // would keep it and then find no section header).
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = Reader::new(Arc::from(file));
        for (index, line) in lines(text).enumerate() {
            reader.line(index + 1, &line)?;
        }
        Ok(reader.finish())
    }

    /// Adds a later file's sections: a section seen before gets the new
    /// entries appended (they override), a new section goes last.
    pub fn merge(&mut self, later: Document) {
        for section in later.sections {
            match self.sections.iter_mut().find(|s| s.name == section.name) {
                Some(existing) => existing.entries.extend(section.entries),
                None => self.sections.push(section),
            }
        }
        self.defaults.extend(later.defaults);
    }

    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    #[cfg(test)]
    /// The value of `key` in `section`, falling back to `[DEFAULT]`.
    pub fn get(&self, section: &str, key: &str) -> Option<&Entry> {
        self.get_in(self.section(section)?, key)
    }

    /// [`Document::get`] for a section already at hand.
    pub fn get_in<'a>(&'a self, section: &'a Section, key: &str) -> Option<&'a Entry> {
        section
            .get(key)
            .or_else(|| self.defaults.iter().rev().find(|e| e.key == key))
    }

    #[cfg(test)]
    /// Keys visible in `section`, its own first, then `[DEFAULT]`'s.
    pub fn keys(&self, section: &str) -> Vec<&str> {
        let mut keys = self.section(section).map(Section::keys).unwrap_or_default();
        for e in &self.defaults {
            if !keys.contains(&e.key.as_str()) {
                keys.push(&e.key);
            }
        }
        keys
    }
}

/// The file's lines without their terminators. ini_core's items print back
/// as the exact line they were read from.
fn lines(text: &str) -> impl Iterator<Item = String> + '_ {
    ini_core::Parser::new(text)
        .filter(|item| *item != ini_core::Item::SectionEnd)
        .map(|item| {
            let mut line = item.to_string();
            if line.ends_with('\n') {
                line.pop();
            }
            line
        })
}

/// Where entries are being added: a section, or `[DEFAULT]`.
#[derive(Clone, Copy)]
enum Target {
    Section(usize),
    Defaults,
}

/// RawConfigParser._read's state for one file.
struct Reader {
    file: Arc<Path>,
    doc: Document,
    current: Option<Target>,
    /// Whether the last entry of `current` takes continuation lines (false
    /// right after a section header).
    open: bool,
    /// Indentation of the last key or header line.
    indent: usize,
}

impl Reader {
    fn new(file: Arc<Path>) -> Reader {
        Reader {
            file,
            doc: Document::default(),
            current: None,
            open: false,
            indent: 0,
        }
    }

    fn error(&self, line: usize, message: String) -> IniError {
        IniError {
            file: self.file.to_path_buf(),
            line,
            message,
        }
    }

    /// The entry continuation lines extend, if one is open.
    fn open_entry(&mut self) -> Option<&mut Entry> {
        if !self.open {
            return None;
        }
        match self.current? {
            Target::Section(i) => self.doc.sections.get_mut(i)?.entries.last_mut(),
            Target::Defaults => self.doc.defaults.last_mut(),
        }
    }

    fn line(&mut self, number: usize, line: &str) -> Result<(), IniError> {
        let comment = comment_start(line);
        let value = py_strip(&line[..comment.unwrap_or(line.len())]);
        if value.is_empty() {
            // A blank line inside a value is kept (as an empty line); a
            // comment line is not.
            if comment.is_none() {
                if let Some(entry) = self.open_entry() {
                    entry.value.push('\n');
                }
            }
            return Ok(());
        }
        let indent = line.chars().take_while(|&c| is_py_space(c)).count();
        if indent > self.indent {
            if let Some(entry) = self.open_entry() {
                entry.value.push('\n');
                entry.value.push_str(value);
                return Ok(());
            }
        }
        self.indent = indent;
        if let Some(name) = section_header(value) {
            self.open_section(name, number);
            return Ok(());
        }
        let Some(target) = self.current else {
            return Err(self.error(
                number,
                format!("File contains no section headers: {}", repr(line)),
            ));
        };
        let Some((key, rest)) = split_option(value) else {
            return Err(self.error(
                number,
                format!("Source contains parsing errors: {}", repr(line)),
            ));
        };
        let entry = Entry {
            key: key.to_lowercase(),
            value: rest.to_string(),
            file: self.file.clone(),
            line: number,
        };
        match target {
            Target::Section(i) => {
                if let Some(section) = self.doc.sections.get_mut(i) {
                    section.entries.push(entry);
                }
            }
            Target::Defaults => self.doc.defaults.push(entry),
        }
        self.open = true;
        Ok(())
    }

    fn open_section(&mut self, name: &str, number: usize) {
        self.open = false;
        if name == DEFAULT_SECTION {
            self.current = Some(Target::Defaults);
            return;
        }
        let index = match self.doc.sections.iter().position(|s| s.name == name) {
            Some(i) => i,
            None => {
                self.doc.sections.push(Section {
                    name: name.to_string(),
                    file: self.file.clone(),
                    line: number,
                    entries: Vec::new(),
                });
                self.doc.sections.len() - 1
            }
        };
        self.current = Some(Target::Section(index));
    }

    /// Drops the blank lines that ended values (`'\n'.join(val).rstrip()`).
    fn finish(mut self) -> Document {
        let entries = self
            .doc
            .sections
            .iter_mut()
            .flat_map(|s| s.entries.iter_mut())
            .chain(self.doc.defaults.iter_mut());
        for entry in entries {
            let kept = entry.value.trim_end_matches(is_py_space).len();
            entry.value.truncate(kept);
        }
        self.doc
    }
}

/// Where a comment starts: a `;` or `#` at the start of the line or after
/// whitespace, or anywhere when the stripped line begins with one. Python
/// looks at the n-th occurrence of each prefix in rounds and stops at the
/// first round that finds a match, so this does the same.
fn comment_start(line: &str) -> Option<usize> {
    let trimmed = py_strip(line);
    if trimmed.starts_with(';') || trimmed.starts_with('#') {
        return Some(0);
    }
    let mut searching: Vec<(u8, Option<usize>)> = vec![(b';', None), (b'#', None)];
    while !searching.is_empty() {
        let mut best: Option<usize> = None;
        let mut next_round = Vec::new();
        for (prefix, previous) in searching {
            let from = previous.map_or(0, |p| p + 1);
            let Some(found) = line
                .get(from..)
                .and_then(|rest| rest.bytes().position(|b| b == prefix))
                .map(|i| i + from)
            else {
                continue;
            };
            next_round.push((prefix, Some(found)));
            let after_space = found == 0
                || line
                    .get(..found)
                    .and_then(|before| before.chars().next_back())
                    .is_some_and(is_py_space);
            if after_space {
                best = Some(best.map_or(found, |b: usize| b.min(found)));
            }
        }
        if best.is_some() {
            return best;
        }
        searching = next_round;
    }
    None
}

/// `[name]` as SECTCRE matches it: from the first `[` to the last `]`,
/// anything after that `]` ignored, at least one character inside.
fn section_header(value: &str) -> Option<&str> {
    let inner = value.strip_prefix('[')?;
    let close = inner.rfind(']')?;
    // `[]` has nothing inside; `[]]` names the section "]".
    inner.get(..close).filter(|name| !name.is_empty())
}

/// `key = value` or `key: value`, split at the first `=` or `:` (OPTCRE is
/// non-greedy), both sides stripped. An empty key is a parsing error.
fn split_option(value: &str) -> Option<(&str, &str)> {
    let at = value.find(['=', ':'])?;
    let key = value[..at].trim_end_matches(is_py_space);
    let rest = py_strip(&value[at + 1..]);
    if key.is_empty() {
        None
    } else {
        Some((key, rest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Document {
        Document::parse(text, Path::new("/etc/test.conf")).unwrap()
    }

    fn value<'a>(doc: &'a Document, section: &str, key: &str) -> Option<&'a str> {
        doc.get(section, key).map(|e| e.value.as_str())
    }

    #[test]
    fn sections_keys_and_separators() {
        let doc = parse("[supervisord]\nlogfile = /tmp/a.log\nLogLevel: debug\n\n[program:x]\ncommand=/bin/cat\n");
        let names: Vec<&str> = doc.sections().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["supervisord", "program:x"]);
        assert_eq!(value(&doc, "supervisord", "logfile"), Some("/tmp/a.log"));
        assert_eq!(value(&doc, "supervisord", "loglevel"), Some("debug"));
        assert_eq!(value(&doc, "program:x", "command"), Some("/bin/cat"));
        assert_eq!(value(&doc, "program:x", "nope"), None);
        assert_eq!(value(&doc, "nope", "command"), None);
    }

    #[test]
    fn first_separator_wins_and_values_keep_later_ones() {
        let doc = parse("[s]\nurl = http://h:9001/x=y\nkey:a=b\na b = c \n");
        assert_eq!(value(&doc, "s", "url"), Some("http://h:9001/x=y"));
        assert_eq!(value(&doc, "s", "key"), Some("a=b"));
        assert_eq!(value(&doc, "s", "a b"), Some("c"));
    }

    #[test]
    fn empty_values_are_values() {
        let doc = parse("[s]\nempty =\nalso:\n");
        assert_eq!(value(&doc, "s", "empty"), Some(""));
        assert_eq!(value(&doc, "s", "also"), Some(""));
    }

    #[test]
    fn line_numbers_and_files_are_kept() {
        let doc = parse("; head\n[s]\n\na = 1\n  more\nb = 2\n");
        let a = doc.get("s", "a").unwrap();
        assert_eq!((a.line, a.value.as_str()), (4, "1\nmore"));
        assert_eq!(doc.get("s", "b").unwrap().line, 6);
        assert_eq!(doc.section("s").unwrap().line, 2);
        assert_eq!(&*a.file, Path::new("/etc/test.conf"));
    }

    #[test]
    fn comments_full_line_and_inline() {
        let doc = parse(
            "# top\n; top\n[s]\n  ; indented comment\na = 1 ; note\nb = 2 # note\nc = x;y#z\nd = \"q ;x\"\ne = ;all comment\nf=\tv\t#tab before\n",
        );
        assert_eq!(value(&doc, "s", "a"), Some("1"));
        assert_eq!(value(&doc, "s", "b"), Some("2"));
        assert_eq!(value(&doc, "s", "c"), Some("x;y#z"));
        // quotes do not protect from comments
        assert_eq!(value(&doc, "s", "d"), Some("\"q"));
        assert_eq!(value(&doc, "s", "e"), Some(""));
        assert_eq!(value(&doc, "s", "f"), Some("v"));
    }

    #[test]
    fn inline_comment_rounds_follow_python() {
        // Round 1 finds ';' at 1 (not after space) and '#' at 4 (after
        // space): comment at 4.
        assert_eq!(comment_start("a;b #c"), Some(4));
        assert_eq!(comment_start("abc"), None);
        assert_eq!(comment_start("a ;b"), Some(2));
        assert_eq!(comment_start("x;y;z ;w"), Some(6));
        // Python's quirk, checked with CPython: round 1 finds ';' at 9
        // after a space and stops, so the earlier ' #' at 6 (the third
        // '#') is never seen and "a#b#c #d" is the value.
        assert_eq!(comment_start("a#b#c #d ;e;f"), Some(9));
    }

    #[test]
    fn header_after_comment_and_header_garbage() {
        let doc = parse("[a] ; comment\nx=1\n[b]trailing\ny=2\n[c]d]\nz=3\n[]]\nw=4\n");
        assert_eq!(value(&doc, "a", "x"), Some("1"));
        assert_eq!(value(&doc, "b", "y"), Some("2"));
        assert_eq!(value(&doc, "c]d", "z"), Some("3"));
        assert_eq!(value(&doc, "]", "w"), Some("4"));
    }

    #[test]
    fn section_names_keep_case_and_spaces() {
        let doc = parse("[ Program:X ]\nA=1\n");
        assert_eq!(doc.sections()[0].name, " Program:X ");
        assert_eq!(value(&doc, " Program:X ", "a"), Some("1"));
    }

    #[test]
    fn continuation_lines_join_with_newlines() {
        let doc = parse(
            "[s]\ncommand = /bin/sh -c\n  \"echo a\n\tb\"\n  # comment inside\n\n  after blank\n\n\nnext = 1\n",
        );
        assert_eq!(
            value(&doc, "s", "command"),
            Some("/bin/sh -c\n\"echo a\nb\"\n\nafter blank")
        );
        assert_eq!(value(&doc, "s", "next"), Some("1"));
    }

    #[test]
    fn indented_keys_start_values_when_nothing_is_open() {
        let doc = parse("[s]\n  a = 1\n  b = 2\n    c\n");
        assert_eq!(value(&doc, "s", "a"), Some("1"));
        assert_eq!(value(&doc, "s", "b"), Some("2\nc"));
    }

    #[test]
    fn an_indented_header_continues_a_value() {
        let doc = parse("[s]\na = 1\n  [t]\n");
        assert_eq!(value(&doc, "s", "a"), Some("1\n[t]"));
        assert!(doc.section("t").is_none());
    }

    #[test]
    fn repeated_sections_and_keys_merge_later_wins() {
        let doc = parse("[s]\na = 1\nb = 1\n[t]\n[s]\na = 2\na = 3\n");
        assert_eq!(doc.sections().len(), 2);
        assert_eq!(value(&doc, "s", "a"), Some("3"));
        assert_eq!(doc.get("s", "a").unwrap().line, 7);
        assert_eq!(value(&doc, "s", "b"), Some("1"));
        assert_eq!(doc.section("s").unwrap().keys(), ["a", "b"]);
    }

    #[test]
    fn default_section_is_a_fallback() {
        let doc = parse("[DEFAULT]\nstartsecs = 7\n[program:a]\nstartsecs = 3\n[program:b]\n");
        assert_eq!(value(&doc, "program:a", "startsecs"), Some("3"));
        assert_eq!(value(&doc, "program:b", "startsecs"), Some("7"));
        assert!(doc.section("DEFAULT").is_none());
        assert_eq!(doc.keys("program:b"), ["startsecs"]);
        assert_eq!(value(&doc, "missing", "startsecs"), None);
    }

    #[test]
    fn merge_appends_and_overrides() {
        let mut main = parse("[s]\na = 1\n[t]\nx = 1\n");
        let inc = Document::parse("[s]\na = 2\n[u]\ny = 1\n", Path::new("/etc/inc.conf")).unwrap();
        main.merge(inc);
        let names: Vec<&str> = main.sections().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["s", "t", "u"]);
        let a = main.get("s", "a").unwrap();
        assert_eq!(
            (a.value.as_str(), &*a.file),
            ("2", Path::new("/etc/inc.conf"))
        );
        assert_eq!(
            &*main.section("s").unwrap().file,
            Path::new("/etc/test.conf")
        );
    }

    #[test]
    fn line_endings() {
        let doc = parse("[s]\r\na = 1\r\nb = 2\rc = 3\n\r\nd = 4");
        assert_eq!(value(&doc, "s", "a"), Some("1"));
        assert_eq!(value(&doc, "s", "b"), Some("2"));
        assert_eq!(value(&doc, "s", "c"), Some("3"));
        let d = doc.get("s", "d").unwrap();
        assert_eq!((d.value.as_str(), d.line), ("4", 6));
    }

    #[test]
    fn a_byte_order_mark_is_ignored() {
        let doc = parse("\u{feff}[s]\na=1\n");
        assert_eq!(value(&doc, "s", "a"), Some("1"));
    }

    #[test]
    fn errors_name_the_line() {
        let e = Document::parse("k=v\n[s]\n", Path::new("/x.conf")).unwrap_err();
        assert_eq!(
            e,
            IniError {
                file: PathBuf::from("/x.conf"),
                line: 1,
                message: "File contains no section headers: 'k=v'".into()
            }
        );
        let e = Document::parse("[s]\na=1\ngarbage\n", Path::new("/x.conf")).unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (3, "Source contains parsing errors: 'garbage'")
        );
        let e = Document::parse("[s]\n=foo\n", Path::new("/x.conf")).unwrap_err();
        assert_eq!(e.line, 2);
        let e = Document::parse("[]\n", Path::new("/x.conf")).unwrap_err();
        assert_eq!(e.line, 1);
    }

    #[test]
    fn non_utf8_is_a_clear_error() {
        let e = Document::parse_bytes(b"[s]\na=1\nb=\xff\xfe\n", Path::new("/x.conf")).unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (3, "file is not valid UTF-8 text")
        );
        assert!(Document::parse_bytes(b"[s]\na=\xc3\xa9\n", Path::new("/x")).is_ok());
    }

    #[test]
    fn empty_and_comment_only_files_have_no_sections() {
        assert!(parse("").sections().is_empty());
        assert!(parse("; only\n# comments\n\n").sections().is_empty());
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // a cheap deterministic fuzz over awkward characters
        let alphabet: Vec<&str> = vec![
            "[", "]", "=", ":", ";", "#", " ", "\t", "\n", "\r", "a", "é", "\u{1c}", "\u{feff}",
            "%",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..(seed % 40) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let pick = usize::try_from(seed % alphabet.len() as u64).unwrap_or(0);
                text.push_str(alphabet[pick]);
            }
            let _ = Document::parse(&text, Path::new("/f"));
            let _ = Document::parse_bytes(text.as_bytes(), Path::new("/f"));
        }
    }
}
