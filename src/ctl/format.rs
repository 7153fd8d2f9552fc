//! The pure half of supervisorctl's commands: parsing a typed line and
//! namespecs, and turning XML-RPC results into 4.3's exact lines (status
//! table widths, avail columns, result messages). No I/O here, so every
//! format is unit-tested against 4.3's text.

use super::client::{field, int_field, items, str_field};
use super::py;
use super::raised::{self, Raised, Site};
use crate::rpc::faults::Code;
use crate::rpc::value::Value;

/// `cmd.Cmd.parseline`: (command word, argument, cleaned line). The
/// command is None for `!shell` lines, empty when no identifier starts it.
pub fn parseline(line: &str) -> (Option<String>, String, String) {
    let mut line = py::strip(line).to_string();
    if line.is_empty() {
        return (None, String::new(), line);
    }
    if let Some(rest) = line.strip_prefix('?') {
        line = format!("help {rest}");
    } else if line.starts_with('!') {
        return (None, String::new(), line);
    }
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(line.len());
    let cmd = line.get(..end).unwrap_or("").to_string();
    let arg = py::strip(line.get(end..).unwrap_or("")).to_string();
    (Some(cmd), arg, line)
}

/// `options.split_namespec`: (group, process); process None for `g:` / `g:*`.
pub fn split_namespec(namespec: &str) -> (String, Option<String>) {
    match namespec.split_once(':') {
        Some((group, process)) if process.is_empty() || process == "*" => (group.to_string(), None),
        Some((group, process)) => (group.to_string(), Some(process.to_string())),
        None => (namespec.to_string(), Some(namespec.to_string())),
    }
}

/// `options.make_namespec`; a missing process prints as Python's `None`.
pub fn make_namespec(group: &str, process: Option<&str>) -> String {
    let process = process.unwrap_or("None");
    if group == process {
        process.to_string()
    } else {
        format!("{group}:{process}")
    }
}

/// Python truthiness of an XML-RPC value.
pub(super) fn truthy(v: &Value) -> bool {
    match v {
        Value::Int(i) => *i != 0,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Double(f) => *f != 0.0,
        Value::Array(a) => !a.is_empty(),
        Value::Struct(s) => !s.is_empty(),
        Value::Base64(b) => !b.is_empty(),
        Value::DateTime(_) => true,
        Value::Nil => false,
    }
}

pub(super) fn is_fault(err: &Raised, code: Code) -> bool {
    matches!(err, Raised::Fault(f) if f.code == code as i32)
}

/// A result struct built from a fault, as 4.3 builds `error = {...}`.
pub(super) fn fault_result(
    code: i32,
    group: &str,
    process: Option<&str>,
    description: &str,
) -> Value {
    Value::Struct(vec![
        ("status".into(), Value::Int(i64::from(code))),
        ("name".into(), process.map_or(Value::Nil, Value::str)),
        ("group".into(), Value::str(group)),
        ("description".into(), Value::str(description)),
    ])
}

/// `make_namespec(result['group'], result['name'])`.
pub(super) fn result_namespec(result: &Value) -> Result<String, Raised> {
    let group = str_field(result, "group")?;
    let name = match field(result, "name")? {
        Value::Nil => None,
        other => Some(py::str_value(other)),
    };
    Ok(make_namespec(&group, name.as_deref()))
}

pub(super) fn unknown_result(code: Option<i64>, name: &str, site: Site) -> Raised {
    let code = code.map_or_else(|| "None".to_string(), |c| c.to_string());
    Raised::other(
        "ValueError",
        format!("Unknown result code {code} for {name}"),
        site,
    )
}

