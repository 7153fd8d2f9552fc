//! A bounded, seeded fuzz loop over the parsers that face the network: the
//! XML-RPC codec, the HTTP request-head parser, basic auth and base64. It
//! runs with `cargo test` (a few seconds), so hostile-input regressions are
//! caught without cargo-fuzz or a nightly toolchain.
//!
//! Each target mutates a corpus of valid inputs (byte flips, inserts of
//! meaningful tokens, deletions, truncations, splices, duplicated ranges)
//! and asserts no panic plus the properties the rest of the program relies
//! on: limits hold, and whatever decodes re-encodes to a fixed point.
//! `FUZZ_SEED=<n>` replays a run; `FUZZ_MILLIS=<n>` sets each target's budget.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use supervisor::config::{Credentials, Password};
use supervisor::http::auth;
use supervisor::http::request::{parse_head, Limits};
use supervisor::rpc::codec::{self, decode_call, decode_response, encode_call, encode_response};
use supervisor::rpc::value::{Fault, Value};

const DEFAULT_MILLIS: u64 = 800;
const MIN_ITERATIONS: usize = 200;

fn seed() -> u64 {
    std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_C0DE)
}

fn budget() -> Duration {
    let millis = std::env::var("FUZZ_MILLIS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_MILLIS);
    Duration::from_millis(millis)
}

/// Runs `check` on mutated corpus inputs until the time budget is spent
/// (and at least `MIN_ITERATIONS` times), reporting the failing input.
fn fuzz(name: &str, corpus: &[Vec<u8>], check: impl Fn(&[u8]) -> bool) {
    let seed = seed();
    let mut rng = fastrand::Rng::with_seed(seed);
    let deadline = Instant::now() + budget();
    let mut iterations = 0usize;
    let mut accepted = 0usize;
    for input in corpus {
        run_one(name, seed, input, &check);
    }
    while iterations < MIN_ITERATIONS || Instant::now() < deadline {
        let input = mutate(&mut rng, corpus);
        accepted += usize::from(run_one(name, seed, &input, &check));
        iterations += 1;
    }
    eprintln!("{name}: {iterations} mutated inputs ({accepted} accepted), seed {seed}");
}

/// `check` says whether the input was accepted; a panic is reported with
/// the input and the seed that reproduces it.
fn run_one(name: &str, seed: u64, input: &[u8], check: &impl Fn(&[u8]) -> bool) -> bool {
    match catch_unwind(AssertUnwindSafe(|| check(input))) {
        Ok(accepted) => accepted,
        Err(_) => panic!(
            "{name} failed (FUZZ_SEED={seed}) on input {:?}",
            String::from_utf8_lossy(input)
        ),
    }
}

/// Tokens that steer mutations towards interesting parser states.
const TOKENS: &[&[u8]] = &[
    b"<value>",
    b"</value>",
    b"<array><data>",
    b"</data></array>",
    b"<struct><member><name>",
    b"</name>",
    b"</member></struct>",
    b"<int>",
    b"</int>",
    b"<string>",
    b"<boolean>2</boolean>",
    b"<base64>",
    b"<nil/>",
    b"<ex:nil/>",
    b"<double>",
    b"99999999999999999999999999",
    b"-0",
    b"&amp;",
    b"&#27;",
    b"&#x110000;",
    b"&bogus;",
    b"<![CDATA[",
    b"]]>",
    b"<!--",
    b"-->",
    b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]>",
    b"&a;",
    b"<?xml version='1.0'?>",
    b"\xff",
    b"\xc3",
    b"\xe2\x98",
    b"\x00",
    b"\r\n",
    b"\n",
    b"\r\n\r\n",
    b" ",
    b"\t",
    b":",
    b",",
    b"Content-Length: ",
    b"Transfer-Encoding: chunked\r\n",
    b"Connection: close\r\n",
    b"Connection: keep-alive\r\n",
    b"HTTP/1.1",
    b"HTTP/1.0",
    b"HTTP/9.9",
    b"http://host:9001",
    b"?",
    b"#",
    b"Basic ",
    b"==",
];

fn mutate(rng: &mut fastrand::Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut input = rng.choice(corpus).cloned().unwrap_or_default();
    // Mostly one mutation, so that a fair share of inputs stays valid
    // enough to reach the code behind the syntax checks.
    let mutations = if rng.u8(0..4) != 0 {
        1
    } else {
        rng.usize(2..=8)
    };
    for _ in 0..mutations {
        mutate_once(rng, &mut input, corpus);
    }
    input
}

