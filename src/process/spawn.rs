//! Starting one child: the daemon is multi-threaded, so a child made with
//! `fork` may inherit a lock held by another thread (malloc's, for one) and
//! hang before it reaches `exec`, and `fork` costs more the more memory the
//! daemon maps. [`spawn`] therefore clones with `CLONE_VM | CLONE_VFORK` onto
//! a stack mapped beforehand, as glibc's `posix_spawn` does: the calling
//! thread sleeps while the child, sharing its memory, makes only raw
//! async-signal-safe system calls prepared for it in a [`Plan`] (process
//! group, stdio and extra descriptors, credentials, directory, umask, signal
//! dispositions and mask) and execs, leaving the errno of any failure in an
//! integer the parent owns.
//! The parent keeps a pidfd (`CLONE_PIDFD`) and reaps exactly that child with
//! `waitid(P_PIDFD)`, never `waitpid(-1)`, which needs Linux 5.4 or later
//! (`CLONE_PIDFD` came in 5.2, `pidfd_open` in 5.3, `P_PIDFD` in 5.4).
//!
//! Signals: all signals (the C library's internal ones included) are blocked
//! in the calling thread across the clone, so no handler of the daemon ever
//! runs in the child on the shared memory. Before exec the child sets every
//! signal that has a handler back to `SIG_DFL`, keeps ignored signals ignored
//! except `SIGPIPE` (which the Rust runtime ignores, and which
//! `std::process::Command` likewise restores to `SIG_DFL`), and restores the
//! caller's signal mask.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::ffi::{c_char, c_int, c_void, CStr, CString, OsStr};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::ptr;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, MutexGuard};

use async_io::Async;
use rustix::fs::Mode;
use rustix::io::Errno;
use rustix::process::{Gid, Pid, Uid, WaitId, WaitIdOptions, WaitIdStatus};

/// Everything the child needs, prepared before the clone (the child
/// allocates nothing).
#[derive(Debug)]
pub struct Plan {
    /// The path handed to `execve` (no `PATH` search).
    pub program: CString,
    /// The argument vector, `argv[0]` included.
    pub argv: Vec<CString>,
    /// The whole environment, one `KEY=VALUE` per entry.
    pub envp: Vec<CString>,
    /// The directory to change to before exec (after the credentials, so it
    /// is reached with the child's own permissions).
    pub dir: Option<CString>,
    /// The umask to set before exec.
    pub umask: Option<u32>,
    /// The credentials to take before exec; changing them needs root.
    pub identity: Option<Identity>,
    /// The child's end of its stdin; any descriptor number, 0–2 included.
    pub stdin: OwnedFd,
    /// The child's end of its stdout; may be the same file as `stderr`.
    pub stdout: OwnedFd,
    /// The child's end of its stderr.
    pub stderr: OwnedFd,
    /// More descriptors for the child, each put on its target number (3 or
    /// more, no two alike) without close-on-exec, e.g. the write end of a
    /// pipe as its fd 3 (s6's notification-fd). See [`Plan::with_fd`].
    pub extra_fds: Vec<(OwnedFd, RawFd)>,
    /// Instead of exec, write these bytes to stderr and `_exit(127)`: how a
    /// failure that 4.3 meets in the child (a working directory it cannot
    /// enter) is reported, with the message made here, before the clone.
    pub last_words: Option<Vec<u8>>,
}

/// The user the child runs as: `setgroups(groups)`, `setgid(gid)`,
/// `setuid(uid)`, in that order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
}

impl Plan {
    /// A plan to run `program` with `argv` (`argv[0]` included, so it must
    /// not be empty) and exactly the environment `env`, with the given
    /// stdio. Interior NUL bytes, an empty argv, and an environment name
    /// that is empty or contains `=` are refused with `InvalidInput`.
    pub fn new<A, S, E, K, V>(
        program: impl AsRef<OsStr>,
        argv: A,
        env: E,
        stdin: OwnedFd,
        stdout: OwnedFd,
        stderr: OwnedFd,
    ) -> io::Result<Plan>
    where
        A: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
        E: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        let program = c_string(program, "program path")?;
        let argv = argv
            .into_iter()
            .map(|a| c_string(a, "argument"))
            .collect::<io::Result<Vec<_>>>()?;
        if argv.is_empty() {
            return Err(invalid("argv is empty (argv[0] is required)"));
        }
        let envp = env
            .into_iter()
            .map(|(k, v)| {
                let (k, v) = (k.as_ref().as_bytes(), v.as_ref().as_bytes());
                if k.is_empty() || k.contains(&b'=') {
                    return Err(invalid("environment name is empty or contains '='"));
                }
                c_string(
                    OsStr::from_bytes(&[k, b"=", v].concat()),
                    "environment entry",
                )
            })
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Plan {
            program,
            argv,
            envp,
            dir: None,
            umask: None,
            identity: None,
            stdin,
            stdout,
            stderr,
            extra_fds: Vec::new(),
            last_words: None,
        })
    }

    /// Changes to `dir` before exec.
    pub fn with_dir(mut self, dir: impl AsRef<OsStr>) -> io::Result<Plan> {
        self.dir = Some(c_string(dir, "directory")?);
        Ok(self)
    }

    /// Sets the umask before exec.
    pub fn with_umask(mut self, umask: u32) -> Plan {
        self.umask = Some(umask);
        self
    }

    /// Runs the child as `identity`.
    pub fn with_identity(mut self, identity: Identity) -> Plan {
        self.identity = Some(identity);
        self
    }

    /// Gives the child `fd` as its descriptor `target`. A target of 0 to 2
    /// (stdio is the plan's own) or one already given is refused with
    /// `InvalidInput`.
    pub fn with_fd(mut self, fd: OwnedFd, target: RawFd) -> io::Result<Plan> {
        if target < 3 {
            return Err(invalid(&format!(
                "descriptor target {target} is not 3 or more"
            )));
        }
        if self.extra_fds.iter().any(|(_, t)| *t == target) {
            return Err(invalid(&format!("descriptor target {target} given twice")));
        }
        self.extra_fds.push((fd, target));
        Ok(self)
    }

    /// Makes the child write `words` to its stderr and exit 127 instead of
    /// running the program.
    pub fn with_last_words(mut self, words: Vec<u8>) -> Plan {
        self.last_words = Some(words);
        self
    }
}

/// `s` as a C string; `what` names it in the error for an interior NUL.
pub fn c_string(s: impl AsRef<OsStr>, what: &str) -> io::Result<CString> {
    CString::new(s.as_ref().as_bytes()).map_err(|_| invalid(&format!("{what} contains a NUL byte")))
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message.to_string())
}

