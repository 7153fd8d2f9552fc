//! The web page end to end: raw HTTP over the daemon's unix socket, checking
//! 4.3's URLs, redirects and messages, the tail page, static files, and that
//! nothing a name or a log line contains can inject markup.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use crate::util::{wait_for, Daemon, Sandbox};

const T: Duration = Duration::from_secs(20);

/// One parsed HTTP response.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The message a redirect carries, decoded.
    fn message(&self) -> String {
        assert_eq!(self.status, 301, "not a redirect: {}", self.text());
        let location = self.header("Location").unwrap_or_default();
        let quoted = location
            .strip_prefix("/?message=")
            .unwrap_or_else(|| panic!("odd Location {location}"));
        percent_decode(quoted)
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escaped = bytes
            .get(i + 1..i + 3)
            .filter(|_| b == b'%')
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match escaped {
            Some(v) => {
                out.push(v);
                i += 3;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Sends one HTTP/1.0 request (the server closes after answering).
fn request(sock: &Path, method: &str, target: &str, body: &str) -> Response {
    let mut stream = UnixStream::connect(sock).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let head = if body.is_empty() {
        format!("{method} {target} HTTP/1.0\r\nHost: localhost\r\n\r\n")
    } else {
        format!(
            "{method} {target} HTTP/1.0\r\nHost: localhost\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    stream.write_all(head.as_bytes()).expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no head in {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Response {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

fn get(d: &Daemon, target: &str) -> Response {
    request(&d.sock, "GET", target, "")
}

#[test]
fn status_page_lists_processes_with_their_states() {
    let sb = Sandbox::new("web-status");
    let d = Daemon::start(
        &sb,
        "[program:on]\ncommand=sleep 100\nstartsecs=0\n\n\
         [program:off]\ncommand=sleep 100\nautostart=false\n",
    );
    d.wait_state("on", "RUNNING", T);
    for target in ["/", "/index.html"] {
        let page = get(&d, target);
        assert_eq!(page.status, 200, "{target}");
        assert_eq!(page.header("Content-Type"), Some("text/html;charset=utf-8"));
        assert_eq!(page.header("Cache-Control"), Some("no-cache"));
        let html = page.text();
        // Sorted by name: off first, then on.
        let off = html.find(">off</a>").expect("off row");
        let on = html.find(">on</a>").expect("on row");
        assert!(off < on, "{html}");
        assert!(html.contains("<span class=\"statusnominal\">stopped</span>"));
        assert!(html.contains("<span>Not started</span>"));
        assert!(html.contains("<span class=\"statusrunning\">running</span>"));
        let pid = d.process_pid("on");
        assert!(
            html.contains(&format!("<span>pid {pid}, uptime ")),
            "{html}"
        );
        assert!(html.contains("href=\"index.html?processname=off&amp;action=start\""));
        assert!(html.contains("href=\"index.html?processname=on&amp;action=stop\""));
        assert!(html.contains("href=\"logtail/on/stderr\""));
        assert!(html.contains("href=\"tail.html?processname=on\""));
    }
    // A message from a redirect is shown; no message, no box.
    let page = get(&d, "/?message=Process%20on%20started");
    assert!(page
        .text()
        .contains("<div class=\"status_msg\">Process on started</div>"));
    assert!(!get(&d, "/").text().contains("status_msg"));
}

#[test]
fn process_actions_wait_and_redirect_with_43s_messages() {
    let sb = Sandbox::new("web-actions");
    let d = Daemon::start(
        &sb,
        "[program:app]\ncommand=sh -c 'echo hello; exec sleep 100'\nstartsecs=1\nautostart=false\n\n\
         [program:bad]\ncommand=/nonexistent/program\nautostart=false\n",
    );
    // start waits for startsecs, so the process is RUNNING when the answer comes.
    let started = get(&d, "/index.html?processname=app&action=start");
    assert_eq!(started.message(), "Process app started");
    assert_eq!(d.statename("app"), "RUNNING");
    assert_eq!(
        get(&d, "/?processname=app&action=start").message(),
        "ERROR: Process app: already started"
    );
    let pid = d.process_pid("app");
    assert_eq!(
        get(&d, "/?processname=app&action=restart").message(),
        "Process app restarted"
    );
    assert_eq!(d.statename("app"), "RUNNING");
    assert_ne!(d.process_pid("app"), pid);

    let log = d
        .info("app")
        .get("stdout_logfile")
        .and_then(supervisor::rpc::value::Value::as_str)
        .unwrap_or_default()
        .to_string();
    wait_for(T, "output in the log", || {
        std::fs::read_to_string(&log)
            .ok()
            .filter(|s| s.contains("hello"))
    });
    assert_eq!(
        get(&d, "/?processname=app&action=clearlog").message(),
        "Log for app cleared"
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap_or_default(), "");

    assert_eq!(
        get(&d, "/?processname=app&action=stop").message(),
        "Process app stopped"
    );
    assert_eq!(d.statename("app"), "STOPPED");
    assert_eq!(
        get(&d, "/?processname=app&action=stop").message(),
        "unexpected rpc fault [70] NOT_RUNNING: app"
    );
    assert_eq!(
        get(&d, "/?processname=nope&action=start").message(),
        "No such process named nope"
    );
    assert_eq!(
        get(&d, "/?processname=bad&action=start").message(),
        "ERROR: Process bad: no such file"
    );
    // A POSTed form works as the query does.
    let posted = request(
        &d.sock,
        "POST",
        "/index.html",
        "processname=app&action=start",
    );
    assert_eq!(posted.message(), "Process app started");

    // The redirect's target shows the message.
    let page = get(&d, "/?message=Process%20app%20stopped");
    assert!(page
        .text()
        .contains("<div class=\"status_msg\">Process app stopped</div>"));

    // Unknown actions are refused without doing anything.
    let refused = get(&d, "/?processname=app&action=explode");
    assert_eq!(refused.status, 400);
    assert!(refused.text().contains("unknown action explode"));
    assert_eq!(d.statename("app"), "RUNNING");
    // HEAD never acts.
    let head = request(&d.sock, "HEAD", "/?processname=app&action=stop", "");
    assert_eq!(head.status, 200);
    assert_eq!(d.statename("app"), "RUNNING");
}

#[test]
fn stopall_and_restartall() {
    let sb = Sandbox::new("web-all");
    let d = Daemon::start(
        &sb,
        "[program:a]\ncommand=sleep 100\nstartsecs=0\n\n\
         [program:b]\ncommand=sleep 100\nstartsecs=0\n",
    );
    d.wait_state("a", "RUNNING", T);
    d.wait_state("b", "RUNNING", T);
    let message = get(&d, "/index.html?action=stopall").message();
    assert!(message.starts_with("All stopped at "), "{message}");
    assert_eq!(d.statename("a"), "STOPPED");
    assert_eq!(d.statename("b"), "STOPPED");
    let message = get(&d, "/index.html?action=restartall").message();
    assert!(message.starts_with("All restarted at "), "{message}");
    assert_eq!(d.statename("a"), "RUNNING");
    assert_eq!(d.statename("b"), "RUNNING");
    let message = get(&d, "/index.html?action=refresh").message();
    assert!(message.starts_with("Page refreshed at "), "{message}");
}

#[test]
fn tail_page_shows_the_log_escaped() {
    let sb = Sandbox::new("web-tail");
    let d = Daemon::start(
        &sb,
        "[program:talk]\ncommand=sh -c 'echo \"</pre><script>alert(1)</script> & more\"; exec sleep 100'\nstartsecs=0\n\n\
         [program:mute]\ncommand=sleep 100\nstdout_logfile=NONE\nautostart=false\n",
    );
    let page = wait_for(T, "the line in tail.html", || {
        let page = get(&d, "/tail.html?processname=talk");
        page.text().contains("alert(1)").then_some(page)
    });
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(
        html.contains("&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"),
        "{html}"
    );
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("<title>Supervisor tail of process talk</title>"));
    assert!(html.contains("href=\"tail.html?processname=talk&amp;limit=1024\""));
    // The limit is never below 1 KiB, and a bigger one is kept.
    assert!(get(&d, "/tail.html?processname=talk&limit=5")
        .text()
        .contains("limit=1024\""));
    assert!(get(&d, "/tail.html?processname=talk&limit=4096")
        .text()
        .contains("limit=4096\""));
    let none = get(&d, "/tail.html").text();
    assert!(none.contains("<pre>No process name found</pre>"), "{none}");
    assert!(none.contains("tail of process None"));
    assert!(get(&d, "/tail.html?processname=nope")
        .text()
        .contains("ERROR: unexpected rpc fault [10] BAD_NAME: nope"));
    assert!(get(&d, "/tail.html?processname=mute")
        .text()
        .contains("<pre>No file for mute</pre>"));
}

#[test]
fn a_hostile_process_name_is_escaped_everywhere() {
    let sb = Sandbox::new("web-evil");
    // 4.3 forbids spaces, colons and slashes in names, but not markup.
    let evil = "a&b\"><script>alert('x')<";
    let quoted = "a%26b%22%3E%3Cscript%3Ealert%28%27x%27%29%3C";
    let escaped = "a&amp;b&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;";
    let d = Daemon::start(
        &sb,
        &format!("[program:{evil}]\ncommand=sleep 100\nautostart=false\n"),
    );
    let html = get(&d, "/").text();
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains(&format!(">{escaped}</a>")), "{html}");
    assert!(html.contains(&format!(
        "href=\"index.html?processname={quoted}&amp;action=start\""
    )));
    // The quoted link works, and its message is escaped on the page.
    let message = get(&d, &format!("/?processname={quoted}&action=start")).message();
    assert_eq!(message, format!("Process {evil} started"));
    let shown = get(&d, &format!("/?message=Process%20{quoted}%20started")).text();
    assert!(!shown.contains("<script>"), "{shown}");
    assert!(
        shown.contains(&format!("Process {escaped} started")),
        "{shown}"
    );
    let tail = get(&d, &format!("/tail.html?processname={quoted}")).text();
    assert!(!tail.contains("<script>"), "{tail}");
    assert!(tail.contains(&format!("tail of process {escaped}</title>")));
    let policy = get(&d, "/")
        .header("Content-Security-Policy")
        .unwrap_or_default()
        .to_string();
    assert!(policy.contains("default-src 'none'"), "{policy}");
}

#[test]
fn static_files_errors_and_head() {
    let sb = Sandbox::new("web-static");
    let d = Daemon::start(&sb, "");
    let css = get(&d, "/stylesheets/supervisor.css");
    assert_eq!(css.status, 200);
    assert_eq!(css.header("Content-Type"), Some("text/css"));
    assert!(css.text().contains(".status_msg"));
    let png = get(&d, "/images/icon.png");
    assert_eq!(png.status, 200);
    assert_eq!(png.header("Content-Type"), Some("image/png"));
    assert!(png.body.starts_with(b"\x89PNG\r\n\x1a\n"));

    let page = get(&d, "/");
    assert!(page.text().contains("No programs to manage"));
    let head = request(&d.sock, "HEAD", "/", "");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    let length: usize = head
        .header("Content-Length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    assert_eq!(length, page.body.len());

    let ok = get(&d, "/ok.html");
    assert_eq!((ok.status, ok.text().as_str()), (200, "OK"));

    for missing in ["/nope", "/status.html", "/images/rule.gif", "/stylesheets/"] {
        assert_eq!(get(&d, missing).status, 404, "{missing}");
    }
    let delete = request(&d.sock, "DELETE", "/", "");
    assert_eq!(delete.status, 405);
    assert_eq!(delete.header("Allow"), Some("GET, HEAD, POST"));
}
