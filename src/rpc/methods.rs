//! The daemon's XML-RPC methods (supervisor.* and system.*), with 4.3's
//! names, argument rules, return shapes and faults. Calls that wait (start or
//! stop with wait=true, group and all-process calls) wait for state changes
//! the core announces; nothing here polls.

use std::future::Future;
use std::pin::Pin;

use crate::core::{names, Mood, ProcId, Shared, Stream, Target};
use crate::log::read::{self, ReadError};
use crate::process::state::State;
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
}

/// Runs one call. Boxed because multicall calls back into it.
pub fn call(core: &Shared, call: Call) -> Pin<Box<dyn Future<Output = Reply> + '_>> {
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

async fn dispatch(core: &Shared, method: &str, params: &[Value]) -> Reply {
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

async fn multicall(core: &Shared, calls: &[Value]) -> Reply {
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

async fn supervisor_method(core: &Shared, method: &str, args: &Args<'_>) -> Reply {
    // Every supervisor.* method except sendRemoteCommEvent checks the mood first.
    if method != "supervisor.sendRemoteCommEvent" {
        core.borrow().check_mood()?;
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
            Ok(Value::str(
                core.borrow().config.supervisord.identifier.clone(),
            ))
        }
        "getState" => {
            args.arity(0, 0)?;
            let mood = core.borrow().mood;
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
            let path = core.borrow().log.path();
            read_file(path, offset, length)
        }
        "clearLog" => {
            args.arity(0, 0)?;
            core.borrow_mut().clear_main_log()?;
            Ok(Value::Bool(true))
        }
        "shutdown" => {
            args.arity(0, 0)?;
            core.borrow_mut().request_mood(Mood::Shutdown);
            Ok(Value::Bool(true))
        }
        "restart" => {
            args.arity(0, 0)?;
            core.borrow_mut().request_mood(Mood::Restarting);
            Ok(Value::Bool(true))
        }
        "reloadConfig" => {
            args.arity(0, 0)?;
            let mut c = core.borrow_mut();
            c.reread().map_err(|e| Code::CantReread.fault(e))?;
            let (added, changed, removed) = c.diff_to_active();
            let list = |v: Vec<String>| Value::Array(v.into_iter().map(Value::String).collect());
            Ok(Value::Array(vec![Value::Array(vec![
                list(added),
                list(changed),
                list(removed),
            ])]))
        }
        "addProcessGroup" => {
            args.arity(1, 1)?;
            core.borrow_mut().add_group(args.string(0)?)?;
            Ok(Value::Bool(true))
        }
        "removeProcessGroup" => {
            args.arity(1, 1)?;
            core.borrow_mut().remove_group(args.string(0)?)?;
            Ok(Value::Bool(true))
        }
        "startProcess" | "stopProcess" => {
            args.arity(1, 2)?;
            one(core, Verb::of(name), args.string(0)?, args.flag(1, true)?).await
        }
        "startProcessGroup" | "stopProcessGroup" => {
            args.arity(1, 2)?;
            let ids = group_ids(core, args.string(0)?)?;
            many(core, Verb::of(name), ids, args.flag(1, true)?).await
        }
        "startAllProcesses" | "stopAllProcesses" => {
            args.arity(0, 1)?;
            let ids = core.borrow().in_priority_order(None);
            many(core, Verb::of(name), ids, args.flag(0, true)?).await
        }
        "signalProcess" => {
            args.arity(2, 2)?;
            let spec = args.string(0)?;
            let target = {
                let c = core.borrow();
                match c.lookup(spec)? {
                    Target::Process(id) => Ok(id),
                    Target::Group(g) => Err(g.to_string()),
                }
            };
            match target {
                Ok(id) => {
                    let signal = parse_signal(args.params.get(1))?;
                    core.borrow_mut().signal(id, signal)?;
                    Ok(Value::Bool(true))
                }
                Err(group) => signal_many(core, group_ids(core, &group)?, args.params.get(1)),
            }
        }
        "signalProcessGroup" => {
            args.arity(2, 2)?;
            let ids = group_ids(core, args.string(0)?)?;
            signal_many(core, ids, args.params.get(1))
        }
        "signalAllProcesses" => {
            args.arity(1, 1)?;
            let ids = core.borrow().in_priority_order(None);
            signal_many(core, ids, args.params.first())
        }
        "getAllConfigInfo" => {
            args.arity(0, 0)?;
            Ok(config_info(core))
        }
        "getProcessInfo" => {
            args.arity(1, 1)?;
            let c = core.borrow();
            let id = c.lookup_process(args.string(0)?)?;
            Ok(info_value(&c, id))
        }
        "getAllProcessInfo" => {
            args.arity(0, 0)?;
            let c = core.borrow();
            Ok(Value::Array(
                c.in_lexical_order()
                    .into_iter()
                    .map(|id| info_value(&c, id))
                    .collect(),
            ))
        }
        "readProcessStdoutLog" | "readProcessLog" | "readProcessStderrLog" => {
            args.arity(3, 3)?;
            let stream = if name == "readProcessStderrLog" {
                Stream::Stderr
            } else {
                Stream::Stdout
            };
            let path = {
                let c = core.borrow();
                let id = c.lookup_process(args.string(0)?)?;
                c.log_path(id, stream)
            };
            read_file(path, args.int(1)?, args.int(2)?)
        }
        "tailProcessStdoutLog" | "tailProcessLog" | "tailProcessStderrLog" => {
            args.arity(3, 3)?;
            let stream = if name == "tailProcessStderrLog" {
                Stream::Stderr
            } else {
                Stream::Stdout
            };
            let path = {
                let c = core.borrow();
                let id = c.lookup_process(args.string(0)?)?;
                c.log_path(id, stream)
            };
            let (offset, length) = (args.int(1)?, args.int(2)?);
            Ok(tail_file(path, offset, length))
        }
        "clearProcessLogs" | "clearProcessLog" => {
            args.arity(1, 1)?;
            let mut c = core.borrow_mut();
            let id = c.lookup_process(args.string(0)?)?;
            c.clear_logs(id)?;
            Ok(Value::Bool(true))
        }
        "clearAllProcessLogs" => {
            args.arity(0, 0)?;
            let mut c = core.borrow_mut();
            let ids = c.in_priority_order(None);
            let results = ids
                .into_iter()
                .map(|id| {
                    let outcome = c.clear_logs(id);
                    result_struct(&c, id, outcome.err())
                })
                .collect();
            Ok(Value::Array(results))
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
            let mut c = core.borrow_mut();
            let id = c.lookup_process(args.string(0)?)?;
            c.send_stdin(id, data)?;
            Ok(Value::Bool(true))
        }
        "sendRemoteCommEvent" => {
            args.arity(2, 2)?;
            // No event listeners are served yet; 4.3 also answers true when
            // nobody subscribes to REMOTE_COMMUNICATION.
            Ok(Value::Bool(true))
        }
        _ => Err(Code::UnknownMethod.bare()),
    }
}

/// The processes of an active group, in priority order.
fn group_ids(core: &Shared, name: &str) -> Result<Vec<ProcId>, Fault> {
    let c = core.borrow();
    if c.active_group(name).is_none() {
        return Err(Code::BadName.fault(name));
    }
    Ok(c.in_priority_order(Some(name)))
}

fn parse_signal(value: Option<&Value>) -> Result<i32, Fault> {
    let text = match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Int(n)) => n.to_string(),
        _ => return Err(Code::IncorrectParameters.bare()),
    };
    crate::process::signals::number(&text).ok_or_else(|| Code::BadSignal.fault(&text))
}

