//! The daemon's XML-RPC methods (supervisor.* and system.*), with 4.3's
//! names, argument rules, return shapes and faults. This is only the wire
//! side: arguments are checked and mapped to a request on the core's
//! `Handle`, and its view or error is mapped back to a value or a fault.

use std::future::Future;
use std::pin::Pin;

use crate::core::{Applied, ConfigInfo, Error, ErrorKind, Handle, ProcResult, ProcessInfo, Stream};
use crate::rpc::catalog;
use crate::rpc::codec::Call;
use crate::rpc::faults::Code;
use crate::rpc::value::{Fault, Value};

type Reply = Result<Value, Fault>;

/// The arguments of one call, with 4.3's arity and type rules.
struct Args<'a> {
    params: &'a [Value],
}

impl<'a> Args<'a> {
    fn arity(&self, min: usize, max: usize) -> Result<(), Fault> {
        if self.params.len() < min || self.params.len() > max {
            Err(Code::IncorrectParameters.bare())
        } else {
            Ok(())
        }
    }

    fn string(&self, i: usize) -> Result<&'a str, Fault> {
        match self.params.get(i) {
            Some(Value::String(s)) => Ok(s),
            _ => Err(Code::IncorrectParameters.bare()),
        }
    }

    fn int(&self, i: usize) -> Result<i64, Fault> {
        match self.params.get(i) {
            Some(Value::Int(n)) => Ok(*n),
            Some(Value::Bool(b)) => Ok(i64::from(*b)),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map_err(|_| Code::IncorrectParameters.bare()),
            _ => Err(Code::IncorrectParameters.bare()),
        }
    }

    /// An optional truth value (Python truthiness for the types clients send).
    fn flag(&self, i: usize, default: bool) -> Result<bool, Fault> {
        match self.params.get(i) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::Int(n)) => Ok(*n != 0),
            Some(Value::String(s)) => Ok(!s.is_empty()),
            Some(Value::Nil) => Ok(false),
            Some(_) => Err(Code::IncorrectParameters.bare()),
        }
    }

    /// A signal as a name or a number; any other type is refused.
    fn signal(&self, i: usize) -> Result<String, Fault> {
        match self.params.get(i) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Int(n)) => Ok(n.to_string()),
            _ => Err(Code::IncorrectParameters.bare()),
        }
    }
}

/// The fault 4.3 answers for a core error.
pub fn fault(error: Error) -> Fault {
    let code = match error.kind {
        ErrorKind::BadName => Code::BadName,
        ErrorKind::BadArguments => Code::BadArguments,
        ErrorKind::BadSignal => Code::BadSignal,
        ErrorKind::NoFile => Code::NoFile,
        ErrorKind::NotExecutable => Code::NotExecutable,
        ErrorKind::Failed => Code::Failed,
        ErrorKind::AbnormalTermination => Code::AbnormalTermination,
        ErrorKind::SpawnError => Code::SpawnError,
        ErrorKind::AlreadyStarted => Code::AlreadyStarted,
        ErrorKind::NotRunning => Code::NotRunning,
        ErrorKind::AlreadyAdded => Code::AlreadyAdded,
        ErrorKind::StillRunning => Code::StillRunning,
        ErrorKind::CantReread => Code::CantReread,
        ErrorKind::ShutdownState => Code::ShutdownState,
    };
    match error.detail {
        Some(detail) => code.fault(detail),
        None => code.bare(),
    }
}

impl From<Error> for Fault {
    fn from(error: Error) -> Fault {
        fault(error)
    }
}

/// Runs one call. Boxed because multicall calls back into it.
pub fn call(core: &Handle, call: Call) -> Pin<Box<dyn Future<Output = Reply> + '_>> {
    Box::pin(async move { dispatch(core, &call.method, &call.params).await })
}

fn check_name(method: &str) -> Result<(), Fault> {
    let parts: Vec<&str> = method.split('.').collect();
    match parts.as_slice() {
        [ns, name] if !name.starts_with('_') && (*ns == "supervisor" || *ns == "system") => {
            if catalog::find(method).is_some() {
                Ok(())
            } else {
                Err(Code::UnknownMethod.bare())
            }
        }
        _ => Err(Code::UnknownMethod.bare()),
    }
}

