//! The web page Supervisor users know: the status table with its action
//! links, the log tail page and the static files they use, at 4.3's URLs
//! and with 4.3's structure and class names, so bookmarks and scrapers keep
//! working. Tables are drawn from the core's views; actions are the same
//! requests the XML-RPC methods make (with their daemon-state check), as
//! 4.3's web.py calls its RPC interface, so waiting and faults behave the
//! same as for supervisorctl.
//!
//! Everything that came from outside (names, messages, log text) is
//! HTML-escaped, and every page forbids scripts and framing by policy.

use std::fmt::Write as _;
use std::future::Future;
use std::time::SystemTime;

use crate::core::{Error, Handle, ProcessInfo, Stream};
use crate::http::request::Request;
use crate::process::state::State;
use crate::rpc::faults::Code;
use crate::rpc::methods::fault;
use crate::rpc::value::Fault;

/// A rendered response.
pub struct Page {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A file served as is.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        path: "stylesheets/supervisor.css",
        content_type: "text/css",
        bytes: include_bytes!("ui/stylesheets/supervisor.css"),
    },
    Asset {
        path: "images/icon.png",
        content_type: "image/png",
        bytes: include_bytes!("ui/images/icon.png"),
    },
    // Browsers ask for it on their own; a PNG body is accepted there.
    Asset {
        path: "favicon.ico",
        content_type: "image/png",
        bytes: include_bytes!("ui/images/icon.png"),
    },
];

/// What `tail.html` shows when no (or a non-numeric) limit is given, and
/// the least it shows: 4.3 never reads fewer bytes.
const TAIL_DEFAULT: u64 = 1024;
/// The most `tail.html` reads, so one request cannot make a huge page.
const TAIL_MAX: u64 = 16 * 1024 * 1024;

/// Pages forbid scripts, plugins and framing: an injected tag could do
/// nothing, and the action links cannot be clicked through a frame.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Where a path leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Status,
    Tail,
    Ok,
    Asset(usize),
    NotFound,
}

/// 4.3 strips every leading slash and treats an empty path as index.html.
fn route(path: &str) -> Route {
    match path.trim_start_matches('/') {
        "" | "index.html" => Route::Status,
        "tail.html" => Route::Tail,
        "ok.html" => Route::Ok,
        other => ASSETS
            .iter()
            .position(|a| a.path == other)
            .map(Route::Asset)
            .unwrap_or(Route::NotFound),
    }
}

/// Answers one request for the web side. `body` is the request body (a
/// POSTed form). HEAD is rendered like GET but performs no action; the
/// server leaves the body out.
pub async fn page(core: &Handle, request: &Request, body: &[u8]) -> Page {
    let method = request.method.as_str();
    let route = route(&request.path);
    match (route, method) {
        (Route::NotFound, _) => error_page(404, "Not Found"),
        (Route::Asset(i), "GET" | "HEAD") => asset_page(i),
        (Route::Asset(_), _) => method_not_allowed("GET, HEAD"),
        (_, "GET" | "HEAD" | "POST") => {
            let body = if method == "POST" { body } else { &[] };
            let form = Form::parse(&request.query, body);
            match route {
                Route::Tail => tail_page(core, &form).await,
                Route::Ok => text_page("OK"),
                _ => status_or_action(core, &form, method != "HEAD").await,
            }
        }
        _ => method_not_allowed("GET, HEAD, POST"),
    }
}

// ----- forms and URLs ---------------------------------------------------------

/// The query string and a POSTed urlencoded body, as 4.3 merges them: the
/// first of repeated query fields wins, body fields override the query, and
/// fields with blank values do not exist.
#[derive(Debug, Default, PartialEq, Eq)]
struct Form {
    fields: Vec<(String, String)>,
}