/// `_startresult`.
pub(super) fn start_result(result: &Value) -> Result<String, Raised> {
    let name = result_namespec(result)?;
    let code = int_field(result, "status")?;
    let error = |what: &str| format!("{name}: ERROR ({what})");
    Ok(match code.and_then(|c| Code::from_number(c as i32)) {
        Some(Code::BadName) => error("no such process"),
        Some(Code::NoFile) => error("no such file"),
        Some(Code::NotExecutable) => error("file is not executable"),
        Some(Code::AlreadyStarted) => error("already started"),
        Some(Code::SpawnError) => error("spawn error"),
        Some(Code::AbnormalTermination) => error("abnormal termination"),
        Some(Code::Success) => format!("{name}: started"),
        _ => return Err(unknown_result(code, &name, raised::SITE_START_RESULT)),
    })
}

/// `_signalresult` (and `_stopresult` with success "stopped").
pub(super) fn signal_result(result: &Value, success: &str) -> Result<String, Raised> {
    let name = result_namespec(result)?;
    let code = int_field(result, "status")?;
    let error = |what: &str| format!("{name}: ERROR ({what})");
    Ok(match code.and_then(|c| Code::from_number(c as i32)) {
        Some(Code::BadName) => error("no such process"),
        Some(Code::BadSignal) => error("bad signal name"),
        Some(Code::NotRunning) => error("not running"),
        Some(Code::Success) => format!("{name}: {success}"),
        Some(Code::Failed) => str_field(result, "description")?,
        _ => return Err(unknown_result(code, &name, raised::SITE_SIGNAL_RESULT)),
    })
}

/// `_clearresult`.
pub(super) fn clear_result(result: &Value) -> Result<String, Raised> {
    let name = result_namespec(result)?;
    let code = int_field(result, "status")?;
    Ok(match code.and_then(|c| Code::from_number(c as i32)) {
        Some(Code::BadName) => format!("{name}: ERROR (no such process)"),
        Some(Code::Failed) => format!("{name}: ERROR (failed)"),
        Some(Code::Success) => format!("{name}: cleared"),
        _ => return Err(unknown_result(code, &name, raised::SITE_CLEAR_RESULT)),
    })
}

/// The status table: `%(namespec)-Ws%(state)-10s%(desc)s`, W = max(30, longest)+3.
pub fn format_statuses(infos: &[Value]) -> Result<Vec<String>, Raised> {
    let mut namespecs = Vec::with_capacity(infos.len());
    let mut maxlen = 30;
    for info in infos {
        let spec = make_namespec(&str_field(info, "group")?, Some(&str_field(info, "name")?));
        maxlen = maxlen.max(spec.chars().count());
        namespecs.push(spec);
    }
    let width = maxlen + 3;
    let mut lines = Vec::with_capacity(infos.len());
    for (info, spec) in infos.iter().zip(namespecs) {
        let state = str_field(info, "statename")?;
        let desc = str_field(info, "description")?;
        lines.push(format!("{spec:<width$}{state:<10}{desc}"));
    }
    Ok(lines)
}

/// One `avail` line: `%(name)-32s %(inuse)-9s %(autostart)-9s %(priority)s`.
pub fn format_config_info(info: &Value) -> Result<String, Raised> {
    let name = make_namespec(&str_field(info, "group")?, Some(&str_field(info, "name")?));
    let inuse = if truthy(field(info, "inuse")?) {
        "in use"
    } else {
        "avail"
    };
    let autostart = if truthy(field(info, "autostart")?) {
        "auto"
    } else {
        "manual"
    };
    let priority = format!(
        "{}:{}",
        str_field(info, "group_prio")?,
        str_field(info, "process_prio")?
    );
    Ok(format!("{name:<32} {inuse:<9} {autostart:<9} {priority}"))
}

