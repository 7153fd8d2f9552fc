//! Listeners and connections: a unix socket and/or a TCP port, one task per
//! connection on the daemon's executor. Every read has a deadline and every
//! size a bound, so a slow or hostile client costs one small task and no
//! more. Requests are routed to XML-RPC, the log tails or the web page.

use std::cell::Cell;
use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use async_io::{Async, Timer};
use smol::future::FutureExt;
use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::LocalExecutor;

use super::auth;
use super::request::{parse_head, Limits, Request};
use crate::config::{Credentials, InetServer, LogLevel, UnixServer};
use crate::core::{Handle, LogRef, Stream};
use crate::rpc::codec;

/// How long a client may take to send a request (or stay idle between two).
const READ_DEADLINE: Duration = Duration::from_secs(30);
/// Overrides READ_DEADLINE (seconds, fractions allowed), so that tests can
/// watch a hostile client being dropped without waiting half a minute.
const READ_DEADLINE_ENV: &str = "SUPERVISOR_HTTP_READ_TIMEOUT";
/// Connections served at once; more are answered 503 and closed.
const MAX_CONNECTIONS: usize = 512;

thread_local! {
    /// Connections being served, across every listener: the cap bounds the
    /// daemon's descriptors however many servers it runs.
    static ACTIVE: Cell<usize> = const { Cell::new(0) };
}
/// How long to wait before accepting again after accept failed.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);
/// What /logtail sends first: the last KiB, as 4.3.
const TAIL_HEAD: u64 = 1024;

/// A bound listener with the credentials its clients must present.
pub enum Listener {
    Unix {
        listener: UnixListener,
        path: PathBuf,
        auth: Option<Credentials>,
    },
    Tcp {
        listener: TcpListener,
        auth: Option<Credentials>,
    },
}

impl Listener {
    /// The unix socket file to remove at exit, if any.
    pub fn socket_path(&self) -> Option<&Path> {
        match self {
            Listener::Unix { path, .. } => Some(path),
            Listener::Tcp { .. } => None,
        }
    }
}

/// 4.3's words for a port (or socket) someone else already serves.
const IN_USE: &str = "Another program is already listening on a port that one of our HTTP servers is configured to use.  Shut this program down first before starting supervisord.";

/// Binds `[unix_http_server]`: a live socket is refused, a stale one is
/// replaced; the socket is made under a temporary name, given its mode and
/// owner, then renamed into place so clients never see it half set up.
pub fn bind_unix(config: &UnixServer) -> Result<Listener, String> {
    let path = &config.file;
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(format!(
                "Cannot open an HTTP server: {} exists and is not a socket",
                path.display()
            ));
        }
        if UnixStream::connect(path).is_ok() {
            return Err(IN_USE.to_string());
        }
        std::fs::remove_file(path)
            .map_err(|e| format!("Cannot remove stale socket {}: {e}", path.display()))?;
    }
    let temp = PathBuf::from(format!("{}.{}", path.display(), std::process::id()));
    let _ = std::fs::remove_file(&temp);
    let listener = UnixListener::bind(&temp).map_err(|e| socket_error(&e))?;
    let finish = || -> Result<(), String> {
        std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(config.chmod))
            .map_err(|e| format!("Cannot change permissions of {}: {e}", path.display()))?;
        if let Some((user, group)) = &config.chown {
            let (uid, gid) = crate::users::resolve_owner(user, group.as_deref())?;
            rustix::fs::chown(
                &temp,
                Some(rustix::fs::Uid::from_raw(uid)),
                Some(rustix::fs::Gid::from_raw(gid)),
            )
            .map_err(|e| format!("Cannot change owner of {} to {user}: {e}", path.display()))?;
        }
        std::fs::rename(&temp, path)
            .map_err(|e| format!("Cannot create socket {}: {e}", path.display()))
    };
    if let Err(e) = finish() {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    Ok(Listener::Unix {
        listener,
        path: path.clone(),
        auth: config.auth.clone(),
    })
}

/// Binds `[inet_http_server]` (`*` or an empty host means every interface).
pub fn bind_tcp(config: &InetServer) -> Result<Listener, String> {
    let host = if config.host.is_empty() || config.host == "*" {
        "0.0.0.0"
    } else {
        config.host.as_str()
    };
    let listener = TcpListener::bind((host, config.port)).map_err(|e| socket_error(&e))?;
    Ok(Listener::Tcp {
        listener,
        auth: config.auth.clone(),
    })
}

