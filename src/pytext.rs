//! Python's text rules, where 4.3's output depends on them: `str.split` and
//! `strip` whitespace, `repr()` of strings, bytes, floats and unmarshalled
//! XML-RPC values. One place, so the daemon, supervisorctl and the codec
//! quote things alike and each rule is tested once.

use crate::rpc::value::Value;

/// Python's `str.isspace` for the characters `split()`/`strip()` use.
pub fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `str.split()` with no separator.
pub fn split(s: &str) -> Vec<&str> {
    s.split(is_space).filter(|w| !w.is_empty()).collect()
}

/// `str.strip()` with no argument.
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// Whether `repr()` shows the character as itself (an approximation of
/// `str.isprintable` good for everything but exotic format characters).
fn printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
}

/// Python's `repr()` of a `str`.
pub fn repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if printable(c) => out.push(c),
            c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(quote);
    out
}

/// Python's `repr()` of a `bytes`.
pub fn repr_bytes(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::with_capacity(b.len() + 3);
    out.push('b');
    out.push(quote as char);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7e => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push(quote as char);
    out
}

/// Python's `str()` of an unmarshalled XML-RPC value, as `'%s' % value` prints it.
pub fn str_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => repr_value(other),
    }
}

/// Python's `repr()` of an unmarshalled XML-RPC value.
pub fn repr_value(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::String(s) => repr_str(s),
        Value::Double(f) => repr_float(*f),
        Value::DateTime(text) => format!("<DateTime {}>", repr_str(text)),
        Value::Base64(bytes) => repr_bytes(bytes),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(repr_value).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Struct(members) => {
            let inner: Vec<String> = members
                .iter()
                .map(|(k, v)| format!("{}: {}", repr_str(k), repr_value(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        Value::Nil => "None".into(),
    }
}

/// Python's `repr(float)`: the shortest text that reads back the same,
/// positional for exponents -4..16 and scientific (`1e+16`) otherwise.
pub fn repr_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    // Rust's `{:e}` gives the same shortest digits, e.g. "-1.25e-7".
    let scientific = format!("{x:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if mantissa.starts_with('-') { "-" } else { "" };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-4..16).contains(&exponent) {
        format!("{sign}{}", positional(&digits, exponent))
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        format!(
            "{sign}{first}{fraction}e{exponent_sign}{:02}",
            exponent.unsigned_abs()
        )
    }
}

/// `digits` (d.ddd) times ten to `exponent`, written out with at least one
/// digit after the point.
fn positional(digits: &str, exponent: i32) -> String {
    if exponent < 0 {
        let zeros = "0".repeat(exponent.unsigned_abs() as usize - 1);
        return format!("0.{zeros}{digits}");
    }
    let integer_len = exponent as usize + 1;
    if digits.len() <= integer_len {
        let zeros = "0".repeat(integer_len - digits.len());
        format!("{digits}{zeros}.0")
    } else {
        let (integer, fraction) = digits.split_at(integer_len);
        format!("{integer}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_strip_use_pythons_whitespace() {
        assert_eq!(split("  a\tb\x1c c \n"), vec!["a", "b", "c"]);
        assert_eq!(split(""), Vec::<&str>::new());
        assert_eq!(strip("\x1f x y \u{a0}"), "x y");
    }

    #[test]
    fn repr_str_picks_quotes_and_escapes_like_python() {
        assert_eq!(repr_str("foo"), "'foo'");
        assert_eq!(repr_str("it's"), "\"it's\"");
        assert_eq!(repr_str("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(repr_str("t\tn\n\\\x01\x7f"), "'t\\tn\\n\\\\\\x01\\x7f'");
        assert_eq!(repr_str("é\u{a0}"), "'é\\xa0'");
        assert_eq!(repr_str("\u{2028}"), "'\\u2028'");
    }

    #[test]
    fn repr_bytes_matches_python() {
        assert_eq!(repr_bytes(b"ab\xff\n'"), "b\"ab\\xff\\n'\"");
        assert_eq!(repr_bytes(b""), "b''");
    }

    #[test]
    fn values_print_as_python_would() {
        assert_eq!(str_value(&Value::str("x")), "x");
        assert_eq!(str_value(&Value::Int(-3)), "-3");
        assert_eq!(str_value(&Value::Bool(true)), "True");
        assert_eq!(str_value(&Value::Double(1.0)), "1.0");
        assert_eq!(str_value(&Value::Double(1e20)), "1e+20");
        assert_eq!(str_value(&Value::Double(0.5)), "0.5");
        assert_eq!(str_value(&Value::Nil), "None");
        let s = Value::Struct(vec![("a".into(), Value::Array(vec![Value::str("b")]))]);
        assert_eq!(str_value(&s), "{'a': ['b']}");
    }
}
