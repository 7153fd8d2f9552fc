//! Following a log over HTTP (`tail -f`, `maintail -f`, `fg`): 4.3 does not
//! poll RPCs for these but GETs `/logtail/...` or `/mainlogtail`, an endless
//! chunked response, and prints every chunk as it arrives. `fg` follows
//! stdout and stderr at once, on two threads, while its caller reads stdin.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::client::Server;
use super::py;
use super::transport::{self, Conn, StreamEnd, Target};

/// How following a log ended, from the caller's point of view.
#[derive(Debug)]
pub enum Ending {
    /// The server closed the stream, or the consumer stopped it.
    Done,
    /// Ctrl-C.
    Interrupted,
    /// What 4.3's `Listener.error` would print after the URL.
    Error(String),
}

/// A body piece as 4.3's listener writes it: text when it decodes as
/// UTF-8, else `Undecodable: b'...'`.
pub fn decode_piece(piece: &[u8]) -> Vec<u8> {
    if std::str::from_utf8(piece).is_ok() {
        piece.to_vec()
    } else {
        format!("Undecodable: {}", py::repr_bytes(piece)).into_bytes()
    }
}

/// Follows `path` on the server, handing each piece to `deliver` (which
/// returns false to stop).
pub fn follow(
    server: &Server,
    path: &str,
    interruptible: bool,
    deliver: &mut dyn FnMut(&[u8]) -> bool,
) -> Ending {
    follow_with(server, path, interruptible, &mut |_| {}, deliver)
}

fn follow_with(
    server: &Server,
    path: &str,
    interruptible: bool,
    on_connect: &mut dyn FnMut(&Conn),
    deliver: &mut dyn FnMut(&[u8]) -> bool,
) -> Ending {
    let target = match Target::parse(&server.serverurl) {
        Ok(target) => target,
        Err(e) => {
            return Ending::Error(format!("Cannot connect, error: {}", e.class_and_message()))
        }
    };
    let url = format!("{}{}", server.serverurl, path);
    let netloc = match py::urlsplit(&url) {
        Ok(parts) => parts.netloc,
        Err(e) => {
            return Ending::Error(format!("Cannot connect, error: {}", e.class_and_message()))
        }
    };
    let auth = server.stream_authorization();
    match transport::stream_get(
        &target,
        &netloc,
        path,
        auth.as_deref(),
        interruptible,
        on_connect,
        deliver,
    ) {
        StreamEnd::Closed | StreamEnd::Stopped => Ending::Done,
        StreamEnd::Interrupted => Ending::Interrupted,
        StreamEnd::Status(code) => Ending::Error(format!("Cannot read, status code {code}")),
        StreamEnd::Failed(e) => {
            Ending::Error(format!("Cannot connect, error: {}", e.class_and_message()))
        }
    }
}

/// The two output streams of `fg`, each on its own thread.
pub struct Foreground {
    stopping: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<Conn>>>,
    threads: Vec<JoinHandle<()>>,
}

impl Foreground {
    /// Starts printing the process's stdout and stderr logs to our stdout.
    pub fn start(server: &Server, name: &str) -> Foreground {
        let stopping = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<Conn>>> = Arc::new(Mutex::new(Vec::new()));
        let mut threads = Vec::new();
        for channel in ["stdout", "stderr"] {
            let server = server.clone();
            let path = format!("/logtail/{name}/{channel}");
            let stopping = Arc::clone(&stopping);
            let conns = Arc::clone(&conns);
            let spawned = std::thread::Builder::new()
                .name(format!("fg-{channel}"))
                .spawn(move || follow_to_stdout(&server, &path, &stopping, &conns));
            if let Ok(handle) = spawned {
                threads.push(handle);
            }
        }
        Foreground {
            stopping,
            conns,
            threads,
        }
    }