fn socket_error(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) if code == rustix::io::Errno::ADDRINUSE.raw_os_error() => IN_USE.to_string(),
        Some(code) => format!(
            "Cannot open an HTTP server: socket.error reported errno.{} ({code})",
            crate::log::writer::errno_name(e)
        ),
        None => format!("Cannot open an HTTP server: {e}"),
    }
}

/// Accepts connections forever on `listener`, one task each.
pub async fn serve(core: Handle, executor: Rc<LocalExecutor<'static>>, listener: Listener) {
    match listener {
        Listener::Unix { listener, auth, .. } => {
            let Ok(listener) = Async::new(listener) else {
                return;
            };
            let auth = Rc::new(auth);
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    pause_after_accept_error().await;
                    continue;
                };
                spawn_connection(&core, &executor, stream, auth.clone());
            }
        }
        Listener::Tcp { listener, auth } => {
            let Ok(listener) = Async::new(listener) else {
                return;
            };
            let auth = Rc::new(auth);
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    pause_after_accept_error().await;
                    continue;
                };
                let _ = stream.get_ref().set_nodelay(true);
                spawn_connection(&core, &executor, stream, auth.clone());
            }
        }
    }
}

/// An accept that fails (EMFILE, ENFILE, ENOBUFS) fails again at once
/// while the pending connection waits in the backlog: without a pause the
/// loop would spin on the CPU until descriptors are freed.
async fn pause_after_accept_error() {
    Timer::after(ACCEPT_RETRY).await;
}

/// One place under MAX_CONNECTIONS, given back however the task ends.
struct ConnectionSlot;

impl ConnectionSlot {
    fn take() -> ConnectionSlot {
        ACTIVE.set(ACTIVE.get() + 1);
        ConnectionSlot
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        ACTIVE.set(ACTIVE.get().saturating_sub(1));
    }
}

fn spawn_connection<T>(
    core: &Handle,
    executor: &LocalExecutor<'static>,
    stream: Async<T>,
    auth: Rc<Option<Credentials>>,
) where
    T: Read + Write + AsFd + async_io::IoSafe + 'static,
{
    let core = core.clone();
    executor
        .spawn(async move {
            let mut stream = stream;
            if ACTIVE.get() >= MAX_CONNECTIONS {
                let _ = write_simple(
                    &mut stream,
                    503,
                    "Service Unavailable",
                    "too many connections\n",
                    false,
                )
                .await;
                return;
            }
            let _slot = ConnectionSlot::take();
            if let Ok(Ending::Answered) = connection(&core, &mut stream, &auth).await {
                linger(&mut stream).await;
            }
        })
        .detach();
}

/// The read deadline in force, from the environment once per process.
fn read_deadline() -> Duration {
    static DEADLINE: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    *DEADLINE.get_or_init(|| read_deadline_from(std::env::var(READ_DEADLINE_ENV).ok().as_deref()))
}

fn read_deadline_from(value: Option<&str>) -> Duration {
    value
        .and_then(|v| v.trim().parse::<f64>().ok())
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .filter(|d| !d.is_zero())
        .unwrap_or(READ_DEADLINE)
}

/// How long a closing connection keeps reading what its client still sends.
const LINGER: Duration = Duration::from_secs(2);

/// Closes the way HTTP servers must (a "lingering close"): the answer ends
/// with a FIN, then whatever the client still sends is read and dropped
/// until it closes (or LINGER passes). Closing at once would make a client
/// still writing its request fail with EPIPE or a reset before it reads the
/// answer: 4.3's supervisorctl sends a spare CRLF after its request head,
/// and reports "Cannot connect" instead of the 404 of `tail -f nope`.
async fn linger<T>(stream: &mut Async<T>)
where
    T: Read + Write + AsFd + async_io::IoSafe,
{
    let _ = rustix::net::shutdown(stream.as_fd(), rustix::net::Shutdown::Write);
    let drain = async {
        let mut sink = [0u8; 1024];
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    };
    drain
        .or(async {
            Timer::after(LINGER).await;
        })
        .await;
}

/// Why reading stopped.
enum ReadEnd {
    Closed,
    TimedOut,
}

