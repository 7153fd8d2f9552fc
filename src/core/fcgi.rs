//! `[fcgi-program:x]`: the listening socket a FastCGI group's processes share
//! as their stdin (fd 0), kept as 4.3's SocketManager keeps it.
//!
//! 4.3 creates the socket when the group is added, only to learn early that
//! it can, and closes it again at once. From then on the socket is open
//! while at least one process of the group holds it: a spawn takes a hold
//! (creating the socket if nobody holds it, a stale unix socket file removed
//! first), the child gets that one listening socket as fd 0, and the hold
//! is let go when the child is reaped (or its spawn fails). When the last
//! hold goes the socket is closed; a unix socket's file stays where it is,
//! as 4.3 leaves it. A client therefore sees connections accepted while any
//! process of the group runs and refused while none does; the group's
//! removal (which needs every process stopped) and shutdown leave it closed.
//!
//! A [`Lease`] is one process's hold (4.3's reference-counted proxy); the
//! group's [`Socket`] only remembers the live listener, if any.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, ToSocketAddrs};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::rc::{Rc, Weak};

use rustix::fs::{Gid, Mode, Uid};
use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};

use super::Core;
use crate::config::{self, FcgiSocket, LogLevel, SocketAddress};
use crate::log::activity::MainLog;

/// 4.3's mode for a unix socket without `socket_mode=`.
const DEFAULT_MODE: u32 = 0o700;

/// An `[fcgi-program:x]` group's socket, kept in its group slot.
pub struct Socket {
    config: FcgiSocket,
    /// 4.3's name for it (`unix:///path`, `tcp://host:port`), in its log
    /// lines and errors.
    url: String,
    /// The processes' `user=`: a unix socket belongs to them by default.
    user: Option<String>,
    /// The listener while some process holds it.
    live: Weak<Listener>,
}

/// The open listening socket.
struct Listener {
    fd: OwnedFd,
    url: String,
}

/// One process's hold on its group's listening socket; the socket is
/// closed when the last one is dropped.
pub struct Lease(Rc<Listener>);

impl Socket {
    /// The socket of `group` if it is an `[fcgi-program:x]`. As 4.3 does
    /// when it makes the group, the socket is created and closed once, so a
    /// socket that cannot be made is reported now (4.3 stops with a
    /// traceback; here each spawn then fails with the same words).
    pub fn for_group(group: &config::Group, log: &MainLog) -> Option<Socket> {
        let config = group.fcgi.clone()?;
        let mut socket = Socket {
            url: url(&config.address),
            config,
            user: group.processes.first().and_then(|p| p.user.clone()),
            live: Weak::new(),
        };
        match socket.lease(log) {
            Ok(lease) => lease.release(log),
            Err(message) => log.log(LogLevel::Error, &message),
        }
        Some(socket)
    }

    /// A hold on the listening socket, creating it if nobody holds it; the
    /// error is 4.3's "Could not create FastCGI socket" text.
    pub fn lease(&mut self, log: &MainLog) -> Result<Lease, String> {
        if let Some(listener) = self.live.upgrade() {
            return Ok(Lease(listener));
        }
        log.log(LogLevel::Info, &format!("Creating socket {}", self.url));
        let fd = create(&self.config, self.user.as_deref())
            .map_err(|why| format!("Could not create FastCGI socket {}: {why}", self.url))?;
        let listener = Rc::new(Listener {
            fd,
            url: self.url.clone(),
        });
        self.live = Rc::downgrade(&listener);
        Ok(Lease(listener))
    }
}

impl Lease {
    /// A duplicate of the listening socket for a child's fd 0 (close-on-exec
    /// until the spawn puts it in place).
    pub fn child_stdin(&self) -> io::Result<OwnedFd> {
        self.0.fd.try_clone()
    }

    /// Lets go of the hold; the last one closes the socket, saying so as
    /// 4.3 does.
    pub fn release(self, log: &MainLog) {
        if Rc::strong_count(&self.0) == 1 {
            log.log(LogLevel::Info, &format!("Closing socket {}", self.0.url));
        }
    }
}