fn read_file(path: Option<std::path::PathBuf>, offset: i64, length: i64) -> Reply {
    // 4.3 names the missing file, or nothing at all when there is none
    // configured (its RPCError leaves out an extra of None).
    let Some(path) = path else {
        return Err(Code::NoFile.bare());
    };
    if !path.exists() {
        return Err(Code::NoFile.fault(path.to_string_lossy()));
    }
    match read::read_range(&path, offset, length) {
        Ok(bytes) => Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned())),
        Err(ReadError::BadArguments) => Err(Code::BadArguments.bare()),
        Err(_) => Err(Code::Failed.bare()),
    }
}

fn tail_file(path: Option<std::path::PathBuf>, offset: i64, length: i64) -> Value {
    let missing = || Value::Array(vec![Value::str(""), Value::Int(0), Value::Bool(false)]);
    let Some(path) = path.filter(|p| p.exists()) else {
        return missing();
    };
    let tail = read::tail(&path, offset, length);
    Value::Array(vec![
        Value::String(String::from_utf8_lossy(&tail.bytes).into_owned()),
        Value::Int(tail.offset),
        Value::Bool(tail.overflow),
    ])
}

fn info_value(core: &crate::core::Core, id: ProcId) -> Value {
    let Some(info) = core.info(id) else {
        return Value::Struct(Vec::new());
    };
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

/// 4.3's per-process result struct in group and all-process answers.
fn result_struct(core: &crate::core::Core, id: ProcId, fault: Option<Fault>) -> Value {
    let (name, group) = core
        .slot(id)
        .map(|s| (s.config.name.clone(), s.config.group.clone()))
        .unwrap_or_default();
    let (status, description) = match fault {
        Some(f) => (f.code, f.string),
        None => (Code::Success.number(), "OK".to_string()),
    };
    Value::Struct(vec![
        ("name".into(), Value::String(name)),
        ("group".into(), Value::String(group)),
        ("status".into(), Value::Int(i64::from(status))),
        ("description".into(), Value::String(description)),
    ])
}

/// startProcess or stopProcess and their group and all-process forms,
/// which 4.3 builds from the same pieces (make_allfunc + onwait).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Start,
    Stop,
}