impl Form {
    fn parse(query: &str, body: &[u8]) -> Form {
        let mut form = Form::default();
        for (k, v) in parse_qsl(query) {
            if form.get(&k).is_none() {
                form.fields.push((k, v));
            }
        }
        for (k, v) in parse_qsl(&String::from_utf8_lossy(body)) {
            form.fields.retain(|(name, _)| *name != k);
            form.fields.push((k, v));
        }
        form
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Python's `parse_qsl` with its defaults: `&`-separated, fields without
/// `=` or with an empty value dropped, names and values unquoted.
fn parse_qsl(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter_map(|field| field.split_once('='))
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| (unquote_plus(name), unquote_plus(value)))
        .collect()
}

/// `+` is a space, `%XX` a byte; malformed escapes stay as they are and
/// invalid UTF-8 becomes U+FFFD, as Python's `unquote_plus`.
fn unquote_plus(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let decoded = match b {
            b'+' => Some((b' ', 1)),
            b'%' => bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .map(|v| (v, 3)),
            _ => None,
        };
        let (byte, width) = decoded.unwrap_or((b, 1));
        out.push(byte);
        i += width;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Python's `urllib.parse.quote(text)`: everything but letters, digits,
/// `_.-~` and `/` as `%XX` of its UTF-8 bytes.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~/".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Text made safe for HTML content and double- or single-quoted attributes.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Python's `time.ctime()`: `Mon Nov  3 21:07:47 2026`, local time.
fn ctime(zone: &crate::timefmt::Zone, t: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let c = zone.local(t).civil;
    let day = DAYS.get(usize::from(c.weekday)).copied().unwrap_or("???");
    let month = MONTHS
        .get(usize::from(c.month).wrapping_sub(1))
        .copied()
        .unwrap_or("???");
    format!(
        "{day} {month} {:>2} {:02}:{:02}:{:02} {}",
        c.day, c.hour, c.minute, c.second, c.year
    )
}

// ----- responses --------------------------------------------------------------

/// The headers every rendered page carries: 4.3's no-cache trio, then the
/// policy that keeps injected markup inert.
fn page_headers(content_type: &str) -> Vec<(String, String)> {
    [
        ("Content-Type", content_type),
        ("Pragma", "no-cache"),
        ("Cache-Control", "no-cache"),
        ("Expires", "Thu, 01 Jan 1970 00:00:00 GMT"),
        ("Content-Security-Policy", CSP),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn html_page(status: u16, html: String) -> Page {
    Page {
        status,
        headers: page_headers("text/html;charset=utf-8"),
        body: html.into_bytes(),
    }
}

fn text_page(text: &str) -> Page {
    Page {
        status: 200,
        headers: page_headers("text/plain"),
        body: text.as_bytes().to_vec(),
    }
}

/// Medusa's error document, which 4.3 sends for every error status.
fn error_page(status: u16, reason: &str) -> Page {
    let html = format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<title>Error response</title>\n</head>\n<body>\n\
         <h1>Error response</h1>\n<p>Error code {status}.</p>\n<p>Message: {reason}.</p>\n\
         </body>\n</html>\n"
    );
    let mut page = html_page(status, html);
    page.headers
        .retain(|(k, _)| k != "Pragma" && k != "Expires");
    page
}

fn method_not_allowed(allow: &str) -> Page {
    let mut page = error_page(405, "Method Not Allowed");
    page.headers.push(("Allow".into(), allow.into()));
    page
}

fn asset_page(index: usize) -> Page {
    let Some(asset) = ASSETS.get(index) else {
        return error_page(404, "Not Found");
    };
    Page {
        status: 200,
        headers: vec![
            ("Content-Type".into(), asset.content_type.into()),
            ("Cache-Control".into(), "max-age=3600".into()),
            ("X-Content-Type-Options".into(), "nosniff".into()),
        ],
        body: asset.bytes.to_vec(),
    }
}

/// After an action 4.3 redirects (301) to the status page with the message
/// in the query. The location is relative to the server's root, so it is
/// right behind any host name, port, TLS proxy or unix socket.
fn redirect(message: &str) -> Page {
    let location = format!("/?message={}", quote(message));
    let html = format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<title>Moved</title>\n</head>\n<body>\n\
         <p><a href=\"{href}\">{text}</a></p>\n</body>\n</html>\n",
        href = escape(&location),
        text = escape(message)
    );
    let mut page = html_page(301, html);
    page.headers.push(("Location".into(), location));
    page
}

// ----- the status page --------------------------------------------------------

/// One row of the status table.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    namespec: String,
    state: State,
    description: String,
}

fn rows(processes: Vec<ProcessInfo>) -> Vec<Row> {
    processes
        .into_iter()
        .map(|info| Row {
            namespec: info.namespec(),
            state: info.state,
            description: info.description,
        })
        .collect()
}

/// 4.3's colour classes for the state badge.
fn state_class(state: State) -> &'static str {
    match state {
        State::Running => "statusrunning",
        State::Fatal | State::Backoff => "statuserror",
        _ => "statusnominal",
    }
}