    /// Ends both streams and waits for their threads.
    pub fn stop(self) {
        self.stopping.store(true, Ordering::SeqCst);
        if let Ok(conns) = self.conns.lock() {
            for conn in conns.iter() {
                conn.shutdown();
            }
        }
        for handle in self.threads {
            let _ = handle.join();
        }
    }
}

fn follow_to_stdout(server: &Server, path: &str, stopping: &AtomicBool, conns: &Mutex<Vec<Conn>>) {
    let mut remember = |conn: &Conn| {
        if let (Ok(clone), Ok(mut list)) = (conn.try_clone(), conns.lock()) {
            // A stop that came before we connected must still end us.
            if stopping.load(Ordering::SeqCst) {
                clone.shutdown();
            }
            list.push(clone);
        }
    };
    let mut deliver = |piece: &[u8]| {
        if stopping.load(Ordering::SeqCst) {
            return false;
        }
        let mut out = std::io::stdout().lock();
        out.write_all(&decode_piece(piece))
            .and_then(|()| out.flush())
            .is_ok()
    };
    if let Ending::Error(message) = follow_with(server, path, false, &mut remember, &mut deliver) {
        if !stopping.load(Ordering::SeqCst) {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{}{} {}", server.serverurl, path, message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::os::unix::net::UnixListener;

    #[test]
    fn undecodable_pieces_are_shown_as_bytes() {
        assert_eq!(decode_piece(b"ok\n"), b"ok\n");
        assert_eq!(decode_piece(b"\xc3"), b"Undecodable: b'\\xc3'");
    }

    fn serve_once(
        response: &'static [u8],
    ) -> (std::path::PathBuf, std::thread::JoinHandle<String>) {
        let dir = std::env::temp_dir().join(format!(
            "ctl-stream-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("s.sock");
        let listener = UnixListener::bind(&sock).unwrap();
        let handle = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            conn.write_all(response).unwrap();
            head
        });
        (sock, handle)
    }

    #[test]
    fn follow_delivers_chunks_and_sends_4_3s_request() {
        let (sock, server_thread) = serve_once(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello\n\r\n0\r\n\r\n",
        );
        let server = Server {
            serverurl: format!("unix://{}", sock.display()),
            username: Some("u".into()),
            password: Some("p".into()),
        };
        let mut got = Vec::new();
        let end = follow(&server, "/logtail/x/stdout", false, &mut |p| {
            got.extend_from_slice(p);
            true
        });
        assert!(matches!(end, Ending::Done), "{end:?}");
        assert_eq!(got, b"hello\n");
        let head = server_thread.join().unwrap();
        assert!(
            head.starts_with("GET /logtail/x/stdout HTTP/1.1\r\n"),
            "{head}"
        );
        assert!(head.contains("Authorization: Basic dTpw\r\n"), "{head}");
        let _ = std::fs::remove_dir_all(sock.parent().unwrap());
    }

    #[test]
    fn follow_reports_a_bad_status() {
        let (sock, server_thread) =
            serve_once(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        let server = Server {
            serverurl: format!("unix://{}", sock.display()),
            username: None,
            password: None,
        };
        let end = follow(&server, "/logtail/nope/stdout", false, &mut |_| true);
        match end {
            Ending::Error(m) => assert_eq!(m, "Cannot read, status code 404"),
            other => panic!("{other:?}"),
        }
        let head = server_thread.join().unwrap();
        assert!(!head.contains("Authorization"));
        let _ = std::fs::remove_dir_all(sock.parent().unwrap());
    }

    #[test]
    fn follow_reports_connect_failures() {
        let server = Server {
            serverurl: "http://127.0.0.1:1".into(),
            username: None,
            password: None,
        };
        match follow(&server, "/mainlogtail", false, &mut |_| true) {
            Ending::Error(m) => assert_eq!(
                m,
                "Cannot connect, error: <class 'ConnectionRefusedError'> ([Errno 111] Connection refused)"
            ),
            other => panic!("{other:?}"),
        }
    }
}
