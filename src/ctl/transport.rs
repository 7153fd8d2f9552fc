//! The HTTP client side of supervisorctl: one blocking connection per
//! request, over a unix socket or TCP, as 4.3's `SupervisorTransport`
//! (XML-RPC POSTs) and `http_client.HTTPHandler` (`/logtail` streams) do.
//! Every read waits through `interrupt`, so Ctrl-C can end any of them.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use super::interrupt::Interruptible;
use super::py;
use super::raised::{self, Raised};

/// How long a TCP connect may take before it counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest status line or header line we accept.
const MAX_LINE: usize = 64 * 1024;
/// Most header lines we accept in one response.
const MAX_HEADERS: usize = 200;

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Unix(String),
    Tcp { host: String, port: u16 },
}

/// A parsed `serverurl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub address: Address,
    /// The `Host` header an XML-RPC request carries (http.client's rule).
    pub host_header: String,
}

impl Target {
    /// As `SupervisorTransport.__init__`: only `http://` and `unix://` work.
    pub fn parse(serverurl: &str) -> Result<Target, Raised> {
        if let Some(path) = serverurl.strip_prefix("unix://") {
            return Ok(Target {
                address: Address::Unix(path.to_string()),
                host_header: "localhost".into(),
            });
        }
        if serverurl.starts_with("http://") {
            let netloc = py::urlsplit(serverurl)?.netloc;
            let (host, port) = host_and_port(&netloc)?;
            if host.is_empty() {
                // urlparse's hostname is None; http.client fails on it later.
                return Err(Raised::other(
                    "TypeError",
                    "expected string or bytes-like object, got 'NoneType'",
                    raised::SITE_HTTP_HOST,
                ));
            }
            let shown = if host.contains(':') {
                format!("[{host}]")
            } else {
                host.clone()
            };
            let host_header = if port == 80 {
                shown
            } else {
                format!("{shown}:{port}")
            };
            return Ok(Target {
                address: Address::Tcp { host, port },
                host_header,
            });
        }
        Err(Raised::other(
            "ValueError",
            format!("Unknown protocol for serverurl {serverurl}"),
            raised::SITE_UNKNOWN_PROTOCOL,
        ))
    }
}

/// `urlparse(...).hostname` and `.port` (default 80), with Python's errors.
fn host_and_port(netloc: &str) -> Result<(String, u16), Raised> {
    let hostinfo = netloc.rsplit_once('@').map_or(netloc, |(_, h)| h);
    let (host, port) = if let Some(rest) = hostinfo.strip_prefix('[') {
        let (inside, after) = rest.split_once(']').unwrap_or((rest, ""));
        (inside, after.strip_prefix(':'))
    } else {
        match hostinfo.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostinfo, None),
        }
    };
    let host = host.to_lowercase();
    let port = match port {
        None => 80,
        Some(text) => {
            let bad = || {
                Raised::other(
                    "ValueError",
                    format!(
                        "Port could not be cast to integer value as {}",
                        py::repr_str(text)
                    ),
                    raised::SITE_URL_PORT,
                )
            };
            if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            match text.parse::<u32>() {
                Ok(n) if n <= 65535 => n as u16,
                _ => {
                    return Err(Raised::other(
                        "ValueError",
                        "Port out of range 0-65535",
                        raised::SITE_URL_PORT,
                    ))
                }
            }
        }
    };
    Ok((host, port))
}

/// An open connection to the server.
#[derive(Debug)]
pub enum Conn {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Conn {
    pub fn try_clone(&self) -> io::Result<Conn> {
        Ok(match self {
            Conn::Unix(s) => Conn::Unix(s.try_clone()?),
            Conn::Tcp(s) => Conn::Tcp(s.try_clone()?),
        })
    }

    /// Ends both directions, waking any thread blocked reading it.
    pub fn shutdown(&self) {
        let _ = match self {
            Conn::Unix(s) => s.shutdown(std::net::Shutdown::Both),
            Conn::Tcp(s) => s.shutdown(std::net::Shutdown::Both),
        };
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Unix(s) => s.read(buf),
            Conn::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Unix(s) => s.write(buf),
            Conn::Tcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsFd for Conn {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Conn::Unix(s) => s.as_fd(),
            Conn::Tcp(s) => s.as_fd(),
        }
    }
}

/// Opens a connection; failures are the `OSError`s Python would raise there.
pub fn connect(address: &Address) -> Result<Conn, Raised> {
    match address {
        Address::Unix(path) => UnixStream::connect(path)
            .map(Conn::Unix)
            .map_err(|e| Raised::from_io(&e, raised::SITE_UNIX_CONNECT)),
        Address::Tcp { host, port } => connect_tcp(host, *port).map(Conn::Tcp),
    }
}

fn connect_tcp(host: &str, port: u16) -> Result<TcpStream, Raised> {
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|e| resolve_error(&e))?
        .collect();
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => Raised::from_io(&e, raised::SITE_TCP_CONNECT),
        None => Raised::Resolve {
            code: -2,
            text: "Name or service not known".into(),
        },
    })
}

