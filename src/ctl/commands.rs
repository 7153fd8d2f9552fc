//! The commands of 4.3's supervisorctl (its `DefaultControllerPlugin`), each
//! written to make the same RPC calls in the same order, print the same
//! lines and leave the same exit status. `onecmd` is 4.3's dispatcher with
//! its error handling: 401 prompts, and the catch-all `error: ...` line.

use std::io::{self, Write};
use std::path::PathBuf;

use super::client::{self, field, int_field, items, str_field, Server};
use super::console::{Console, InputError};
use super::format::{
    clear_result, config_changes, fault_result, format_changes, format_config_info,
    format_statuses, is_fault, make_namespec, parseline, python_int, signal_result, split_namespec,
    start_result,
};
use super::help;
use super::py;
use super::raised::{self, Raised, Site};
use super::stream;
use crate::rpc::faults::Code;
use crate::rpc::value::{Fault, Value};

/// LSB init-script exit statuses 4.3 uses for commands.
pub mod exit {
    pub const SUCCESS: u8 = 0;
    pub const GENERIC: u8 = 1;
    pub const INVALID_ARGS: u8 = 2;
    pub const UNIMPLEMENTED_FEATURE: u8 = 3;
    pub const INSUFFICIENT_PRIVILEGES: u8 = 4;
    pub const NOT_INSTALLED: u8 = 5;
    pub const NOT_RUNNING: u8 = 7;
    /// `status` only: a listed process is not running.
    pub const STATUS_NOT_RUNNING: u8 = 3;
    /// `status` only: bad name, or no server.
    pub const STATUS_UNKNOWN: u8 = 4;
}

const ECONNREFUSED: i32 = 111;
const ENOENT: i32 = 2;

/// Process states (`states.ProcessStates`) the commands look at.
const STATE_RUNNING: i64 = 20;
const STOPPED_STATES: [i64; 4] = [0, 100, 200, 1000];

/// Faults that mean the program is dead: exit 7.
const DEAD_PROGRAM_FAULTS: [i32; 3] = [
    Code::SpawnError as i32,
    Code::AbnormalTermination as i32,
    Code::NotRunning as i32,
];

/// What the user chose on the command line or in the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub server: Server,
    /// `options.interactive`: y/N questions and 401 prompts are asked.
    pub interactive: bool,
    pub prompt: String,
    pub history_file: Option<PathBuf>,
}

/// A command's outcome: `true` ends the shell (quit, exit, EOF).
type Outcome = Result<bool, Raised>;
/// What one `do_*` returns: `Some(true)` ends the shell.
type Done = Result<Option<bool>, Raised>;

/// The commands, by the name typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Help,
    Eof,
    Add,
    Avail,
    Clear,
    Exit,
    Fg,
    Maintail,
    Open,
    Pid,
    Quit,
    Reload,
    Remove,
    Reread,
    Restart,
    Shutdown,
    Signal,
    Start,
    Status,
    Stop,
    Tail,
    Update,
    Version,
}

impl Command {
    fn lookup(name: &str) -> Option<Command> {
        Some(match name {
            "help" => Command::Help,
            "EOF" => Command::Eof,
            "add" => Command::Add,
            "avail" => Command::Avail,
            "clear" => Command::Clear,
            "exit" => Command::Exit,
            "fg" => Command::Fg,
            "maintail" => Command::Maintail,
            "open" => Command::Open,
            "pid" => Command::Pid,
            "quit" => Command::Quit,
            "reload" => Command::Reload,
            "remove" => Command::Remove,
            "reread" => Command::Reread,
            "restart" => Command::Restart,
            "shutdown" => Command::Shutdown,
            "signal" => Command::Signal,
            "start" => Command::Start,
            "status" => Command::Status,
            "stop" => Command::Stop,
            "tail" => Command::Tail,
            "update" => Command::Update,
            "version" => Command::Version,
            _ => return None,
        })
    }
}

/// `input()`'s EOF as the `EOFError` 4.3's handlers print.
fn eof_error(site: Site) -> Raised {
    Raised::other("EOFError", "EOF when reading a line", site)
}

fn input_error(err: InputError, site: Site) -> Raised {
    match err {
        InputError::Eof => eof_error(site),
        InputError::Interrupt => Raised::Interrupt,
        InputError::Io(e) => Raised::from_io(&e, site),
    }
}

/// The controller: settings, exit status, and where it writes and reads.
pub struct Controller<'a> {
    pub settings: Settings,
    pub exitstatus: u8,
    out: Box<dyn Write + 'a>,
    err: Box<dyn Write + 'a>,
    console: &'a mut dyn Console,
    stdout_gone: bool,
}

/// Ctrl-C escaped a command: the shell (or the program) ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted;

impl<'a> Controller<'a> {
    pub fn new(
        settings: Settings,
        out: Box<dyn Write + 'a>,
        err: Box<dyn Write + 'a>,
        console: &'a mut dyn Console,
    ) -> Self {
        Controller {
            settings,
            exitstatus: exit::SUCCESS,
            out,
            err,
            console,
            stdout_gone: false,
        }
    }

    pub fn console(&mut self) -> &mut dyn Console {
        &mut *self.console
    }

    /// True once stdout refused a write (e.g. `| head` exited).
    pub fn stdout_gone(&self) -> bool {
        self.stdout_gone
    }

    /// `self.ctl.output(message)`: the message and a newline.
    pub fn output(&mut self, message: &str) {
        let mut line = Vec::with_capacity(message.len() + 1);
        line.extend_from_slice(message.as_bytes());
        line.push(b'\n');
        self.write_out(&line);
    }

    /// Raw bytes to stdout (no newline), flushed.
    pub fn write_out(&mut self, bytes: &[u8]) -> bool {
        if self.stdout_gone {
            return false;
        }
        let ok = self.out.write_all(bytes).and_then(|()| self.out.flush());
        if let Err(e) = ok {
            if e.kind() == io::ErrorKind::BrokenPipe {
                self.stdout_gone = true;
            }
            return false;
        }
        true
    }

    fn write_err(&mut self, text: &str) {
        let _ = self.err.write_all(text.as_bytes());
        let _ = self.err.flush();
    }

    fn call(&self, method: &str, params: &[Value]) -> Result<Value, Raised> {
        self.settings.server.call(method, params)
    }

    fn call_str(&self, method: &str, args: &[&str]) -> Result<Value, Raised> {
        let params: Vec<Value> = args.iter().map(|a| Value::str(*a)).collect();
        self.call(method, &params)
    }

    /// Prints the per-process result structs of a group or all call and
    /// sets the exit status from each (4.3's loops over `results`).
    fn report_results(
        &mut self,
        results: &Value,
        format: impl Fn(&Value) -> Result<String, Raised>,
        ignored: Option<Code>,
    ) -> Result<(), Raised> {
        for result in items(results)? {
            self.output(&format(result)?);
            let code = int_field(result, "status")?;
            self.set_exitstatus_from_fault(code, ignored);
        }
        Ok(())
    }