/// One action link of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Start,
    Restart,
    Stop,
    ClearLog,
    TailStdout,
    TailStderr,
}

impl Link {
    fn label(self) -> &'static str {
        match self {
            Link::Start => "Start",
            Link::Restart => "Restart",
            Link::Stop => "Stop",
            Link::ClearLog => "Clear Log",
            Link::TailStdout => "Tail -f Stdout",
            Link::TailStderr => "Tail -f Stderr",
        }
    }

    /// The href, already HTML-escaped; `quoted` is the quoted namespec.
    fn href(self, quoted: &str) -> String {
        let action = match self {
            Link::Start => "start",
            Link::Restart => "restart",
            Link::Stop => "stop",
            Link::ClearLog => "clearlog",
            Link::TailStdout => return format!("logtail/{quoted}"),
            Link::TailStderr => return format!("logtail/{quoted}/stderr"),
        };
        format!("index.html?processname={quoted}&amp;action={action}")
    }

    fn opens_new_window(self) -> bool {
        matches!(self, Link::TailStdout | Link::TailStderr)
    }
}

/// The five action slots 4.3 shows for a state; None is an invisible
/// placeholder that keeps the columns aligned.
fn links_for(state: State) -> [Option<Link>; 5] {
    let (first, second) = match state {
        State::Running => (Some(Link::Restart), Some(Link::Stop)),
        State::Stopped | State::Exited | State::Fatal => (Some(Link::Start), None),
        _ => (None, None),
    };
    [
        first,
        second,
        Some(Link::ClearLog),
        Some(Link::TailStdout),
        Some(Link::TailStderr),
    ]
}

/// What the status page shows besides the rows.
struct StatusView<'a> {
    identifier: &'a str,
    message: Option<&'a str>,
    rows: &'a [Row],
}

fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n  <meta charset=\"utf-8\" />\n  \
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n  \
         <title>{}</title>\n  \
         <link href=\"stylesheets/supervisor.css\" rel=\"stylesheet\" type=\"text/css\" />\n  \
         <link href=\"images/icon.png\" rel=\"icon\" type=\"image/png\" />\n</head>\n",
        escape(title)
    )
}

fn render_status(view: &StatusView<'_>) -> String {
    let mut out = head("Supervisor Status");
    out.push_str("<body>\n<div id=\"wrapper\">\n\n  <div id=\"header\">\n");
    out.push_str("    <img src=\"images/icon.png\" alt=\"Supervisor status\" />\n");
    let _ = writeln!(
        out,
        "    <h1>Supervisor</h1> <span class=\"identifier\">{}</span>\n  </div>\n",
        escape(view.identifier)
    );
    out.push_str("  <div>\n");
    match view.message {
        Some(message) => {
            let _ = writeln!(
                out,
                "    <div class=\"status_msg\">{}</div>",
                escape(message)
            );
        }
        None => out.push_str("    <div class=\"hidden\">#</div>\n"),
    }
    out.push_str(concat!(
        "\n    <form action=\"index.html\" method=\"post\">\n",
        "      <ul class=\"clr\" id=\"buttons\">\n",
        "        <li class=\"action-button\"><a href=\"index.html?action=refresh\">Refresh</a></li>\n",
        "        <li class=\"action-button\"><a href=\"index.html?action=restartall\">Restart All</a></li>\n",
        "        <li class=\"action-button\"><a href=\"index.html?action=stopall\">Stop All</a></li>\n",
        "      </ul>\n\n",
    ));
    if view.rows.is_empty() {
        out.push_str("      <div class=\"empty\">No programs to manage</div>\n");
    } else {
        render_table(&mut out, view.rows);
    }
    out.push_str("    </form>\n\n  </div>\n</div>\n\n");
    let _ = write!(
        out,
        "<div class=\"clr\" id=\"footer\">\n  <div class=\"left\">\n    \
         <a href=\"http://supervisord.org\">Supervisor</a> <span>{compat}</span>\n  </div>\n  \
         <div class=\"right\">\n    supervisor (Rust) <span>{ours}</span>\n  </div>\n</div>\n\
         </body>\n</html>\n",
        compat = escape(crate::SUPERVISOR_COMPAT_VERSION),
        ours = escape(crate::VERSION)
    );
    out
}