/// A failed name lookup as `socket.gaierror` shows it.
fn resolve_error(err: &io::Error) -> Raised {
    if err.raw_os_error().is_some() {
        return Raised::from_io(err, raised::SITE_GETADDRINFO);
    }
    let text = err.to_string();
    let text = text
        .strip_prefix("failed to lookup address information: ")
        .unwrap_or(&text)
        .to_string();
    let code = match text.as_str() {
        "Name or service not known" => -2,
        "Temporary failure in name resolution" => -3,
        "Non-recoverable failure in name resolution" => -4,
        "No address associated with hostname" => -5,
        "Servname not supported for ai_socktype" => -8,
        _ => -2,
    };
    Raised::Resolve { code, text }
}

/// `Basic` credentials, as both of 4.3's clients send them.
pub fn basic_auth(username: &str, password: &str) -> String {
    crate::http::auth::basic_header(username, password)
}

/// A response's status line and the headers that frame its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    pub reason: String,
    pub chunked: bool,
    pub length: Option<u64>,
}

fn bad_response(message: impl Into<String>) -> Raised {
    Raised::other("http.client.BadStatusLine", message, raised::SITE_HTTP_READ)
}

/// Reads one CRLF- (or LF-) terminated line, bounded.
fn read_line<R: BufRead>(reader: &mut R) -> Result<Option<String>, Raised> {
    let mut line = Vec::new();
    let n = reader
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut line)
        .map_err(|e| Raised::from_io(&e, raised::SITE_HTTP_READ))?;
    if n == 0 {
        return Ok(None);
    }
    if line.len() > MAX_LINE {
        return Err(Raised::other(
            "http.client.LineTooLong",
            "got more than 65536 bytes when reading header line",
            raised::SITE_HTTP_READ,
        ));
    }
    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        line.pop();
    }
    Ok(Some(String::from_utf8_lossy(&line).into_owned()))
}

/// Parses the status line and headers.
pub fn read_head<R: BufRead>(reader: &mut R) -> Result<Head, Raised> {
    let Some(status_line) = read_line(reader)? else {
        return Err(Raised::other(
            "http.client.RemoteDisconnected",
            "Remote end closed connection without response",
            raised::SITE_HTTP_READ,
        ));
    };
    let mut words = status_line.splitn(3, ' ');
    let version = words.next().unwrap_or("");
    let status = words.next().unwrap_or("");
    let reason = words.next().unwrap_or("").trim().to_string();
    if !version.starts_with("HTTP/") || status.len() != 3 {
        return Err(bad_response(py::repr_str(&status_line)));
    }
    let status: u16 = status
        .parse()
        .map_err(|_| bad_response(py::repr_str(&status_line)))?;
    let mut head = Head {
        status,
        reason,
        chunked: false,
        length: None,
    };
    for _ in 0..MAX_HEADERS {
        let Some(line) = read_line(reader)? else {
            return Ok(head);
        };
        if line.is_empty() {
            return Ok(head);
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            head.chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("content-length") {
            head.length = value.parse().ok();
        }
    }
    Err(Raised::other(
        "http.client.HTTPException",
        "got more than 100 headers",
        raised::SITE_HTTP_READ,
    ))
}

/// Delivers a body piece by piece: whole chunks when chunked, else each
/// read. `deliver` returns false to stop early.
pub fn read_body<R: BufRead>(
    reader: &mut R,
    head: &Head,
    deliver: &mut dyn FnMut(&[u8]) -> bool,
) -> Result<(), Raised> {
    let io_err = |e: io::Error| Raised::from_io(&e, raised::SITE_HTTP_READ);
    if head.chunked {
        loop {
            let Some(size_line) = read_line(reader)? else {
                return Ok(());
            };
            let size_text = size_line.split(';').next().unwrap_or("").trim();
            if size_text.is_empty() {
                continue;
            }
            let size = u64::from_str_radix(size_text, 16)
                .map_err(|_| bad_response(py::repr_str(&size_line)))?;
            if size == 0 {
                return Ok(());
            }
            let mut chunk = Vec::new();
            reader.take(size).read_to_end(&mut chunk).map_err(io_err)?;
            let complete = chunk.len() as u64 == size;
            if !chunk.is_empty() && !deliver(&chunk) {
                return Ok(());
            }
            if !complete {
                return Ok(());
            }
        }
    }
    let mut remaining = head.length;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if remaining == Some(0) {
            return Ok(());
        }
        let want = remaining.map_or(buf.len(), |r| r.min(buf.len() as u64) as usize);
        let Some(slot) = buf.get_mut(..want) else {
            return Ok(());
        };
        let n = reader.read(slot).map_err(io_err)?;
        if n == 0 {
            return Ok(());
        }
        if let Some(r) = remaining.as_mut() {
            *r -= n as u64;
        }
        if !deliver(slot.get(..n).unwrap_or_default()) {
            return Ok(());
        }
    }
}

