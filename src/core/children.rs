//! Starting a child and wiring its I/O to the core: the command is resolved
//! as 4.3 does (shell-like split, PATH search, stat checks), the child gets
//! its own process group, pipes, environment, umask and user (through
//! `process::spawn`, which makes the child without a general fork), and three kinds
//! of task follow it: one awaiting its exit, one per output pipe, one for stdin.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use async_io::Async;
use smol::channel::Sender;
use smol::io::AsyncWriteExt;

use super::comm::Piece;
use super::{Core, Error, ErrorKind, ProcId, Stream};
use crate::config::{self, Config};
use crate::log::capture::pump;
use crate::log::writer::Congestion;
use crate::process::spawn::{Identity, Plan};
use crate::process::state::ExitStatus;

/// Why a command cannot be run, in 4.3's words and fault classes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// NO_FILE
    NotFound(String),
    /// NOT_EXECUTABLE (also bad syntax and no permission, as 4.3)
    NotExecutable(String),
}

impl CommandError {
    pub fn message(&self) -> &str {
        match self {
            CommandError::NotFound(m) | CommandError::NotExecutable(m) => m,
        }
    }
    pub fn error(&self) -> Error {
        match self {
            CommandError::NotFound(m) => Error::new(ErrorKind::NoFile, m),
            CommandError::NotExecutable(m) => Error::new(ErrorKind::NotExecutable, m),
        }
    }
}

pub use crate::log::writer::errno_name;
/// How 4.3 quotes names and paths in its messages, and names errnos.
pub use crate::pytext::{repr_bytes as bytes_repr, repr_str as repr};

/// 4.3's `'%(name)r %(channel)s output:\n%(data)s'` debug copy of output.
fn main_log_copy(name: &str, stream: Stream, data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(text) => format!("{} {} output:\n{text}", repr(name), stream.name()),
        Err(_) => format!(
            "{} {} output:\nUndecodable: {}",
            repr(name),
            stream.name(),
            bytes_repr(data)
        ),
    }
}

/// The environment value a child would see for `key` (program env first).
fn child_env_var(process: &config::Process, config: &Config, key: &str) -> Option<String> {
    process
        .environment
        .iter()
        .rev()
        .chain(config.supervisord.environment.iter().rev())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .or_else(|| std::env::var(key).ok())
}

/// 4.3's get_execv_args + check_execv_args: (file to exec, argv).
pub fn resolve_command(
    process: &config::Process,
    config: &Config,
) -> Result<(PathBuf, Vec<String>), CommandError> {
    let argv = config::values::split_command(&process.command).map_err(|e| {
        CommandError::NotExecutable(format!(
            "can't parse command {}: {e}",
            repr(&process.command)
        ))
    })?;
    let Some(program) = argv.first().cloned() else {
        return Err(CommandError::NotExecutable("command is empty".to_string()));
    };
    let (filename, meta) = if program.contains('/') {
        let meta = std::fs::metadata(&program).ok();
        (PathBuf::from(&program), meta)
    } else {
        let path = child_env_var(process, config, "PATH")
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "/bin:/usr/bin:/usr/local/bin".to_string());
        let found = path.split(':').find_map(|dir| {
            let candidate = Path::new(dir).join(&program);
            std::fs::metadata(&candidate).ok().map(|m| (candidate, m))
        });
        match found {
            Some((candidate, meta)) => (candidate, Some(meta)),
            None => (PathBuf::from(&program), None),
        }
    };
    let shown = repr(&filename.to_string_lossy());
    let Some(meta) = meta else {
        return Err(CommandError::NotFound(format!(
            "can't find command {shown}"
        )));
    };
    use std::os::unix::fs::PermissionsExt;
    if meta.is_dir() {
        return Err(CommandError::NotExecutable(format!(
            "command at {shown} is a directory"
        )));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(CommandError::NotExecutable(format!(
            "command at {shown} is not executable"
        )));
    }
    if rustix::fs::access(&filename, rustix::fs::Access::EXEC_OK).is_err() {
        return Err(CommandError::NotExecutable(format!(
            "no permission to run command {shown}"
        )));
    }
    Ok((filename, argv))
}