fn render_table(out: &mut String, rows: &[Row]) {
    out.push_str(concat!(
        "      <table>\n        <thead>\n        <tr>\n",
        "          <th class=\"state\">State</th>\n",
        "          <th class=\"desc\">Description</th>\n",
        "          <th class=\"name\">Name</th>\n",
        "          <th class=\"action\">Action</th>\n",
        "        </tr>\n        </thead>\n\n        <tbody>\n",
    ));
    for (i, row) in rows.iter().enumerate() {
        render_row(out, row, i % 2 == 1);
    }
    out.push_str("        </tbody>\n      </table>\n");
}

fn render_row(out: &mut String, row: &Row, shaded: bool) {
    let quoted = escape(&quote(&row.namespec));
    let _ = write!(
        out,
        "          <tr class=\"{shade}\">\n            \
         <td class=\"status\"><span class=\"{class}\">{state}</span></td>\n            \
         <td><span>{description}</span></td>\n            \
         <td><a href=\"tail.html?processname={quoted}\" target=\"_blank\">{name}</a></td>\n            \
         <td class=\"action\">\n              <ul>\n",
        shade = if shaded { "shade" } else { "" },
        class = state_class(row.state),
        state = row.state.name().to_lowercase(),
        description = escape(&row.description),
        name = escape(&row.namespec),
    );
    for link in links_for(row.state) {
        out.push_str("                <li>\n                  ");
        match link {
            None => out.push_str("<a class=\"hidden\" href=\"#\" name=\"#\">Action</a>"),
            Some(link) => {
                let target = if link.opens_new_window() {
                    " target=\"_blank\""
                } else {
                    ""
                };
                let _ = write!(
                    out,
                    "<a href=\"{href}\" name=\"{label}\"{target}>{label}</a>",
                    href = link.href(&quoted),
                    label = link.label()
                );
            }
        }
        out.push_str("\n                </li>\n");
    }
    out.push_str("              </ul>\n            </td>\n          </tr>\n");
}

fn status_page(core: &Handle, status: u16, message: Option<&str>) -> Page {
    let rows = rows(core.all_process_info());
    let html = render_status(&StatusView {
        identifier: &core.identification(),
        message,
        rows: &rows,
    });
    html_page(status, html)
}

/// Renders the status page, or performs the action the form asks for and
/// redirects to the page with its outcome.
async fn status_or_action(core: &Handle, form: &Form, may_act: bool) -> Page {
    let Some(action) = form.get("action").filter(|_| may_act) else {
        return status_page(core, 200, form.get("message"));
    };
    let outcome = match Action::parse(action, form.get("processname")) {
        Ok(action) => perform(core, action).await,
        Err(refusal) => Err(refusal),
    };
    match outcome {
        Ok(message) => redirect(&message),
        // 4.3 fails with a 500 here; a 400 with the page is kinder.
        Err(refusal) => status_page(core, 400, Some(&refusal)),
    }
}

// ----- actions ----------------------------------------------------------------

