//! Reads the `[supervisorctl]` section of a config file the way 4.3's
//! `ClientOptions.read_config` does: only that section, Python
//! RawConfigParser syntax, `%(ENV_X)s` everywhere and `%(here)s` in
//! `serverurl` and `history_file`, unix socket paths made absolute.

use std::collections::HashMap;
use std::path::Path;

use super::options::{normalize_path, FileSettings};

/// Sections and their keys (lowercased), as RawConfigParser keeps them.
type Sections = HashMap<String, HashMap<String, String>>;

/// Parses INI text. Errors carry 4.3's (configparser's) wording.
fn parse_ini(text: &str, file: &str) -> Result<Sections, String> {
    let mut sections: Sections = HashMap::new();
    let mut current: Option<String> = None;
    let mut last_key: Option<String> = None;
    for (index, raw) in text.lines().enumerate() {
        let lineno = index + 1;
        let stripped = raw.trim();
        if stripped.is_empty() || stripped.starts_with('#') || stripped.starts_with(';') {
            if stripped.is_empty() {
                last_key = None;
            }
            continue;
        }
        let indented = raw.starts_with([' ', '\t']);
        if indented {
            if let (Some(section), Some(key)) = (&current, &last_key) {
                if let Some(value) = sections.get_mut(section).and_then(|s| s.get_mut(key)) {
                    value.push('\n');
                    value.push_str(strip_inline_comment(stripped));
                    continue;
                }
            }
        }
        if let Some(name) = stripped.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            sections.entry(name.to_string()).or_default();
            current = Some(name.to_string());
            last_key = None;
            continue;
        }
        let Some(section) = &current else {
            return Err(format!(
                "File contains no section headers.\nfile: '{file}', line: {lineno}\n{}",
                super::py::repr_str(&format!("{raw}\n"))
            ));
        };
        let Some(split) = stripped.find(['=', ':']) else {
            return Err(format!(
                "Source contains parsing errors: '{file}'\n\t[line {lineno:2}]: {}",
                super::py::repr_str(&format!("{raw}\n"))
            ));
        };
        let key = stripped.get(..split).unwrap_or("").trim().to_lowercase();
        let value = strip_inline_comment(stripped.get(split + 1..).unwrap_or("").trim());
        if let Some(entries) = sections.get_mut(section) {
            entries.insert(key.clone(), value.to_string());
        }
        last_key = Some(key);
    }
    Ok(sections)
}

/// Inline comments need whitespace before the `;` or `#`.
fn strip_inline_comment(value: &str) -> &str {
    let bytes = value.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if (*b == b';' || *b == b'#')
            && i > 0
            && bytes.get(i - 1).is_some_and(u8::is_ascii_whitespace)
        {
            return value.get(..i).unwrap_or(value).trim_end();
        }
    }
    value
}