/// 4.3's drop_privileges checks, done in the parent so a failure is a clear
/// spawn error. None: run as the daemon's own user.
fn identity(user: &str) -> Result<Option<Identity>, String> {
    let record =
        crate::users::find_user(user).map_err(|e| format!("couldn't setuid to {user}: {e}"))?;
    let current = rustix::process::getuid().as_raw();
    if current == record.uid {
        return Ok(None);
    }
    if current != 0 {
        return Err(format!(
            "couldn't setuid to {}: Can't drop privilege as nonroot user",
            record.uid
        ));
    }
    let mut groups = vec![record.gid];
    groups.extend(
        crate::users::supplementary_gids(&record)
            .unwrap_or_default()
            .into_iter()
            .filter(|g| *g != record.gid),
    );
    Ok(Some(Identity {
        uid: record.uid,
        gid: record.gid,
        groups,
    }))
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?)
}

/// The live child's stdin as the core keeps it (the output pipes belong to
/// their pumps).
pub struct ChildIo {
    stdin: Option<Sender<Vec<u8>>>,
    /// `[fcgi-program:x]`: the child's hold on its group's socket.
    fcgi: Option<super::fcgi::Lease>,
    /// The task watching its `ready=` check; dropping it ends the watch.
    _readiness: Option<smol::Task<()>>,
}

impl ChildIo {
    /// The child was reaped: lets go of what it held.
    pub fn release(self, log: &crate::log::activity::MainLog) {
        if let Some(lease) = self.fcgi {
            lease.release(log);
        }
    }

    /// Queues bytes for the child's stdin; false once stdin is closed.
    pub fn send_stdin(&mut self, data: Vec<u8>) -> StdinSend {
        match &self.stdin {
            Some(tx) => match tx.try_send(data) {
                Ok(()) => StdinSend::Queued,
                Err(smol::channel::TrySendError::Full(_)) => StdinSend::Full,
                Err(smol::channel::TrySendError::Closed(_)) => StdinSend::Closed,
            },
            None => StdinSend::Closed,
        }
    }
}

/// What became of bytes for a child's stdin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdinSend {
    Queued,
    /// The child has not read what it was sent before (STDIN_QUEUE writes).
    Full,
    /// The child closed its stdin (4.3's EPIPE).
    Closed,
}

/// Writes queued for a child's stdin at most: a child that never reads
/// cannot make the daemon hold an unbounded amount of input for it.
const STDIN_QUEUE: usize = 64;

/// The environment a child starts with: the daemon's own, then
/// SUPERVISOR_*, then `[supervisord] environment`, then the program's;
/// a later value of a name replaces an earlier one.
fn child_environment(
    process: &config::Process,
    config: &Config,
    server_url: Option<&String>,
) -> BTreeMap<OsString, OsString> {
    let mut env: BTreeMap<OsString, OsString> = std::env::vars_os().collect();
    let mut set = |k: &str, v: &str| {
        env.insert(OsString::from(k), OsString::from(v));
    };
    set("SUPERVISOR_ENABLED", "1");
    if let Some(url) = process.serverurl.as_ref().or(server_url) {
        set("SUPERVISOR_SERVER_URL", url);
    }
    set("SUPERVISOR_PROCESS_NAME", &process.name);
    set("SUPERVISOR_GROUP_NAME", &process.group);
    for (k, v) in config
        .supervisord
        .environment
        .iter()
        .chain(process.environment.iter())
    {
        set(k, v);
    }
    env
}