/// A complete response to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub body: Vec<u8>,
}

/// POSTs an XML-RPC request to `/RPC2` and reads the whole answer.
pub fn post_rpc(
    target: &Target,
    authorization: Option<&str>,
    body: &[u8],
) -> Result<Response, Raised> {
    let mut conn = connect(&target.address)?;
    let mut request = format!(
        "POST /RPC2 HTTP/1.1\r\nHost: {}\r\nAccept-Encoding: identity\r\nUser-Agent: supervisorctl\r\nContent-Type: text/xml\r\nAccept: text/xml\r\n",
        target.host_header
    );
    if let Some(auth) = authorization {
        request.push_str(&format!("Authorization: {auth}\r\n"));
    }
    request.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let site = match target.address {
        Address::Unix(_) => raised::SITE_UNIX_CONNECT,
        Address::Tcp { .. } => raised::SITE_TCP_CONNECT,
    };
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    conn.write_all(&bytes)
        .map_err(|e| Raised::from_io(&e, site))?;
    let mut reader = BufReader::new(Interruptible(conn));
    let head = read_head(&mut reader)?;
    let mut data = Vec::new();
    if head.status == 200 {
        read_body(&mut reader, &head, &mut |piece| {
            data.extend_from_slice(piece);
            true
        })?;
    }
    Ok(Response {
        status: head.status,
        reason: head.reason,
        body: data,
    })
}

/// How a `/logtail` stream ended.
#[derive(Debug)]
pub enum StreamEnd {
    /// The server finished the body or closed the connection.
    Closed,
    /// The consumer asked to stop (e.g. stdout went away).
    Stopped,
    /// A non-200 answer: `Cannot read, status code N`.
    Status(u16),
    /// Could not connect or read: `Cannot connect, error: ...`.
    Failed(Raised),
    /// Ctrl-C.
    Interrupted,
}