fn mutate_once(rng: &mut fastrand::Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    let len = input.len();
    let at = rng.usize(0..=len);
    match rng.u8(0..7) {
        0 if len > 0 => {
            let i = rng.usize(0..len);
            input[i] ^= 1 << rng.u8(0..8);
        }
        1 => {
            let byte = rng.u8(..);
            input.insert(at, byte);
        }
        2 => {
            let token = rng.choice(TOKENS).copied().unwrap_or_default();
            input.splice(at..at, token.iter().copied());
        }
        3 if len > 0 => {
            let end = rng.usize(at.min(len - 1)..len);
            input.drain(at.min(end)..=end);
        }
        4 => input.truncate(at),
        5 => {
            // Splice the tail of another corpus entry on here.
            let other = rng.choice(corpus).cloned().unwrap_or_default();
            let from = rng.usize(0..=other.len());
            input.truncate(at);
            input.extend_from_slice(&other[from..]);
        }
        _ if len > 0 => {
            // Duplicate a range: nests elements, repeats headers.
            let start = rng.usize(0..len);
            let end = rng.usize(start..=len.min(start + 64));
            let copy = input[start..end].to_vec();
            input.splice(at..at, copy);
        }
        _ => input.push(b'<'),
    }
}

// --- XML-RPC ---------------------------------------------------------------

fn random_value(rng: &mut fastrand::Rng, depth: usize) -> Value {
    let scalar_only = depth >= 4;
    match rng.u8(0..if scalar_only { 8 } else { 10 }) {
        0 => Value::Int(rng.i64(..)),
        1 => Value::Bool(rng.bool()),
        2 => Value::String(random_text(rng)),
        3 => Value::Double(f64::from_bits(rng.u64(..))),
        4 => Value::DateTime("20240102T03:04:05".into()),
        5 => Value::Base64((0..rng.usize(0..80)).map(|_| rng.u8(..)).collect()),
        6 => Value::Nil,
        7 => Value::String(String::new()),
        8 => Value::Array(
            (0..rng.usize(0..4))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => Value::Struct(
            (0..rng.usize(0..4))
                .map(|_| (random_text(rng), random_value(rng, depth + 1)))
                .collect(),
        ),
    }
}

fn random_text(rng: &mut fastrand::Rng) -> String {
    const PIECES: &[&str] = &[
        "a",
        "Z",
        " ",
        "\n",
        "\r",
        "\t",
        "&",
        "<",
        ">",
        "]]>",
        "\u{1b}",
        "\u{0}",
        "é",
        "☃",
        "\u{fffe}",
        "\u{10ffff}",
        "'",
        "\"",
    ];
    (0..rng.usize(0..12))
        .filter_map(|_| rng.choice(PIECES).copied())
        .collect()
}

fn xml_corpus() -> Vec<Vec<u8>> {
    let mut rng = fastrand::Rng::with_seed(seed() ^ 0xC0FFEE);
    let mut corpus: Vec<Vec<u8>> = vec![
        PY_CALL.as_bytes().to_vec(),
        PY_FAULT.as_bytes().to_vec(),
        b"<methodCall><methodName>supervisor.getState</methodName></methodCall>".to_vec(),
        b"<methodResponse><params><param><value>plain</value></param></params></methodResponse>"
            .to_vec(),
    ];
    for _ in 0..24 {
        let params: Vec<Value> = (0..rng.usize(0..3))
            .map(|_| random_value(&mut rng, 0))
            .collect();
        corpus.push(encode_call("supervisor.x", &params).into_bytes());
        corpus.push(encode_response(&Ok(random_value(&mut rng, 0))).into_bytes());
    }
    corpus.push(
        encode_response(&Err(Fault {
            code: 70,
            string: "NOT_RUNNING".into(),
        }))
        .into_bytes(),
    );
    corpus
}

const PY_CALL: &str = "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.startProcess</methodName>\n<params>\n<param>\n<value><string>cat</string></value>\n</param>\n<param>\n<value><boolean>1</boolean></value>\n</param>\n<param>\n<value><base64>\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\nOTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiYw==\n</base64></value>\n</param>\n<param>\n<value><dateTime.iso8601>20240102T03:04:05</dateTime.iso8601></value>\n</param>\n<param>\n<value><double>2.5</double></value>\n</param>\n<param>\n<value><nil/></value></param>\n<param>\n<value><array><data>\n</data></array></value>\n</param>\n<param>\n<value><struct>\n</struct></value>\n</param>\n</params>\n</methodCall>\n";

const PY_FAULT: &str = "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>10</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>BAD_NAME: no &lt;such&gt; &amp; process</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n";

/// Whatever decodes must re-encode to a document that decodes again and
/// encodes identically (encoding normalises, then is stable).
fn check_call(input: &[u8]) -> bool {
    let Ok(call) = decode_call(input) else {
        return false;
    };
    let once = encode_call(&call.method, &call.params);
    let again = decode_call(once.as_bytes()).expect("re-encoded call decodes");
    assert_eq!(encode_call(&again.method, &again.params), once);
    true
}

fn check_response(input: &[u8]) -> bool {
    let Ok(result) = decode_response(input) else {
        return false;
    };
    let once = encode_response(&result);
    let again = decode_response(once.as_bytes()).expect("re-encoded response decodes");
    assert_eq!(encode_response(&again), once);
    true
}

#[test]
fn xmlrpc_decoders_survive_mutated_documents() {
    let corpus = xml_corpus();
    fuzz("decode_call", &corpus, check_call);
    fuzz("decode_response", &corpus, check_response);
}

#[test]
fn xmlrpc_decoders_survive_hostile_documents() {
    let deep = 50_000;
    let hostile: Vec<String> = vec![
        format!(
            "<methodCall><methodName>a.b</methodName><params><param>{}{}</param></params></methodCall>",
            "<value><array><data>".repeat(deep),
            "</data></array></value>".repeat(deep)
        ),
        format!(
            "<methodCall><methodName>a.b</methodName><params><param>{}</param></params></methodCall>",
            "<value><struct><member><name>k</name>".repeat(deep)
        ),
        "<a>".repeat(deep),
        format!(
            "<methodResponse><params><param><value><int>{}</int></value></param></params></methodResponse>",
            "9".repeat(100_000)
        ),
        format!(
            "<methodResponse><params><param><value><double>1{}</double></value></param></params></methodResponse>",
            "0".repeat(100_000)
        ),
        format!(
            "<methodResponse><params><param><value><base64>{}</base64></value></param></params></methodResponse>",
            "QUJD".repeat(100_000)
        ),
        format!("<methodCall><methodName>{}</methodName></methodCall>", "x".repeat(1 << 20)),
        format!("<{} a='1'/>", "n".repeat(1 << 16)),
        format!("<x {}/>", (0..5000).map(|i| format!("a{i}='{i}' ")).collect::<String>()),
    ];
    for doc in &hostile {
        let started = Instant::now();
        check_call(doc.as_bytes());
        check_response(doc.as_bytes());
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "too slow on {:.60}",
            doc
        );
    }
    let billion_laughs = "<?xml version='1.0'?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\">\
        <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\
        <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\"><!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\
        <!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\"><!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">\
        <!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\"><!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">]>\
        <methodCall><methodName>&i;</methodName></methodCall>";
    let started = Instant::now();
    check_call(billion_laughs.as_bytes());
    assert!(started.elapsed() < Duration::from_secs(20));
    for bytes in [
        &b"\xff\xfe<\x00m\x00"[..],
        b"\xef\xbb\xbf<methodCall/>",
        b"<\xc3\x28/>",
    ] {
        check_call(bytes);
        check_response(bytes);
    }
}

