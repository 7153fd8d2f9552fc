//! The per-line output keys of a program section (beyond 4.3):
//! `timestamps`, `stdout_logfile_prefix`, `stderr_logfile_prefix` and
//! `forward_to_stdout`.
use super::*;

/// Stands for `%(timestamp)s` while the rest of a template is expanded; a
/// NUL cannot come from the names a template may use, and a template that
/// contains one itself is refused.
const STAMP_MARK: char = '\0';

/// The line options of one process (`scope` knows its program_name,
/// group_name, process_num and environment).
pub(super) fn line_options(scope: &Scope) -> Result<LineOptions, ConfigError> {
    Ok(LineOptions {
        timestamps: scope.parse_or("timestamps", false, values::parse_bool)?,
        stdout_prefix: prefix_template(scope, "stdout_logfile_prefix")?,
        stderr_prefix: prefix_template(scope, "stderr_logfile_prefix")?,
        forward_to_stdout: scope.parse("forward_to_stdout", values::parse_bool)?,
    })
}

/// Expands a prefix template as any value is expanded (unknown names and
/// bad formats are the same errors), keeping `%(timestamp)s` for later.
fn prefix_template(scope: &Scope, key: &str) -> Result<Option<Vec<PrefixPart>>, ConfigError> {
    let Some(raw) = scope.raw(key) else {
        return Ok(None);
    };
    // The INI reader strips a value's trailing spaces, and a prefix usually
    // ends in one: double quotes around the whole template keep them.
    let raw = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    if raw.contains(STAMP_MARK) {
        return Err(scope.key_error(key, "a prefix may not contain a NUL character"));
    }
    // A width or another conversion would format the mark, not the stamp.
    if raw.matches("%(timestamp)").count() != raw.matches("%(timestamp)s").count() {
        return Err(scope.key_error(
            key,
            "%(timestamp) is only supported as %(timestamp)s (no width or conversion)",
        ));
    }
    let mut local = scope.local.clone();
    local.set_text("timestamp", &STAMP_MARK.to_string());
    let text = scope.with_local(local).expand_as(key, raw)?;
    let mut parts = Vec::new();
    for (i, piece) in text.split(STAMP_MARK).enumerate() {
        if i > 0 {
            parts.push(PrefixPart::Timestamp);
        }
        if !piece.is_empty() {
            parts.push(PrefixPart::Text(piece.to_string()));
        }
    }
    Ok(Some(parts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Config, ConfigError> {
        let dir = std::env::temp_dir().join(format!(
            "sv-config-lines-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("supervisord.conf");
        std::fs::write(&path, text).expect("write");
        let host = Host {
            cwd: dir.clone(),
            env: vec![("STAGE".into(), "prod".into())],
            host_node_name: "node".into(),
            uid: 0,
            passwd: "root:x:0:0:root:/root:/bin/sh\n".into(),
            group: "root:x:0:\n".into(),
            tempdir: PathBuf::from("/tmp"),
        };
        let config = load_with(&path, &host);
        let _ = std::fs::remove_dir_all(&dir);
        config
    }

    fn text(t: &str) -> PrefixPart {
        PrefixPart::Text(t.to_string())
    }

    #[test]
    fn off_by_default() {
        let config = load_text("[supervisord]\n[program:x]\ncommand=/bin/cat\n").expect("config");
        let p = &config.groups[0].processes[0];
        assert_eq!(p.lines, LineOptions::default());
        assert!(!config.supervisord.forward_all);
    }

    #[test]
    fn templates_expand_names_now_and_keep_the_timestamp() {
        let config = load_text(
            "[supervisord]\nforward_all=true\n[group:g]\nprograms=web\n[program:web]\n\
             command=/bin/cat\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)02d\n\
             timestamps=true\nforward_to_stdout=false\n\
             stdout_logfile_prefix=\"%(timestamp)s %(group_name)s/%(program_name)s:%(process_num)02d \
             %(ENV_STAGE)s| \"\n\
             stderr_logfile_prefix=E%(process_num)s %(timestamp)s%(timestamp)s%%\n",
        )
        .expect("config");
        assert!(config.supervisord.forward_all);
        let p = &config.groups[0].processes[1];
        assert_eq!(p.name, "web_01");
        assert!(p.lines.timestamps);
        assert_eq!(p.lines.forward_to_stdout, Some(false));
        assert_eq!(
            p.lines.stdout_prefix,
            Some(vec![PrefixPart::Timestamp, text(" g/web:01 prod| ")])
        );
        assert_eq!(
            p.lines.stderr_prefix,
            Some(vec![
                text("E1 "),
                PrefixPart::Timestamp,
                PrefixPart::Timestamp,
                text("%")
            ])
        );
    }

    #[test]
    fn errors_name_the_key() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "stdout_logfile_prefix",
                "%(nope)s ",
                "contains names ('nope')",
            ),
            ("stderr_logfile_prefix", "100% ", "badly formatted"),
            (
                "stdout_logfile_prefix",
                "%(timestamp)30s ",
                "only supported as",
            ),
            (
                "stdout_logfile_prefix",
                "%(program_name)d",
                "real number is required",
            ),
            ("timestamps", "maybe", "not a valid boolean"),
            ("forward_to_stdout", "x", "not a valid boolean"),
        ];
        for (key, value, expected) in cases {
            let text = format!("[supervisord]\n[program:x]\ncommand=/bin/cat\n{key}={value}\n");
            let e = load_text(&text).expect_err(&text);
            assert_eq!(e.key.as_deref(), Some(*key), "{key}={value}: {e}");
            assert_eq!(e.line, Some(4));
            assert!(e.message.contains(expected), "{key}={value}: {}", e.message);
        }
        let e = load_text("[supervisord]\nforward_all=x\n").expect_err("forward_all");
        assert_eq!(e.key.as_deref(), Some("forward_all"));
    }

    #[test]
    fn eventlisteners_and_fcgi_programs_share_the_keys() {
        let config = load_text(
            "[supervisord]\n[eventlistener:l]\ncommand=/bin/cat\nevents=TICK_5\n\
             stderr_logfile_prefix=\"L \"\n[fcgi-program:f]\ncommand=/bin/cat\n\
             socket=tcp://127.0.0.1:9999\ntimestamps=on\n",
        )
        .expect("config");
        let by_name = |n: &str| {
            config
                .groups
                .iter()
                .flat_map(|g| &g.processes)
                .find(|p| p.name == n)
                .map(|p| p.lines.clone())
        };
        assert_eq!(
            by_name("l").and_then(|l| l.stderr_prefix),
            Some(vec![text("L ")])
        );
        assert_eq!(by_name("f").map(|l| l.timestamps), Some(true));
    }
}
