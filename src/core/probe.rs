//! The probing forms of `ready=`: one attempt each of a TCP connect, an HTTP
//! GET or a command, bounded in time, for the single-threaded executor
//! (non-blocking sockets, the child reaped through its pidfd). The caller
//! repeats a failed attempt after [`next_interval`] while the process is
//! STARTING. Errors say which check failed and why, as in
//! `tcp 127.0.0.1:8080: connection refused`.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::pin::pin;
use std::process::ExitStatus;
use std::time::Duration;

use async_io::{Async, Timer};
use smol::future;
use smol::io::{AsyncReadExt, AsyncWriteExt};

use crate::process::kill;
use crate::process::ready::host_port_text;
use crate::process::signals;
use crate::process::spawn::{spawn, Plan};

/// How long one TCP attempt may take, name lookup included.
pub const TCP_ATTEMPT: Duration = Duration::from_secs(1);
/// How long one HTTP attempt may take, from lookup to status line.
pub const HTTP_ATTEMPT: Duration = Duration::from_secs(2);
/// How long a readiness command may run before it is killed.
pub const EXEC_LIMIT: Duration = Duration::from_secs(10);

/// The most of an HTTP answer read while looking for the status line.
const STATUS_LINE_MAX: usize = 1024;

/// One attempt to connect to `host:port` (an IP address, an IPv6 one
/// without brackets, or a name, looked up off the executor), bounded by
/// [`TCP_ATTEMPT`]. Every address of a name is tried in turn.
pub async fn tcp(host: &str, port: u16) -> Result<(), String> {
    tcp_within(host, port, TCP_ATTEMPT).await
}

async fn tcp_within(host: &str, port: u16, limit: Duration) -> Result<(), String> {
    let what = format!("tcp {}", host_port_text(host, port));
    match within(limit, connect(host, port)).await {
        Some(Ok(_)) => Ok(()),
        Some(Err(e)) => Err(format!("{what}: {e}")),
        None => Err(format!("{what}: no connection within {limit:?}")),
    }
}

/// One HTTP/1.0 `GET path` to `host:port`, bounded by [`HTTP_ATTEMPT`]:
/// ready on a 2xx or 3xx status (redirects are not followed).
pub async fn http(host: &str, port: u16, path: &str) -> Result<(), String> {
    http_within(host, port, path, HTTP_ATTEMPT).await
}

async fn http_within(host: &str, port: u16, path: &str, limit: Duration) -> Result<(), String> {
    let authority = host_port_text(host, port);
    let what = format!("http http://{authority}{path}");
    match within(limit, get(host, port, &authority, path)).await {
        Some(Ok(status)) if (200..400).contains(&status) => Ok(()),
        Some(Ok(status)) => Err(format!("{what}: status {status}")),
        Some(Err(e)) => Err(format!("{what}: {e}")),
        None => Err(format!("{what}: no answer within {limit:?}")),
    }
}

/// Runs `/bin/sh -c command` with exactly `env`, stdio on /dev/null, in its
/// own process group: ready if it exits 0. After [`EXEC_LIMIT`] the group is
/// killed (SIGKILL) and reaped, and the attempt fails.
pub async fn exec(command: &str, env: &[(String, String)]) -> Result<(), String> {
    exec_within(command, env, EXEC_LIMIT).await
}

async fn exec_within(
    command: &str,
    env: &[(String, String)],
    limit: Duration,
) -> Result<(), String> {
    let what = format!("exec {command}");
    let fail = |e: io::Error| format!("{what}: {}", error_text(&e));
    let null = || -> io::Result<OwnedFd> { Ok(std::fs::File::open("/dev/null")?.into()) };
    let plan = Plan::new(
        "/bin/sh",
        ["sh", "-c", command],
        env.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        null().map_err(fail)?,
        null().map_err(fail)?,
        null().map_err(fail)?,
    )
    .map_err(fail)?;
    let child =
        spawn(plan).map_err(|e| format!("{what}: cannot run /bin/sh: {}", error_text(&e)))?;
    let pid = child.id();
    let mut waiting = pin!(child.wait());
    let status = match within(limit, &mut waiting).await {
        Some(status) => status.map_err(fail)?,
        None => {
            // Not reaped yet (the wait has not finished), so `pid` still
            // names our child and its group: sh and what it started.
            let _ = kill::send(pid, libc::SIGKILL, true);
            let _ = waiting.await;
            return Err(format!("{what}: still running after {limit:?}, killed"));
        }
    };
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what}: {}", exit_text(status)))
    }
}

/// The pause before attempt number `attempt` (0 for the first retry): 50
/// ms, doubling, at most 2 s.
pub fn next_interval(attempt: u32) -> Duration {
    Duration::from_millis((50u64 << attempt.min(6)).min(2000))
}

/// `f`'s output, or `None` if it has not finished within `limit`.
async fn within<T>(limit: Duration, f: impl Future<Output = T>) -> Option<T> {
    future::or(async { Some(f.await) }, async {
        Timer::after(limit).await;
        None
    })
    .await
}