/// Pids of the children [`spawn`] started that [`Child::wait`] has not
/// reaped yet (programs, `ready=exec` probes, anything): a PID 1 reaper of
/// orphans must leave them to their own waits, or it steals their status.
static UNREAPED: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

fn unreaped() -> MutexGuard<'static, BTreeSet<u32>> {
    // The list stays consistent whatever a panicking holder did.
    UNREAPED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether `pid` is a child [`spawn`] started and its [`Child::wait`] has
/// not reaped yet.
pub fn is_unreaped_child(pid: u32) -> bool {
    unreaped().contains(&pid)
}

/// A running child, reaped through its pidfd. Dropping it without
/// [`Child::wait`] leaves a zombie: nothing else here reaps it.
pub struct Child {
    pid: Pid,
    pidfd: OwnedFd,
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("pid", &self.pid.as_raw_nonzero())
            .field("pidfd", &self.pidfd)
            .finish()
    }
}

impl Child {
    /// The child's process id (also its process group id).
    pub fn id(&self) -> u32 {
        self.pid.as_raw_nonzero().get().unsigned_abs()
    }

    /// The pidfd, e.g. for `pidfd_send_signal`, which cannot hit a recycled
    /// pid.
    pub fn pidfd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }

    /// Waits for the child to end and reaps it.
    pub async fn wait(self) -> io::Result<ExitStatus> {
        let id = self.id();
        let result = Self::reap(self.pidfd).await;
        unreaped().remove(&id);
        result
    }

    async fn reap(pidfd: OwnedFd) -> io::Result<ExitStatus> {
        let pidfd = Async::new(pidfd)?;
        loop {
            let fd = pidfd.get_ref().as_fd();
            match rustix::process::waitid(
                WaitId::PidFd(fd),
                WaitIdOptions::EXITED | WaitIdOptions::NOHANG,
            ) {
                Ok(Some(status)) => return exit_status(&status),
                // Not yet (a non-blocking pidfd may also say EAGAIN).
                Ok(None) | Err(Errno::AGAIN) | Err(Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
            pidfd.readable().await?;
        }
    }
}

/// The wait status as the standard library's `ExitStatus`.
fn exit_status(status: &WaitIdStatus) -> io::Result<ExitStatus> {
    if let Some(code) = status.exit_status() {
        return Ok(ExitStatus::from_raw((code & 0xff) << 8));
    }
    if let Some(signal) = status.terminating_signal() {
        let core = if status.dumped() { 0x80 } else { 0 };
        return Ok(ExitStatus::from_raw((signal & 0x7f) | core));
    }
    Err(io::Error::other(
        "waitid reported neither an exit nor a signal",
    ))
}

#[cfg(test)]
thread_local! {
    /// The pid of the last child that failed before exec, so that tests can
    /// check it was reaped.
    static LAST_FAILED_CHILD: std::cell::Cell<Option<Pid>> =
        const { std::cell::Cell::new(None) };
}

/// Starts the child described by `plan`. Fails with the OS error of the
/// first step that failed in the child (exec included), which has then
/// already been reaped, or of the clone itself. Like `posix_spawn`, it
/// blocks the calling thread until the child has exec'd (or failed to).
pub fn spawn(plan: Plan) -> io::Result<Child> {
    let argv = null_terminated(&plan.argv);
    let envp = null_terminated(&plan.envp);
    // A script without a `#!` line (ENOEXEC) runs under /bin/sh, as execvp
    // does: argv becomes `/bin/sh PROGRAM ARGS...`, made here, before the clone.
    let sh_argv: Vec<*const c_char> = [SH.as_ptr(), plan.program.as_ptr()]
        .into_iter()
        .chain(plan.argv.iter().skip(1).map(|a| a.as_ptr()))
        .chain(std::iter::once(ptr::null()))
        .collect();
    let mut groups = Vec::new();
    let mut ids = None;
    if let Some(identity) = &plan.identity {
        // -1 means "unchanged" to the kernel and trips rustix's debug check.
        let all = [identity.uid, identity.gid].into_iter();
        if all
            .chain(identity.groups.iter().copied())
            .any(|id| id == u32::MAX)
        {
            return Err(invalid("user or group id -1"));
        }
        groups = identity.groups.iter().map(|g| Gid::from_raw(*g)).collect();
        ids = Some((Uid::from_raw(identity.uid), Gid::from_raw(identity.gid)));
    }
    // The field is public: check what `with_fd` checks.
    let extra: Vec<(RawFd, RawFd)> = plan
        .extra_fds
        .iter()
        .map(|(fd, target)| (fd.as_raw_fd(), *target))
        .collect();
    for (i, (_, target)) in extra.iter().enumerate() {
        if *target < 3 || extra.iter().skip(i + 1).any(|(_, t)| t == target) {
            return Err(invalid(&format!(
                "descriptor target {target} is below 3 or given twice"
            )));
        }
    }
    let copies: Vec<AtomicI32> = extra.iter().map(|_| AtomicI32::new(-1)).collect();
    let mut args = ChildArgs {
        program: plan.program.as_ptr(),
        argv: argv.as_ptr(),
        sh_argv: sh_argv.as_ptr(),
        envp: envp.as_ptr(),
        dir: plan.dir.as_deref(),
        umask: plan.umask.map(Mode::from_raw_mode),
        identity: ids.map(|(uid, gid)| Credentials {
            uid,
            gid,
            groups: &groups,
        }),
        stdio: [&plan.stdin, &plan.stdout, &plan.stderr].map(AsRawFd::as_raw_fd),
        extra: &extra,
        copies: &copies,
        last_words: plan.last_words.as_deref(),
        mask: [0; SIGSET_WORDS],
        error: AtomicI32::new(0),
    };
    let stack = ChildStack::new()?;

    set_mask(&[u64::MAX; SIGSET_WORDS], Some(&mut args.mask))?;
    let mut pidfd: c_int = -1;
    let flags = libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_PIDFD | libc::SIGCHLD;
    // SAFETY: `child_entry` runs on `stack`, a fresh mapping that no Rust
    // value uses; CLONE_VFORK suspends this thread until the child has
    // exec'd or exited, so `args` and everything it points into (the plan,
    // `argv`, `envp`, `groups`, kept alive until this function returns) stay
    // valid and unchanged while the child reads them. The child only makes
    // system calls (rustix's raw ones and libc's thin wrappers, which touch
    // nothing but this suspended thread's errno) and stores into the atomics
    // `args.error` and `args.copies`. All signals are blocked, so no handler
    // of ours runs in the child. `pidfd` is a valid place for the kernel to store the pidfd;
    // tls and child_tid are unused without CLONE_SETTLS and CLONE_*_TID.
    let ret = unsafe {
        libc::clone(
            child_entry,
            stack.top(),
            flags,
            ptr::from_ref(&args).cast_mut().cast::<c_void>(),
            ptr::from_mut(&mut pidfd),
            ptr::null_mut::<c_void>(),
            ptr::null_mut::<c_int>(),
        )
    };
    let clone_error = (ret == -1).then(io::Error::last_os_error);
    // Cannot fail: the set is valid memory and SIG_SETMASK a valid "how".
    let _ = set_mask(&args.mask, None);
    // The child has exec'd or exited: it no longer uses its stack.
    drop(stack);
    if let Some(e) = clone_error {
        return Err(e);
    }
    let Some(pid) = Pid::from_raw(ret) else {
        return Err(io::Error::other("clone returned no pid"));
    };
    let failed = args.error.load(Ordering::Acquire);

    let pidfd = if pidfd >= 0 {
        // SAFETY: the kernel just installed this descriptor for us
        // (CLONE_PIDFD) and nothing else owns it.
        unsafe { OwnedFd::from_raw_fd(pidfd) }
    } else {
        // A kernel before 5.2 ignores CLONE_PIDFD.
        match rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()) {
            Ok(fd) => fd,
            Err(e) => {
                if failed == 0 {
                    let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
                }
                let _ = reap_pid(pid);
                return Err(e.into());
            }
        }
    };
    if failed != 0 {
        let _ = reap_pidfd(pidfd.as_fd());
        #[cfg(test)]
        LAST_FAILED_CHILD.with(|c| c.set(Some(pid)));
        return Err(io::Error::from_raw_os_error(failed));
    }
    let child = Child { pid, pidfd };
    unreaped().insert(child.id());
    Ok(child)
}