    /// Prints a one-process fault the way 4.3 formats it as a result struct.
    fn report_fault(
        &mut self,
        fault: &Fault,
        (group, process): (&str, &str),
        format: impl Fn(&Value) -> Result<String, Raised>,
        ignored: Option<Code>,
    ) -> Result<(), Raised> {
        let error = fault_result(fault.code, group, Some(process), &fault.string);
        self.output(&format(&error)?);
        self.set_exitstatus_from_fault(Some(i64::from(fault.code)), ignored);
        Ok(())
    }

    /// `set_exitstatus_from_xmlrpc_fault`.
    fn set_exitstatus_from_fault(&mut self, code: Option<i64>, ignored: Option<Code>) {
        let Some(code) = code else {
            self.exitstatus = exit::GENERIC;
            return;
        };
        let code = code as i32;
        if ignored.is_some_and(|c| c as i32 == code) || code == Code::Success as i32 {
            return;
        }
        self.exitstatus = if DEAD_PROGRAM_FAULTS.contains(&code) {
            exit::NOT_RUNNING
        } else {
            exit::GENERIC
        };
    }

    /// 4.3's `onecmd`: runs one line, handling what the command raised.
    /// Returns whether the shell should stop; Err when Ctrl-C escaped.
    pub fn onecmd(&mut self, line: &str) -> Result<bool, Interrupted> {
        let (cmd, arg, line) = parseline(line);
        if line.is_empty() {
            return Ok(false);
        }
        let command = cmd.as_deref().and_then(Command::lookup);
        let Some(command) = command else {
            self.output(&format!("*** Unknown syntax: {line}"));
            self.exitstatus = exit::GENERIC;
            return Ok(false);
        };
        let first = self.run(command, &arg);
        let second = match first {
            Ok(stop) => return Ok(stop),
            Err(Raised::Interrupt) => return Err(Interrupted),
            Err(Raised::Protocol { status: 401, .. }) => {
                if self.settings.interactive {
                    self.output("Server requires authentication");
                    match self.ask_credentials() {
                        Ok(()) => return self.onecmd(&line),
                        Err(e) => Err(e),
                    }
                } else {
                    self.output("Server requires authentication");
                    self.exitstatus = exit::GENERIC;
                    // 4.3 runs the command once more here, and reports that failure.
                    self.run(command, &arg).map(|_| false)
                }
            }
            Err(e @ Raised::Protocol { .. }) => {
                self.exitstatus = exit::GENERIC;
                Err(e)
            }
            Err(e) => Err(e),
        };
        match second {
            Ok(_) => Ok(false),
            Err(Raised::Interrupt) => Err(Interrupted),
            Err(e) => {
                self.output(&e.error_line());
                self.exitstatus = exit::GENERIC;
                Ok(false)
            }
        }
    }

    fn ask_credentials(&mut self) -> Result<(), Raised> {
        let username = self
            .console
            .input("Username:")
            .map_err(|e| input_error(e, raised::SITE_ASK_USERNAME))?;
        let password = self.console.getpass("Password:").map_err(|e| match e {
            InputError::Eof => Raised::other("EOFError", "", raised::SITE_GETPASS),
            other => input_error(other, raised::SITE_GETPASS),
        })?;
        self.output("");
        self.settings.server.username = Some(username);
        self.settings.server.password = Some(password);
        Ok(())
    }

    fn run(&mut self, command: Command, arg: &str) -> Outcome {
        match command {
            Command::Help => self.do_help(arg),
            Command::Eof | Command::Quit | Command::Exit => {
                self.output("");
                Ok(Some(true))
            }
            Command::Add => self.do_add(arg),
            Command::Avail => self.do_avail(arg),
            Command::Clear => self.do_clear(arg),
            Command::Fg => self.do_fg(arg),
            Command::Maintail => self.do_maintail(arg),
            Command::Open => self.do_open(arg),
            Command::Pid => self.do_pid(arg),
            Command::Reload => self.do_reload(arg),
            Command::Remove => self.do_remove(arg),
            Command::Reread => self.do_reread(arg),
            Command::Restart => self.do_restart(arg),
            Command::Shutdown => self.do_shutdown(arg),
            Command::Signal => self.do_signal(arg),
            Command::Start => self.do_start(arg),
            Command::Status => self.do_status(arg),
            Command::Stop => self.do_stop(arg),
            Command::Tail => self.do_tail(arg),
            Command::Update => self.do_update(arg),
            Command::Version => self.do_version(arg),
        }
        .map(|stop| stop.unwrap_or(false))
    }

    fn help_for(&mut self, topic: &str) {
        if let Some(text) = help::topic(topic) {
            self.output(text);
        }
    }

    /// The shared check before most commands: is the server there, and
    /// does it speak our API version?
    pub fn upcheck(&mut self) -> Result<bool, Raised> {
        match self.call("supervisor.getVersion", &[]) {
            Ok(api) => {
                if api != Value::str(crate::API_VERSION) {
                    self.output(&format!(
                        "Sorry, this version of supervisorctl expects to talk to a server with API version {}, but the remote version is {}.",
                        crate::API_VERSION,
                        py::str_value(&api)
                    ));
                    self.exitstatus = exit::NOT_INSTALLED;
                    return Ok(false);
                }
                Ok(true)
            }
            Err(e) if is_fault(&e, Code::UnknownMethod) => {
                self.output("Sorry, supervisord responded but did not recognize the supervisor namespace commands that supervisorctl uses to control it.  Please check that the [rpcinterface:supervisor] section is enabled in the configuration file (see sample.conf).");
                self.exitstatus = exit::UNIMPLEMENTED_FEATURE;
                Ok(false)
            }
            Err(e @ Raised::Fault(_)) => {
                self.exitstatus = exit::GENERIC;
                Err(e)
            }
            Err(e @ (Raised::Os { .. } | Raised::Resolve { .. })) => match e.errno() {
                Some(ECONNREFUSED) => {
                    let url = self.settings.server.serverurl.clone();
                    self.output(&format!("{url} refused connection"));
                    self.exitstatus = exit::INSUFFICIENT_PRIVILEGES;
                    Ok(false)
                }
                Some(ENOENT) => {
                    let url = self.settings.server.serverurl.clone();
                    self.output(&format!("{url} no such file"));
                    self.exitstatus = exit::NOT_RUNNING;
                    Ok(false)
                }
                _ => {
                    self.exitstatus = exit::GENERIC;
                    Err(e)
                }
            },
            Err(e) => Err(e),
        }
    }