/// What an action link asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action<'a> {
    Refresh,
    StopAll,
    RestartAll,
    Start(&'a str),
    Stop(&'a str),
    Restart(&'a str),
    ClearLog(&'a str),
    /// An action 4.3 does not know, for a named process: 4.3 reports an
    /// unknown name before it looks at the action.
    Unknown {
        process: &'a str,
        action: &'a str,
    },
}

impl<'a> Action<'a> {
    /// Err: an action 4.3 does not know, or a process action without a name.
    fn parse(action: &'a str, processname: Option<&'a str>) -> Result<Action<'a>, String> {
        match action {
            "refresh" => return Ok(Action::Refresh),
            "stopall" => return Ok(Action::StopAll),
            "restartall" => return Ok(Action::RestartAll),
            _ => {}
        }
        let known = ["start", "stop", "restart", "clearlog"].contains(&action);
        match processname {
            None if known => Err(format!("ERROR: action {action} needs a processname")),
            None => Err(format!("ERROR: unknown action {action}")),
            Some(name) => Ok(match action {
                "start" => Action::Start(name),
                "stop" => Action::Stop(name),
                "restart" => Action::Restart(name),
                "clearlog" => Action::ClearLog(name),
                _ => Action::Unknown {
                    process: name,
                    action,
                },
            }),
        }
    }

    fn process(self) -> Option<&'a str> {
        match self {
            Action::Start(n)
            | Action::Stop(n)
            | Action::Restart(n)
            | Action::ClearLog(n)
            | Action::Unknown { process: n, .. } => Some(n),
            Action::Refresh | Action::StopAll | Action::RestartAll => None,
        }
    }
}

/// Makes a request as the XML-RPC method would: refused with
/// SHUTDOWN_STATE while the daemon stops, its error as 4.3's fault.
async fn checked<T>(
    core: &Handle,
    request: impl Future<Output = Result<T, Error>>,
) -> Result<T, Fault> {
    core.check_running().map_err(fault)?;
    request.await.map_err(fault)
}

/// 4.3's words for a fault it did not expect.
fn unexpected(fault: &Fault) -> String {
    format!("unexpected rpc fault [{}] {}", fault.code, fault.string)
}

/// 4.3's words for a failed start.
fn start_error(fault: &Fault) -> String {
    match Code::from_number(fault.code) {
        Some(Code::NoFile) => "no such file".into(),
        Some(Code::NotExecutable) => "file not executable".into(),
        Some(Code::AlreadyStarted) => "already started".into(),
        Some(Code::SpawnError) => "spawn error".into(),
        Some(Code::AbnormalTermination) => "abnormal termination".into(),
        _ => unexpected(fault),
    }
}

/// Performs an action, waiting as 4.3 does, and returns the message to
/// redirect with; Err is a refusal to show on the page instead.
async fn perform(core: &Handle, action: Action<'_>) -> Result<String, String> {
    let now = || ctime(&core.zone(), SystemTime::now());
    if let Some(name) = action.process() {
        if core.process_info(name).is_err() {
            return Ok(format!("No such process named {name}"));
        }
    }
    let stop_all = || checked(core, async { Ok(core.stop_all(true).await) });
    let start_all = || checked(core, async { Ok(core.start_all(true).await) });
    let start = |name| checked(core, core.start(name, true));
    let stop = |name| checked(core, core.stop(name, true));
    Ok(match action {
        Action::Refresh => format!("Page refreshed at {}", now()),
        Action::StopAll => match stop_all().await {
            Ok(_) => format!("All stopped at {}", now()),
            Err(fault) => unexpected(&fault),
        },
        Action::RestartAll => {
            // Like 4.3's multicall: the start runs whatever the stop said.
            let stopped = stop_all().await;
            let started = start_all().await;
            match stopped.and(started) {
                Ok(_) => format!("All restarted at {}", now()),
                Err(fault) => unexpected(&fault),
            }
        }
        Action::Start(name) => match start(name).await {
            Ok(_) => format!("Process {name} started"),
            Err(fault) => format!("ERROR: Process {name}: {}", start_error(&fault)),
        },
        Action::Stop(name) => match stop(name).await {
            Ok(_) => format!("Process {name} stopped"),
            Err(fault) => unexpected(&fault),
        },
        Action::Restart(name) => {
            // 4.3 reports a restart whatever its two calls answered.
            let _ = stop(name).await;
            let _ = start(name).await;
            format!("Process {name} restarted")
        }
        Action::ClearLog(name) => match checked(core, async { core.clear_logs(name) }).await {
            Ok(_) => format!("Log for {name} cleared"),
            Err(fault) => unexpected(&fault),
        },
        Action::Unknown { action, .. } => return Err(format!("ERROR: unknown action {action}")),
    })
}

// ----- the tail page ----------------------------------------------------------

/// How many bytes tail.html reads: `limit` if it is all digits, never less
/// than 1 KiB (4.3's `min(-1024, -limit)`), and at most `TAIL_MAX`.
fn tail_limit(limit: Option<&str>) -> u64 {
    let asked = limit
        .filter(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()))
        .map(|l| l.parse::<u64>().unwrap_or(u64::MAX))
        .unwrap_or(TAIL_DEFAULT);
    asked.clamp(TAIL_DEFAULT, TAIL_MAX)
}