/// Python `%`-interpolation of `%(name)s` and `%%`.
fn expand(value: &str, vars: &HashMap<String, String>, option: &str) -> Result<String, String> {
    let bad = |why: &str| {
        format!(
            "Format string {} for {} is badly formatted: {why}",
            super::py::repr_str(value),
            super::py::repr_str(option)
        )
    };
    let mut out = String::new();
    let mut rest = value;
    while let Some(pos) = rest.find('%') {
        out.push_str(rest.get(..pos).unwrap_or(""));
        let after = rest.get(pos + 1..).unwrap_or("");
        if let Some(tail) = after.strip_prefix('%') {
            out.push('%');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('(') {
            let Some(close) = tail.find(')') else {
                return Err(bad("incomplete format key"));
            };
            let name = tail.get(..close).unwrap_or("");
            let Some(replacement) = vars.get(name) else {
                return Err(bad(&format!("'{name}'")));
            };
            let spec = tail.get(close + 1..).unwrap_or("");
            let Some(tail) = spec.strip_prefix('s') else {
                return Err(bad("unsupported format character"));
            };
            out.push_str(replacement);
            rest = tail;
        } else {
            return Err(bad("incomplete format"));
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Reads `[supervisorctl]` from `path`.
pub fn read(path: &Path) -> Result<FileSettings, String> {
    let shown = path.display().to_string();
    if !path.exists() {
        return Err(format!("could not find config file {shown}"));
    }
    let bytes = std::fs::read(path).map_err(|_| format!("could not read config file {shown}"))?;
    let text = String::from_utf8_lossy(&bytes);
    let sections = parse_ini(&text, &shown)?;
    let Some(section) = sections.get("supervisorctl") else {
        return Err(".ini file does not include supervisorctl section".into());
    };
    let mut env: HashMap<String, String> = std::env::vars()
        .map(|(k, v)| (format!("ENV_{k}"), v))
        .collect();
    let get = |key: &str, vars: &HashMap<String, String>| -> Result<Option<String>, String> {
        section
            .get(key)
            .map(|v| expand(v, vars, &format!("supervisorctl.{key}")))
            .transpose()
    };
    let mut settings = FileSettings {
        username: get("username", &env)?,
        password: get("password", &env)?,
        prompt: get("prompt", &env)?,
        ..FileSettings::default()
    };
    let here = normalize_path(&shown)
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    env.insert("here".into(), here);
    settings.serverurl = get("serverurl", &env)?.map(|url| match url.strip_prefix("unix://") {
        Some(path) => format!("unix://{}", normalize_path(path).display()),
        None => url,
    });
    settings.history_file = get("history_file", &env)?
        .filter(|h| !h.is_empty())
        .map(|h| normalize_path(&h));
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ctlconf-{}-{}", std::process::id(), name));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("supervisord.conf");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn reads_the_section_with_expansions() {
        std::env::set_var("CTLCONF_TEST_USER", "envuser");
        let path = temp_file(
            "ok",
            "[program:x]\ncommand=junk %(bad\n[supervisorctl]\nserverurl = unix://%(here)s/s.sock ; comment\nUserName=%(ENV_CTLCONF_TEST_USER)s\npassword: p;w\nprompt=box 100%%\nhistory_file=%(here)s/../h\n",
        );
        let s = read(&path).unwrap();
        let here = path.parent().unwrap();
        assert_eq!(
            s.serverurl,
            Some(format!("unix://{}/s.sock", here.display()))
        );
        assert_eq!(s.username.as_deref(), Some("envuser"));
        assert_eq!(s.password.as_deref(), Some("p;w"));
        assert_eq!(s.prompt.as_deref(), Some("box 100%"));
        assert_eq!(s.history_file, Some(here.parent().unwrap().join("h")));
        std::fs::remove_dir_all(here).unwrap();
    }

    #[test]
    fn missing_section_or_file_is_4_3s_error() {
        let path = temp_file("nosection", "[supervisord]\nlogfile=x\n");
        assert_eq!(
            read(&path).unwrap_err(),
            ".ini file does not include supervisorctl section"
        );
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
        assert_eq!(
            read(Path::new("/nonexistent/x.conf")).unwrap_err(),
            "could not find config file /nonexistent/x.conf"
        );
    }

    #[test]
    fn bad_syntax_and_bad_expansions_are_errors() {
        let path = temp_file("junk", "junk\n");
        assert!(read(&path)
            .unwrap_err()
            .starts_with("File contains no section headers."));
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
        let path = temp_file("badexp", "[supervisorctl]\nusername=%(NOPE)s\n");
        assert!(read(&path).unwrap_err().contains("is badly formatted"));
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn continuation_lines_join_values() {
        let sections = parse_ini("[a]\nk = one\n  two\n", "f").unwrap();
        assert_eq!(sections["a"]["k"], "one\ntwo");
        assert_eq!(strip_inline_comment("a ;b"), "a");
        assert_eq!(strip_inline_comment("a;b"), "a;b");
    }
}