/// Spawns the child of process `id`; Ok(pid), or the spawn error text.
pub fn spawn(core: &mut Core, id: ProcId) -> Result<u32, String> {
    let Some(slot) = core.procs.get(&id) else {
        return Err("no such process".to_string());
    };
    let process = slot.config.clone();
    let (filename, argv) =
        resolve_command(&process, &core.config).map_err(|e| e.message().to_string())?;
    // As 4.3: the log files exist from here on (not for a command not found),
    // and take what the child side reports below.
    if let Some(slot) = core.procs.get_mut(&id) {
        slot.stdout.open_at_spawn(&core.log);
        slot.stderr.open_at_spawn(&core.log);
    }

    let who = match &process.user {
        Some(user) => identity(user),
        None => Ok(None),
    };
    let who = match who {
        Ok(who) => who,
        Err(message) => {
            child_side_failure(core, id, &message);
            return Err(message);
        }
    };
    // 4.3 changes directory in the child: a failure there is the child's
    // last words on stderr and exit status 127, so the process is seen to
    // start and exit ("Exited too quickly"), not to fail to spawn.
    let last_words = process.directory.as_ref().and_then(|dir| {
        unusable_directory(dir).map(|e| {
            let message = format!("couldn't chdir to {}: {}", dir.display(), errno_name(&e));
            last_words_of(&message).into_bytes()
        })
    });
    // [fcgi-program:x]: the group's listening socket is the child's stdin
    // (4.3's FastCGISubprocess); supervisord keeps no stdin channel for it.
    let fcgi = super::fcgi::lease(core, &process.group)?;
    let made = make_pipes(process.redirect_stderr).and_then(|(pipes, mut fds)| {
        if let Some(lease) = &fcgi {
            fds.stdin = lease.child_stdin()?;
        }
        Ok((pipes, fds))
    });
    let (pipes, child_fds) = match made {
        Ok(made) => made,
        Err(e) => {
            if let Some(lease) = fcgi {
                lease.release(&core.log);
            }
            return Err(
                if e.raw_os_error() == Some(rustix::io::Errno::MFILE.raw_os_error()) {
                    format!("too many open files to spawn {}", repr(&process.name))
                } else {
                    format!(
                        "unknown error making dispatchers for {}: {}",
                        repr(&process.name),
                        errno_name(&e)
                    )
                },
            );
        }
    };

    let mut env = child_environment(&process, &core.config, core.server_url.as_ref());
    let readiness = match &process.lifecycle.ready {
        Some(check) => {
            let tag = core.namespec(id);
            super::readiness::prepare(check, &tag, process.lifecycle.watchdog_sec, &mut env)
        }
        None => Ok(None),
    };
    let mut readiness = match readiness {
        Ok(readiness) => readiness,
        Err(e) => {
            if let Some(lease) = fcgi {
                lease.release(&core.log);
            }
            return Err(format!(
                "couldn't prepare the ready check of {}: {}",
                repr(&process.name),
                errno_name(&e)
            ));
        }
    };
    let ready_fd = readiness.as_mut().and_then(|r| r.child_fd.take());
    let ChildFds {
        stdin,
        stdout,
        stderr,
    } = child_fds;
    let planned = Plan::new(&filename, &argv, env, stdin, stdout, stderr).and_then(|plan| {
        let mut plan = match (&process.directory, &last_words) {
            (Some(dir), None) => plan.with_dir(dir)?,
            _ => plan,
        };
        if let Some(mask) = process.umask {
            plan = plan.with_umask(mask);
        }
        if let Some(who) = who {
            plan = plan.with_identity(who);
        }
        if let Some(words) = last_words {
            plan = plan.with_last_words(words);
        }
        if let Some((fd, number)) = ready_fd {
            plan = plan.with_fd(fd, number)?;
        }
        Ok(plan)
    });
    let exec_error = |e: &io::Error| {
        format!(
            "couldn't exec {}: {}",
            argv.first().map(String::as_str).unwrap_or_default(),
            errno_name(e)
        )
    };
    let child = match planned.and_then(crate::process::spawn::spawn) {
        Ok(child) => child,
        Err(e) => {
            let message = exec_error(&e);
            child_side_failure(core, id, &message);
            if let Some(lease) = fcgi {
                lease.release(&core.log);
            }
            return Err(message);
        }
    };
    let pid = child.id();

    let Some(slot) = core.procs.get_mut(&id) else {
        return Err("no such process".to_string());
    };
    slot.generation += 1;
    slot.ready_note.clear();
    let generation = slot.generation;
    let me = core.me.clone();
    let readiness =
        readiness.map(|prepared| super::readiness::watch(core, id, generation, pid, prepared));

    // One pump per output pipe. When the child is reaped the pumps take what
    // the pipes still hold (4.3's drain) and close them; only then does the
    // exit reach the state machine, so every byte is logged before EXITED.
    let (stop_tx, stop_rx) = smol::channel::bounded::<()>(1);
    let mut drained = Vec::new();
    for (stream, fd) in pipes.outputs {
        let (done_tx, done_rx) = smol::channel::bounded::<()>(1);
        drained.push(done_rx);
        let me = me.clone();
        let stop_rx = stop_rx.clone();
        core.executor
            .spawn(async move {
                let on_data = |data: &[u8]| -> Option<Congestion> {
                    let core = me.upgrade()?;
                    let mut core = core.try_borrow_mut().ok()?;
                    core.write_output(id, stream, data)
                };
                let stop = async move {
                    let _ = stop_rx.recv().await;
                };
                let _ = pump(fd, on_data, stop).await;
                if let Some(core) = me.upgrade() {
                    if let Ok(mut core) = core.try_borrow_mut() {
                        core.output_closed(id, stream);
                    }
                }
                drop(done_tx);
            })
            .detach();
    }

    // The exit watcher owns the child (and reaps it through its pidfd).
    core.executor
        .spawn({
            let me = me.clone();
            async move {
                let status = match child.wait().await {
                    Ok(status) => exit_status(status),
                    Err(_) => ExitStatus::Code(-1),
                };
                drop(stop_tx);
                for done in drained {
                    let _ = done.recv().await;
                }
                if let Some(core) = me.upgrade() {
                    if let Ok(mut core) = core.try_borrow_mut() {
                        core.child_exited(id, generation, status);
                    }
                }
            }
        })
        .detach();

    let (tx, rx) = smol::channel::bounded::<Vec<u8>>(STDIN_QUEUE);
    let stdin = match fcgi {
        Some(_) => None,
        None => Async::new(std::io::PipeWriter::from(pipes.stdin)).ok(),
    };
    if let Some(stdin) = stdin {
        core.executor
            .spawn(async move {
                let mut stdin = stdin;
                while let Ok(data) = rx.recv().await {
                    if stdin.write_all(&data).await.is_err() {
                        return;
                    }
                }
            })
            .detach();
    }
    if let Some(slot) = core.procs.get_mut(&id) {
        slot.io = Some(ChildIo {
            stdin: fcgi.is_none().then_some(tx),
            fcgi,
            _readiness: readiness,
        });
    }
    Ok(pid)
}