/// A hold on the socket of `group` for a process about to be spawned; None
/// for a group that is no `[fcgi-program:x]`.
pub(super) fn lease(core: &mut Core, group: &str) -> Result<Option<Lease>, String> {
    let Core { groups, log, .. } = core;
    match groups
        .iter_mut()
        .find(|g| g.config.name == group)
        .and_then(|g| g.fcgi.as_mut())
    {
        Some(socket) => socket.lease(log).map(Some),
        None => Ok(None),
    }
}

/// 4.3's url of a socket.
pub fn url(address: &SocketAddress) -> String {
    match address {
        SocketAddress::Tcp { host, port } => format!("tcp://{host}:{port}"),
        SocketAddress::Unix(path) => format!("unix://{}", path.display()),
    }
}

/// Creates, binds and listens (4.3's create_and_bind, then listen with
/// `socket_backlog` or SOMAXCONN); the error as Python shows the exception.
fn create(config: &FcgiSocket, user: Option<&str>) -> Result<OwnedFd, String> {
    let fd = match &config.address {
        SocketAddress::Tcp { host, port } => bind_tcp(host, *port)?,
        SocketAddress::Unix(path) => bind_unix(
            path,
            owner(config, user)?,
            config.mode.unwrap_or(DEFAULT_MODE),
        )?,
    };
    let backlog = config
        .backlog
        .and_then(|b| i32::try_from(b).ok())
        .unwrap_or(libc::SOMAXCONN);
    rustix::net::listen(&fd, backlog).map_err(|e| os_error(&e.into(), None))?;
    Ok(fd)
}

/// Whom a unix socket file is given to, as 4.3 decides: `socket_owner=`
/// (a user alone leaves the file's group as it is), else the processes'
/// `user=` with its primary group when that is not the daemon's own user,
/// else nobody (the daemon keeps it).
fn owner(config: &FcgiSocket, user: Option<&str>) -> Result<Option<(u32, Option<u32>)>, String> {
    let cannot = |why: String| format!("Could not change ownership of socket file: {why}");
    if let Some((user, group)) = &config.owner {
        let uid = crate::users::find_user(user).map_err(cannot)?.uid;
        let gid = match group {
            None => None,
            Some(spec) => match crate::users::lookup_group(spec) {
                Ok(Some(g)) => Some(g.gid),
                Ok(None) => return Err(cannot(format!("Invalid group name {spec:?}"))),
                Err(e) => return Err(cannot(format!("cannot read the group database: {e}"))),
            },
        };
        return Ok(Some((uid, gid)));
    }
    // An unknown user= fails the spawn before the socket is asked for.
    Ok(user
        .and_then(|u| crate::users::find_user(u).ok())
        .filter(|record| record.uid != rustix::process::getuid().as_raw())
        .map(|record| (record.uid, Some(record.gid))))
}

/// 4.3's UnixStreamSocketConfig.create_and_bind: a file already at `path`
/// is removed, the socket bound, the file given its owner then its mode; a
/// failure after the bind removes the file again.
fn bind_unix(path: &Path, owner: Option<(u32, Option<u32>)>, mode: u32) -> Result<OwnedFd, String> {
    if path.exists() {
        std::fs::remove_file(path).map_err(|e| os_error(&e, Some(path)))?;
    }
    let fd = socket(AddressFamily::UNIX)?;
    let setup = || -> Result<(), String> {
        let addr = SocketAddrUnix::new(path).map_err(|e| match e {
            Errno::NAMETOOLONG => "AF_UNIX path too long".to_string(),
            e => os_error(&e.into(), None),
        })?;
        rustix::net::bind(&fd, &addr).map_err(|e| os_error(&e.into(), None))?;
        if let Some((uid, gid)) = owner {
            rustix::fs::chown(path, Some(Uid::from_raw(uid)), gid.map(Gid::from_raw)).map_err(
                |e| {
                    format!(
                        "Could not change ownership of socket file: {}",
                        os_error(&e.into(), Some(path))
                    )
                },
            )?;
        }
        rustix::fs::chmod(path, Mode::from_raw_mode(mode)).map_err(|e| {
            format!(
                "Could not change permissions of socket file: {}",
                os_error(&e.into(), Some(path))
            )
        })
    };
    if let Err(why) = setup() {
        drop(fd);
        if path.exists() {
            let _ = std::fs::remove_file(path);
        }
        return Err(why);
    }
    Ok(fd)
}