/// Reads what has come, unless `deadline` passes first. The deadline is
/// the whole request's, not each read's: a client trickling a byte at a
/// time must not hold its connection (and its slot) for ever.
async fn read_some<T>(
    stream: &mut Async<T>,
    buf: &mut Vec<u8>,
    deadline: Instant,
) -> Result<(), ReadEnd>
where
    T: Read + Write + AsFd + async_io::IoSafe,
{
    let mut chunk = [0u8; 8192];
    let read = async { stream.read(&mut chunk).await.map_err(|_| ReadEnd::Closed) }
        .or(async {
            Timer::at(deadline).await;
            Err(ReadEnd::TimedOut)
        })
        .await?;
    if read == 0 {
        return Err(ReadEnd::Closed);
    }
    buf.extend_from_slice(chunk.get(..read).unwrap_or_default());
    Ok(())
}

/// How a connection ended.
enum Ending {
    /// After a final answer: close lingering, so a client still sending
    /// reads the answer instead of a reset.
    Answered,
    /// The client left, went quiet past the deadline or stopped reading:
    /// close at once.
    Dropped,
}

/// Serves requests on one connection until it closes or stops keeping alive.
async fn connection<T>(
    core: &Handle,
    stream: &mut Async<T>,
    auth: &Option<Credentials>,
) -> io::Result<Ending>
where
    T: Read + Write + AsFd + async_io::IoSafe,
{
    let limits = Limits::default();
    let mut buf: Vec<u8> = Vec::new();
    loop {
        // From here the next request, head and body, must be in by then.
        let deadline = Instant::now() + read_deadline();
        // The head.
        let (request, head_len) = loop {
            match parse_head(&buf, &limits) {
                Ok(Some(found)) => break found,
                Ok(None) => {
                    if read_some(stream, &mut buf, deadline).await.is_err() {
                        return Ok(Ending::Dropped);
                    }
                }
                Err(e) => {
                    let text = format!("{}\n", e.reason);
                    write_simple(stream, e.status, reason(e.status), &text, false).await?;
                    return Ok(Ending::Answered);
                }
            }
        };
        buf.drain(..head_len.min(buf.len()));
        // curl and other clients wait for this before sending a large body.
        let wants_continue = request
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
        if wants_continue && buf.len() < request.content_length {
            stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
        }
        // The body.
        while buf.len() < request.content_length {
            if read_some(stream, &mut buf, deadline).await.is_err() {
                return Ok(Ending::Dropped);
            }
        }
        let body: Vec<u8> = buf.drain(..request.content_length).collect();

        if let Some(creds) = auth {
            if !auth::check(request.header("authorization"), creds) {
                write_response(
                    stream,
                    401,
                    "Unauthorized",
                    &[("WWW-Authenticate", "Basic realm=\"default\""), ("Content-Type", "text/html")],
                    b"<html><head><title>Unauthorized</title></head><body><h1>Unauthorized</h1></body></html>\n",
                    request.keep_alive,
                )
                .await?;
                if request.keep_alive {
                    continue;
                }
                return Ok(Ending::Answered);
            }
        }

        let keep_alive = request.keep_alive;
        let path = request.path.clone();
        if path.starts_with("/RPC2") {
            if request.method != "POST" {
                write_simple(
                    stream,
                    400,
                    "Bad Request",
                    "XML-RPC requests must be POSTed\n",
                    keep_alive,
                )
                .await?;
            } else {
                rpc(core, stream, &body, keep_alive).await?;
            }
        } else if path.starts_with("/mainlogtail") || path.starts_with("/logtail") {
            if request.method != "GET" {
                write_simple(
                    stream,
                    400,
                    "Bad Request",
                    "log tails are read with GET\n",
                    keep_alive,
                )
                .await?;
            } else {
                // A tail streams until the client goes away (or is a 404).
                logtail(core, stream, &request).await?;
                return Ok(Ending::Answered);
            }
        } else {
            let page = crate::http::ui::page(core, &request, &body).await;
            let headers: Vec<(&str, &str)> = page
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            // HEAD: the GET's head, Content-Length included, and no body.
            let body_len = page.body.len();
            let body: &[u8] = if request.method == "HEAD" {
                &[]
            } else {
                &page.body
            };
            write_response_sized(
                stream,
                (page.status, reason(page.status)),
                &headers,
                (body, body_len),
                keep_alive,
            )
            .await?;
        }
        if !keep_alive {
            return Ok(Ending::Answered);
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Error",
    }
}

async fn write_response<T>(
    stream: &mut Async<T>,
    status: u16,
    reason: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    keep_alive: bool,
) -> io::Result<()>
where
    T: Read + Write + AsFd + async_io::IoSafe,
{
    write_response_sized(
        stream,
        (status, reason),
        headers,
        (body, body.len()),
        keep_alive,
    )
    .await
}

/// Like `write_response`, but Content-Length is `body.1`, which may differ
/// from the bytes sent (`body.0`) when answering HEAD.
async fn write_response_sized<T>(
    stream: &mut Async<T>,
    (status, reason): (u16, &str),
    headers: &[(&str, &str)],
    (body, content_length): (&[u8], usize),
    keep_alive: bool,
) -> io::Result<()>
where
    T: Read + Write + AsFd + async_io::IoSafe,
{
    let mut head = format!(
        "HTTP/1.0 {status} {reason}\r\nServer: supervisor/{}\r\n",
        crate::VERSION
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {content_length}\r\n"));
    head.push_str(if keep_alive {
        "Connection: keep-alive\r\n\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    // A client has as long to take its answer as to send its request: one
    // that never reads must not hold its connection (and slot) for ever.
    let write = async {
        stream.write_all(&out).await?;
        stream.flush().await
    };
    write
        .or(async {
            Timer::after(read_deadline()).await;
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client does not read its answer",
            ))
        })
        .await
}

async fn write_simple<T>(
    stream: &mut Async<T>,
    status: u16,
    reason: &str,
    text: &str,
    keep_alive: bool,
) -> io::Result<()>
where
    T: Read + Write + AsFd + async_io::IoSafe,
{
    write_response(
        stream,
        status,
        reason,
        &[("Content-Type", "text/plain")],
        text.as_bytes(),
        keep_alive,
    )
    .await
}

async fn rpc<T>(
    core: &Handle,
    stream: &mut Async<T>,
    body: &[u8],
    keep_alive: bool,
) -> io::Result<()>
where
    T: Read + Write + AsFd + async_io::IoSafe,
{
    let call = match codec::decode_call(body) {
        Ok(call) => call,
        Err(e) => {
            core.log(
                LogLevel::Error,
                &format!(
                    "XML-RPC request data {} is invalid: {e}",
                    String::from_utf8_lossy(body.get(..body.len().min(200)).unwrap_or_default())
                ),
            );
            return write_simple(
                stream,
                400,
                "Bad Request",
                &format!("invalid XML-RPC request: {e}\n"),
                keep_alive,
            )
            .await;
        }
    };
    core.log(
        LogLevel::Trace,
        &format!("XML-RPC method called: {}()", call.method),
    );
    let result = crate::rpc::methods::call(core, call).await;
    let xml = codec::encode_response(&result);
    let written = write_response(
        stream,
        200,
        "OK",
        &[("Content-Type", "text/xml")],
        xml.as_bytes(),
        keep_alive,
    )
    .await;
    core.after_reply();
    written
}

/// Percent-decoding for names in /logtail paths (4.3 unquotes them).
fn unquote(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes.get(i).copied().unwrap_or_default();
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// /logtail/NAME[/stdout|stderr] and /mainlogtail: the last KiB, then every
/// new byte as it is written, until the client disconnects.
async fn logtail<T>(core: &Handle, stream: &mut Async<T>, request: &Request) -> io::Result<()>
where
    T: Read + Write + AsFd + async_io::IoSafe,
{
    let path = unquote(&request.path);
    let target = if path.starts_with("/mainlogtail") {
        core.follow(LogRef::Main)
    } else {
        let rest = path.trim_start_matches('/');
        let rest = rest.split_once('/').map(|(_, r)| r).unwrap_or("");
        let (name, channel) = match rest.split_once('/') {
            Some((name, channel)) => (name, channel),
            None => (rest, "stdout"),
        };
        match channel {
            "stdout" => core.follow(LogRef::Process(name, Stream::Stdout)),
            "stderr" => core.follow(LogRef::Process(name, Stream::Stderr)),
            _ => None,
        }
    };
    let Some((file, bell)) = target.filter(|(f, _)| f.exists()) else {
        return write_simple(stream, 404, "Not Found", "no such log\n", false).await;
    };
    let modified = std::fs::metadata(&file)
        .and_then(|m| m.modified())
        .map(crate::timefmt::http_date)
        .unwrap_or_default();
    let head = format!(
        "HTTP/1.0 200 OK\r\nServer: supervisor/{}\r\nContent-Type: text/plain;charset=utf-8\r\nLast-Modified: {modified}\r\nX-Accel-Buffering: no\r\nConnection: close\r\n\r\n",
        crate::VERSION
    );
    stream.write_all(head.as_bytes()).await?;
    let mut follower = Follower::open(&file, TAIL_HEAD)?;
    loop {
        let chunk = follower.more()?;
        if !chunk.is_empty() {
            stream.write_all(&chunk).await?;
            stream.flush().await?;
            continue;
        }
        // Wait for new output, or for the client to go away.
        let gone = async { bell.recv().await.is_err() }
            .or(async {
                // Whatever the client sends now is ignored; EOF means it left.
                let mut probe = [0u8; 64];
                matches!(stream.read(&mut probe).await, Ok(0) | Err(_))
            })
            .await;
        if gone {
            return Ok(());
        }
    }
}

/// 4.3's tail_f_producer: follows a file across rotation and truncation.
struct Follower {
    path: PathBuf,
    file: std::fs::File,
    inode: u64,
    offset: u64,
}

impl Follower {
    fn open(path: &Path, head: u64) -> io::Result<Follower> {
        use std::os::unix::fs::MetadataExt;
        let file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        Ok(Follower {
            path: path.to_path_buf(),
            inode: meta.ino(),
            offset: meta.len().saturating_sub(head),
            file,
        })
    }

    fn more(&mut self) -> io::Result<Vec<u8>> {
        use std::io::{Seek, SeekFrom};
        use std::os::unix::fs::MetadataExt;
        if let Ok(meta) = std::fs::metadata(&self.path) {
            if meta.ino() != self.inode {
                // Rotated: follow the new file from its start.
                *self = Follower::open(&self.path, u64::MAX)?;
            }
        }
        let size = self.file.metadata()?.len();
        if size < self.offset {
            self.offset = 0;
            return Ok(b"==> File truncated <==\n".to_vec());
        }
        let wanted = (size - self.offset).min(1024 * 1024);
        if wanted == 0 {
            return Ok(Vec::new());
        }
        self.file.seek(SeekFrom::Start(self.offset))?;
        let mut out = vec![0u8; wanted as usize];
        let n = self.file.read(&mut out)?;
        out.truncate(n);
        self.offset += n as u64;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_deadline_comes_from_the_environment_when_valid() {
        assert_eq!(read_deadline_from(None), READ_DEADLINE);
        assert_eq!(read_deadline_from(Some("1.5")), Duration::from_millis(1500));
        assert_eq!(read_deadline_from(Some(" 2 ")), Duration::from_secs(2));
        for bad in ["", "0", "-1", "abc", "inf", "NaN", "1e400"] {
            assert_eq!(read_deadline_from(Some(bad)), READ_DEADLINE, "{bad}");
        }
    }

    #[test]
    fn unquote_decodes_percent_escapes() {
        assert_eq!(unquote("/logtail/g%3Aweb"), "/logtail/g:web");
        assert_eq!(unquote("/bad%zz"), "/bad%zz");
        assert_eq!(unquote("/trailing%4"), "/trailing%4");
    }

    #[test]
    fn follower_sends_last_kib_then_new_bytes() {
        let dir = std::env::temp_dir().join(format!("supervisor-follow-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("log");
        std::fs::write(&path, vec![b'a'; 3000]).unwrap_or_default();
        let mut f = Follower::open(&path, TAIL_HEAD).map_err(|e| e.to_string());
        let first = f
            .as_mut()
            .map(|f| f.more().unwrap_or_default())
            .unwrap_or_default();
        assert_eq!(first.len(), 1024);
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        file.write_all(b"new").expect("append");
        let next = f
            .as_mut()
            .map(|f| f.more().unwrap_or_default())
            .unwrap_or_default();
        assert_eq!(next, b"new");
        std::fs::write(&path, b"x").expect("truncate");
        let trunc = f
            .as_mut()
            .map(|f| f.more().unwrap_or_default())
            .unwrap_or_default();
        assert_eq!(trunc, b"==> File truncated <==\n");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