/// Blocks until the child behind `pidfd`, known to be exiting, is reaped.
fn reap_pidfd(pidfd: BorrowedFd<'_>) -> io::Result<()> {
    loop {
        match rustix::process::waitid(WaitId::PidFd(pidfd), WaitIdOptions::EXITED) {
            Ok(_) => return Ok(()),
            Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Blocks until `pid`, known to be exiting, is reaped (old kernels only).
fn reap_pid(pid: Pid) -> io::Result<()> {
    loop {
        match rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::empty()) {
            Ok(_) => return Ok(()),
            Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// `items` as the NULL-terminated pointer array `execve` takes.
fn null_terminated(items: &[CString]) -> Vec<*const c_char> {
    items
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(ptr::null()))
        .collect()
}

/// The shell a program without a `#!` line is handed to.
const SH: &CStr = c"/bin/sh";

/// What the child reads; it lives in `spawn`'s frame.
struct ChildArgs<'a> {
    program: *const c_char,
    argv: *const *const c_char,
    /// `/bin/sh PROGRAM ARGS...`, for a program the kernel cannot execute.
    sh_argv: *const *const c_char,
    envp: *const *const c_char,
    dir: Option<&'a CStr>,
    umask: Option<Mode>,
    identity: Option<Credentials<'a>>,
    /// The plan's stdin, stdout and stderr, in the parent's numbering.
    stdio: [RawFd; 3],
    /// The plan's extra descriptors (parent's numbering) and their targets.
    extra: &'a [(RawFd, RawFd)],
    /// One slot per extra descriptor, where the child keeps its copy's
    /// number between the copying and the placing (it allocates nothing).
    copies: &'a [AtomicI32],
    /// Bytes for stderr before `_exit(127)`, instead of exec.
    last_words: Option<&'a [u8]>,
    /// The caller's signal mask, restored in the child before exec.
    mask: KernelSigset,
    /// The errno of the child's failed step; 0 while none has failed.
    error: AtomicI32,
}

struct Credentials<'a> {
    uid: Uid,
    gid: Gid,
    groups: &'a [Gid],
}

/// The child's first and only Rust frame. It never returns: it execs or
/// `_exit(127)`s.
extern "C" fn child_entry(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the address of the `ChildArgs` that `spawn` passed to
    // clone. It lives in `spawn`'s frame, which CLONE_VM shares with us and
    // CLONE_VFORK keeps alive and untouched until we exec or exit.
    let args = unsafe { &*arg.cast::<ChildArgs<'_>>() };
    let Err(errno) = child_run(args);
    let code = errno.raw_os_error();
    args.error
        .store(if code == 0 { libc::EIO } else { code }, Ordering::Release);
    // SAFETY: `_exit` is the exit_group system call: it runs no atexit
    // handler and flushes no stdio buffer (those are the parent's).
    unsafe { libc::_exit(127) }
}

/// The child's steps; returns only with the errno of the step that failed.
/// Everything here is a raw system call (rustix's linux_raw backend, or one
/// of libc's thin wrappers, whose only side effect is the suspended parent
/// thread's `errno`): no allocation, no lock, no panic.
fn child_run(args: &ChildArgs<'_>) -> Result<Infallible, Errno> {
    rustix::process::setpgid(None, None)?;
    move_fds(args.stdio, args.extra, args.copies)?;
    if let Some(words) = args.last_words {
        // A child that says why it cannot run, then exits as 4.3's does:
        // not an error of the spawn, so `args.error` stays 0.
        let _ = rustix::io::write(rustix::stdio::stderr(), words);
        // SAFETY: `_exit` is the exit_group system call: it runs no atexit
        // handler and flushes no stdio buffer (those are the parent's).
        unsafe { libc::_exit(127) }
    }
    if let Some(who) = &args.identity {
        // Per-thread raw system calls: glibc's setuid would signal every
        // thread of the parent to change its credentials too.
        rustix::thread::set_thread_groups(who.groups)?;
        rustix::thread::set_thread_gid(who.gid)?;
        rustix::thread::set_thread_uid(who.uid)?;
    }
    if let Some(dir) = args.dir {
        rustix::process::chdir(dir)?;
    }
    if let Some(mask) = args.umask {
        rustix::process::umask(mask);
    }
    reset_signal_dispositions();
    set_mask(&args.mask, None)?;
    // SAFETY: the program and every element of the NULL-terminated argv and
    // envp arrays are NUL-terminated C strings owned by the plan, which the
    // suspended parent keeps alive.
    unsafe { libc::execve(args.program, args.argv, args.envp) };
    let failed = errno();
    if failed == Errno::NOEXEC {
        // SAFETY: as above; SH is a static C string and sh_argv a
        // NULL-terminated array of the plan's strings.
        unsafe { libc::execve(SH.as_ptr(), args.sh_argv, args.envp) };
        return Err(failed);
    }
    Err(failed)
}

/// Puts the plan's three descriptors on 0, 1 and 2 and its extra ones on
/// their targets (all without close-on-exec), whatever their numbers: each is
/// first copied to a close-on-exec descriptor >= 3 that is no target, so
/// that no `dup2` overwrites a descriptor still to be copied. The plan's own
/// descriptors above 2 are then closed, in case one lacked close-on-exec,
/// before anything is put on a target (one may sit on a target number).
fn move_fds(
    stdio: [RawFd; 3],
    extra: &[(RawFd, RawFd)],
    copies: &[AtomicI32],
) -> Result<(), Errno> {
    let [stdin, stdout, stderr] = stdio;
    let stdin = dup_high(stdin, extra)?;
    let stdout = dup_high(stdout, extra)?;
    let stderr = dup_high(stderr, extra)?;
    for ((fd, _), copy) in extra.iter().zip(copies) {
        copy.store(dup_high(*fd, extra)?.as_raw_fd(), Ordering::Relaxed);
    }
    for fd in stdio.into_iter().chain(extra.iter().map(|(fd, _)| *fd)) {
        if fd > 2 {
            // SAFETY: this closes the entry in the child's own descriptor
            // table (no CLONE_FILES), which no value in the child owns; the
            // parent's `OwnedFd` refers to the parent's table.
            unsafe { rustix::io::close(fd) };
        }
    }
    rustix::stdio::dup2_stdin(stdin)?;
    rustix::stdio::dup2_stdout(stdout)?;
    rustix::stdio::dup2_stderr(stderr)?;
    for ((_, target), copy) in extra.iter().zip(copies) {
        // rustix's dup2 wants the target as an open `OwnedFd`; a target need
        // not be open. The copy is never a target, so dup3 cannot refuse an
        // equal pair, and flags 0 leaves the target without close-on-exec.
        // SAFETY: a system call on two descriptor numbers of the child's own
        // table; the target's old entry, if any, is a copy made above or a
        // descriptor no value in the child owns.
        if unsafe { libc::dup3(copy.load(Ordering::Relaxed), *target, 0) } < 0 {
            return Err(errno());
        }
    }
    Ok(())
}

/// A close-on-exec copy of `fd` numbered 3 or more and not the target of
/// any of `extra`, left open (exec closes it). A copy that lands on a
/// target is left open so that the next one lands elsewhere; placing the
/// target later closes it.
fn dup_high(fd: RawFd, extra: &[(RawFd, RawFd)]) -> Result<BorrowedFd<'static>, Errno> {
    // SAFETY: `fd` is one of the plan's descriptors, open in the child's
    // copy of the descriptor table; it is only read here.
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    loop {
        let copy = rustix::io::fcntl_dupfd_cloexec(fd, 3)?.into_raw_fd();
        if !extra.iter().any(|(_, target)| *target == copy) {
            // SAFETY: `copy` was just opened and is never closed before exec.
            return Ok(unsafe { BorrowedFd::borrow_raw(copy) });
        }
    }
}

/// Sets every signal that has a handler (and `SIGPIPE`, even when ignored)
/// to `SIG_DFL`; other ignored signals stay ignored across exec.
fn reset_signal_dispositions() {
    for signal in 1..=KERNEL_NSIG as c_int {
        if signal == libc::SIGKILL || signal == libc::SIGSTOP {
            continue;
        }
        // SAFETY: `sigaction` is a plain C struct for which all zeroes is a
        // valid value: SIG_DFL, no flags, an empty mask, no restorer.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: a query into a valid struct; sigaction is
        // async-signal-safe.
        if unsafe { libc::sigaction(signal, ptr::null(), &mut old) } != 0 {
            // The C library refuses the signals it reserves for itself
            // (glibc's 32 and 33); set those with the system call. A zeroed
            // kernel sigaction is SIG_DFL with no flags and an empty mask on
            // every architecture, and 64 bytes cover any of its layouts.
            let default = [0u64; 8];
            // SAFETY: the kernel reads a struct sigaction from `default`,
            // which is large enough, and writes nothing (old action NULL).
            unsafe {
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    signal,
                    default.as_ptr(),
                    ptr::null_mut::<c_void>(),
                    SIGSET_BYTES,
                )
            };
            continue;
        }
        let handler = old.sa_sigaction;
        if handler == libc::SIG_DFL || (handler == libc::SIG_IGN && signal != libc::SIGPIPE) {
            continue;
        }
        // SAFETY: as above, all zeroes is SIG_DFL.
        let default: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: sets a valid struct; sigaction is async-signal-safe.
        unsafe { libc::sigaction(signal, &default, ptr::null_mut()) };
    }
}

/// The number of signals the kernel knows.
#[cfg(any(
    target_arch = "mips",
    target_arch = "mips32r6",
    target_arch = "mips64",
    target_arch = "mips64r6"
))]
const KERNEL_NSIG: usize = 128;
#[cfg(not(any(
    target_arch = "mips",
    target_arch = "mips32r6",
    target_arch = "mips64",
    target_arch = "mips64r6"
)))]
const KERNEL_NSIG: usize = 64;
const SIGSET_WORDS: usize = KERNEL_NSIG / 64;
const SIGSET_BYTES: usize = KERNEL_NSIG / 8;
/// The kernel's `sigset_t` (the C library's is larger).
type KernelSigset = [u64; SIGSET_WORDS];