/// A connection to the first address of `host` that accepts one.
async fn connect(host: &str, port: u16) -> Result<Async<TcpStream>, String> {
    let mut last = None;
    for address in resolve(host, port).await? {
        match Async::<TcpStream>::connect(address).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(e),
        }
    }
    Err(last.map_or_else(|| format!("{host} has no address"), |e| error_text(&e)))
}

/// The addresses of `host`: an IP address as is, a name looked up on a
/// blocking thread (the C library's resolver blocks).
async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let name = host.to_string();
    smol::unblock(move || {
        (name.as_str(), port)
            .to_socket_addrs()
            .map(|a| a.collect::<Vec<_>>())
    })
    .await
    .map_err(|e| format!("cannot look up {host}: {}", error_text(&e)))
}

/// Sends the request and reads the status code of the answer.
async fn get(host: &str, port: u16, authority: &str, path: &str) -> Result<u16, String> {
    if !path.starts_with('/') || path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the path must start with '/' and have no spaces".to_string());
    }
    let mut stream = connect(host, port).await?;
    let request = format!(
        "GET {path} HTTP/1.0\r\nHost: {authority}\r\nUser-Agent: supervisor/{}\r\n\
         Accept: */*\r\nConnection: close\r\n\r\n",
        crate::VERSION
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("cannot send the request: {}", error_text(&e)))?;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 512];
    while !answer.contains(&b'\n') && answer.len() < STATUS_LINE_MAX {
        let n = match stream.read(&mut buffer).await {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("cannot read the answer: {}", error_text(&e))),
        };
        let Some(got) = buffer.get(..n).filter(|got| !got.is_empty()) else {
            break;
        };
        answer.extend_from_slice(got);
    }
    if answer.is_empty() {
        return Err("closed without an answer".to_string());
    }
    status_code(&answer).ok_or_else(|| "the answer is not HTTP".to_string())
}

/// The status code of `HTTP/1.x NNN ...` at the start of `answer`.
fn status_code(answer: &[u8]) -> Option<u16> {
    let line = answer.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut words = line.split_whitespace();
    words.next().filter(|v| v.starts_with("HTTP/"))?;
    let code = words.next()?;
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    code.parse().ok()
}

/// `exit status 3` or `killed by SIGTERM`.
fn exit_text(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by {}", signals::name(signal)),
        (None, None) => format!("ended with wait status {}", status.into_raw()),
    }
}

