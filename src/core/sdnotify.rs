//! `ready=notify`: the daemon's side of systemd's sd_notify protocol. The
//! child finds a datagram socket in `NOTIFY_SOCKET` and sends text such as
//! `READY=1\nSTATUS=listening` to it; the daemon reads each datagram with
//! the sender's credentials, which the kernel attaches, so that the core can
//! drop datagrams from processes that are not the child or its descendants
//! ([`is_same_or_descendant`]), as systemd does.

use std::io::{self, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use async_io::Async;
use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, ReturnFlags,
    SocketAddrUnix, SocketFlags, SocketType,
};

/// The largest datagram read, systemd's limit (`NOTIFY_BUFFER_MAX`): one
/// that does not fit is ignored whole, as systemd ignores it, rather than
/// acted on half read.
const DATAGRAM_MAX: usize = 4096;

/// The most descriptors one datagram can carry (the kernel's `SCM_MAX_FD`).
/// Room for all of them means a sender using FDSTORE never gets its
/// descriptors cut off halfway; we do not keep them either way.
const FDS_MAX: usize = 253;

/// The longest abstract name: `sun_path` (108 bytes) less its leading NUL.
const NAME_MAX: usize = 107;

/// How far up the parent chain [`is_same_or_descendant`] looks: deeper than
/// any real service tree, and a bound in case /proc changes under us.
const ANCESTRY_MAX: usize = 64;

/// A datagram socket the daemon owns for one child, in the abstract
/// namespace so nothing is left on disk when the daemon dies.
pub struct NotifySocket {
    socket: Async<OwnedFd>,
    name: String,
}

/// One notification: who sent it and what it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram {
    /// The sender's pid as the kernel saw it; `None` if the kernel could not
    /// name it (a sender in a pid namespace we cannot see).
    pub sender_pid: Option<u32>,
    pub fields: Vec<Field>,
}

/// An assignment of sd_notify's that we understand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Ready,
    Reloading,
    Stopping,
    Watchdog,
    WatchdogTrigger,
    Status(String),
    MainPid(u32),
    Errno(i32),
}

impl NotifySocket {
    /// A new socket named `supervisor/<daemon pid>/<tag>/<random>`; `tag`
    /// (say, the process name) is only there to make `ss -x` readable, so
    /// it is cut short and stripped of spaces and control characters when it
    /// would make the name too long or the environment value awkward.
    pub fn open(tag: &str) -> io::Result<NotifySocket> {
        let socket = rustix::net::socket_with(
            AddressFamily::UNIX,
            SocketType::DGRAM,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )?;
        // Set before bind, so no datagram can arrive without credentials.
        rustix::net::sockopt::set_socket_passcred(&socket, true)?;
        let prefix = format!("supervisor/{}/", std::process::id());
        // The random part only has to avoid names in use; a clash is retried
        // rather than reported, in the unlikely case it happens at all.
        let mut attempt = 0;
        let name = loop {
            let suffix = format!("/{}", fastrand::u64(..));
            let room = NAME_MAX.saturating_sub(prefix.len() + suffix.len());
            let name = format!("{prefix}{}{suffix}", tag_text(tag, room));
            let address = SocketAddrUnix::new_abstract_name(name.as_bytes())?;
            match rustix::net::bind(&socket, &address) {
                Ok(()) => break name,
                Err(rustix::io::Errno::ADDRINUSE) if attempt < 3 => attempt += 1,
                Err(e) => return Err(e.into()),
            }
        };
        Ok(NotifySocket {
            socket: Async::new(socket)?,
            name,
        })
    }

    /// The value for the child's `NOTIFY_SOCKET`: sd_notify reads a leading
    /// `@` as "abstract namespace".
    pub fn env_value(&self) -> String {
        format!("@{}", self.name)
    }