/// Writes a failure that 4.3 would have reported from inside the child into
/// the child's stderr log, so `tail name stderr` explains it as before.
/// What 4.3's child writes to its stderr when it fails before exec.
fn last_words_of(message: &str) -> String {
    format!("supervisor: {message}\nsupervisor: child process was not spawned\n")
}

fn child_side_failure(core: &mut Core, id: ProcId, message: &str) {
    core.write_output(id, Stream::Stderr, last_words_of(message).as_bytes());
}

/// Why `dir` cannot be the child's working directory, if it cannot.
fn unusable_directory(dir: &std::path::Path) -> Option<io::Error> {
    match std::fs::read_dir(dir) {
        Err(e) => Some(e),
        Ok(_) if !dir.is_dir() => Some(io::Error::from_raw_os_error(
            rustix::io::Errno::NOTDIR.raw_os_error(),
        )),
        Ok(_) => None,
    }
}

fn exit_status(status: std::process::ExitStatus) -> ExitStatus {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => ExitStatus::Code(code),
        (None, Some(signal)) => ExitStatus::Signal {
            signal,
            core_dumped: status.core_dumped(),
        },
        (None, None) => ExitStatus::Code(-1),
    }
}

/// The parent's ends of a child's pipes.
struct ParentPipes {
    stdin: OwnedFd,
    outputs: Vec<(Stream, OwnedFd)>,
}