/// An I/O error as a phrase: `connection refused`, without Rust's
/// ` (os error N)` suffix.
pub(crate) fn error_text(e: &io::Error) -> String {
    let text = e.to_string();
    let text = match text.rfind(" (os error ") {
        Some(cut) => text.get(..cut).unwrap_or(&text),
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::{Ipv6Addr, TcpListener};
    use std::sync::mpsc;
    use std::time::Instant;

    /// A bound on any one probe in a test, well above its own limit.
    const LIMIT: Duration = Duration::from_secs(20);

    fn run<T>(f: impl Future<Output = T>) -> T {
        smol::block_on(within(LIMIT, f)).expect("the probe did not finish in time")
    }

    /// A port nothing listens on: one the kernel just gave us and took back.
    fn closed_port() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    }

    #[test]
    fn next_interval_grows_from_50_ms_to_2_s() {
        let ms: Vec<u128> = (0..9).map(|a| next_interval(a).as_millis()).collect();
        assert_eq!(ms, [50, 100, 200, 400, 800, 1600, 2000, 2000, 2000]);
        assert_eq!(next_interval(u32::MAX), Duration::from_secs(2));
    }

    #[test]
    fn tcp_is_ready_when_something_listens() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        assert_eq!(run(tcp("127.0.0.1", port)), Ok(()));
        // A name: every address is tried (localhost may be ::1 first).
        assert_eq!(run(tcp("localhost", port)), Ok(()));
        if let Ok(v6) = TcpListener::bind((Ipv6Addr::LOCALHOST, 0)) {
            let port = v6.local_addr().expect("addr").port();
            assert_eq!(run(tcp("::1", port)), Ok(()));
        }
    }

    #[test]
    fn tcp_says_why_it_failed() {
        let port = closed_port();
        assert_eq!(
            run(tcp("127.0.0.1", port)),
            Err(format!("tcp 127.0.0.1:{port}: connection refused"))
        );
        // A slow resolver must not turn this into a timeout.
        let unknown = run(tcp_within("no-such-host.invalid", 80, LIMIT)).expect_err("no such host");
        assert!(
            unknown
                .starts_with("tcp no-such-host.invalid:80: cannot look up no-such-host.invalid: "),
            "{unknown}"
        );
    }

    #[test]
    fn tcp_gives_up_at_its_limit() {
        // Nothing accepts: each connection that succeeds stays in the
        // listener's queue, and once the queue (backlog 0: one entry) is
        // full the kernel drops further SYNs, a connect that never ends.
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        rustix::net::listen(&listener, 0).expect("listen");
        let limit = Duration::from_millis(300);
        let mut results = Vec::new();
        while results.len() < 10 {
            let result = run(tcp_within("127.0.0.1", port, limit));
            let done = result.is_err();
            results.push(result);
            if done {
                break;
            }
        }
        assert_eq!(
            results.last(),
            Some(&Err(format!(
                "tcp 127.0.0.1:{port}: no connection within 300ms"
            ))),
            "{results:?}"
        );
    }

    /// A one-connection HTTP server on a thread: it answers `answer` (or
    /// closes at once if `None`) and hands back the request head it read.
    fn serve(answer: Option<&'static str>) -> (u16, mpsc::Receiver<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let _ = stream.set_read_timeout(Some(LIMIT));
            let mut head = String::new();
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            if let Some(answer) = answer {
                let _ = stream.write_all(answer.as_bytes());
            }
            let _ = tx.send(head);
        });
        (port, rx)
    }

    #[test]
    fn http_is_ready_on_2xx_and_3xx() {
        for answer in [
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.0 204 No Content\r\n\r\n",
            "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\n\r\n",
        ] {
            let (port, head) = serve(Some(answer));
            assert_eq!(
                run(http("127.0.0.1", port, "/health?x=1")),
                Ok(()),
                "{answer}"
            );
            let head = head.recv_timeout(LIMIT).expect("request head");
            assert!(
                head.starts_with(&format!(
                    "GET /health?x=1 HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n"
                )),
                "{head}"
            );
        }
    }

    #[test]
    fn http_says_why_it_failed() {
        let (port, _) = serve(Some("HTTP/1.1 503 Service Unavailable\r\n\r\n"));
        assert_eq!(
            run(http("127.0.0.1", port, "/health")),
            Err(format!("http http://127.0.0.1:{port}/health: status 503"))
        );
        let (port, _) = serve(Some("SSH-2.0-OpenSSH_9.6\r\n"));
        assert_eq!(
            run(http("127.0.0.1", port, "/")),
            Err(format!(
                "http http://127.0.0.1:{port}/: the answer is not HTTP"
            ))
        );
        let (port, _) = serve(None);
        assert_eq!(
            run(http("127.0.0.1", port, "/")),
            Err(format!(
                "http http://127.0.0.1:{port}/: closed without an answer"
            ))
        );
        let port = closed_port();
        assert_eq!(
            run(http("127.0.0.1", port, "/")),
            Err(format!("http http://127.0.0.1:{port}/: connection refused"))
        );
        assert_eq!(
            run(http("127.0.0.1", port, "/a b")),
            Err(format!(
                "http http://127.0.0.1:{port}/a b: the path must start with '/' and have no spaces"
            ))
        );
    }

    #[test]
    fn http_gives_up_at_its_limit() {
        // Accepts (the kernel does) but never answers.
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let limit = Duration::from_millis(200);
        assert_eq!(
            run(http_within("127.0.0.1", port, "/", limit)),
            Err(format!(
                "http http://127.0.0.1:{port}/: no answer within 200ms"
            ))
        );
    }

    #[test]
    fn exec_is_ready_on_exit_0_with_the_given_environment() {
        let env = [("READY_X".to_string(), "yes".to_string())];
        assert_eq!(run(exec(r#"test "$READY_X" = yes"#, &env)), Ok(()));
        // Exactly that environment: nothing of ours leaks in.
        assert_eq!(run(exec(r#"test -z "$HOME$USER""#, &env)), Ok(()));
        // stdin is /dev/null: a read finds end of file at once.
        assert_eq!(run(exec("read line; test $? -ne 0", &[])), Ok(()));
    }

    #[test]
    fn exec_says_why_it_failed() {
        assert_eq!(
            run(exec("exit 3", &[])),
            Err("exec exit 3: exit status 3".to_string())
        );
        assert_eq!(
            run(exec("kill -TERM $$", &[])),
            Err("exec kill -TERM $$: killed by SIGTERM".to_string())
        );
        let bad_env = [("A=B".to_string(), "1".to_string())];
        assert_eq!(
            run(exec("true", &bad_env)),
            Err("exec true: environment name is empty or contains '='".to_string())
        );
    }

    #[test]
    fn exec_kills_the_group_at_its_limit() {
        let dir = std::env::temp_dir().join(format!("sv-probe-exec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let pidfile = dir.join("pid");
        let command = format!("sleep 30 & echo $! > {}; wait", pidfile.display());
        let env = [("PATH".to_string(), "/usr/bin:/bin".to_string())];
        let limit = Duration::from_millis(300);
        let result = run(exec_within(&command, &env, limit));
        assert_eq!(
            result,
            Err(format!("exec {command}: still running after 300ms, killed"))
        );
        // The background sleep was in the group: it is gone (or a zombie
        // waiting for init) soon after.
        let pid = std::fs::read_to_string(&pidfile).expect("pid file");
        let stat = format!("/proc/{}/stat", pid.trim());
        let deadline = Instant::now() + LIMIT;
        loop {
            match std::fs::read_to_string(&stat) {
                Err(_) => break,
                Ok(text) if text.rsplit(')').next().is_some_and(|t| t.starts_with(" Z")) => {
                    break;
                }
                Ok(_) => {
                    assert!(Instant::now() < deadline, "the group's sleep survived");
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
