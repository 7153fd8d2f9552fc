//! Process-wide setup for supervisord: dropping privileges, raising rlimits,
//! detaching from the terminal and the pidfile. Everything here runs before
//! the executor starts any thread, which is what makes fork and the
//! thread-level credential calls safe and process-wide.

use std::io;
use std::path::Path;

use rustix::process::{Resource, Rlimit};

/// `user=` for the daemon (4.3's set_uid_or_exit). Ok(the info line 4.3
/// logs, naming the uid), also when the uid already was that one.
pub fn drop_privileges(user: &str) -> Result<String, String> {
    let record = crate::users::find_user(user)?;
    let current = rustix::process::getuid().as_raw();
    let done = format!("Set uid to user {} succeeded", record.uid);
    if current == record.uid {
        return Ok(done);
    }
    if current != 0 {
        return Err("Can't drop privilege as nonroot user".to_string());
    }
    let mut groups = vec![rustix::process::Gid::from_raw(record.gid)];
    for gid in crate::users::supplementary_gids(&record).unwrap_or_default() {
        if gid != record.gid {
            groups.push(rustix::process::Gid::from_raw(gid));
        }
    }
    rustix::thread::set_thread_groups(&groups)
        .map_err(|_| "Could not set groups of effective user".to_string())?;
    rustix::thread::set_thread_gid(rustix::process::Gid::from_raw(record.gid))
        .map_err(|_| "Could not set group id of effective user".to_string())?;
    rustix::thread::set_thread_uid(rustix::process::Uid::from_raw(record.uid))
        .map_err(|e| format!("Could not set user id of effective user: {e}"))?;
    Ok(done)
}

/// 4.3's set_rlimits_or_exit for one resource: raise the soft limit to
/// `min` (and the hard one too when needed and allowed). Ok(Some(info)) when
/// raised; Err(message) when the environment does not allow it.
fn ensure_rlimit(
    resource: Resource,
    name: &str,
    min: u64,
    what: &str,
    setting: &str,
) -> Result<Option<String>, String> {
    let Rlimit { current, maximum } = rustix::process::getrlimit(resource);
    let soft_ok = current.is_none_or(|soft| soft >= min);
    if soft_ok {
        return Ok(None);
    }
    let hard = match maximum {
        Some(hard) if hard < min => Some(min),
        other => other,
    };
    let wanted = Rlimit {
        current: Some(min),
        maximum: hard,
    };
    match rustix::process::setrlimit(resource, wanted) {
        Ok(()) => Ok(Some(format!("Increased {name} limit to {min}"))),
        Err(_) => Err(format!(
            "The minimum number of {what} required to run this process is {min} as per the \"{setting}\" \
             command-line argument or config file setting. The current environment will only allow you to open {} {what}.  \
             Either raise the number of usable {what} in your environment (see README.md) or lower the {setting} setting \
             in the config file to allow the process to start.",
            maximum.map(|h| h.to_string()).unwrap_or_else(|| "unlimited".to_string())
        )),
    }
}

/// minfds and minprocs; the info lines to log once the log is open.
pub fn ensure_rlimits(minfds: u64, minprocs: u64) -> Result<Vec<String>, String> {
    let mut infos = Vec::new();
    if let Some(line) = ensure_rlimit(
        Resource::Nofile,
        "RLIMIT_NOFILE",
        minfds,
        "file descriptors",
        "minfds",
    )? {
        infos.push(line);
    }
    if let Some(line) = ensure_rlimit(
        Resource::Nproc,
        "RLIMIT_NPROC",
        minprocs,
        "processes",
        "minprocs",
    )? {
        infos.push(line);
    }
    Ok(infos)
}

/// Detaches from the terminal: fork, setsid, fork again (so the daemon can
/// never reacquire a controlling terminal), stdio to /dev/null. Returns in
/// the daemon only; the original process exits 0 as 4.3's does.
pub fn daemonize() -> io::Result<()> {
    fork_and_leave_parent()?;
    rustix::process::setsid()?;
    fork_and_leave_parent()?;
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")?;
    rustix::stdio::dup2_stdin(&null)?;
    rustix::stdio::dup2_stdout(&null)?;
    rustix::stdio::dup2_stderr(&null)?;
    Ok(())
}

fn fork_and_leave_parent() -> io::Result<()> {
    // SAFETY: called while the process has a single thread (before the
    // executor, the reactor or async-process start theirs), so the child is
    // a complete copy; the parent leaves with _exit, running no destructors
    // or atexit handlers that could flush shared buffers twice.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(()),
        // SAFETY: _exit never returns and touches nothing shared.
        _ => unsafe { libc::_exit(0) },
    }
}

/// True when `pid` is a live process whose command line names supervisord
/// (or our multi-call binary), i.e. the owner of an existing pidfile.
pub fn is_live_supervisord(pid: u32) -> bool {
    if pid == 0 || pid == std::process::id() {
        return false;
    }
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let words: Vec<String> = cmdline
        .split(|b| *b == 0)
        .take(3)
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    words.iter().any(|w| {
        let base = Path::new(w)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        base == "supervisord" || w.ends_with("/supervisord") || base == "supervisord.py"
    })
}

/// The pid recorded in a pidfile, if it holds one.
pub fn read_pidfile(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

pub fn write_pidfile(path: &Path) -> io::Result<()> {
    std::fs::write(path, format!("{}\n", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_foreign_pid_is_not_a_supervisord() {
        assert!(!is_live_supervisord(0));
        assert!(!is_live_supervisord(std::process::id()));
        assert!(!is_live_supervisord(u32::MAX));
    }

    #[test]
    fn pidfile_round_trip() {
        let dir = std::env::temp_dir().join(format!("supervisor-pidfile-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("x.pid");
        write_pidfile(&path).ok();
        assert_eq!(read_pidfile(&path), Some(std::process::id()));
        std::fs::write(&path, "garbage").ok();
        assert_eq!(read_pidfile(&path), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn rlimits_already_met_need_nothing() {
        assert_eq!(ensure_rlimits(1, 1), Ok(vec![]));
    }
}