/// Random values of every type survive encode -> decode unchanged, except
/// where the encoding normalises on purpose (characters XML cannot carry
/// become U+FFFD, NaN has no identity, a repeated struct name keeps one
/// member); then encoding reaches a fixed point.
#[test]
fn xmlrpc_random_values_round_trip() {
    let mut rng = fastrand::Rng::with_seed(seed());
    let deadline = Instant::now() + budget();
    let mut exact = 0usize;
    let mut iterations = 0usize;
    while iterations < MIN_ITERATIONS || Instant::now() < deadline {
        let value = random_value(&mut rng, 0);
        let body = encode_response(&Ok(value.clone()));
        let decoded = decode_response(body.as_bytes())
            .unwrap_or_else(|e| panic!("{e} decoding {body:?}"))
            .unwrap_or_else(|fault| panic!("{fault} from {body:?}"));
        if is_representable(&value) {
            assert_eq!(decoded, value, "through {body:?}");
            exact += 1;
        }
        check_response(body.as_bytes());

        let params = vec![value, Value::Int(rng.i64(..))];
        let call_body = encode_call("supervisor.fuzz", &params);
        assert!(check_call(call_body.as_bytes()), "{call_body:?}");
        iterations += 1;
    }
    eprintln!("round trips: {iterations} values ({exact} compared exactly)");
}

/// True when encoding does not normalise anything in `value`.
fn is_representable(value: &Value) -> bool {
    let text_ok = |text: &str| {
        text.chars()
            .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..))
    };
    match value {
        Value::Double(d) => !d.is_nan(),
        Value::String(text) | Value::DateTime(text) => text_ok(text),
        Value::Array(items) => items.iter().all(is_representable),
        Value::Struct(members) => members.iter().enumerate().all(|(i, (name, member))| {
            text_ok(name)
                && is_representable(member)
                && members.iter().take(i).all(|(earlier, _)| earlier != name)
        }),
        _ => true,
    }
}