    /// The next datagram. Datagrams longer than 4096 bytes are skipped, and
    /// any descriptors sent along (FDSTORE) are closed: we do not store them.
    /// `Err` only for a real socket error.
    pub async fn recv(&self) -> io::Result<Datagram> {
        loop {
            match self.socket.read_with(|fd| receive(fd.as_fd())).await {
                Ok(Some(datagram)) => return Ok(datagram),
                Ok(None) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// One `recvmsg`: `Ok(None)` for a datagram too long to act on.
fn receive(fd: BorrowedFd<'_>) -> io::Result<Option<Datagram>> {
    let mut data = [0u8; DATAGRAM_MAX];
    let mut space =
        [MaybeUninit::uninit(); rustix::cmsg_space!(ScmCredentials(1), ScmRights(FDS_MAX))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    // CMSG_CLOEXEC: a descriptor received must not reach a child spawned
    // before we get to drop it.
    let got = rustix::net::recvmsg(
        fd,
        &mut [IoSliceMut::new(&mut data)],
        &mut control,
        RecvFlags::CMSG_CLOEXEC | RecvFlags::TRUNC,
    )?;
    let mut sender_pid = None;
    for message in control.drain() {
        match message {
            RecvAncillaryMessage::ScmCredentials(credentials) => {
                sender_pid = u32::try_from(credentials.pid.as_raw_pid()).ok();
            }
            // FDSTORE is not supported: the descriptors are closed at once,
            // not left open in the daemon.
            RecvAncillaryMessage::ScmRights(fds) => fds.for_each(drop),
            _ => {}
        }
    }
    if got.flags.contains(ReturnFlags::TRUNC) || got.bytes > data.len() {
        return Ok(None);
    }
    let fields = data.get(..got.bytes).map(parse).unwrap_or_default();
    Ok(Some(Datagram { sender_pid, fields }))
}

/// `tag` made fit for the socket's name: at most `room` bytes, whole
/// characters, no whitespace or control characters (nor NUL, which no
/// environment value can hold).
fn tag_text(tag: &str, room: usize) -> String {
    let mut text = String::new();
    for c in tag.chars() {
        let c = if c.is_whitespace() || c.is_control() {
            '_'
        } else {
            c
        };
        if text.len() + c.len_utf8() > room {
            break;
        }
        text.push(c);
    }
    text
}

/// The fields of one datagram, in order: newline-separated `KEY=VALUE`
/// assignments (systemd splits on `\r` too). Unknown keys and malformed
/// values are ignored, as systemd ignores them; a datagram holding a NUL
/// byte is ignored whole, as systemd does. Invalid UTF-8 is replaced.
pub fn parse(datagram: &[u8]) -> Vec<Field> {
    if datagram.contains(&0) {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(datagram);
    text.split(['\n', '\r']).filter_map(field).collect()
}

fn field(line: &str) -> Option<Field> {
    let (key, value) = line.split_once('=')?;
    match (key, value) {
        ("READY", "1") => Some(Field::Ready),
        ("RELOADING", "1") => Some(Field::Reloading),
        ("STOPPING", "1") => Some(Field::Stopping),
        ("WATCHDOG", "1") => Some(Field::Watchdog),
        ("WATCHDOG", "trigger") => Some(Field::WatchdogTrigger),
        ("STATUS", text) => Some(Field::Status(text.to_string())),
        // A pid is a positive pid_t.
        ("MAINPID", n) => number(n)
            .filter(|n| *n > 0)
            .and_then(|n| u32::try_from(n).ok())
            .map(Field::MainPid),
        // systemd refuses a negative errno too.
        ("ERRNO", n) => number(n).map(Field::Errno),
        _ => None,
    }
}

/// A non-negative decimal `i32`: digits only (no sign, no spaces).
fn number(text: &str) -> Option<i32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Whether `pid` is `ancestor` or one of its descendants, by walking up the
/// parent chain in /proc. False if /proc cannot tell (no /proc, a process
/// gone meanwhile) or the chain is longer than any real one.
pub fn is_same_or_descendant(pid: u32, ancestor: u32) -> bool {
    // Pid 0 is no process: the parent of init, where every chain ends.
    if ancestor == 0 {
        return false;
    }
    let mut current = pid;
    for _ in 0..ANCESTRY_MAX {
        if current == ancestor {
            return true;
        }
        if current <= 1 {
            return false;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{current}/stat")) else {
            return false;
        };
        match parent_in_stat(&stat) {
            Some(parent) => current = parent,
            None => return false,
        }
    }
    false
}

/// The parent pid (field 4) of a /proc/<pid>/stat line. The command name
/// (field 2, in parentheses) may itself hold `)` and spaces, so the fields
/// are counted from its last `)`.
fn parent_in_stat(stat: &str) -> Option<u32> {
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    fields.next()?;
    fields.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::io::IoSlice;
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixDatagram};
    use std::process::{Command, Stdio};
    use std::time::Duration;

    use async_io::Timer;
    use smol::future;

    const LIMIT: Duration = Duration::from_secs(20);

    /// `f`'s output, or `None` if it takes longer than `limit`.
    async fn within<T>(limit: Duration, f: impl Future<Output = T>) -> Option<T> {
        future::or(async { Some(f.await) }, async {
            Timer::after(limit).await;
            None
        })
        .await
    }

    /// A client socket connected to `socket`, the way sd_notify reaches it.
    fn client(socket: &NotifySocket) -> UnixDatagram {
        let value = socket.env_value();
        let name = value.strip_prefix('@').expect("abstract");
        let address = SocketAddr::from_abstract_name(name.as_bytes()).expect("address");
        let client = UnixDatagram::unbound().expect("socket");
        client.connect_addr(&address).expect("connect");
        client
    }

    fn receive(socket: &NotifySocket) -> Datagram {
        smol::block_on(within(LIMIT, socket.recv()))
            .expect("no datagram in time")
            .expect("recv")
    }

    #[test]
    fn parse_reads_each_field() {
        assert_eq!(
            parse(
                b"READY=1\nRELOADING=1\nSTOPPING=1\nWATCHDOG=1\nWATCHDOG=trigger\n\
                  STATUS=serving 3 clients\nMAINPID=4242\nERRNO=2"
            ),
            [
                Field::Ready,
                Field::Reloading,
                Field::Stopping,
                Field::Watchdog,
                Field::WatchdogTrigger,
                Field::Status("serving 3 clients".to_string()),
                Field::MainPid(4242),
                Field::Errno(2),
            ]
        );
    }

    #[test]
    fn parse_ignores_what_it_does_not_understand() {
        assert_eq!(
            parse(b"\n\nFDSTORE=1\nREADY=0\nready=1\nREADY\n READY=1\nREADY=1 \n\nREADY=1\n"),
            [Field::Ready]
        );
        assert_eq!(
            parse(b"MAINPID=0\nMAINPID=-5\nMAINPID=abc\nMAINPID=\nMAINPID=99999999999\nMAINPID=+7"),
            []
        );
        assert_eq!(parse(b"ERRNO=-1\nERRNO=x\nERRNO=0"), [Field::Errno(0)]);
        assert_eq!(
            parse(b"WATCHDOG=2\nWATCHDOG=trigger"),
            [Field::WatchdogTrigger]
        );
        assert_eq!(parse(b""), []);
        // systemd ignores a datagram with a NUL in it.
        assert_eq!(parse(b"READY=1\0\nSTATUS=x"), []);
    }

    #[test]
    fn parse_keeps_status_text_whole() {
        assert_eq!(
            parse(b"STATUS=a=b, c = d\r\nSTATUS=\nSTATUS=caf\xc3\xa9 \xff"),
            [
                Field::Status("a=b, c = d".to_string()),
                Field::Status(String::new()),
                Field::Status("café \u{fffd}".to_string()),
            ]
        );
    }

    #[test]
    fn the_environment_value_names_an_abstract_socket() {
        let socket = NotifySocket::open("web server\n1").expect("open");
        let value = socket.env_value();
        let prefix = format!("@supervisor/{}/web_server_1/", std::process::id());
        assert!(value.starts_with(&prefix), "{value}");
        let random = value.strip_prefix(&prefix).expect("prefix");
        assert!(random.parse::<u64>().is_ok(), "{value}");
        // Two sockets for the same tag do not clash.
        let other = NotifySocket::open("web server\n1").expect("open");
        assert_ne!(other.env_value(), value);
    }

    #[test]
    fn a_long_tag_is_cut_to_fit() {
        let socket = NotifySocket::open(&"é".repeat(200)).expect("open");
        let value = socket.env_value();
        assert!(value.len() <= NAME_MAX + 1, "{}", value.len());
        // Still reachable under that name.
        client(&socket).send(b"READY=1").expect("send");
        assert_eq!(receive(&socket).fields, [Field::Ready]);
    }

    #[test]
    fn a_datagram_arrives_with_its_sender() {
        let socket = NotifySocket::open("test").expect("open");
        client(&socket)
            .send(b"READY=1\nSTATUS=hello")
            .expect("send");
        let datagram = receive(&socket);
        assert_eq!(
            datagram,
            Datagram {
                sender_pid: Some(std::process::id()),
                fields: vec![Field::Ready, Field::Status("hello".to_string())],
            }
        );
    }

    #[test]
    fn recv_waits_for_a_datagram() {
        let socket = NotifySocket::open("test").expect("open");
        let nothing = smol::block_on(within(Duration::from_millis(100), socket.recv()));
        assert!(nothing.is_none());
        client(&socket).send(b"STOPPING=1").expect("send");
        assert_eq!(receive(&socket).fields, [Field::Stopping]);
    }

    #[test]
    fn an_oversized_datagram_is_skipped() {
        let socket = NotifySocket::open("test").expect("open");
        let client = client(&socket);
        let mut big = b"READY=1\nSTATUS=".to_vec();
        big.resize(DATAGRAM_MAX + 1, b'x');
        client.send(&big).expect("send");
        client.send(b"STATUS=small").expect("send");
        assert_eq!(
            receive(&socket).fields,
            [Field::Status("small".to_string())]
        );
        // Exactly the limit still fits.
        let mut full = b"STATUS=".to_vec();
        full.resize(DATAGRAM_MAX, b'y');
        client.send(&full).expect("send");
        assert_eq!(
            receive(&socket).fields,
            [Field::Status("y".repeat(DATAGRAM_MAX - 7))]
        );
    }

    #[test]
    fn descriptors_sent_along_are_closed() {
        let socket = NotifySocket::open("test").expect("open");
        let client = client(&socket);
        let (reader, writer) = rustix::pipe::pipe_with(
            rustix::pipe::PipeFlags::CLOEXEC | rustix::pipe::PipeFlags::NONBLOCK,
        )
        .expect("pipe");
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = rustix::net::SendAncillaryBuffer::new(&mut space);
        let fds = [writer.as_fd()];
        assert!(control.push(rustix::net::SendAncillaryMessage::ScmRights(&fds)));
        rustix::net::sendmsg(
            &client,
            &[IoSlice::new(b"FDSTORE=1\nREADY=1")],
            &mut control,
            rustix::net::SendFlags::empty(),
        )
        .expect("sendmsg");
        drop(writer);
        assert_eq!(receive(&socket).fields, [Field::Ready]);
        // The copy that travelled was the last write end: the pipe is at end
        // of file rather than empty (EAGAIN) only if it was closed.
        let mut buffer = [0u8; 8];
        assert_eq!(rustix::io::read(&reader, &mut buffer[..]), Ok(0));
    }

    #[test]
    fn parent_in_stat_counts_from_the_last_parenthesis() {
        assert_eq!(parent_in_stat("123 (sh) S 45 123 123 0 -1"), Some(45));
        assert_eq!(parent_in_stat("123 (a) b) (c S 1 2) R 67 1 1"), Some(67));
        assert_eq!(parent_in_stat("123 (x y) Z 0"), Some(0));
        assert_eq!(parent_in_stat("123 (sh) S"), None);
        assert_eq!(parent_in_stat("garbage"), None);
    }

    #[test]
    fn a_child_is_a_descendant_and_init_is_not() {
        let me = std::process::id();
        let mut child = Command::new("/bin/sh")
            .args(["-c", "sleep 5"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let descendant = is_same_or_descendant(child.id(), me);
        let reverse = is_same_or_descendant(me, child.id());
        let _ = child.kill();
        let _ = child.wait();
        assert!(descendant);
        assert!(!reverse);
        assert!(is_same_or_descendant(me, me));
        assert!(!is_same_or_descendant(1, me));
        assert!(!is_same_or_descendant(me, 0));
        assert!(!is_same_or_descendant(u32::MAX, me));
    }

    #[test]
    fn a_grandchild_is_a_descendant() {
        let me = std::process::id();
        let mut child = Command::new("/bin/sh")
            .args(["-c", "sleep 5 & echo $!; wait"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = io::BufRead::read_line(&mut io::BufReader::new(out), &mut line);
        }
        let grandchild: u32 = line.trim().parse().expect("pid");
        let found = is_same_or_descendant(grandchild, me);
        let via_child = is_same_or_descendant(grandchild, child.id());
        let _ = rustix::process::kill_process(
            rustix::process::Pid::from_raw(i32::try_from(grandchild).expect("pid")).expect("pid"),
            rustix::process::Signal::KILL,
        );
        let _ = child.kill();
        let _ = child.wait();
        assert!(found);
        assert!(via_child);
    }
}