impl Verb {
    fn of(method: &str) -> Verb {
        if method.starts_with("start") {
            Verb::Start
        } else {
            Verb::Stop
        }
    }

    /// 4.3's predicate for the group forms: isNotRunning / isRunning.
    fn applies(self, state: State) -> bool {
        match self {
            Verb::Start => !state.is_running(),
            Verb::Stop => state.is_running(),
        }
    }

    /// The immediate part; Ok(true) when the caller should then wait.
    fn now(self, core: &Shared, id: ProcId, wait: bool) -> Result<bool, Fault> {
        let mut c = core.borrow_mut();
        match self {
            Verb::Start => {
                c.start(id)?;
                Ok(wait && c.state(id) != Some(State::Running))
            }
            Verb::Stop => {
                c.stop(id)?;
                Ok(wait && c.state(id).is_some_and(|s| !s.is_stopped()))
            }
        }
    }

    /// How a wait ends (4.3's onwait); None while it goes on.
    fn outcome(self, core: &crate::core::Core, id: ProcId) -> Option<Result<(), Fault>> {
        match self {
            Verb::Start => {
                let spec = core.namespec(id);
                let slot = core.slot(id)?;
                if slot.rec.spawnerr.is_some() {
                    return Some(Err(Code::SpawnError.fault(&spec)));
                }
                match slot.rec.state {
                    State::Running => Some(Ok(())),
                    State::Starting => None,
                    _ => Some(Err(Code::AbnormalTermination.fault(&spec))),
                }
            }
            Verb::Stop => match core.state(id) {
                Some(state) if !state.is_stopped() => None,
                _ => Some(Ok(())),
            },
        }
    }
}

/// Waits until every id's outcome is known; results in completion order.
async fn wait_all(
    core: &Shared,
    verb: Verb,
    mut pending: Vec<ProcId>,
) -> Vec<(ProcId, Result<(), Fault>)> {
    let mut done = Vec::new();
    loop {
        let bell = {
            let mut c = core.borrow_mut();
            pending.retain(|id| match verb.outcome(&c, *id) {
                Some(result) => {
                    done.push((*id, result));
                    false
                }
                None => true,
            });
            if pending.is_empty() {
                return done;
            }
            c.watch()
        };
        if bell.recv().await.is_err() {
            return done;
        }
    }
}

/// startProcess / stopProcess: one process, or a whole group for `g:*`.
async fn one(core: &Shared, verb: Verb, spec: &str, wait: bool) -> Reply {
    let target = {
        let c = core.borrow();
        match c.lookup(spec)? {
            Target::Process(id) => Ok(id),
            Target::Group(g) => Err(c.in_priority_order(Some(g))),
        }
    };
    let id = match target {
        Ok(id) => id,
        Err(group) => return many(core, verb, group, wait).await,
    };
    if verb.now(core, id, wait)? {
        for (_, result) in wait_all(core, verb, vec![id]).await {
            result?;
        }
    }
    Ok(Value::Bool(true))
}