/// GETs `path` and hands each piece of the body to `deliver` until the
/// stream ends, as 4.3's `HTTPHandler` does for `tail -f`. `on_connect`
/// receives a handle that can end the stream from another thread; only an
/// `interruptible` stream watches for Ctrl-C (one reader must own it).
pub fn stream_get(
    target: &Target,
    netloc: &str,
    path: &str,
    authorization: Option<&str>,
    interruptible: bool,
    on_connect: &mut dyn FnMut(&Conn),
    deliver: &mut dyn FnMut(&[u8]) -> bool,
) -> StreamEnd {
    let mut conn = match connect(&target.address) {
        Ok(conn) => conn,
        Err(Raised::Interrupt) => return StreamEnd::Interrupted,
        Err(e) => return StreamEnd::Failed(e),
    };
    on_connect(&conn);
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: {netloc}\r\nAccept-Encoding: chunked\r\nAccept: */*\r\nUser-agent: Supervisor HTTP Client\r\n"
    );
    if let Some(auth) = authorization {
        request.push_str(&format!("Authorization: {auth}\r\n"));
    }
    request.push_str("\r\n");
    if let Err(e) = conn.write_all(request.as_bytes()) {
        return StreamEnd::Failed(Raised::from_io(&e, raised::SITE_HTTP_READ));
    }
    let source: Box<dyn Read> = if interruptible {
        Box::new(Interruptible(conn))
    } else {
        Box::new(conn)
    };
    let mut reader = BufReader::new(source);
    let head = match read_head(&mut reader) {
        Ok(head) => head,
        Err(Raised::Interrupt) => return StreamEnd::Interrupted,
        Err(e) => return StreamEnd::Failed(e),
    };
    if head.status != 200 {
        return StreamEnd::Status(head.status);
    }
    let mut stopped = false;
    let result = read_body(&mut reader, &head, &mut |piece| {
        stopped = !deliver(piece);
        !stopped
    });
    match result {
        Ok(()) if stopped => StreamEnd::Stopped,
        Ok(()) => StreamEnd::Closed,
        Err(Raised::Interrupt) => StreamEnd::Interrupted,
        // A reset or shutdown mid-stream ends it quietly, as asyncore's close does.
        Err(Raised::Os { .. }) => StreamEnd::Closed,
        Err(e) => StreamEnd::Failed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn unix_and_http_targets() {
        let t = Target::parse("unix:///tmp/s.sock").unwrap();
        assert_eq!(t.address, Address::Unix("/tmp/s.sock".into()));
        assert_eq!(t.host_header, "localhost");
        let t = Target::parse("http://LocalHost:9001/x").unwrap();
        assert_eq!(
            t.address,
            Address::Tcp {
                host: "localhost".into(),
                port: 9001
            }
        );
        assert_eq!(t.host_header, "localhost:9001");
        assert!(Target::parse("http://:9001")
            .unwrap_err()
            .error_line()
            .contains("TypeError'>, expected string or bytes-like object, got 'NoneType'"));
        let t = Target::parse("http://u:p@[::1]").unwrap();
        assert_eq!(
            t.address,
            Address::Tcp {
                host: "::1".into(),
                port: 80
            }
        );
        assert_eq!(t.host_header, "[::1]");
    }

    #[test]
    fn bad_targets_raise_pythons_value_errors() {
        let e = Target::parse("localhost:9001").unwrap_err();
        assert!(e.error_line().starts_with(
            "error: <class 'ValueError'>, Unknown protocol for serverurl localhost:9001: file: "
        ));
        let e = Target::parse("http://h:x1").unwrap_err();
        assert!(e
            .error_line()
            .contains("Port could not be cast to integer value as 'x1'"));
        let e = Target::parse("http://h:70000").unwrap_err();
        assert!(e.error_line().contains("Port out of range 0-65535"));
        assert!(Target::parse("http://h:").is_err());
    }

    #[test]
    fn basic_auth_is_base64_of_user_colon_password() {
        assert_eq!(basic_auth("user", "123"), "Basic dXNlcjoxMjM=");
    }

    fn collect(raw: &[u8]) -> Result<(Head, Vec<Vec<u8>>), Raised> {
        let mut reader = Cursor::new(raw.to_vec());
        let head = read_head(&mut reader)?;
        let mut pieces = Vec::new();
        read_body(&mut reader, &head, &mut |p| {
            pieces.push(p.to_vec());
            true
        })?;
        Ok((head, pieces))
    }

    #[test]
    fn content_length_body() {
        let (head, pieces) =
            collect(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhelloEXTRA").unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(head.reason, "OK");
        assert_eq!(pieces.concat(), b"hello");
    }

    #[test]
    fn chunked_body_is_delivered_chunk_by_chunk() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        let (head, pieces) = collect(raw).unwrap();
        assert!(head.chunked);
        assert_eq!(pieces, vec![b"abc".to_vec(), b"de".to_vec()]);
    }

    #[test]
    fn body_until_eof_without_length() {
        let (_, pieces) = collect(b"HTTP/1.1 200 OK\r\n\r\nall of it").unwrap();
        assert_eq!(pieces.concat(), b"all of it");
    }

    #[test]
    fn truncated_chunk_ends_quietly() {
        let (_, pieces) =
            collect(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nff\r\nshort").unwrap();
        assert_eq!(pieces.concat(), b"short");
    }

    #[test]
    fn malformed_responses_are_errors_not_panics() {
        assert!(collect(b"").is_err());
        assert!(collect(b"garbage\r\n\r\n").is_err());
        assert!(collect(b"HTTP/1.1 2000 OK\r\n\r\n").is_err());
        assert!(collect(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err());
        let long = [b"HTTP/1.1 200 OK\r\nX: ".as_slice(), &vec![b'a'; 70_000]].concat();
        assert!(collect(&long).is_err());
        let (head, _) = collect(b"HTTP/1.1 401 Unauthorized\r\n\r\n").unwrap();
        assert_eq!((head.status, head.reason.as_str()), (401, "Unauthorized"));
    }

    #[test]
    fn connect_failures_keep_their_errno() {
        let dir = std::env::temp_dir().join(format!("ctl-transport-{}", std::process::id()));
        let e = connect(&Address::Unix(
            dir.join("none.sock").to_string_lossy().into_owned(),
        ))
        .unwrap_err();
        assert_eq!(e.errno(), Some(2));
        // Port 1 on loopback is closed on any sane test machine.
        let e = connect(&Address::Tcp {
            host: "127.0.0.1".into(),
            port: 1,
        })
        .unwrap_err();
        assert_eq!(e.errno(), Some(111));
    }
}