/// `rt_sigprocmask(SIG_SETMASK, set, old)` for the calling thread. The raw
/// system call, unlike `pthread_sigmask`, also blocks the C library's
/// internal signals.
fn set_mask(set: &KernelSigset, old: Option<&mut KernelSigset>) -> Result<(), Errno> {
    let old = old.map_or(ptr::null_mut(), ptr::from_mut);
    // SAFETY: `set` is readable and `old` NULL or writable, both
    // SIGSET_BYTES long; rt_sigprocmask is async-signal-safe.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            ptr::from_ref(set),
            old,
            SIGSET_BYTES,
        )
    };
    if ret == 0 {
        Ok(())
    } else {
        Err(errno())
    }
}

/// The calling thread's `errno` (in the child: the suspended parent
/// thread's, which only the child uses meanwhile) as an `Errno`.
fn errno() -> Errno {
    // SAFETY: `__errno_location` returns the calling thread's errno slot,
    // valid for reading.
    let raw = unsafe { *libc::__errno_location() };
    // `from_raw_os_error` asserts the kernel's range: never panic here.
    if (1..4096).contains(&raw) {
        Errno::from_raw_os_error(raw)
    } else {
        Errno::IO
    }
}

/// The child's stack: an anonymous mapping with a guard page below it, so an
/// overflow kills the child instead of writing over the parent's memory.
struct ChildStack {
    base: *mut c_void,
    len: usize,
}