/// 4.3's InetStreamSocketConfig.create_and_bind: an IPv4 socket with
/// SO_REUSEADDR bound to host:port.
fn bind_tcp(host: &str, port: u16) -> Result<OwnedFd, String> {
    let fd = socket(AddressFamily::INET)?;
    rustix::net::sockopt::set_socket_reuseaddr(&fd, true).map_err(|e| os_error(&e.into(), None))?;
    let ip = resolve_v4(host)?;
    rustix::net::bind(&fd, &SocketAddrV4::new(ip, port)).map_err(|e| os_error(&e.into(), None))?;
    Ok(fd)
}

/// A blocking stream socket, close-on-exec (the child's fd 0 is a
/// duplicate made for it). Blocking: the children share it and accept on it.
fn socket(family: AddressFamily) -> Result<OwnedFd, String> {
    rustix::net::socket_with(family, SocketType::STREAM, SocketFlags::CLOEXEC, None)
        .map_err(|e| os_error(&e.into(), None))
}

/// The IPv4 address Python binds for `host`: a numeric address, or the
/// first IPv4 address the resolver gives; a failure as `socket.gaierror`.
fn resolve_v4(host: &str) -> Result<Ipv4Addr, String> {
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok(ip);
    }
    if host == "<broadcast>" {
        return Ok(Ipv4Addr::BROADCAST);
    }
    let not_known = || "[Errno -2] Name or service not known".to_string();
    let addrs = (host, 0).to_socket_addrs().map_err(|e| gai_error(&e))?;
    addrs
        .filter_map(|a| match a {
            SocketAddr::V4(v4) => Some(*v4.ip()),
            SocketAddr::V6(_) => None,
        })
        .next()
        .ok_or_else(not_known)
}

/// A failed name lookup as Python's `socket.gaierror` reads.
fn gai_error(e: &io::Error) -> String {
    if e.raw_os_error().is_some() {
        return os_error(e, None);
    }
    let text = e.to_string();
    let text = text
        .strip_prefix("failed to lookup address information: ")
        .unwrap_or(&text);
    let code = match text {
        "Temporary failure in name resolution" => -3,
        "Non-recoverable failure in name resolution" => -4,
        "No address associated with hostname" => -5,
        _ => -2,
    };
    format!("[Errno {code}] {text}")
}