async fn dispatch(core: &Handle, method: &str, params: &[Value]) -> Reply {
    check_name(method)?;
    let args = Args { params };
    match method {
        "system.listMethods" => {
            args.arity(0, 0)?;
            Ok(Value::Array(
                catalog::METHODS
                    .iter()
                    .map(|(n, _, _)| Value::str(*n))
                    .collect(),
            ))
        }
        "system.methodHelp" => {
            args.arity(1, 1)?;
            let name = args.string(0)?;
            catalog::find(name)
                .map(|(_, _, help)| Value::str(*help))
                .ok_or_else(|| Code::SignatureUnsupported.bare())
        }
        "system.methodSignature" => {
            args.arity(1, 1)?;
            let name = args.string(0)?;
            catalog::find(name)
                .map(|(_, sig, _)| Value::Array(sig.iter().map(|t| Value::str(*t)).collect()))
                .ok_or_else(|| Code::SignatureUnsupported.bare())
        }
        "system.multicall" => {
            args.arity(1, 1)?;
            let Some(Value::Array(calls)) = params.first() else {
                return Err(Code::IncorrectParameters.bare());
            };
            multicall(core, calls).await
        }
        _ => supervisor_method(core, method, &args).await,
    }
}

async fn multicall(core: &Handle, calls: &[Value]) -> Reply {
    let mut results = Vec::with_capacity(calls.len());
    for item in calls {
        let name = item.get("methodName").and_then(Value::as_str);
        let params: &[Value] = item.get("params").and_then(Value::as_array).unwrap_or(&[]);
        let outcome = match name {
            None => Err(Code::IncorrectParameters.fault("No methodName")),
            Some("system.multicall") => {
                Err(Code::IncorrectParameters.fault("Recursive system.multicall forbidden"))
            }
            Some(name) => Box::pin(dispatch(core, name, params)).await,
        };
        // 4.3 returns successful results bare, faults as structs.
        results.push(match outcome {
            Ok(value) => value,
            Err(fault) => fault_struct(&fault),
        });
    }
    Ok(Value::Array(results))
}

fn fault_struct(fault: &Fault) -> Value {
    Value::Struct(vec![
        ("faultCode".into(), Value::Int(i64::from(fault.code))),
        ("faultString".into(), Value::str(fault.string.clone())),
    ])
}

fn stream_of(method: &str) -> Stream {
    if method.contains("Stderr") {
        Stream::Stderr
    } else {
        Stream::Stdout
    }
}