/// The group and all-process forms: a result struct per process it applied
/// to, failures first, then the rest as they finish.
async fn many(core: &Shared, verb: Verb, ids: Vec<ProcId>, wait: bool) -> Reply {
    let mut results = Vec::new();
    let mut pending = Vec::new();
    for id in ids {
        if !core.borrow().state(id).is_some_and(|s| verb.applies(s)) {
            continue;
        }
        match verb.now(core, id, wait) {
            Err(fault) => results.push(result_struct(&core.borrow(), id, Some(fault))),
            Ok(true) => pending.push(id),
            Ok(false) => results.push(result_struct(&core.borrow(), id, None)),
        }
    }
    for (id, outcome) in wait_all(core, verb, pending).await {
        results.push(result_struct(&core.borrow(), id, outcome.err()));
    }
    Ok(Value::Array(results))
}

fn signal_many(core: &Shared, ids: Vec<ProcId>, signal: Option<&Value>) -> Reply {
    let mut results = Vec::new();
    for id in ids {
        if !core.borrow().state(id).is_some_and(|s| s.is_signallable()) {
            continue;
        }
        let outcome = parse_signal(signal).and_then(|sig| core.borrow_mut().signal(id, sig));
        results.push(result_struct(&core.borrow(), id, outcome.err()));
    }
    Ok(Value::Array(results))
}

fn none_or(value: Option<String>) -> Value {
    Value::String(value.unwrap_or_else(|| "none".to_string()))
}

fn config_info(core: &Shared) -> Value {
    use crate::config::LogTarget;
    let c = core.borrow();
    let mut entries: Vec<(String, Value)> = Vec::new();
    for group in c.config_groups() {
        let inuse = c.active_group(&group.name).is_some();
        for p in &group.processes {
            let active_path = |stream: Stream| -> Option<String> {
                let spec = names::make(&group.name, &p.name);
                let id = c.lookup_process(&spec).ok()?;
                c.log_path(id, stream)
                    .map(|p| p.to_string_lossy().into_owned())
            };
            let logfile = |target: &LogTarget, stream: Stream| -> Value {
                match target {
                    LogTarget::None => Value::str("none"),
                    LogTarget::Syslog => Value::str("syslog"),
                    LogTarget::Path(p) => Value::String(p.to_string_lossy().into_owned()),
                    LogTarget::Auto => Value::String(if inuse {
                        active_path(stream).unwrap_or_else(|| "auto".into())
                    } else {
                        "auto".into()
                    }),
                }
            };
            let uid = p
                .user
                .as_ref()
                .and_then(|u| crate::users::find_user(u).ok())
                .map(|u| Value::Int(i64::from(u.uid)))
                .unwrap_or_else(|| Value::str("none"));
            let stderr_target = if p.redirect_stderr {
                &LogTarget::None
            } else {
                &p.stderr.target
            };
            let item = Value::Struct(vec![
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
                ("group".into(), Value::String(group.name.clone())),
                ("group_prio".into(), Value::Int(i64::from(group.priority))),
                ("inuse".into(), Value::Bool(inuse)),
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
                    logfile(&p.stdout.target, Stream::Stdout),
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
                    logfile(stderr_target, Stream::Stderr),
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
            ]);
            entries.push((p.name.clone(), item));
        }
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Array(entries.into_iter().map(|(_, v)| v).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bug: a process without a log (stderr_logfile=NONE, redirect_stderr)
    /// answered `NO_FILE: None`; 4.3 answers a bare `NO_FILE`.
    #[test]
    fn reading_a_log_that_is_none_is_a_bare_no_file() {
        let fault = read_file(None, 0, 0).err();
        assert_eq!(fault.as_ref().map(|f| f.string.as_str()), Some("NO_FILE"));
        let missing = std::path::PathBuf::from("/nonexistent/x.log");
        let fault = read_file(Some(missing), 0, 0).err();
        assert_eq!(
            fault.map(|f| f.string),
            Some("NO_FILE: /nonexistent/x.log".to_string())
        );
    }

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
    fn reading_a_log_that_is_not_configured_is_bare_no_file() {
        assert_eq!(read_file(None, 0, 0), Err(Code::NoFile.bare()));
        let missing = std::path::PathBuf::from("/nonexistent/supervisor-test.log");
        assert_eq!(
            read_file(Some(missing), 0, 0).map_err(|f| f.string),
            Err("NO_FILE: /nonexistent/supervisor-test.log".to_string())
        );
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
