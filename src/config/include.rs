//! The files of a configuration: reading one, and `[include] files=` globs
//! (relative to the including file, sorted, nested includes ignored as 4.3
//! does), with a small fnmatch so no glob crate is needed.
use super::*;

/// Reads and parses one file; `shown` is the path as the user gave it.
pub(super) fn read_document(path: &Path, shown: &Path) -> Result<Document, ConfigError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Document::parse_bytes(&bytes, path)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ConfigError::new(format!(
            "could not find config file {}",
            shown.display()
        ))),
        Err(e) => Err(ConfigError::new(format!(
            "could not read config file {}: {e}",
            shown.display()
        ))),
    }
}

/// `[include] files=`: space-separated globs relative to the main file's
/// directory, each one's matches read in sorted order. As in 4.3 only the
/// main file's `[include]` counts. Each file found is named in `infos`, as
/// 4.3 names it (the path the glob gave) before reading it.
pub(super) fn read_includes(
    doc: &mut Document,
    main: &Path,
    names: &Names,
    warnings: &mut Vec<String>,
    infos: &mut Vec<String>,
) -> Result<(), ConfigError> {
    let Some(section) = doc.section("include") else {
        return Ok(());
    };
    let scope = Scope::new(doc, section, names, Names::new());
    let files = scope
        .text("files")?
        .ok_or_else(|| scope.error(".ini file has [include] section, but no files setting"))?;
    let base = main.parent().unwrap_or(Path::new("/")).to_string_lossy();
    let mut found = Vec::new();
    for pattern in files.split_whitespace() {
        let full = if pattern.starts_with('/') {
            pattern.to_string()
        } else {
            format!("{}/{pattern}", base.trim_end_matches('/'))
        };
        let mut matches = glob(&full);
        if matches.is_empty() {
            warnings.push(format!("No file matches via include \"{full}\""));
        }
        matches.sort();
        found.extend(matches);
    }
    for file in found {
        infos.push(format!("Included extra file \"{file}\" during parsing"));
        let path = PathBuf::from(values::normpath(&file));
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                warnings.push(format!("Included file \"{file}\" could not be read: {e}"));
                continue;
            }
        };
        let included = Document::parse_bytes(&bytes, &path)?;
        if included.section("include").is_some() {
            warnings.push(format!(
                "The [include] section of \"{file}\" is ignored: only the main \
                 configuration file may include others"
            ));
        }
        doc.merge(included);
    }
    Ok(())
}

pub(super) fn has_magic(component: &str) -> bool {
    component.contains(['*', '?', '['])
}

/// Python's `glob.glob` for an absolute pattern: `* ? [...]` within each
/// path component, hidden names only matched by a pattern starting with
/// `.`, results only for paths that exist.
pub(super) fn glob(pattern: &str) -> Vec<String> {
    let mut paths = vec![String::new()];
    for component in pattern.split('/').filter(|c| !c.is_empty()) {
        let mut next = Vec::new();
        for prefix in &paths {
            if !has_magic(component) {
                next.push(format!("{prefix}/{component}"));
                continue;
            }
            let dir = if prefix.is_empty() {
                "/"
            } else {
                prefix.as_str()
            };
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let hidden = name.starts_with('.') && !component.starts_with('.');
                if !hidden && fnmatch(&name, component) {
                    next.push(format!("{prefix}/{name}"));
                }
            }
        }
        paths = next;
    }
    paths.retain(|p| !p.is_empty() && Path::new(p).symlink_metadata().is_ok());
    paths
}

/// One piece of a shell pattern; each matches exactly one character
/// except `Star`.
#[derive(Debug)]
pub(super) enum Token {
    Star,
    Any,
    Char(char),
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// Python's fnmatch translation: `[` without a closing `]` is literal,
/// `[!...]` negates, a `]` right after `[` or `[!` is a member.
pub(super) fn pattern_tokens(pattern: &str) -> Vec<Token> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        match c {
            '*' => tokens.push(Token::Star),
            '?' => tokens.push(Token::Any),
            '[' => match class_end(&chars, i) {
                Some(end) => {
                    let mut body = chars.get(i..end).unwrap_or_default();
                    let negated = body.first() == Some(&'!');
                    if negated {
                        body = body.get(1..).unwrap_or_default();
                    }
                    tokens.push(Token::Class {
                        negated,
                        ranges: class_ranges(body),
                    });
                    i = end + 1;
                }
                None => tokens.push(Token::Char('[')),
            },
            c => tokens.push(Token::Char(c)),
        }
    }
    tokens
}

/// The index of the `]` closing a class that starts at `start`.
pub(super) fn class_end(chars: &[char], start: usize) -> Option<usize> {
    let mut j = start;
    if chars.get(j) == Some(&'!') {
        j += 1;
    }
    if chars.get(j) == Some(&']') {
        j += 1;
    }
    while let Some(&c) = chars.get(j) {
        if c == ']' {
            return Some(j);
        }
        j += 1;
    }
    None
}

pub(super) fn class_ranges(body: &[char]) -> Vec<(char, char)> {
    let mut ranges = Vec::new();
    let mut i = 0;
    while let Some(&lo) = body.get(i) {
        match (body.get(i + 1), body.get(i + 2)) {
            (Some('-'), Some(&hi)) => {
                ranges.push((lo, hi));
                i += 3;
            }
            _ => {
                ranges.push((lo, lo));
                i += 1;
            }
        }
    }
    ranges
}

pub(super) fn token_matches(token: &Token, c: char) -> bool {
    match token {
        Token::Star | Token::Any => true,
        Token::Char(p) => *p == c,
        Token::Class { negated, ranges } => {
            ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
        }
    }
}

/// Shell-style matching of a whole name (case-sensitive, as on POSIX),
/// in linear time: on a mismatch, retry from the last `*`.
pub(super) fn fnmatch(name: &str, pattern: &str) -> bool {
    let tokens = pattern_tokens(pattern);
    let name: Vec<char> = name.chars().collect();
    let (mut n, mut t) = (0, 0);
    let mut retry: Option<(usize, usize)> = None;
    while n < name.len() {
        match (tokens.get(t), name.get(n)) {
            (Some(Token::Star), _) => {
                retry = Some((t, n));
                t += 1;
            }
            (Some(token), Some(&c)) if token_matches(token, c) => {
                t += 1;
                n += 1;
            }
            _ => match retry {
                Some((star, from)) => {
                    retry = Some((star, from + 1));
                    t = star + 1;
                    n = from + 1;
                }
                None => return false,
            },
        }
    }
    tokens
        .get(t..)
        .is_some_and(|rest| rest.iter().all(|tok| matches!(tok, Token::Star)))
}