async fn supervisor_method(core: &Handle, method: &str, args: &Args<'_>) -> Reply {
    // Every supervisor.* method except sendRemoteCommEvent checks the mood first.
    if method != "supervisor.sendRemoteCommEvent" {
        core.check_running()?;
    }
    let name = method.strip_prefix("supervisor.").unwrap_or(method);
    match name {
        "getAPIVersion" | "getVersion" => {
            args.arity(0, 0)?;
            Ok(Value::str(crate::API_VERSION))
        }
        "getSupervisorVersion" => {
            args.arity(0, 0)?;
            Ok(Value::str(crate::SUPERVISOR_COMPAT_VERSION))
        }
        "getIdentification" => {
            args.arity(0, 0)?;
            Ok(Value::String(core.identification()))
        }
        "getState" => {
            args.arity(0, 0)?;
            let mood = core.mood();
            Ok(Value::Struct(vec![
                ("statecode".into(), Value::Int(i64::from(mood.code()))),
                ("statename".into(), Value::str(mood.name())),
            ]))
        }
        "getPID" => {
            args.arity(0, 0)?;
            Ok(Value::Int(i64::from(std::process::id())))
        }
        "readLog" | "readMainLog" => {
            args.arity(2, 2)?;
            let (offset, length) = (args.int(0)?, args.int(1)?);
            Ok(text(core.read_main_log(offset, length)?))
        }
        "clearLog" => {
            args.arity(0, 0)?;
            core.clear_main_log()?;
            Ok(Value::Bool(true))
        }
        "shutdown" => {
            args.arity(0, 0)?;
            core.request_shutdown();
            Ok(Value::Bool(true))
        }
        "restart" => {
            args.arity(0, 0)?;
            core.request_restart()?;
            Ok(Value::Bool(true))
        }
        "reloadConfig" => {
            args.arity(0, 0)?;
            let diff = core.reread()?;
            let list = |v: Vec<String>| Value::Array(v.into_iter().map(Value::String).collect());
            Ok(Value::Array(vec![Value::Array(vec![
                list(diff.added),
                list(diff.changed),
                list(diff.removed),
            ])]))
        }
        "addProcessGroup" => {
            args.arity(1, 1)?;
            core.add_group(args.string(0)?)?;
            Ok(Value::Bool(true))
        }
        "removeProcessGroup" => {
            args.arity(1, 1)?;
            core.remove_group(args.string(0)?)?;
            Ok(Value::Bool(true))
        }
        "startProcess" => {
            args.arity(1, 2)?;
            let (spec, wait) = (args.string(0)?, args.flag(1, true)?);
            Ok(applied(core.start(spec, wait).await?))
        }
        "stopProcess" => {
            args.arity(1, 2)?;
            let (spec, wait) = (args.string(0)?, args.flag(1, true)?);
            Ok(applied(core.stop(spec, wait).await?))
        }
        "startProcessGroup" => {
            args.arity(1, 2)?;
            let (group, wait) = (args.string(0)?, args.flag(1, true)?);
            Ok(results(core.start_group(group, wait).await?))
        }
        "stopProcessGroup" => {
            args.arity(1, 2)?;
            let (group, wait) = (args.string(0)?, args.flag(1, true)?);
            Ok(results(core.stop_group(group, wait).await?))
        }
        "startAllProcesses" => {
            args.arity(0, 1)?;
            Ok(results(core.start_all(args.flag(0, true)?).await))
        }
        "stopAllProcesses" => {
            args.arity(0, 1)?;
            Ok(results(core.stop_all(args.flag(0, true)?).await))
        }
        "signalProcess" => {
            args.arity(2, 2)?;
            let (spec, signal) = (args.string(0)?, args.signal(1)?);
            Ok(applied(core.signal(spec, &signal)?))
        }
        "signalProcessGroup" => {
            args.arity(2, 2)?;
            let (group, signal) = (args.string(0)?, args.signal(1)?);
            Ok(results(core.signal_group(group, &signal)?))
        }
        "signalAllProcesses" => {
            args.arity(1, 1)?;
            Ok(results(core.signal_all(&args.signal(0)?)))
        }
        "getAllConfigInfo" => {
            args.arity(0, 0)?;
            Ok(Value::Array(
                core.config_info().iter().map(config_value).collect(),
            ))
        }
        "getProcessInfo" => {
            args.arity(1, 1)?;
            Ok(info_value(core.process_info(args.string(0)?)?))
        }
        "getAllProcessInfo" => {
            args.arity(0, 0)?;
            Ok(Value::Array(
                core.all_process_info()
                    .into_iter()
                    .map(info_value)
                    .collect(),
            ))
        }
        "readProcessStdoutLog" | "readProcessLog" | "readProcessStderrLog" => {
            args.arity(3, 3)?;
            let spec = args.string(0)?;
            let (offset, length) = (args.int(1)?, args.int(2)?);
            Ok(text(core.read_log(
                spec,
                stream_of(name),
                offset,
                length,
            )?))
        }
        "tailProcessStdoutLog" | "tailProcessLog" | "tailProcessStderrLog" => {
            args.arity(3, 3)?;
            let spec = args.string(0)?;
            let (offset, length) = (args.int(1)?, args.int(2)?);
            let tail = core.tail_log(spec, stream_of(name), offset, length)?;
            Ok(Value::Array(vec![
                text(tail.bytes),
                Value::Int(tail.offset),
                Value::Bool(tail.overflow),
            ]))
        }
        "clearProcessLogs" | "clearProcessLog" => {
            args.arity(1, 1)?;
            core.clear_logs(args.string(0)?)?;
            Ok(Value::Bool(true))
        }
        "clearAllProcessLogs" => {
            args.arity(0, 0)?;
            Ok(results(core.clear_all_logs()))
        }
        "sendProcessStdin" => {
            args.arity(2, 2)?;
            let data = match args.params.get(1) {
                Some(Value::String(s)) => s.as_bytes().to_vec(),
                Some(Value::Base64(b)) => b.clone(),
                Some(other) => {
                    return Err(Code::IncorrectParameters.fault(crate::pytext::str_value(other)))
                }
                None => return Err(Code::IncorrectParameters.bare()),
            };
            core.send_stdin(args.string(0)?, data)?;
            Ok(Value::Bool(true))
        }
        "sendRemoteCommEvent" => {
            args.arity(2, 2)?;
            // 4.3 formats both with '%s': any value is accepted.
            let text = |i: usize| {
                args.params
                    .get(i)
                    .map(crate::pytext::str_value)
                    .unwrap_or_default()
            };
            core.send_remote_comm(&text(0), &text(1));
            Ok(Value::Bool(true))
        }
        _ => Err(Code::UnknownMethod.bare()),
    }
}