/// The child's ends, handed to the command.
struct ChildFds {
    stdin: OwnedFd,
    stdout: OwnedFd,
    stderr: OwnedFd,
}

fn make_pipes(redirect_stderr: bool) -> io::Result<(ParentPipes, ChildFds)> {
    let (child_stdin, parent_stdin) = pipe()?;
    let (parent_stdout, child_stdout) = pipe()?;
    let (outputs, child_stderr) = if redirect_stderr {
        let child_stderr = child_stdout.try_clone()?;
        (vec![(Stream::Stdout, parent_stdout)], child_stderr)
    } else {
        let (parent_stderr, child_stderr) = pipe()?;
        (
            vec![
                (Stream::Stdout, parent_stdout),
                (Stream::Stderr, parent_stderr),
            ],
            child_stderr,
        )
    };
    for (_, fd) in &outputs {
        rustix::io::ioctl_fionbio(fd, true)?;
    }
    rustix::io::ioctl_fionbio(&parent_stdin, true)?;
    Ok((
        ParentPipes {
            stdin: parent_stdin,
            outputs,
        },
        ChildFds {
            stdin: child_stdin,
            stdout: child_stdout,
            stderr: child_stderr,
        },
    ))
}

impl Core {
    /// Child output (or a message standing in for it): a listener's stdout
    /// to its protocol, text between capture tokens to a PROCESS_COMMUNICATION
    /// event, the rest to its channel; with a copy in the main log at debug
    /// level and PROCESS_LOG events where enabled, as 4.3 does.
    pub(crate) fn write_output(
        &mut self,
        id: ProcId,
        stream: Stream,
        data: &[u8],
    ) -> Option<Congestion> {
        let slot = self.procs.get_mut(&id)?;
        if stream == Stream::Stdout && slot.listener.is_some() {
            return self.write_listener_stdout(id, data);
        }
        let index = match stream {
            Stream::Stdout => 0,
            Stream::Stderr => 1,
        };
        let pieces = match slot.capture[index].as_mut() {
            Some(capture) if !data.is_empty() => capture.feed(data),
            // The flood path: no capture, straight to the channel.
            _ => return self.log_output(id, stream, data, true),
        };
        let mut congestion = None;
        for piece in pieces {
            match piece {
                Piece::Normal(text) => congestion = self.log_output(id, stream, &text, true),
                Piece::Captured(text) => {
                    self.log_output(id, stream, &text, false);
                }
                Piece::Communication(text) => self.communication_event(id, stream, &text),
            }
        }
        congestion
    }

    /// A child's output pipe closed (it exited, and the pump drained it):
    /// a line it left unfinished ends here for the line-aware consumers.
    pub(crate) fn output_closed(&mut self, id: ProcId, stream: Stream) {
        let Some(slot) = self.procs.get_mut(&id) else {
            return;
        };
        let channel = match stream {
            Stream::Stderr if !slot.config.redirect_stderr => &mut slot.stderr,
            _ => &mut slot.stdout,
        };
        channel.line_break();
        if let Some(forward) = slot.forward.as_mut() {
            forward.close(stream, &self.outlets);
        }
    }