/// `added, changed, removed = result[0]` of `reloadConfig`.
pub(super) fn config_changes(result: &Value) -> Result<[Vec<String>; 3], Raised> {
    let outer = items(result)?;
    let Some(first) = outer.first() else {
        return Err(Raised::other(
            "IndexError",
            "list index out of range",
            raised::SITE_RESULT_LOOKUP,
        ));
    };
    let lists = items(first)?;
    let [added, changed, removed] = lists else {
        return Err(Raised::other(
            "ValueError",
            if lists.len() > 3 {
                "too many values to unpack (expected 3)".to_string()
            } else {
                format!(
                    "not enough values to unpack (expected 3, got {})",
                    lists.len()
                )
            },
            raised::SITE_RESULT_LOOKUP,
        ));
    };
    let names = |v: &Value| -> Result<Vec<String>, Raised> {
        Ok(items(v)?.iter().map(py::str_value).collect())
    };
    Ok([names(added)?, names(changed)?, names(removed)?])
}

/// `_formatChanges`: one sorted line per changed group.
pub fn format_changes(added: &[String], changed: &[String], removed: &[String]) -> Vec<String> {
    let mut marks: std::collections::BTreeMap<&str, &str> = std::collections::BTreeMap::new();
    for (names, what) in [
        (added, "available"),
        (changed, "changed"),
        (removed, "disappeared"),
    ] {
        for name in names {
            marks.insert(name, what);
        }
    }
    if marks.is_empty() {
        return vec!["No config updates to processes".into()];
    }
    marks
        .into_iter()
        .map(|(name, what)| format!("{name}: {what}"))
        .collect()
}