/// Log bytes as an XML-RPC string (invalid UTF-8 replaced, as 4.3 decodes).
fn text(bytes: Vec<u8>) -> Value {
    Value::String(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

fn applied(applied: Applied) -> Value {
    match applied {
        Applied::One => Value::Bool(true),
        Applied::Each(each) => results(each),
    }
}

/// 4.3's per-process result structs in group and all-process answers.
fn results(each: Vec<ProcResult>) -> Value {
    Value::Array(
        each.into_iter()
            .map(|r| {
                let (status, description) = match r.error.map(fault) {
                    Some(f) => (f.code, f.string),
                    None => (Code::Success.number(), "OK".to_string()),
                };
                Value::Struct(vec![
                    ("name".into(), Value::String(r.name)),
                    ("group".into(), Value::String(r.group)),
                    ("status".into(), Value::Int(i64::from(status))),
                    ("description".into(), Value::String(description)),
                ])
            })
            .collect(),
    )
}

fn info_value(info: ProcessInfo) -> Value {
    Value::Struct(vec![
        ("name".into(), Value::String(info.name)),
        ("group".into(), Value::String(info.group)),
        ("start".into(), Value::Int(info.start)),
        ("stop".into(), Value::Int(info.stop)),
        ("now".into(), Value::Int(info.now)),
        ("state".into(), Value::Int(i64::from(info.state.code()))),
        ("statename".into(), Value::str(info.state.name())),
        ("spawnerr".into(), Value::String(info.spawnerr)),
        ("exitstatus".into(), Value::Int(i64::from(info.exitstatus))),
        ("logfile".into(), Value::String(info.stdout_logfile.clone())),
        ("stdout_logfile".into(), Value::String(info.stdout_logfile)),
        ("stderr_logfile".into(), Value::String(info.stderr_logfile)),
        ("pid".into(), Value::Int(i64::from(info.pid))),
        ("description".into(), Value::String(info.description)),
    ])
}

fn none_or(value: Option<String>) -> Value {
    Value::String(value.unwrap_or_else(|| "none".to_string()))
}

fn config_value(info: &ConfigInfo) -> Value {
    let p = &info.process;
    let uid = p
        .user
        .as_ref()
        .and_then(|u| crate::users::find_user(u).ok())
        .map(|u| Value::Int(i64::from(u.uid)))
        .unwrap_or_else(|| Value::str("none"));
    Value::Struct(vec![
        ("autostart".into(), Value::Bool(p.autostart)),
        (
            "directory".into(),
            none_or(
                p.directory
                    .as_ref()
                    .map(|d| d.to_string_lossy().into_owned()),
            ),
        ),
        ("uid".into(), uid),
        ("command".into(), Value::String(p.command.clone())),
        (
            "exitcodes".into(),
            Value::Array(
                p.exitcodes
                    .iter()
                    .map(|c| Value::Int(i64::from(*c)))
                    .collect(),
            ),
        ),
        ("group".into(), Value::String(info.group.clone())),
        (
            "group_prio".into(),
            Value::Int(i64::from(info.group_priority)),
        ),
        ("inuse".into(), Value::Bool(info.inuse)),
        ("killasgroup".into(), Value::Bool(p.killasgroup)),
        ("name".into(), Value::String(p.name.clone())),
        ("process_prio".into(), Value::Int(i64::from(p.priority))),
        ("redirect_stderr".into(), Value::Bool(p.redirect_stderr)),
        ("startretries".into(), Value::Int(i64::from(p.startretries))),
        ("startsecs".into(), Value::Int(p.startsecs as i64)),
        (
            "stdout_capture_maxbytes".into(),
            Value::Int(p.stdout.capture_maxbytes as i64),
        ),
        (
            "stdout_events_enabled".into(),
            Value::Bool(p.stdout.events_enabled),
        ),
        (
            "stdout_logfile".into(),
            Value::String(info.stdout_logfile.clone()),
        ),
        (
            "stdout_logfile_backups".into(),
            Value::Int(i64::from(p.stdout.backups)),
        ),
        (
            "stdout_logfile_maxbytes".into(),
            Value::Int(p.stdout.maxbytes as i64),
        ),
        ("stdout_syslog".into(), Value::Bool(p.stdout.syslog)),
        ("stopsignal".into(), Value::Int(i64::from(p.stopsignal))),
        ("stopwaitsecs".into(), Value::Int(p.stopwaitsecs as i64)),
        (
            "stderr_capture_maxbytes".into(),
            Value::Int(p.stderr.capture_maxbytes as i64),
        ),
        (
            "stderr_events_enabled".into(),
            Value::Bool(p.stderr.events_enabled),
        ),
        (
            "stderr_logfile".into(),
            Value::String(info.stderr_logfile.clone()),
        ),
        (
            "stderr_logfile_backups".into(),
            Value::Int(i64::from(p.stderr.backups)),
        ),
        (
            "stderr_logfile_maxbytes".into(),
            Value::Int(p.stderr.maxbytes as i64),
        ),
        ("stderr_syslog".into(), Value::Bool(p.stderr.syslog)),
        ("serverurl".into(), none_or(p.serverurl.clone())),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_follow_43s_traversal_rules() {
        assert!(check_name("supervisor.getState").is_ok());
        assert!(check_name("system.listMethods").is_ok());
        for bad in [
            "getState",
            "supervisor._update",
            "supervisor.nope",
            "a.b.c",
            "supervisor.getState.x",
            "",
        ] {
            assert_eq!(check_name(bad).map_err(|f| f.code), Err(1), "{bad}");
        }
    }

    #[test]
    fn flags_take_python_truthiness() {
        let params = [Value::Int(0), Value::str("x"), Value::Bool(true)];
        let args = Args { params: &params };
        assert_eq!(args.flag(0, true), Ok(false));
        assert_eq!(args.flag(1, false), Ok(true));
        assert_eq!(args.flag(2, false), Ok(true));
        assert_eq!(args.flag(9, true), Ok(true));
    }

    #[test]
    fn non_string_stdin_fault_shows_the_value_as_python_str() {
        assert_eq!(crate::pytext::str_value(&Value::Int(5)), "5");
        assert_eq!(crate::pytext::str_value(&Value::Bool(true)), "True");
        assert_eq!(crate::pytext::str_value(&Value::Nil), "None");
        assert_eq!(crate::pytext::str_value(&Value::Double(1.5)), "1.5");
        assert_eq!(
            crate::pytext::str_value(&Value::Array(vec![Value::Int(1), Value::str("a")])),
            "[1, 'a']"
        );
        assert_eq!(
            crate::pytext::str_value(&Value::Struct(vec![("k".into(), Value::Bool(false))])),
            "{'k': False}"
        );
    }

    #[test]
    fn every_core_error_maps_to_its_43_fault() {
        let cases = [
            (ErrorKind::BadName, 10),
            (ErrorKind::BadArguments, 3),
            (ErrorKind::BadSignal, 11),
            (ErrorKind::NoFile, 20),
            (ErrorKind::NotExecutable, 21),
            (ErrorKind::Failed, 30),
            (ErrorKind::AbnormalTermination, 40),
            (ErrorKind::SpawnError, 50),
            (ErrorKind::AlreadyStarted, 60),
            (ErrorKind::NotRunning, 70),
            (ErrorKind::AlreadyAdded, 90),
            (ErrorKind::StillRunning, 91),
            (ErrorKind::CantReread, 92),
            (ErrorKind::ShutdownState, 6),
        ];
        for (kind, code) in cases {
            assert_eq!(fault(Error::bare(kind)).code, code, "{kind:?}");
        }
        assert_eq!(
            fault(Error::new(ErrorKind::BadName, "x:y")).string,
            "BAD_NAME: x:y"
        );
        assert_eq!(fault(Error::bare(ErrorKind::NoFile)).string, "NO_FILE");
    }

    #[test]
    fn arity_is_enforced() {
        let params = [Value::str("a")];
        let args = Args { params: &params };
        assert!(args.arity(1, 2).is_ok());
        assert_eq!(args.arity(2, 2).map_err(|f| f.code), Err(2));
        assert_eq!(args.int(0).map_err(|f| f.code), Err(2));
    }
}