/// An `OSError` as Python prints it: `[Errno 2] No such file or directory`,
/// with `: '/the/path'` when the call named a file.
fn os_error(e: &io::Error, path: Option<&Path>) -> String {
    let Some(code) = e.raw_os_error() else {
        return e.to_string();
    };
    let text = e.to_string();
    let text = match text.rfind(" (os error ") {
        Some(cut) => text.get(..cut).unwrap_or(&text),
        None => &text,
    };
    match path {
        Some(path) => format!(
            "[Errno {code}] {text}: {}",
            crate::pytext::repr_str(&path.to_string_lossy())
        ),
        None => format!("[Errno {code}] {text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    use std::os::unix::net::UnixStream;
    use std::path::PathBuf;

    struct TempDir(PathBuf);
    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir = std::env::temp_dir().join(format!("fcgi-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn log() -> MainLog {
        MainLog::new(LogLevel::Info, None, None, crate::timefmt::Zone::utc())
    }

    fn unix(path: &Path) -> Socket {
        Socket {
            config: FcgiSocket {
                address: SocketAddress::Unix(path.to_path_buf()),
                backlog: None,
                owner: None,
                mode: None,
            },
            url: url(&SocketAddress::Unix(path.to_path_buf())),
            user: None,
            live: Weak::new(),
        }
    }

    #[test]
    fn urls_are_4_3s() {
        assert_eq!(
            url(&SocketAddress::Unix(PathBuf::from("/run/php.sock"))),
            "unix:///run/php.sock"
        );
        assert_eq!(
            url(&SocketAddress::Tcp {
                host: "localhost".into(),
                port: 9000
            }),
            "tcp://localhost:9000"
        );
    }

    #[test]
    fn os_errors_read_as_python_prints_them() {
        let enoent = io::Error::from_raw_os_error(2);
        assert_eq!(
            os_error(&enoent, None),
            "[Errno 2] No such file or directory"
        );
        assert_eq!(
            os_error(&io::Error::from_raw_os_error(1), Some(Path::new("/x/it's"))),
            "[Errno 1] Operation not permitted: \"/x/it's\""
        );
        let lookup =
            io::Error::other("failed to lookup address information: Name or service not known");
        assert_eq!(gai_error(&lookup), "[Errno -2] Name or service not known");
    }

    #[test]
    fn numeric_hosts_need_no_resolver() {
        assert_eq!(resolve_v4("127.0.0.1"), Ok(Ipv4Addr::LOCALHOST));
        assert_eq!(resolve_v4("<broadcast>"), Ok(Ipv4Addr::BROADCAST));
    }

    /// Every hold shares one listener; the last release closes it and the
    /// next hold makes a fresh one, replacing the file left behind.
    #[test]
    fn holds_share_one_socket_until_the_last_goes() {
        let dir = TempDir::new("holds");
        let path = dir.0.join("s.sock");
        let log = log();
        let mut socket = unix(&path);
        let a = socket.lease(&log).unwrap();
        let b = socket.lease(&log).unwrap();
        assert!(Rc::ptr_eq(&a.0, &b.0));
        let meta = std::fs::metadata(&path).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.permissions().mode() & 0o7777, DEFAULT_MODE);
        let child = a.child_stdin().unwrap();
        assert!(UnixStream::connect(&path).is_ok());
        a.release(&log);
        drop(child);
        assert!(UnixStream::connect(&path).is_ok(), "b still holds it");
        b.release(&log);
        assert!(socket.live.upgrade().is_none());
        assert!(
            UnixStream::connect(&path).is_err(),
            "closed with the last hold"
        );
        assert!(path.exists(), "4.3 leaves the file");
        let c = socket.lease(&log).unwrap();
        assert!(UnixStream::connect(&path).is_ok());
        c.release(&log);
    }

    #[test]
    fn a_file_in_the_way_is_replaced_and_a_mode_applied() {
        let dir = TempDir::new("stale");
        let path = dir.0.join("s.sock");
        std::fs::write(&path, "not a socket").unwrap();
        let mut socket = unix(&path);
        socket.config.mode = Some(0o660);
        let lease = socket.lease(&log()).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.permissions().mode() & 0o7777, 0o660);
        drop(lease);
    }

    #[test]
    fn a_socket_that_cannot_be_made_says_why_in_4_3s_words() {
        let dir = TempDir::new("fail");
        let path = dir.0.join("missing/s.sock");
        let mut socket = unix(&path);
        let err = socket.lease(&log()).err().unwrap();
        assert_eq!(
            err,
            format!(
                "Could not create FastCGI socket unix://{}: [Errno 2] No such file or directory",
                path.display()
            )
        );
        let long = dir.0.join("x".repeat(120));
        let err = unix(&long).lease(&log()).err().unwrap();
        assert!(err.ends_with(": AF_UNIX path too long"), "{err}");
    }

    #[test]
    fn a_tcp_port_in_use_is_refused() {
        let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let config = FcgiSocket {
            address: SocketAddress::Tcp {
                host: "127.0.0.1".into(),
                port,
            },
            backlog: Some(5),
            owner: None,
            mode: None,
        };
        let err = create(&config, None).err().unwrap();
        assert_eq!(err, "[Errno 98] Address already in use");
        drop(held);
        let fd = create(&config, None).unwrap();
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
        drop(fd);
    }
}