fn render_tail(processname: Option<&str>, limit: u64, text: &str) -> String {
    let shown = processname.unwrap_or("None");
    let mut out = head(&format!("Supervisor tail of process {shown}"));
    let _ = write!(
        out,
        "<body>\n\n<div>\n\n<pre>{}</pre>\n\n<form action=\"index.html\" method=\"POST\">\n\n\
         <div class=\"tail-actions\">\n",
        escape(text)
    );
    if let Some(name) = processname {
        let _ = writeln!(
            out,
            "  <a href=\"tail.html?processname={}&amp;limit={limit}\">\n    \
             <input name=\"refresh\" type=\"button\" value=\" Refresh \" />\n  </a>",
            escape(&quote(name))
        );
    }
    out.push_str("</div>\n\n</form>\n\n</div>\n\n</body>\n</html>\n");
    out
}

async fn tail_page(core: &Handle, form: &Form) -> Page {
    let processname = form.get("processname");
    let limit = tail_limit(form.get("limit"));
    let text = match processname {
        None => "No process name found".to_string(),
        Some(name) => {
            let back = i64::try_from(limit).unwrap_or(i64::MAX);
            let read = async { core.read_log(name, Stream::Stdout, -back, 0) };
            match checked(core, read).await {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(fault) if fault.code == Code::NoFile.number() => {
                    format!("No file for {name}")
                }
                Err(fault) => format!("ERROR: {}", unexpected(&fault)),
            }
        }
    };
    html_page(200, render_tail(processname, limit, &text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(namespec: &str, state: State, description: &str) -> Row {
        Row {
            namespec: namespec.into(),
            state,
            description: description.into(),
        }
    }

    fn status_html(message: Option<&str>, rows: &[Row]) -> String {
        render_status(&StatusView {
            identifier: "supervisor",
            message,
            rows,
        })
    }

    #[test]
    fn routes_follow_43s_paths() {
        assert_eq!(route("/"), Route::Status);
        assert_eq!(route(""), Route::Status);
        assert_eq!(route("/index.html"), Route::Status);
        assert_eq!(route("///index.html"), Route::Status);
        assert_eq!(route("/tail.html"), Route::Tail);
        assert_eq!(route("/ok.html"), Route::Ok);
        assert_eq!(route("/stylesheets/supervisor.css"), Route::Asset(0));
        assert_eq!(route("/images/icon.png"), Route::Asset(1));
        for missing in [
            "/nope",
            "/index.htm",
            "/status.html",
            "/images/",
            "/images/../ui.rs",
            "/stylesheets/supervisor.css/",
            "/index%2Ehtml",
        ] {
            assert_eq!(route(missing), Route::NotFound, "{missing}");
        }
    }

    #[test]
    fn assets_carry_their_content_types() {
        let css = asset_page(0);
        assert_eq!(css.status, 200);
        assert!(css
            .headers
            .contains(&("Content-Type".into(), "text/css".into())));
        assert!(String::from_utf8_lossy(&css.body).contains(".statusrunning"));
        let png = asset_page(1);
        assert!(png
            .headers
            .contains(&("Content-Type".into(), "image/png".into())));
        assert!(png.body.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(asset_page(99).status, 404);
    }

    #[test]
    fn forms_merge_like_43() {
        let form = Form::parse("a=1&a=2&b=&c&d=x+y%21&e=%zz%4", b"");
        assert_eq!(form.get("a"), Some("1"));
        assert_eq!(form.get("b"), None);
        assert_eq!(form.get("c"), None);
        assert_eq!(form.get("d"), Some("x y!"));
        assert_eq!(form.get("e"), Some("%zz%4"));
        let form = Form::parse("action=stop&processname=a", b"action=start&x=%FF");
        assert_eq!(form.get("action"), Some("start"));
        assert_eq!(form.get("processname"), Some("a"));
        assert_eq!(form.get("x"), Some("\u{FFFD}"));
        assert_eq!(Form::parse("", b""), Form::default());
        assert_eq!(Form::parse("k=a=b", b"").get("k"), Some("a=b"));
    }

    #[test]
    fn quote_matches_python() {
        assert_eq!(quote("web"), "web");
        assert_eq!(quote("g:web 1"), "g%3Aweb%201");
        assert_eq!(quote("a/b_c.d-e~"), "a/b_c.d-e~");
        assert_eq!(quote("<&>\"'"), "%3C%26%3E%22%27");
        assert_eq!(quote("é"), "%C3%A9");
        assert_eq!(quote("Process x started"), "Process%20x%20started");
    }

    #[test]
    fn escape_neutralises_markup() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(escape("plain"), "plain");
    }

    #[test]
    fn ctime_pads_the_day_with_a_space() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_764_018_467);
        // 2025-11-24 21:07:47 UTC was a Monday.
        assert_eq!(
            ctime(&crate::timefmt::Zone::utc(), t),
            "Mon Nov 24 21:07:47 2025"
        );
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(86_400 * 2);
        assert_eq!(
            ctime(&crate::timefmt::Zone::utc(), t),
            "Sat Jan  3 00:00:00 1970"
        );
    }

    #[test]
    fn actions_depend_on_state_as_in_43() {
        let running = links_for(State::Running);
        assert_eq!(running[0], Some(Link::Restart));
        assert_eq!(running[1], Some(Link::Stop));
        for state in [State::Stopped, State::Exited, State::Fatal] {
            assert_eq!(links_for(state)[..2], [Some(Link::Start), None]);
        }
        for state in [
            State::Starting,
            State::Backoff,
            State::Stopping,
            State::Unknown,
        ] {
            assert_eq!(links_for(state)[..2], [None, None]);
        }
        for state in [State::Running, State::Stopped, State::Starting] {
            assert_eq!(
                links_for(state)[2..],
                [
                    Some(Link::ClearLog),
                    Some(Link::TailStdout),
                    Some(Link::TailStderr)
                ]
            );
        }
        assert_eq!(state_class(State::Running), "statusrunning");
        assert_eq!(state_class(State::Fatal), "statuserror");
        assert_eq!(state_class(State::Backoff), "statuserror");
        assert_eq!(state_class(State::Stopped), "statusnominal");
        assert_eq!(state_class(State::Starting), "statusnominal");
    }

    #[test]
    fn status_rows_keep_43s_markup() {
        let html = status_html(
            None,
            &[
                row("other", State::Stopped, "Not started"),
                row("grp:web", State::Running, "pid 7, uptime 0:00:01"),
            ],
        );
        assert!(html.contains("<div class=\"hidden\">#</div>"));
        assert!(
            html.contains("<td class=\"status\"><span class=\"statusnominal\">stopped</span></td>")
        );
        assert!(html.contains("<td><span>Not started</span></td>"));
        assert!(html.contains(
            "<td><a href=\"tail.html?processname=other\" target=\"_blank\">other</a></td>"
        ));
        assert!(html.contains(
            "<a href=\"index.html?processname=other&amp;action=start\" name=\"Start\">Start</a>"
        ));
        assert!(html.contains("<a class=\"hidden\" href=\"#\" name=\"#\">Action</a>"));
        assert!(html.contains("<tr class=\"shade\">"));
        assert!(html.contains(
            "<a href=\"index.html?processname=grp%3Aweb&amp;action=restart\" name=\"Restart\">Restart</a>"
        ));
        assert!(html.contains(
            "<a href=\"logtail/grp%3Aweb/stderr\" name=\"Tail -f Stderr\" target=\"_blank\">Tail -f Stderr</a>"
        ));
        assert!(html.contains("<th class=\"state\">State</th>"));
        assert!(html.contains("href=\"index.html?action=stopall\""));
        // Rows alternate, the first unshaded.
        let first = html.find("<tr class=\"\">").unwrap_or(usize::MAX);
        let second = html.find("<tr class=\"shade\">").unwrap_or(0);
        assert!(first < second);
    }

    #[test]
    fn status_page_without_programs_says_so() {
        let html = status_html(Some("hi"), &[]);
        assert!(html.contains("No programs to manage"));
        assert!(!html.contains("<table"));
        assert!(html.contains("<div class=\"status_msg\">hi</div>"));
    }

    #[test]
    fn hostile_names_and_messages_are_escaped() {
        let evil = "<script>alert(1)</script>";
        let html = render_status(&StatusView {
            identifier: "<b>id</b>",
            message: Some("<img src=x onerror=alert(1)>"),
            rows: &[row(evil, State::Fatal, "<i>why</i>")],
        });
        assert!(!html.contains("<script>"));
        assert!(!html.contains("<img src=x"));
        assert!(!html.contains("<i>why"));
        assert!(!html.contains("<b>id"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("processname=%3Cscript%3Ealert%281%29%3C/script%3E"));
        let tail = render_tail(Some("\"><script>"), 1024, "</pre><script>x</script>");
        assert!(!tail.contains("<script>"));
        assert!(tail.contains("&lt;/pre&gt;&lt;script&gt;x&lt;/script&gt;"));
    }

    #[test]
    fn tail_limit_is_at_least_a_kib() {
        assert_eq!(tail_limit(None), 1024);
        assert_eq!(tail_limit(Some("5")), 1024);
        assert_eq!(tail_limit(Some("4096")), 4096);
        assert_eq!(tail_limit(Some("-5")), 1024);
        assert_eq!(tail_limit(Some("12abc")), 1024);
        assert_eq!(tail_limit(Some("")), 1024);
        assert_eq!(tail_limit(Some("99999999999999999999999")), TAIL_MAX);
    }

    #[test]
    fn tail_page_has_refresh_only_with_a_name() {
        let html = render_tail(Some("g:web"), 2048, "line\n");
        assert!(html.contains("<title>Supervisor tail of process g:web</title>"));
        assert!(html.contains("<pre>line\n</pre>"));
        assert!(html.contains("href=\"tail.html?processname=g%3Aweb&amp;limit=2048\""));
        let html = render_tail(None, 1024, "No process name found");
        assert!(html.contains("<title>Supervisor tail of process None</title>"));
        assert!(!html.contains("tail.html?processname"));
    }

    #[test]
    fn actions_parse_like_43() {
        assert_eq!(Action::parse("refresh", None), Ok(Action::Refresh));
        assert_eq!(Action::parse("stopall", Some("x")), Ok(Action::StopAll));
        assert_eq!(Action::parse("restartall", None), Ok(Action::RestartAll));
        assert_eq!(Action::parse("start", Some("w")), Ok(Action::Start("w")));
        assert_eq!(Action::parse("stop", Some("w")), Ok(Action::Stop("w")));
        assert_eq!(
            Action::parse("restart", Some("w")),
            Ok(Action::Restart("w"))
        );
        assert_eq!(
            Action::parse("clearlog", Some("w")),
            Ok(Action::ClearLog("w"))
        );
        assert_eq!(
            Action::parse("start", None),
            Err("ERROR: action start needs a processname".into())
        );
        assert_eq!(
            Action::parse("bogus", None),
            Err("ERROR: unknown action bogus".into())
        );
        assert_eq!(
            Action::parse("bogus", Some("w")),
            Ok(Action::Unknown {
                process: "w",
                action: "bogus"
            })
        );
    }

    #[test]
    fn start_faults_read_as_43_words() {
        assert_eq!(start_error(&Code::SpawnError.fault("w")), "spawn error");
        assert_eq!(
            start_error(&Code::AlreadyStarted.fault("w")),
            "already started"
        );
        assert_eq!(
            start_error(&Code::ShutdownState.bare()),
            "unexpected rpc fault [6] SHUTDOWN_STATE"
        );
    }

    #[test]
    fn redirects_carry_the_quoted_message() {
        let page = redirect("Process <a> started");
        assert_eq!(page.status, 301);
        assert!(page.headers.contains(&(
            "Location".into(),
            "/?message=Process%20%3Ca%3E%20started".into()
        )));
        assert!(!String::from_utf8_lossy(&page.body).contains("<a>"));
    }

    #[test]
    fn error_pages_name_the_status() {
        let page = error_page(404, "Not Found");
        assert_eq!(page.status, 404);
        assert!(String::from_utf8_lossy(&page.body).contains("Error code 404."));
        let page = method_not_allowed("GET, HEAD");
        assert_eq!(page.status, 405);
        assert!(page.headers.contains(&("Allow".into(), "GET, HEAD".into())));
    }
}