/// Ample for `child_run` (a few hundred bytes in practice); pages are only
/// touched as used.
const STACK_SIZE: usize = 128 * 1024;

impl ChildStack {
    fn new() -> io::Result<ChildStack> {
        // SAFETY: sysconf only reads a constant.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) })
            .ok()
            .filter(|p| p.is_power_of_two())
            .unwrap_or(4096);
        let len = STACK_SIZE + page;
        // SAFETY: a new private anonymous mapping; no existing memory is
        // affected.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let stack = ChildStack { base, len };
        // SAFETY: the lowest page of our own mapping; stacks grow down on
        // every architecture Rust supports on Linux.
        if unsafe { libc::mprotect(base, page, libc::PROT_NONE) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(stack)
    }

    /// The initial stack pointer: the (page-aligned) end of the mapping.
    fn top(&self) -> *mut c_void {
        self.base.wrapping_byte_add(self.len)
    }
}

impl Drop for ChildStack {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`, which no live
        // value points into (the child has exec'd or exited).
        unsafe { libc::munmap(self.base, self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::io::{Read, Write};
    use std::sync::atomic::AtomicBool;
    use std::sync::{mpsc, Arc};
    use std::time::Duration;

    /// How long any one test may take before it is declared hung.
    const DEADLINE: Duration = Duration::from_secs(60);

    /// Runs `f` on its own thread and fails the test if it has not finished
    /// by the deadline (a hung `spawn` cannot be interrupted otherwise).
    fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
        });
        match rx.recv_timeout(DEADLINE) {
            Ok(Ok(value)) => value,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => panic!("timed out after {DEADLINE:?}"),
        }
    }

    fn pipe() -> (OwnedFd, OwnedFd) {
        rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).expect("pipe")
    }

    fn dev_null() -> OwnedFd {
        std::fs::File::open("/dev/null").expect("/dev/null").into()
    }

    fn read_all(fd: OwnedFd) -> String {
        let mut text = String::new();
        std::fs::File::from(fd)
            .read_to_string(&mut text)
            .expect("read");
        text
    }

    fn sh(script: &str, env: &[(&str, &str)], out: OwnedFd, err: OwnedFd) -> Plan {
        Plan::new(
            "/bin/sh",
            ["sh", "-c", script],
            env.iter().copied(),
            dev_null(),
            out,
            err,
        )
        .expect("plan")
    }

    /// Runs `plan` (with stdout and stderr on one pipe) to its end: the exit
    /// status and the output.
    fn run(make: impl FnOnce(OwnedFd, OwnedFd) -> Plan) -> (ExitStatus, String) {
        let (reader, writer) = pipe();
        let plan = make(writer.try_clone().expect("dup"), writer);
        let child = spawn(plan).expect("spawn");
        let output = read_all(reader);
        let status = smol::block_on(child.wait()).expect("wait");
        (status, output)
    }

    fn failed_child_is_reaped() {
        let pid = LAST_FAILED_CHILD
            .with(std::cell::Cell::take)
            .expect("a failed child pid");
        let left = rustix::process::waitid(
            WaitId::Pid(pid),
            WaitIdOptions::EXITED | WaitIdOptions::NOHANG,
        );
        assert_eq!(left.err(), Some(Errno::CHILD), "pid {pid:?} not reaped");
    }

    #[test]
    fn a_child_is_listed_as_unreaped_until_its_wait_reaps_it() {
        bounded(|| {
            let child = spawn(sh("exit 0", &[], dev_null(), dev_null())).expect("spawn");
            let pid = child.id();
            assert!(is_unreaped_child(pid));
            let status = smol::block_on(child.wait()).expect("wait");
            assert!(status.success());
            assert!(!is_unreaped_child(pid));
        });
    }

    #[test]
    fn plan_new_refuses_bad_strings() {
        let plan = |program: &str, arg: &str, key: &str, value: &str| {
            Plan::new(
                program,
                [arg],
                [(key, value)],
                dev_null(),
                dev_null(),
                dev_null(),
            )
            .map(|_| ())
            .map_err(|e| e.kind())
        };
        let bad = Err(io::ErrorKind::InvalidInput);
        assert_eq!(plan("/bin/true", "true", "A", "1"), Ok(()));
        assert_eq!(plan("/bin/t\0rue", "true", "A", "1"), bad);
        assert_eq!(plan("/bin/true", "t\0rue", "A", "1"), bad);
        assert_eq!(plan("/bin/true", "true", "A\0", "1"), bad);
        assert_eq!(plan("/bin/true", "true", "A", "1\0"), bad);
        assert_eq!(plan("/bin/true", "true", "A=B", "1"), bad);
        assert_eq!(plan("/bin/true", "true", "", "1"), bad);
        let empty = Plan::new(
            "/bin/true",
            Vec::<&str>::new(),
            Vec::<(&str, &str)>::new(),
            dev_null(),
            dev_null(),
            dev_null(),
        );
        assert_eq!(
            empty.err().map(|e| e.kind()),
            Some(io::ErrorKind::InvalidInput)
        );
        let with_dir = Plan::new(
            "/bin/true",
            ["true"],
            Vec::<(&str, &str)>::new(),
            dev_null(),
            dev_null(),
            dev_null(),
        )
        .expect("plan")
        .with_dir("/t\0mp");
        assert_eq!(
            with_dir.err().map(|e| e.kind()),
            Some(io::ErrorKind::InvalidInput)
        );
    }

    #[test]
    fn argv_env_dir_and_umask_reach_the_child() {
        let dir = std::env::temp_dir().canonicalize().expect("temp dir");
        let expected = format!("hello world\n{}\n0027\n$0=sh\n", dir.display());
        let (status, output) = bounded(move || {
            run(|out, err| {
                sh(
                    r#"echo "$X"; pwd; umask; echo "\$0=$0""#,
                    &[("X", "hello world")],
                    out,
                    err,
                )
                .with_dir(&dir)
                .expect("dir")
                .with_umask(0o027)
            })
        });
        assert!(status.success(), "{status:?}");
        assert_eq!(output, expected);
    }

    #[test]
    fn the_environment_is_exactly_the_plan() {
        let (status, output) = bounded(|| {
            run(|out, err| {
                Plan::new(
                    "/usr/bin/env",
                    ["env"],
                    [("A", "1"), ("B", "two words"), ("C", "")],
                    dev_null(),
                    out,
                    err,
                )
                .expect("plan")
            })
        });
        assert!(status.success(), "{status:?}");
        assert_eq!(output, "A=1\nB=two words\nC=\n");
    }

    #[test]
    fn exit_codes_and_signals_are_reported() {
        let (exited, killed) = bounded(|| {
            let (exited, _) = run(|out, err| sh("exit 3", &[], out, err));
            let (killed, _) = run(|out, err| sh("kill -TERM $$", &[], out, err));
            (exited, killed)
        });
        assert_eq!(exited.code(), Some(3));
        assert_eq!(exited.signal(), None);
        assert_eq!(killed.code(), None);
        assert_eq!(killed.signal(), Some(libc::SIGTERM));
        assert!(!killed.core_dumped());
    }

    #[test]
    fn a_script_without_a_shebang_runs_under_sh() {
        let dir = std::env::temp_dir().join(format!("sv-spawn-noexec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let script = dir.join("plain");
        std::fs::write(&script, "echo \"plain $1 $0\"\n").expect("script");
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
        let path = script.clone();
        let (status, output) = bounded(move || {
            run(|out, err| {
                Plan::new(
                    &path,
                    ["plain", "arg"],
                    Vec::<(&str, &str)>::new(),
                    dev_null(),
                    out,
                    err,
                )
                .expect("plan")
            })
        });
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(status.code(), Some(0));
        assert_eq!(output, format!("plain arg {}\n", script.display()));
    }

    #[test]
    fn last_words_go_to_stderr_and_the_child_exits_127() {
        let (status, output) = bounded(|| {
            run(|out, err| {
                sh("echo ran", &[], out, err).with_last_words(b"supervisor: no\n".to_vec())
            })
        });
        assert_eq!(status.code(), Some(127));
        assert_eq!(output, "supervisor: no\n");
    }

    #[test]
    fn failures_before_exec_are_errors_and_reaped() {
        let results = bounded(|| {
            let mut results = Vec::new();
            let no_program = Plan::new(
                "/nonexistent/program",
                ["program"],
                Vec::<(&str, &str)>::new(),
                dev_null(),
                dev_null(),
                dev_null(),
            )
            .expect("plan");
            results.push(("missing program", spawn(no_program).map(|_| ())));
            failed_child_is_reaped();

            let no_dir = sh("exit 0", &[], dev_null(), dev_null())
                .with_dir("/nonexistent/directory")
                .expect("plan");
            results.push(("missing directory", spawn(no_dir).map(|_| ())));
            failed_child_is_reaped();

            let not_executable = Plan::new(
                "/etc/passwd",
                ["passwd"],
                Vec::<(&str, &str)>::new(),
                dev_null(),
                dev_null(),
                dev_null(),
            )
            .expect("plan");
            results.push(("not executable", spawn(not_executable).map(|_| ())));
            failed_child_is_reaped();
            results
        });
        let errnos: Vec<_> = results
            .iter()
            .map(|(what, r)| (*what, r.as_ref().err().and_then(io::Error::raw_os_error)))
            .collect();
        assert_eq!(
            errnos,
            [
                ("missing program", Some(libc::ENOENT)),
                ("missing directory", Some(libc::ENOENT)),
                ("not executable", Some(libc::EACCES)),
            ]
        );
    }

    #[test]
    fn an_extra_fd_reaches_the_child_on_its_target() {
        let output = bounded(|| {
            let (reader, writer) = pipe();
            let plan = sh(r#"echo x >&3"#, &[], dev_null(), dev_null())
                .with_fd(writer, 3)
                .expect("with_fd");
            let child = spawn(plan).expect("spawn");
            let output = read_all(reader);
            assert!(smol::block_on(child.wait()).expect("wait").success());
            output
        });
        assert_eq!(output, "x\n");
    }

    /// Two extra descriptors each sitting on the other's target (which a
    /// naive series of `dup2` would clobber), and one without close-on-exec
    /// that must not leak under its own number.
    #[test]
    fn extra_fds_on_each_others_targets_are_moved_correctly() {
        let (outputs, status) = bounded(|| {
            let high = |fd: &OwnedFd| rustix::io::fcntl_dupfd_cloexec(fd, 700).expect("dup");
            let (r1, w1) = pipe();
            let (r2, w2) = pipe();
            let (r3, w3) = pipe();
            let (a, b, c) = (high(&w1), high(&w2), high(&w3));
            drop((w1, w2, w3));
            rustix::io::fcntl_setfd(&c, rustix::io::FdFlags::empty()).expect("F_SETFD");
            let (na, nb, nc) = (a.as_raw_fd(), b.as_raw_fd(), c.as_raw_fd());
            let script = r#"echo one >/proc/self/fd/$1; echo two >/proc/self/fd/$2
                if [ -e /proc/self/fd/$3 ]; then echo leaked; else echo closed; fi >&5"#;
            let plan = Plan::new(
                "/bin/sh",
                [
                    "sh".to_string(),
                    "-c".into(),
                    script.into(),
                    "sh".into(),
                    nb.to_string(),
                    na.to_string(),
                    nc.to_string(),
                ],
                Vec::<(&str, &str)>::new(),
                dev_null(),
                dev_null(),
                dev_null(),
            )
            .expect("plan")
            // Pipe 1's writer goes where pipe 2's sits, and the other way.
            .with_fd(a, nb)
            .and_then(|p| p.with_fd(b, na))
            .and_then(|p| p.with_fd(c, 5))
            .expect("with_fd");
            let child = spawn(plan).expect("spawn");
            let outputs = [read_all(r1), read_all(r2), read_all(r3)];
            (outputs, smol::block_on(child.wait()).expect("wait"))
        });
        assert!(status.success(), "{status:?}");
        assert_eq!(outputs, ["one\n", "two\n", "closed\n"]);
    }

    #[test]
    fn extra_fd_targets_below_3_or_twice_are_refused() {
        let plan = || sh("exit 0", &[], dev_null(), dev_null());
        for target in [-1, 0, 1, 2] {
            let refused = plan().with_fd(dev_null(), target);
            assert_eq!(
                refused.err().map(|e| e.kind()),
                Some(io::ErrorKind::InvalidInput),
                "{target}"
            );
        }
        let twice = plan()
            .with_fd(dev_null(), 3)
            .and_then(|p| p.with_fd(dev_null(), 3));
        assert_eq!(
            twice.err().map(|e| e.kind()),
            Some(io::ErrorKind::InvalidInput)
        );
        // The field is public; spawn checks it too.
        let mut direct = plan();
        direct.extra_fds.push((dev_null(), 1));
        assert_eq!(
            spawn(direct).err().map(|e| e.kind()),
            Some(io::ErrorKind::InvalidInput)
        );
    }

    #[test]
    fn identity_with_id_minus_one_is_refused() {
        let plan = sh("exit 0", &[], dev_null(), dev_null()).with_identity(Identity {
            uid: 65534,
            gid: u32::MAX,
            groups: vec![],
        });
        let error = spawn(plan).expect_err("refused");
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn the_child_leads_its_own_process_group() {
        let (pid, pgid, cloexec, status) = bounded(|| {
            let plan = Plan::new(
                "/bin/sleep",
                ["sleep", "30"],
                Vec::<(&str, &str)>::new(),
                dev_null(),
                dev_null(),
                dev_null(),
            )
            .expect("plan");
            let child = spawn(plan).expect("spawn");
            let pid = Pid::from_raw(i32::try_from(child.id()).expect("pid")).expect("pid");
            let pgid = rustix::process::getpgid(Some(pid)).expect("getpgid");
            let cloexec = rustix::io::fcntl_getfd(child.pidfd())
                .expect("F_GETFD")
                .contains(rustix::io::FdFlags::CLOEXEC);
            rustix::process::pidfd_send_signal(child.pidfd(), rustix::process::Signal::KILL)
                .expect("kill");
            let status = smol::block_on(child.wait()).expect("wait");
            (pid, pgid, cloexec, status)
        });
        assert_eq!(pgid, pid);
        assert!(cloexec, "the pidfd must not leak into later children");
        assert_ne!(pgid, rustix::process::getpgrp());
        assert_eq!(status.signal(), Some(libc::SIGKILL));
    }

    /// A signal mask / disposition line of `/proc/.../status`, as a bit set.
    fn status_bits(status: &str, field: &str) -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(":\t"))
            .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
            .unwrap_or_else(|| panic!("no {field} in {status}"))
    }

    #[test]
    fn the_child_gets_the_callers_mask_and_default_sigpipe() {
        // Signal 63 is used by nothing else here; ignoring it process-wide
        // is harmless to the other tests.
        let ignored = 63;
        let (ours, theirs) = bounded(move || {
            // SAFETY: plain C structs; setting SIG_IGN installs no code.
            let previous = unsafe {
                let mut ignore: libc::sigaction = std::mem::zeroed();
                ignore.sa_sigaction = libc::SIG_IGN;
                let mut previous: libc::sigaction = std::mem::zeroed();
                assert_eq!(libc::sigaction(ignored, &ignore, &mut previous), 0);
                previous
            };
            // SAFETY: blocks SIGUSR1 in this (test-owned) thread only.
            unsafe {
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut set);
                libc::sigaddset(&mut set, libc::SIGUSR1);
                assert_eq!(
                    libc::pthread_sigmask(libc::SIG_BLOCK, &set, ptr::null_mut()),
                    0
                );
            }
            let ours = std::fs::read_to_string("/proc/thread-self/status").expect("status");
            let (status, theirs) = run(|out, err| {
                Plan::new(
                    "/bin/cat",
                    ["cat", "/proc/self/status"],
                    Vec::<(&str, &str)>::new(),
                    dev_null(),
                    out,
                    err,
                )
                .expect("plan")
            });
            // SAFETY: restores the disposition saved above.
            unsafe { libc::sigaction(ignored, &previous, ptr::null_mut()) };
            assert!(status.success());
            (ours, theirs)
        });
        let bit = |signal: c_int| 1u64 << (signal - 1);
        let blocked = status_bits(&theirs, "SigBlk");
        assert_eq!(blocked, status_bits(&ours, "SigBlk"));
        assert_ne!(blocked & bit(libc::SIGUSR1), 0);
        let ignored_by_child = status_bits(&theirs, "SigIgn");
        assert_ne!(status_bits(&ours, "SigIgn") & bit(libc::SIGPIPE), 0);
        assert_eq!(ignored_by_child & bit(libc::SIGPIPE), 0);
        assert_ne!(ignored_by_child & bit(ignored), 0);
    }

    #[test]
    fn stdin_stdout_and_stderr_are_plumbed() {
        let (status, output) = bounded(|| {
            let (stdin, feed) = pipe();
            let (reader, writer) = pipe();
            let plan = Plan::new(
                "/bin/sh",
                ["sh", "-c", r#"read l; echo "out:$l"; echo "err:$l" >&2"#],
                Vec::<(&str, &str)>::new(),
                stdin,
                writer.try_clone().expect("dup"),
                writer,
            )
            .expect("plan");
            let child = spawn(plan).expect("spawn");
            let mut feed = std::fs::File::from(feed);
            feed.write_all(b"ping\n").expect("write");
            drop(feed);
            let output = read_all(reader);
            (smol::block_on(child.wait()).expect("wait"), output)
        });
        assert!(status.success());
        assert_eq!(output, "out:ping\nerr:ping\n");
    }

    /// The role a re-run of this test binary plays (see
    /// `stdio_already_on_0_1_2_is_moved_correctly`).
    const ROLE: &str = "SUPERVISOR_SPAWN_TEST_ROLE";

    /// The plan's descriptors are 0, 1 and 2 themselves, rotated (stdin on
    /// 2, stdout on 0, stderr on 1), which a naive series of `dup2` would
    /// clobber; and a plan descriptor without close-on-exec does not leak.
    /// This replaces the process's own stdio, so it runs in a re-run of the
    /// test binary restricted to this one test.
    #[test]
    fn stdio_already_on_0_1_2_is_moved_correctly() {
        if std::env::var_os(ROLE).is_some() {
            return rotated_stdio_role();
        }
        let (status, output) = bounded(|| {
            let exe = std::env::current_exe().expect("current_exe");
            let name = "process::spawn::tests::stdio_already_on_0_1_2_is_moved_correctly";
            let mut env: Vec<(std::ffi::OsString, std::ffi::OsString)> =
                std::env::vars_os().collect();
            env.push((ROLE.into(), "rotated".into()));
            run(|out, err| {
                Plan::new(
                    &exe,
                    [
                        exe.as_os_str(),
                        name.as_ref(),
                        "--exact".as_ref(),
                        "--test-threads=1".as_ref(),
                        "--nocapture".as_ref(),
                    ],
                    env,
                    dev_null(),
                    out,
                    err,
                )
                .expect("plan")
            })
        });
        assert!(
            status.success() && output.contains("test result: ok. 1 passed"),
            "{status:?}\n{output}"
        );
    }

    fn rotated_stdio_role() {
        let own = |fd: RawFd| {
            // SAFETY: 0, 1 and 2 are open in the test process; the copy is new.
            let fd = unsafe { BorrowedFd::borrow_raw(fd) };
            rustix::io::fcntl_dupfd_cloexec(fd, 10).expect("save stdio")
        };
        let saved = [own(0), own(1), own(2)];
        let (in_read, in_write) = pipe();
        let (out_read, out_write) = pipe();
        let (err_read, err_write) = pipe();
        // From here until stdio is restored, a panic would print into the
        // pipes: results are checked afterwards.
        let placed = rustix::stdio::dup2_stderr(&in_read)
            .and_then(|()| rustix::stdio::dup2_stdin(&out_write))
            .and_then(|()| rustix::stdio::dup2_stdout(&err_write));
        drop((in_read, out_write, err_write));
        let spawned = placed.map_err(io::Error::from).and_then(|()| {
            // SAFETY: 2, 0 and 1 now hold the pipe ends placed above and
            // nothing else in this single-threaded run owns them.
            let (stdin, stdout, stderr) = unsafe {
                (
                    OwnedFd::from_raw_fd(2),
                    OwnedFd::from_raw_fd(0),
                    OwnedFd::from_raw_fd(1),
                )
            };
            spawn(
                Plan::new(
                    "/bin/sh",
                    ["sh", "-c", r#"read l; echo "out:$l"; echo "err:$l" >&2"#],
                    Vec::<(&str, &str)>::new(),
                    stdin,
                    stdout,
                    stderr,
                )
                .expect("plan"),
            )
        });
        let [saved_in, saved_out, saved_err] = saved;
        rustix::stdio::dup2_stdin(saved_in).expect("restore stdin");
        rustix::stdio::dup2_stdout(saved_out).expect("restore stdout");
        rustix::stdio::dup2_stderr(saved_err).expect("restore stderr");

        let child = spawned.expect("spawn");
        let mut feed = std::fs::File::from(in_write);
        feed.write_all(b"rot\n").expect("write");
        drop(feed);
        assert_eq!(read_all(out_read), "out:rot\n");
        assert_eq!(read_all(err_read), "err:rot\n");
        assert!(smol::block_on(child.wait()).expect("wait").success());

        // A plan descriptor without close-on-exec (fd 40) is not inherited
        // under its own number.
        let (reader, writer) = rustix::pipe::pipe().expect("pipe");
        // SAFETY: dup2 onto a free number; the result is owned below.
        let leaky = unsafe {
            assert_eq!(libc::dup2(writer.as_raw_fd(), 40), 40);
            OwnedFd::from_raw_fd(40)
        };
        drop(writer);
        let plan = sh(
            "if [ -e /proc/self/fd/40 ]; then echo leaked; else echo closed; fi",
            &[],
            leaky.try_clone().expect("dup"),
            leaky,
        );
        let child = spawn(plan).expect("spawn");
        assert_eq!(read_all(reader), "closed\n");
        assert!(smol::block_on(child.wait()).expect("wait").success());
    }

    #[test]
    fn identity_sets_uid_gid_and_groups() {
        if !rustix::process::getuid().is_root() {
            println!("note: not root, identity_sets_uid_gid_and_groups skipped");
            return;
        }
        let before = (
            rustix::process::getuid(),
            rustix::process::getgid(),
            rustix::process::getgroups().expect("getgroups"),
        );
        let (status, output) = bounded(|| {
            run(|out, err| {
                Plan::new(
                    "/bin/cat",
                    ["cat", "/proc/self/status"],
                    Vec::<(&str, &str)>::new(),
                    dev_null(),
                    out,
                    err,
                )
                .expect("plan")
                .with_identity(Identity {
                    uid: 65534,
                    gid: 65534,
                    groups: vec![65534, 100],
                })
            })
        });
        assert!(status.success(), "{status:?}: {output}");
        let field = |name: &str| -> Vec<u32> {
            output
                .lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .unwrap_or_else(|| panic!("no {name} in {output}"))
                .split_whitespace()
                .map(|n| n.parse().expect("number"))
                .collect()
        };
        assert_eq!(field("Uid"), [65534; 4]);
        assert_eq!(field("Gid"), [65534; 4]);
        let groups: BTreeSet<u32> = field("Groups").into_iter().collect();
        assert_eq!(groups, BTreeSet::from([100, 65534]));
        // The child shared our memory, not our credentials.
        let after = (
            rustix::process::getuid(),
            rustix::process::getgid(),
            rustix::process::getgroups().expect("getgroups"),
        );
        assert_eq!(before, after);
    }

    #[test]
    fn spawning_while_another_thread_allocates_does_not_deadlock() {
        let stop = Arc::new(AtomicBool::new(false));
        let allocator = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut rounds = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let size = 1 + fastrand::usize(..64 * 1024);
                    let block: Vec<u8> = Vec::with_capacity(size);
                    std::hint::black_box(block);
                    rounds += 1;
                }
                rounds
            })
        };
        let spawner = || {
            std::thread::spawn(|| {
                for _ in 0..100 {
                    let plan = Plan::new(
                        "/bin/true",
                        ["true"],
                        Vec::<(&str, &str)>::new(),
                        dev_null(),
                        dev_null(),
                        dev_null(),
                    )
                    .expect("plan");
                    let child = spawn(plan).expect("spawn");
                    let status = smol::block_on(child.wait()).expect("wait");
                    assert!(status.success(), "{status:?}");
                }
            })
        };
        let spawners = [spawner(), spawner()];
        let finished = bounded(move || {
            spawners
                .into_iter()
                .map(|s| s.join().is_ok())
                .collect::<Vec<_>>()
        });
        stop.store(true, Ordering::Relaxed);
        let rounds = allocator.join().expect("allocator");
        assert_eq!(finished, [true, true]);
        assert!(rounds > 0);
    }
}