    fn do_help(&mut self, arg: &str) -> Done {
        if py::strip(arg) == "help" {
            self.output(help::HELP_HELP);
        } else if !arg.is_empty() {
            match help::topic(arg) {
                Some(text) => self.output(text),
                None => self.output(&format!("*** No help on {arg}")),
            }
        } else {
            self.output("");
            let mut text = format!(
                "{}\n{}\n",
                help::DOC_HEADER,
                "=".repeat(help::DOC_HEADER.len())
            );
            text.push_str(&py::columnize(&help::TOPICS, 79));
            text.push('\n');
            self.write_out(text.as_bytes());
        }
        Ok(None)
    }

    fn do_tail(&mut self, arg: &str) -> Done {
        if !self.upcheck()? {
            return Ok(None);
        }
        let mut args = py::split(arg);
        if args.is_empty() {
            self.output("Error: too few arguments");
            self.exitstatus = exit::GENERIC;
            self.help_for("tail");
            return Ok(None);
        }
        if args.len() > 3 {
            self.output("Error: too many arguments");
            self.exitstatus = exit::GENERIC;
            self.help_for("tail");
            return Ok(None);
        }
        let modifier = match args.first() {
            Some(first) if first.starts_with('-') => Some(args.remove(0).to_string()),
            _ => None,
        };
        let (name, channel) = if args.len() == 1 {
            (
                args.first().copied().unwrap_or("").to_string(),
                "stdout".to_string(),
            )
        } else if let (Some(name), Some(last)) = (args.first(), args.last()) {
            let channel = last.to_lowercase();
            if channel != "stderr" && channel != "stdout" {
                self.output(&format!("Error: bad channel {}", py::repr_str(&channel)));
                self.exitstatus = exit::GENERIC;
                return Ok(None);
            }
            (name.to_string(), channel)
        } else {
            self.output("Error: tail requires process name");
            self.exitstatus = exit::GENERIC;
            return Ok(None);
        };
        let mut bytes: Option<i64> = Some(1600);
        if let Some(modifier) = &modifier {
            let what = modifier.get(1..).unwrap_or("");
            if what == "f" {
                bytes = None;
            } else {
                match python_int(what) {
                    Some(n) => bytes = Some(n),
                    None => {
                        self.output(&format!("Error: bad argument {modifier}"));
                        self.exitstatus = exit::GENERIC;
                        return Ok(None);
                    }
                }
            }
        }
        let Some(bytes) = bytes else {
            self.tailf(&format!("/logtail/{name}/{channel}"));
            return Ok(None);
        };
        let method = if channel == "stdout" {
            "supervisor.readProcessStdoutLog"
        } else {
            "supervisor.readProcessStderrLog"
        };
        let params = [Value::str(&name), Value::Int(-bytes), Value::Int(0)];
        match self.call(method, &params) {
            Ok(output) => self.output(&py::str_value(&output)),
            Err(Raised::Fault(f)) => {
                self.exitstatus = exit::GENERIC;
                let what = match Code::from_number(f.code) {
                    Some(Code::NoFile) => "no log file",
                    Some(Code::Failed) => "unknown error reading log",
                    Some(Code::BadName) => "no such process name",
                    _ => return Err(Raised::Fault(f)),
                };
                self.output(&format!("{name}: ERROR ({what})"));
            }
            Err(e) => return Err(e),
        }
        Ok(None)
    }

    /// `_tailf`: stream a `/logtail` or `/mainlogtail` URL until Ctrl-C.
    fn tailf(&mut self, path: &str) {
        self.output("==> Press Ctrl-C to exit <==");
        let server = self.settings.server.clone();
        let url = format!("{}{}", server.serverurl, path);
        let mut gone = false;
        let end = stream::follow(&server, path, true, &mut |piece| {
            if !self.write_out(&stream::decode_piece(piece)) {
                gone = true;
            }
            !gone
        });
        match end {
            stream::Ending::Interrupted => self.output(""),
            stream::Ending::Error(message) => self.write_err(&format!("{url} {message}\n")),
            stream::Ending::Done => {}
        }
    }

    fn do_maintail(&mut self, arg: &str) -> Done {
        if !self.upcheck()? {
            return Ok(None);
        }
        let args = py::split(arg);
        let bytes = match args.as_slice() {
            [] => 1600,
            [only] => {
                let Some(what) = only.strip_prefix('-') else {
                    self.output(&format!("Error: bad argument {only}"));
                    self.exitstatus = exit::GENERIC;
                    return Ok(None);
                };
                if what == "f" {
                    self.tailf("/mainlogtail");
                    return Ok(None);
                }
                match python_int(what) {
                    Some(n) => n,
                    None => {
                        self.output(&format!("Error: bad argument {only}"));
                        self.exitstatus = exit::GENERIC;
                        return Ok(None);
                    }
                }
            }
            _ => {
                self.output("Error: too many arguments");
                self.exitstatus = exit::GENERIC;
                self.help_for("maintail");
                return Ok(None);
            }
        };
        match self.call("supervisor.readLog", &[Value::Int(-bytes), Value::Int(0)]) {
            Ok(output) => self.output(&py::str_value(&output)),
            Err(Raised::Fault(f)) => {
                self.exitstatus = exit::GENERIC;
                let what = match Code::from_number(f.code) {
                    Some(Code::NoFile) => "no log file",
                    Some(Code::Failed) => "unknown error reading log",
                    _ => return Err(Raised::Fault(f)),
                };
                self.output(&format!("supervisord: ERROR ({what})"));
            }
            Err(e) => return Err(e),
        }
        Ok(None)
    }

    fn do_status(&mut self, arg: &str) -> Done {
        if !self.upcheck()? {
            self.exitstatus = exit::STATUS_UNKNOWN;
            return Ok(None);
        }
        let all = self.call("supervisor.getAllProcessInfo", &[])?;
        let all_infos = items(&all)?;
        let names = py::split(arg);
        let mut matching: Vec<Value> = Vec::new();
        if names.is_empty() || names.contains(&"all") {
            matching = all_infos.to_vec();
        } else {
            for name in names {
                let (group, process) = split_namespec(name);
                let mut bad_name = true;
                for info in all_infos {
                    let mut matched = field(info, "group")? == &Value::str(&group);
                    if let Some(process) = &process {
                        matched = matched && field(info, "name")? == &Value::str(process);
                    }
                    if matched {
                        bad_name = false;
                        matching.push(info.clone());
                    }
                }
                if bad_name {
                    let msg = match process {
                        None => format!("{group}: ERROR (no such group)"),
                        Some(_) => format!("{name}: ERROR (no such process)"),
                    };
                    self.output(&msg);
                    self.exitstatus = exit::STATUS_UNKNOWN;
                }
            }
        }
        for line in format_statuses(&matching)? {
            self.output(&line);
        }
        for info in &matching {
            if int_field(info, "state")?.is_some_and(|s| STOPPED_STATES.contains(&s)) {
                self.exitstatus = exit::STATUS_NOT_RUNNING;
            }
        }
        Ok(None)
    }