#[test]
fn nesting_at_the_limit_decodes_and_beyond_is_refused() {
    let nested =
        |levels: usize| (0..levels).fold(Value::Int(1), |inner, _| Value::Array(vec![inner]));
    let ok = encode_response(&Ok(nested(codec::MAX_DEPTH)));
    assert!(decode_response(ok.as_bytes()).is_ok());
    let too_deep = encode_response(&Ok(nested(codec::MAX_DEPTH + 1)));
    assert!(decode_response(too_deep.as_bytes()).is_err());
}

// --- HTTP heads ------------------------------------------------------------

fn http_corpus() -> Vec<Vec<u8>> {
    [
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\nContent-Type: text/xml\r\n\
         User-Agent: Python-xmlrpc/3.11\r\nContent-Length: 120\r\nAuthorization: Basic dXNlcjoxMjM=\r\n\r\n<?xml",
        "GET /logtail/cat/stderr HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "GET /index.html?processname=cat&action=stop HTTP/1.1\nHost: x\n\n",
        "GET http://localhost:9001/ HTTP/1.1\r\nContent-Length: 0, 0\r\nConnection: close\r\n\r\n",
        "\r\nGET * HTTP/1.1\r\nX: y\r\n\r\nGET / HTTP/1.1\r\n\r\n",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

fn check_head_with(input: &[u8], limits: &Limits) -> bool {
    match parse_head(input, limits) {
        Ok(Some((request, used))) => {
            assert!(used <= input.len());
            assert!(used <= limits.max_head);
            assert!(request.headers.len() <= limits.max_headers);
            assert!(request.content_length <= limits.max_body);
            assert!(request.version == (1, 0) || request.version == (1, 1));
            assert!(request.path.starts_with('/') || request.path == "*");
            assert!(request
                .headers
                .iter()
                .all(|(name, _)| !name.is_empty() && *name == name.to_ascii_lowercase()));
            // The head alone parses the same; any shorter prefix is not a head.
            assert_eq!(
                parse_head(&input[..used], limits),
                Ok(Some((request, used)))
            );
            for cut in [0, used / 2, used.saturating_sub(1)] {
                if cut < used {
                    assert!(!matches!(parse_head(&input[..cut], limits), Ok(Some(_))));
                }
            }
            true
        }
        Ok(None) => {
            assert!(input.len() <= limits.max_head);
            false
        }
        Err(error) => {
            assert!(
                [400, 413, 414, 431, 501, 505].contains(&error.status),
                "{error:?}"
            );
            assert!(!error.reason.is_empty());
            false
        }
    }
}

#[test]
fn http_head_parser_survives_mutated_heads() {
    let corpus = http_corpus();
    fuzz("parse_head", &corpus, |input| {
        check_head_with(input, &Limits::default())
    });
    let tight = Limits {
        max_head: 96,
        max_headers: 3,
        max_body: 50,
    };
    fuzz("parse_head (tight limits)", &corpus, |input| {
        check_head_with(input, &tight)
    });
}

#[test]
fn http_head_parser_survives_hostile_heads() {
    let limits = Limits::default();
    let hostile: Vec<Vec<u8>> = vec![
        vec![b'A'; 1 << 20],
        vec![b'\n'; 1 << 20],
        format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(1 << 20)).into_bytes(),
        format!("GET / HTTP/1.1\r\n{}\r\n", "X: y\r\n".repeat(100_000)).into_bytes(),
        format!(
            "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            "9".repeat(10_000)
        )
        .into_bytes(),
        b"GET / HTTP/1.1\r\nX: \xff\xfe\r\n\r\n".to_vec(),
        b"\xff\xff\xff\r\n\r\n".to_vec(),
    ];
    for input in &hostile {
        check_head_with(input, &limits);
    }
}

// --- auth and base64 -------------------------------------------------------

#[test]
fn basic_auth_and_base64_survive_mutated_tokens() {
    let creds = Credentials {
        username: "user".into(),
        password: Password::Sha1Hex("40bd001563085fc35165329ea1ff5c5ecbdbbeef".into()),
    };
    let corpus: Vec<Vec<u8>> = vec![
        auth::basic_header("user", "123").into_bytes(),
        auth::basic_header("jos\u{e9}", "a:b").into_bytes(),
        b"basic Zm9vYmFy".to_vec(),
    ];
    assert!(auth::check(
        Some(&auth::basic_header("user", "123")),
        &creds
    ));
    fuzz("auth::check", &corpus, |input| {
        std::str::from_utf8(input).is_ok_and(|header| auth::check(Some(header), &creds))
    });
    let tokens: Vec<Vec<u8>> = ["", "Zg==", "Zm9vYmFy", "+/+/AAEC", "QUJDRA=="]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    fuzz("base64::decode", &tokens, |input| {
        let Some(bytes) = std::str::from_utf8(input)
            .ok()
            .and_then(supervisor::base64::decode)
        else {
            return false;
        };
        assert_eq!(supervisor::base64::encode(&bytes).as_bytes(), input);
        true
    });
}