/// Python's `int()` of a modifier: optional sign, digits, `_` separators.
pub(super) fn python_int(text: &str) -> Option<i64> {
    let t = py::strip(text);
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let value: i64 = digits.replace('_', "").parse().ok()?;
    Some(if neg { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parseline_is_cmds() {
        assert_eq!(
            parseline("  status  foo bar "),
            (
                Some("status".into()),
                "foo bar".into(),
                "status  foo bar".into()
            )
        );
        assert_eq!(
            parseline("?status"),
            (Some("help".into()), "status".into(), "help status".into())
        );
        assert_eq!(parseline("!ls"), (None, "".into(), "!ls".into()));
        assert_eq!(parseline("   "), (None, "".into(), "".into()));
        assert_eq!(
            parseline("status;"),
            (Some("status".into()), ";".into(), "status;".into())
        );
        assert_eq!(parseline("-x"), (Some("".into()), "-x".into(), "-x".into()));
    }

    #[test]
    fn namespecs() {
        assert_eq!(split_namespec("a"), ("a".into(), Some("a".into())));
        assert_eq!(split_namespec("g:*"), ("g".into(), None));
        assert_eq!(split_namespec("g:"), ("g".into(), None));
        assert_eq!(split_namespec("g:p:q"), ("g".into(), Some("p:q".into())));
        assert_eq!(make_namespec("a", Some("a")), "a");
        assert_eq!(make_namespec("g", Some("p")), "g:p");
        assert_eq!(make_namespec("g", None), "g:None");
    }

    fn info(group: &str, name: &str, state: i64, statename: &str, desc: &str) -> Value {
        Value::Struct(vec![
            ("name".into(), Value::str(name)),
            ("group".into(), Value::str(group)),
            ("state".into(), Value::Int(state)),
            ("statename".into(), Value::str(statename)),
            ("description".into(), Value::str(desc)),
        ])
    }

    #[test]
    fn status_lines_use_the_4_3_widths() {
        let lines = format_statuses(&[
            info(
                "sleeper",
                "sleeper",
                20,
                "RUNNING",
                "pid 7324, uptime 0:00:03",
            ),
            info("grp", "manual", 0, "STOPPED", "Not started"),
            info("s", "s", 10, "STARTING", ""),
        ])
        .unwrap();
        assert_eq!(
            lines,
            vec![
                "sleeper                          RUNNING   pid 7324, uptime 0:00:03",
                "grp:manual                       STOPPED   Not started",
                "s                                STARTING  ",
            ]
        );
        let long = "x".repeat(40);
        let lines = format_statuses(&[info(&long, &long, 20, "RUNNING", "d")]).unwrap();
        assert_eq!(lines, vec![format!("{long}   RUNNING   d")]);
        let bad = Value::Struct(vec![]);
        assert!(format_statuses(&[bad]).is_err());
    }

    #[test]
    fn avail_line() {
        let v = Value::Struct(vec![
            ("name".into(), Value::str("failer")),
            ("group".into(), Value::str("failer")),
            ("inuse".into(), Value::Bool(true)),
            ("autostart".into(), Value::Bool(false)),
            ("group_prio".into(), Value::Int(999)),
            ("process_prio".into(), Value::Int(5)),
        ]);
        assert_eq!(
            format_config_info(&v).unwrap(),
            "failer                           in use    manual    999:5"
        );
    }

    #[test]
    fn changes_are_sorted_and_later_kinds_win() {
        assert_eq!(
            format_changes(&["b".into()], &["a".into(), "b".into()], &["c".into()]),
            vec!["a: changed", "b: changed", "c: disappeared"]
        );
        assert_eq!(
            format_changes(&[], &[], &[]),
            vec!["No config updates to processes"]
        );
    }

    fn result(group: &str, name: &str, status: i64) -> Value {
        Value::Struct(vec![
            ("name".into(), Value::str(name)),
            ("group".into(), Value::str(group)),
            ("status".into(), Value::Int(status)),
            ("description".into(), Value::str("desc")),
        ])
    }

    #[test]
    fn result_lines() {
        assert_eq!(start_result(&result("a", "a", 80)).unwrap(), "a: started");
        assert_eq!(
            start_result(&result("g", "p", 50)).unwrap(),
            "g:p: ERROR (spawn error)"
        );
        assert_eq!(
            start_result(&result("g", "p", 21)).unwrap(),
            "g:p: ERROR (file is not executable)"
        );
        let e = start_result(&result("g", "p", 6)).unwrap_err();
        assert!(e.error_line().contains("Unknown result code 6 for g:p"));
        assert_eq!(
            signal_result(&result("a", "a", 70), "stopped").unwrap(),
            "a: ERROR (not running)"
        );
        assert_eq!(
            signal_result(&result("a", "a", 30), "stopped").unwrap(),
            "desc"
        );
        assert_eq!(
            signal_result(&result("a", "a", 11), "signalled").unwrap(),
            "a: ERROR (bad signal name)"
        );
        assert_eq!(
            clear_result(&result("a", "a", 30)).unwrap(),
            "a: ERROR (failed)"
        );
        let from_fault = fault_result(10, "grp", None, "BAD_NAME: grp:*");
        assert_eq!(
            clear_result(&from_fault).unwrap(),
            "grp:None: ERROR (no such process)"
        );
    }

    #[test]
    fn reload_config_shapes() {
        let ok = Value::Array(vec![Value::Array(vec![
            Value::Array(vec![Value::str("new")]),
            Value::Array(vec![]),
            Value::Array(vec![Value::str("old")]),
        ])]);
        let [a, c, r] = config_changes(&ok).unwrap();
        assert_eq!(
            (a, c, r),
            (vec!["new".to_string()], vec![], vec!["old".to_string()])
        );
        assert!(config_changes(&Value::Array(vec![])).is_err());
        assert!(config_changes(&Value::Array(vec![Value::Array(vec![])])).is_err());
        assert!(config_changes(&Value::Int(1)).is_err());
    }

    #[test]
    fn python_int_accepts_what_int_accepts() {
        assert_eq!(python_int("100"), Some(100));
        assert_eq!(python_int("-5"), Some(-5));
        assert_eq!(python_int("+5"), Some(5));
        assert_eq!(python_int("1_000"), Some(1000));
        assert_eq!(python_int("x"), None);
        assert_eq!(python_int(""), None);
        assert_eq!(python_int("1__0"), None);
        assert_eq!(python_int("99999999999999999999999"), None);
    }
}