    fn do_pid(&mut self, arg: &str) -> Done {
        if !self.upcheck()? {
            return Ok(None);
        }
        let names = py::split(arg);
        if names.is_empty() {
            let pid = self.call("supervisor.getPID", &[])?;
            self.output(&py::str_value(&pid));
        } else if names.contains(&"all") {
            let all = self.call("supervisor.getAllProcessInfo", &[])?;
            for info in items(&all)? {
                self.output(&str_field(info, "pid")?);
            }
        } else {
            for name in names {
                match self.call_str("supervisor.getProcessInfo", &[name]) {
                    Ok(info) => {
                        let pid = field(&info, "pid")?.clone();
                        self.output(&py::str_value(&pid));
                        if pid == Value::Int(0) || pid == Value::Bool(false) {
                            self.exitstatus = exit::NOT_RUNNING;
                        }
                    }
                    Err(e @ Raised::Fault(_)) => {
                        self.exitstatus = exit::GENERIC;
                        if !is_fault(&e, Code::BadName) {
                            return Err(e);
                        }
                        self.output(&format!("No such process {name}"));
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(None)
    }

    fn do_start(&mut self, arg: &str) -> Done {
        if !self.upcheck()? {
            return Ok(None);
        }
        let names = py::split(arg);
        if names.is_empty() {
            self.output("Error: start requires a process name");
            self.exitstatus = exit::INVALID_ARGS;
            self.help_for("start");
            return Ok(None);
        }
        if names.contains(&"all") {
            let results = self.call("supervisor.startAllProcesses", &[])?;
            self.report_results(&results, start_result, Some(Code::AlreadyStarted))?;
            return Ok(None);
        }
        for name in names {
            let (group, process) = split_namespec(name);
            match process {
                None => match self.call_str("supervisor.startProcessGroup", &[&group]) {
                    Ok(results) => {
                        self.report_results(&results, start_result, Some(Code::AlreadyStarted))?;
                    }
                    Err(e) if is_fault(&e, Code::BadName) => {
                        self.output(&format!("{group}: ERROR (no such group)"));
                        self.exitstatus = exit::INVALID_ARGS;
                    }
                    Err(e @ Raised::Fault(_)) => {
                        self.exitstatus = exit::GENERIC;
                        return Err(e);
                    }
                    Err(e) => return Err(e),
                },
                Some(process) => match self.call_str("supervisor.startProcess", &[name]) {
                    Ok(_) => {
                        let spec = make_namespec(&group, Some(&process));
                        self.output(&format!("{spec}: started"));
                    }
                    Err(Raised::Fault(f)) => {
                        self.report_fault(
                            &f,
                            (&group, &process),
                            start_result,
                            Some(Code::AlreadyStarted),
                        )?;
                    }
                    Err(e) => return Err(e),
                },
            }
        }
        Ok(None)
    }

    fn do_stop(&mut self, arg: &str) -> Done {
        if !self.upcheck()? {
            return Ok(None);
        }
        let names = py::split(arg);
        if names.is_empty() {
            self.output("Error: stop requires a process name");
            self.exitstatus = exit::GENERIC;
            self.help_for("stop");
            return Ok(None);
        }
        if names.contains(&"all") {
            let results = self.call("supervisor.stopAllProcesses", &[])?;
            self.report_results(
                &results,
                |r| signal_result(r, "stopped"),
                Some(Code::NotRunning),
            )?;
            return Ok(None);
        }
        for name in names {
            let (group, process) = split_namespec(name);
            match process {
                None => match self.call_str("supervisor.stopProcessGroup", &[&group]) {
                    Ok(results) => {
                        self.report_results(
                            &results,
                            |r| signal_result(r, "stopped"),
                            Some(Code::NotRunning),
                        )?;
                    }
                    Err(e @ Raised::Fault(_)) => {
                        self.exitstatus = exit::GENERIC;
                        if !is_fault(&e, Code::BadName) {
                            return Err(e);
                        }
                        self.output(&format!("{group}: ERROR (no such group)"));
                    }
                    Err(e) => return Err(e),
                },
                Some(process) => match self.call_str("supervisor.stopProcess", &[name]) {
                    Ok(_) => {
                        let spec = make_namespec(&group, Some(&process));
                        self.output(&format!("{spec}: stopped"));
                    }
                    Err(Raised::Fault(f)) => {
                        self.report_fault(
                            &f,
                            (&group, &process),
                            |r| signal_result(r, "stopped"),
                            Some(Code::NotRunning),
                        )?;
                    }
                    Err(e) => return Err(e),
                },
            }
        }
        Ok(None)
    }

    fn do_signal(&mut self, arg: &str) -> Done {
        if !self.upcheck()? {
            return Ok(None);
        }
        let args = py::split(arg);
        let [sig, names @ ..] = args.as_slice() else {
            return self.signal_usage();
        };
        if names.is_empty() {
            return self.signal_usage();
        }
        if names.contains(&"all") {
            let results = self.call_str("supervisor.signalAllProcesses", &[sig])?;
            self.report_results(&results, |r| signal_result(r, "signalled"), None)?;
            return Ok(None);
        }
        for name in names {
            let (group, process) = split_namespec(name);
            match process {
                None => match self.call_str("supervisor.signalProcessGroup", &[&group, sig]) {
                    Ok(results) => {
                        self.report_results(&results, |r| signal_result(r, "signalled"), None)?;
                    }
                    Err(e) if is_fault(&e, Code::BadName) => {
                        self.output(&format!("{group}: ERROR (no such group)"));
                        self.exitstatus = exit::GENERIC;
                    }
                    Err(e) => return Err(e),
                },
                Some(process) => match self.call_str("supervisor.signalProcess", &[name, sig]) {
                    Ok(_) => {
                        let spec = make_namespec(&group, Some(&process));
                        self.output(&format!("{spec}: signalled"));
                    }
                    Err(Raised::Fault(f)) => {
                        self.report_fault(
                            &f,
                            (&group, &process),
                            |r| signal_result(r, "signalled"),
                            None,
                        )?;
                    }
                    Err(e) => return Err(e),
                },
            }
        }
        Ok(None)
    }

    fn signal_usage(&mut self) -> Done {
        self.output("Error: signal requires a signal name and a process name");
        self.help_for("signal");
        self.exitstatus = exit::GENERIC;
        Ok(None)
    }

    fn do_restart(&mut self, arg: &str) -> Done {
        if !self.upcheck()? {
            return Ok(None);
        }
        if py::split(arg).is_empty() {
            self.output("Error: restart requires a process name");
            self.exitstatus = exit::GENERIC;
            self.help_for("restart");
            return Ok(None);
        }
        self.do_stop(arg)?;
        self.do_start(arg)?;
        Ok(None)
    }

    /// The y/N question of shutdown and reload, asked only when interactive.
    fn confirm(&mut self, question: &str, site: Site) -> Result<bool, Raised> {
        if !self.settings.interactive {
            return Ok(true);
        }
        let answer = self
            .console
            .input(question)
            .map_err(|e| input_error(e, site))?;
        Ok(answer.to_lowercase().starts_with('y'))
    }

    fn do_shutdown(&mut self, arg: &str) -> Done {
        if !arg.is_empty() {
            self.output("Error: shutdown accepts no arguments");
            self.exitstatus = exit::GENERIC;
            self.help_for("shutdown");
            return Ok(None);
        }
        if !self.confirm(
            "Really shut the remote supervisord process down y/N? ",
            raised::SITE_ASK_SHUTDOWN,
        )? {
            return Ok(None);
        }
        match self.call("supervisor.shutdown", &[]) {
            Ok(_) => self.output("Shut down"),
            Err(e) if is_fault(&e, Code::ShutdownState) => {
                self.output("ERROR: already shutting down");
            }
            Err(e @ Raised::Fault(_)) => {
                self.exitstatus = exit::GENERIC;
                return Err(e);
            }
            Err(e @ (Raised::Os { .. } | Raised::Resolve { .. })) => {
                self.exitstatus = exit::GENERIC;
                let url = self.settings.server.serverurl.clone();
                match e.errno() {
                    Some(ECONNREFUSED) => self.output(&format!(
                        "ERROR: {url} refused connection (already shut down?)"
                    )),
                    Some(ENOENT) => {
                        self.output(&format!("ERROR: {url} no such file (already shut down?)"))
                    }
                    _ => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
        Ok(None)
    }

    fn do_reload(&mut self, arg: &str) -> Done {
        if !arg.is_empty() {
            self.output("Error: reload accepts no arguments");
            self.exitstatus = exit::GENERIC;
            self.help_for("reload");
            return Ok(None);
        }
        if !self.confirm(
            "Really restart the remote supervisord process y/N? ",
            raised::SITE_ASK_RELOAD,
        )? {
            return Ok(None);
        }
        match self.call("supervisor.restart", &[]) {
            Ok(_) => self.output("Restarted supervisord"),
            Err(e @ Raised::Fault(_)) => {
                self.exitstatus = exit::GENERIC;
                if !is_fault(&e, Code::ShutdownState) {
                    return Err(e);
                }
                self.output("ERROR: already shutting down");
            }
            Err(e) => return Err(e),
        }
        Ok(None)
    }

    fn do_avail(&mut self, arg: &str) -> Done {
        if !arg.is_empty() {
            self.output("Error: avail accepts no arguments");
            self.exitstatus = exit::GENERIC;
            self.help_for("avail");
            return Ok(None);
        }
        match self.call("supervisor.getAllConfigInfo", &[]) {
            Ok(infos) => {
                for info in items(&infos)? {
                    self.output(&format_config_info(info)?);
                }
            }
            Err(e @ Raised::Fault(_)) => {
                self.exitstatus = exit::GENERIC;
                if !is_fault(&e, Code::ShutdownState) {
                    return Err(e);
                }
                self.output("ERROR: supervisor shutting down");
            }
            Err(e) => return Err(e),
        }
        Ok(None)
    }

    fn do_reread(&mut self, arg: &str) -> Done {
        if !arg.is_empty() {
            self.output("Error: reread accepts no arguments");
            self.exitstatus = exit::GENERIC;
            self.help_for("reread");
            return Ok(None);
        }
        match self.call("supervisor.reloadConfig", &[]) {
            Ok(result) => {
                let [added, changed, removed] = config_changes(&result)?;
                for line in format_changes(&added, &changed, &removed) {
                    self.output(&line);
                }
            }
            Err(Raised::Fault(f)) => {
                self.exitstatus = exit::GENERIC;
                match Code::from_number(f.code) {
                    Some(Code::ShutdownState) => self.output("ERROR: supervisor shutting down"),
                    Some(Code::CantReread) => self.output(&format!("ERROR: {}", f.string)),
                    _ => return Err(Raised::Fault(f)),
                }
            }
            Err(e) => return Err(e),
        }
        Ok(None)
    }

    fn do_add(&mut self, arg: &str) -> Done {
        for name in py::split(arg) {
            match self.call_str("supervisor.addProcessGroup", &[name]) {
                Ok(_) => self.output(&format!("{name}: added process group")),
                Err(Raised::Fault(f)) => match Code::from_number(f.code) {
                    Some(Code::ShutdownState) => {
                        self.output("ERROR: shutting down");
                        self.exitstatus = exit::GENERIC;
                    }
                    Some(Code::AlreadyAdded) => {
                        self.output("ERROR: process group already active");
                    }
                    Some(Code::BadName) => {
                        self.output(&format!("ERROR: no such process/group: {name}"));
                        self.exitstatus = exit::GENERIC;
                    }
                    _ => {
                        self.exitstatus = exit::GENERIC;
                        return Err(Raised::Fault(f));
                    }
                },
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    fn do_remove(&mut self, arg: &str) -> Done {
        for name in py::split(arg) {
            match self.call_str("supervisor.removeProcessGroup", &[name]) {
                Ok(_) => self.output(&format!("{name}: removed process group")),
                Err(Raised::Fault(f)) => {
                    self.exitstatus = exit::GENERIC;
                    match Code::from_number(f.code) {
                        Some(Code::StillRunning) => {
                            self.output(&format!("ERROR: process/group still running: {name}"))
                        }
                        Some(Code::BadName) => {
                            self.output(&format!("ERROR: no such process/group: {name}"))
                        }
                        _ => return Err(Raised::Fault(f)),
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    fn do_update(&mut self, arg: &str) -> Done {
        let result = match self.call("supervisor.reloadConfig", &[]) {
            Ok(result) => result,
            Err(e @ Raised::Fault(_)) => {
                self.exitstatus = exit::GENERIC;
                if !is_fault(&e, Code::ShutdownState) {
                    return Err(e);
                }
                self.output("ERROR: already shutting down");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let [added, changed, removed] = config_changes(&result)?;
        let mut wanted: Vec<&str> = Vec::new();
        for name in py::split(arg) {
            if !wanted.contains(&name) {
                wanted.push(name);
            }
        }
        if wanted.contains(&"all") {
            wanted.clear();
        }
        if !wanted.is_empty() {
            let all = self.call("supervisor.getAllProcessInfo", &[])?;
            let mut groups: Vec<String> = Vec::new();
            for info in items(&all)? {
                groups.push(str_field(info, "group")?);
            }
            groups.extend(added.iter().cloned());
            for gname in &wanted {
                if !groups.iter().any(|g| g == gname) {
                    self.output(&format!("ERROR: no such group: {gname}"));
                    self.exitstatus = exit::GENERIC;
                }
            }
        }
        let selected = |g: &str| wanted.is_empty() || wanted.contains(&g);
        for gname in removed.iter().filter(|g| selected(g)) {
            let results = self.call_str("supervisor.stopProcessGroup", &[gname])?;
            self.output(&format!("{gname}: stopped"));
            let mut failed = false;
            for r in items(&results)? {
                if int_field(r, "status")? == Some(i64::from(Code::Failed as i32)) {
                    failed = true;
                }
            }
            if failed {
                self.output(&format!("{gname}: has problems; not removing"));
                self.exitstatus = exit::GENERIC;
                continue;
            }
            self.call_str("supervisor.removeProcessGroup", &[gname])?;
            self.output(&format!("{gname}: removed process group"));
        }
        for gname in changed.iter().filter(|g| selected(g)) {
            self.call_str("supervisor.stopProcessGroup", &[gname])?;
            self.output(&format!("{gname}: stopped"));
            self.call_str("supervisor.removeProcessGroup", &[gname])?;
            self.call_str("supervisor.addProcessGroup", &[gname])?;
            self.output(&format!("{gname}: updated process group"));
        }
        for gname in added.iter().filter(|g| selected(g)) {
            self.call_str("supervisor.addProcessGroup", &[gname])?;
            self.output(&format!("{gname}: added process group"));
        }
        Ok(None)
    }

    fn do_clear(&mut self, arg: &str) -> Done {
        if !self.upcheck()? {
            return Ok(None);
        }
        let names = py::split(arg);
        if names.is_empty() {
            self.output("Error: clear requires a process name");
            self.exitstatus = exit::GENERIC;
            self.help_for("clear");
            return Ok(None);
        }
        if names.contains(&"all") {
            let results = self.call("supervisor.clearAllProcessLogs", &[])?;
            for result in items(&results)? {
                self.output(&clear_result(result)?);
                let code = int_field(result, "status")?;
                self.set_exitstatus_from_fault(code, None);
            }
            return Ok(None);
        }
        for name in names {
            let (group, process) = split_namespec(name);
            match self.call_str("supervisor.clearProcessLogs", &[name]) {
                Ok(_) => {
                    let spec = make_namespec(&group, process.as_deref());
                    self.output(&format!("{spec}: cleared"));
                }
                Err(Raised::Fault(f)) => {
                    let error = fault_result(f.code, &group, process.as_deref(), &f.string);
                    self.output(&clear_result(&error)?);
                    self.set_exitstatus_from_fault(Some(i64::from(f.code)), None);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    fn do_open(&mut self, arg: &str) -> Done {
        let url = py::strip(arg).to_string();
        let scheme = py::urlsplit(&url)?.scheme;
        if scheme != "unix" && scheme != "http" {
            self.output("ERROR: url must be http:// or unix://");
            self.exitstatus = exit::GENERIC;
            return Ok(None);
        }
        self.settings.server.serverurl = url;
        let saved = self.exitstatus;
        self.do_status("")?;
        self.exitstatus = saved;
        Ok(None)
    }

    fn do_version(&mut self, arg: &str) -> Done {
        if !arg.is_empty() {
            self.output("Error: version accepts no arguments");
            self.exitstatus = exit::GENERIC;
            self.help_for("version");
            return Ok(None);
        }
        if !self.upcheck()? {
            return Ok(None);
        }
        let version = self.call("supervisor.getSupervisorVersion", &[])?;
        self.output(&py::str_value(&version));
        Ok(None)
    }

    fn do_fg(&mut self, arg: &str) -> Done {
        if !self.upcheck()? {
            return Ok(None);
        }
        let names = py::split(arg);
        let name = match names.as_slice() {
            [] => {
                self.output("ERROR: no process name supplied");
                self.exitstatus = exit::GENERIC;
                self.help_for("fg");
                return Ok(None);
            }
            [name] => name.to_string(),
            _ => {
                self.output("ERROR: too many process names supplied");
                self.exitstatus = exit::GENERIC;
                return Ok(None);
            }
        };
        let info = match self.call_str("supervisor.getProcessInfo", &[&name]) {
            Ok(info) => info,
            Err(Raised::Fault(f)) => {
                if f.code == Code::BadName as i32 {
                    self.output("ERROR: bad process name supplied");
                    self.exitstatus = exit::GENERIC;
                } else {
                    self.output(&format!("ERROR: {}", raised::fault_repr(&f)));
                }
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        if int_field(&info, "state")? != Some(STATE_RUNNING) {
            self.output("ERROR: process not running");
            self.exitstatus = exit::GENERIC;
            return Ok(None);
        }
        self.output("==> Press Ctrl-C to exit <==");
        let streams = stream::Foreground::start(&self.settings.server, &name);
        let result = self.fg_loop(&name);
        streams.stop();
        result.map(|()| None)
    }

    /// Sends typed lines to the process until Ctrl-C, EOF or its death.
    fn fg_loop(&mut self, name: &str) -> Result<(), Raised> {
        loop {
            let line = match self.console.fg_line() {
                Ok(line) => line,
                Err(InputError::Eof | InputError::Interrupt) => {
                    self.output("Exiting foreground");
                    return Ok(());
                }
                Err(InputError::Io(e)) => return Err(Raised::from_io(&e, raised::SITE_FG_INPUT)),
            };
            let chars = format!("{line}\n");
            match self.call_str("supervisor.sendProcessStdin", &[name, &chars]) {
                Ok(_) => {}
                Err(Raised::Fault(f)) => {
                    if f.code == Code::NotRunning as i32 {
                        self.output("Process got killed");
                    } else {
                        self.output(&format!("ERROR: {}", raised::fault_repr(&f)));
                    }
                    self.output("Exiting foreground");
                    return Ok(());
                }
                Err(Raised::Interrupt) => {
                    self.output("Exiting foreground");
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
            let info = match self.call_str("supervisor.getProcessInfo", &[name]) {
                Ok(info) => info,
                Err(Raised::Interrupt) => {
                    self.output("Exiting foreground");
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            if int_field(&info, "state")? != Some(STATE_RUNNING) {
                self.output("Process got killed");
                self.output("Exiting foreground");
                return Ok(());
            }
        }
    }

    /// Tab completion candidates (4.3's `complete`): `text` is the word
    /// being completed, `line` the whole line.
    pub fn completions(server: &Server, text: &str, line: &str) -> Vec<String> {
        let actions = || -> Vec<String> {
            let mut vocab = vec!["help"];
            vocab.extend(help::TOPICS);
            vocab
                .into_iter()
                .filter(|a| a.starts_with(text))
                .map(|a| format!("{a} "))
                .collect()
        };
        if py::strip(line).is_empty() {
            return actions();
        }
        let words = py::split(line);
        let action = words.first().copied().unwrap_or("");
        if words.len() == 1 && !line.ends_with(' ') {
            return actions();
        }
        // 4.3 tests `action in ('help')`, a substring test on "help".
        if "help".contains(action) {
            return actions();
        }
        let infos = || -> Vec<(String, String)> {
            let Ok(all) = server.call("supervisor.getAllProcessInfo", &[]) else {
                return Vec::new();
            };
            let Ok(list) = client::items(&all) else {
                return Vec::new();
            };
            list.iter()
                .filter_map(|i| Some((str_field(i, "group").ok()?, str_field(i, "name").ok()?)))
                .collect()
        };
        let mut found: Vec<String> = Vec::new();
        match action {
            "add" | "remove" | "update" => {
                for (group, _) in infos() {
                    if !found.contains(&group) {
                        found.push(group);
                    }
                }
            }
            "clear" | "fg" | "pid" | "restart" | "signal" | "start" | "status" | "stop"
            | "tail" => {
                for (group, name) in infos() {
                    if text.contains(':') || name != group {
                        found.push(format!("{group}:{name}"));
                        let star = format!("{group}:*");
                        if !found.contains(&star) {
                            found.push(star);
                        }
                    } else {
                        found.push(name);
                    }
                }
            }
            _ => {}
        }
        found
            .into_iter()
            .filter(|p| p.starts_with(text))
            .map(|p| format!("{p} "))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(group: &str, name: &str, state: i64, statename: &str, desc: &str) -> Value {
        Value::Struct(vec![
            ("name".into(), Value::str(name)),
            ("group".into(), Value::str(group)),
            ("state".into(), Value::Int(state)),
            ("statename".into(), Value::str(statename)),
            ("description".into(), Value::str(desc)),
        ])
    }

    /// What the fake server answers: a value, a fault, or an HTTP status.
    enum Reply {
        Value(Value),
        Fault(Code),
        Http(u16, &'static str),
    }

    type Handler = dyn Fn(&str, &[Value], Option<&str>) -> Reply + Send + Sync;

    /// A one-thread XML-RPC server on a unix socket; records each call.
    struct FakeServer {
        url: String,
        calls: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
        dir: std::path::PathBuf,
    }

    impl Drop for FakeServer {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn serve(handler: Box<Handler>) -> FakeServer {
        use std::io::{BufRead, BufReader, Read};
        let dir = std::env::temp_dir().join(format!(
            "ctl-fake-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("s.sock");
        let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        let calls = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = std::sync::Arc::clone(&calls);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { return };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let (mut length, mut auth) = (0usize, None);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if lower.starts_with("authorization:") {
                        auth = Some(line["authorization:".len()..].trim().to_string());
                    }
                }
                let mut body = vec![0u8; length];
                let _ = reader.read_exact(&mut body);
                // The fg streams GET /logtail: no XML body, answer 404.
                let Ok(call) = crate::rpc::codec::decode_call(&body) else {
                    let _ = conn.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                    continue;
                };
                seen.lock().unwrap().push(call.method.clone());
                let response = match handler(&call.method, &call.params, auth.as_deref()) {
                    Reply::Http(code, reason) => {
                        format!("HTTP/1.1 {code} {reason}\r\nContent-Length: 0\r\n\r\n")
                    }
                    reply => {
                        let result = match reply {
                            Reply::Value(v) => Ok(v),
                            Reply::Fault(code) => Err(code.bare()),
                            Reply::Http(..) => unreachable!(),
                        };
                        let xml = crate::rpc::codec::encode_response(&result);
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{xml}",
                            xml.len()
                        )
                    }
                };
                let _ = conn.write_all(response.as_bytes());
            }
        });
        FakeServer {
            url: format!("unix://{}", sock.display()),
            calls,
            dir,
        }
    }

    /// A console that answers from scripts and records the prompts.
    #[derive(Default)]
    struct Scripted {
        lines: Vec<String>,
        passwords: Vec<String>,
        prompts: Vec<String>,
    }

    impl Console for Scripted {
        fn input(&mut self, prompt: &str) -> Result<String, InputError> {
            self.prompts.push(prompt.to_string());
            if self.lines.is_empty() {
                return Err(InputError::Eof);
            }
            Ok(self.lines.remove(0))
        }
        fn getpass(&mut self, prompt: &str) -> Result<String, InputError> {
            self.prompts.push(prompt.to_string());
            if self.passwords.is_empty() {
                return Err(InputError::Eof);
            }
            Ok(self.passwords.remove(0))
        }
        fn fg_line(&mut self) -> Result<String, InputError> {
            self.input("")
        }
    }

    #[derive(Clone, Default)]
    struct SharedBuf(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

    impl Write for SharedBuf {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Runs one line; returns (stdout, exit status, prompts asked).
    fn run_line(
        server: &FakeServer,
        interactive: bool,
        console: &mut Scripted,
        line: &str,
    ) -> (String, u8) {
        let out = SharedBuf::default();
        let settings = Settings {
            server: Server {
                serverurl: server.url.clone(),
                username: None,
                password: None,
            },
            interactive,
            prompt: "supervisor".into(),
            history_file: None,
        };
        let mut ctl = Controller::new(
            settings,
            Box::new(out.clone()),
            Box::new(io::sink()),
            console,
        );
        let _ = ctl.onecmd(line);
        let status = ctl.exitstatus;
        drop(ctl);
        let text = String::from_utf8_lossy(&out.0.borrow()).into_owned();
        (text, status)
    }

    fn api_ok(method: &str) -> Option<Reply> {
        (method == "supervisor.getVersion").then(|| Reply::Value(Value::str("3.0")))
    }

    #[test]
    fn upcheck_reports_api_mismatch_and_missing_rpcinterface() {
        let old = serve(Box::new(|_, _, _| Reply::Value(Value::Double(1.0))));
        let (out, status) = run_line(&old, false, &mut Scripted::default(), "version");
        assert_eq!(out, "Sorry, this version of supervisorctl expects to talk to a server with API version 3.0, but the remote version is 1.0.\n");
        assert_eq!(status, exit::NOT_INSTALLED);
        let bare = serve(Box::new(|_, _, _| Reply::Fault(Code::UnknownMethod)));
        let (out, status) = run_line(&bare, false, &mut Scripted::default(), "status");
        assert!(out.starts_with("Sorry, supervisord responded but did not recognize"));
        // status reports 4 whenever its upcheck fails.
        assert_eq!(status, exit::STATUS_UNKNOWN);
        let (_, status) = run_line(&bare, false, &mut Scripted::default(), "pid");
        assert_eq!(status, exit::UNIMPLEMENTED_FEATURE);
    }

    #[test]
    fn unexpected_faults_print_the_error_line() {
        let down = serve(Box::new(|_, _, _| Reply::Fault(Code::ShutdownState)));
        let (out, status) = run_line(&down, false, &mut Scripted::default(), "status");
        assert_eq!(
            out,
            "error: <class 'xmlrpc.client.Fault'>, <Fault 6: 'SHUTDOWN_STATE'>: file: xmlrpc/client.py line: 668\n"
        );
        assert_eq!(status, exit::GENERIC);
        let (out, status) = run_line(&down, false, &mut Scripted::default(), "avail");
        assert_eq!(
            (out.as_str(), status),
            ("ERROR: supervisor shutting down\n", 1)
        );
        let (out, status) = run_line(&down, false, &mut Scripted::default(), "shutdown");
        assert_eq!(
            (out.as_str(), status),
            ("ERROR: already shutting down\n", 0)
        );
    }

    #[test]
    fn unauthorized_one_shot_reports_twice_like_4_3() {
        let locked = serve(Box::new(|_, _, _| Reply::Http(401, "Unauthorized")));
        let (out, status) = run_line(&locked, false, &mut Scripted::default(), "version");
        assert_eq!(
            out,
            "Server requires authentication\nerror: <class 'xmlrpc.client.ProtocolError'>, <ProtocolError for 127.0.0.1/RPC2: 401 Unauthorized>: file: supervisor/xmlrpc.py line: 539\n"
        );
        assert_eq!(status, exit::GENERIC);
        // 4.3 runs the command a second time after the first 401.
        assert_eq!(locked.calls.lock().unwrap().len(), 2);
    }

    #[test]
    fn unauthorized_interactive_asks_and_retries() {
        let expected = crate::http::auth::basic_header("user", "123");
        let guarded = serve(Box::new(move |method, _, auth| {
            if auth != Some(expected.as_str()) {
                return Reply::Http(401, "Unauthorized");
            }
            api_ok(method).unwrap_or(Reply::Value(Value::str("4.3.0")))
        }));
        let mut console = Scripted {
            lines: vec!["user".into()],
            passwords: vec!["123".into()],
            ..Scripted::default()
        };
        let (out, status) = run_line(&guarded, true, &mut console, "version");
        assert_eq!(out, "Server requires authentication\n\n4.3.0\n");
        assert_eq!(status, 0);
        assert_eq!(console.prompts, vec!["Username:", "Password:"]);
        // EOF at the username prompt is the EOFError 4.3 prints.
        let (out, status) = run_line(&guarded, true, &mut Scripted::default(), "version");
        assert!(out.ends_with("error: <class 'EOFError'>, EOF when reading a line: file: supervisor/supervisorctl.py line: 212\n"), "{out}");
        assert_eq!(status, exit::GENERIC);
    }

    #[test]
    fn confirmations_and_exit_statuses() {
        let server = serve(Box::new(|method, params, _| {
            if let Some(ok) = api_ok(method) {
                return ok;
            }
            match method {
                "supervisor.getAllProcessInfo" => Reply::Value(Value::Array(vec![
                    info("a", "a", 20, "RUNNING", "pid 1, uptime 0:00:01"),
                    info("b", "b", 100, "EXITED", "Nov 23 06:59 PM"),
                ])),
                "supervisor.startProcess" if params.first() == Some(&Value::str("b")) => {
                    Reply::Fault(Code::SpawnError)
                }
                "supervisor.startProcess" => Reply::Fault(Code::Failed),
                "supervisor.stopProcess" => Reply::Fault(Code::NotRunning),
                _ => Reply::Value(Value::Bool(true)),
            }
        }));
        let (out, status) = run_line(&server, false, &mut Scripted::default(), "status a");
        assert_eq!((out.lines().count(), status), (1, 0));
        let (_, status) = run_line(&server, false, &mut Scripted::default(), "status");
        assert_eq!(status, exit::STATUS_NOT_RUNNING);
        let (out, status) = run_line(&server, false, &mut Scripted::default(), "start b");
        assert_eq!((out.as_str(), status), ("b: ERROR (spawn error)\n", 7));
        let (out, status) = run_line(&server, false, &mut Scripted::default(), "start a");
        assert!(
            out.contains("ValueError'>, Unknown result code 30 for a"),
            "{out}"
        );
        assert_eq!(status, 1);
        let (out, status) = run_line(&server, false, &mut Scripted::default(), "stop a");
        assert_eq!((out.as_str(), status), ("a: ERROR (not running)\n", 0));
        let mut no = Scripted {
            lines: vec!["No".into()],
            ..Scripted::default()
        };
        let (out, _) = run_line(&server, true, &mut no, "reload");
        assert_eq!(out, "");
        assert_eq!(
            no.prompts,
            vec!["Really restart the remote supervisord process y/N? "]
        );
        let mut yes = Scripted {
            lines: vec!["yes".into()],
            ..Scripted::default()
        };
        let (out, _) = run_line(&server, true, &mut yes, "reload");
        assert_eq!(out, "Restarted supervisord\n");
        let (out, _) = run_line(&server, false, &mut Scripted::default(), "shutdown");
        assert_eq!(out, "Shut down\n");
    }

    #[test]
    fn fg_sends_lines_until_eof() {
        let server = serve(Box::new(|method, params, _| {
            if let Some(ok) = api_ok(method) {
                return ok;
            }
            match method {
                "supervisor.getProcessInfo" => {
                    Reply::Value(info("cat", "cat", 20, "RUNNING", "pid 1, uptime 0:00:01"))
                }
                "supervisor.sendProcessStdin" if params.get(1) == Some(&Value::str("bye\n")) => {
                    Reply::Fault(Code::NotRunning)
                }
                "supervisor.sendProcessStdin" => Reply::Value(Value::Bool(true)),
                _ => Reply::Http(500, "Internal Server Error"),
            }
        }));
        let mut console = Scripted {
            lines: vec!["hi".into(), "bye".into()],
            ..Scripted::default()
        };
        let (out, status) = run_line(&server, false, &mut console, "fg cat");
        assert_eq!(
            out,
            "==> Press Ctrl-C to exit <==\nProcess got killed\nExiting foreground\n"
        );
        assert_eq!(status, 0);
        let (out, _) = run_line(&server, false, &mut Scripted::default(), "fg cat");
        assert!(out.ends_with("Exiting foreground\n"));
    }

    #[test]
    fn completion_of_actions_needs_no_server() {
        let server = Server {
            serverurl: "unix:///nonexistent".into(),
            username: None,
            password: None,
        };
        assert_eq!(
            Controller::completions(&server, "sta", "sta"),
            vec!["start ", "status "]
        );
        assert_eq!(Controller::completions(&server, "he", "he"), vec!["help "]);
        assert_eq!(
            Controller::completions(&server, "q", "help q"),
            vec!["quit "]
        );
        assert!(Controller::completions(&server, "x", "start x").is_empty());
        assert_eq!(Controller::completions(&server, "", "").len(), 22);
    }
}