    /// 4.3's `_log`: to the channel (unless captured), the main log's debug
    /// copy and a PROCESS_LOG event. An empty slice flushes a stream's
    /// backlog. No allocation per chunk unless a copy goes to the main log
    /// (debug), escapes are stripped or an event is wanted.
    fn log_output(
        &mut self,
        id: ProcId,
        stream: Stream,
        data: &[u8],
        to_channel: bool,
    ) -> Option<Congestion> {
        let strip = self.config.supervisord.strip_ansi;
        let slot = self.procs.get_mut(&id)?;
        let channel = match stream {
            Stream::Stderr if !slot.config.redirect_stderr => &mut slot.stderr,
            _ => &mut slot.stdout,
        };
        let stripped;
        let data = if strip {
            stripped = super::output::strip_ansi(data);
            &stripped[..]
        } else {
            data
        };
        let mut congestion = None;
        if to_channel {
            let notice = channel.write(data);
            congestion = channel.congestion();
            if let Some(notice) = notice {
                self.log.log(notice.level(), &notice.to_string());
            }
            // Never congests: the outlet queues or drops on its own.
            if let Some(forward) = slot.forward.as_mut() {
                forward.feed(stream, data, &self.outlets);
            }
        }
        if !data.is_empty() && self.log.enabled(crate::config::LogLevel::Debug) {
            self.log.log(
                crate::config::LogLevel::Debug,
                &main_log_copy(&slot.config.name, stream, data),
            );
        }
        self.output_event(id, stream, data);
        congestion
    }

    /// A listener's stdout: logged as 4.3's PEventListenerDispatcher logs
    /// it (the main log shows the raw bytes), then read as the protocol.
    fn write_listener_stdout(&mut self, id: ProcId, data: &[u8]) -> Option<Congestion> {
        let strip = self.config.supervisord.strip_ansi;
        let slot = self.procs.get_mut(&id)?;
        if !data.is_empty() && self.log.enabled(crate::config::LogLevel::Debug) {
            self.log.log(
                crate::config::LogLevel::Debug,
                &format!(
                    "{} stdout output:\n{}",
                    repr(&slot.config.name),
                    bytes_repr(data)
                ),
            );
        }
        let text = if strip {
            super::output::strip_ansi(data)
        } else {
            data.to_vec()
        };
        let notice = slot.stdout.write(&text);
        let congestion = slot.stdout.congestion();
        if let Some(notice) = notice {
            self.log.log(notice.level(), &notice.to_string());
        }
        if !data.is_empty() {
            self.listener_output(id, data);
        }
        congestion
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bug: undecodable output was copied to the main log as a Rust byte
    /// list (`[255, 97]`) instead of 4.3's `Undecodable: b'\xffa'`.
    #[test]
    fn undecodable_output_is_shown_as_python_bytes_repr() {
        assert_eq!(bytes_repr(b"\xffabc\n"), "b'\\xffabc\\n'");
        assert_eq!(bytes_repr(b"it's"), "b\"it's\"");
        assert_eq!(bytes_repr(b"'\""), "b'\\'\"'");
        assert_eq!(bytes_repr(b"\\\t\r\x00\x7f~ "), "b'\\\\\\t\\r\\x00\\x7f~ '");
        assert_eq!(bytes_repr(b""), "b''");
    }

    #[test]
    fn main_log_copies_read_like_4_3s() {
        assert_eq!(
            main_log_copy("web", Stream::Stdout, b"hi\n"),
            "'web' stdout output:\nhi\n"
        );
        assert_eq!(
            main_log_copy("it's", Stream::Stderr, b"\xff"),
            "\"it's\" stderr output:\nUndecodable: b'\\xff'"
        );
    }

    #[test]
    fn last_words_are_4_3s() {
        assert_eq!(
            last_words_of("couldn't chdir to /x: ENOENT"),
            "supervisor: couldn't chdir to /x: ENOENT\nsupervisor: child process was not spawned\n"
        );
    }

    #[test]
    fn unusable_directory_names_the_errno() {
        let name = |p: &str| unusable_directory(std::path::Path::new(p)).map(|e| errno_name(&e));
        assert_eq!(name("/"), None);
        assert_eq!(name("/nonexistent/dir").as_deref(), Some("ENOENT"));
        assert_eq!(name("/etc/passwd").as_deref(), Some("ENOTDIR"));
    }
}
