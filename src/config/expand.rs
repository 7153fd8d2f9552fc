//! Python `%`-interpolation as Supervisor applies it to option values
//! (`s % expansions` in options.expand): `%(name)s`, `%(process_num)02d`,
//! `%%`. Supervisor configs rely on it for `%(here)s`, `%(ENV_X)s`,
//! `%(program_name)s` and friends, and a lone `%` must stay an error there.
//!
//! Only the mapping form exists (every value is formatted against a dict),
//! and only the conversions a config can sensibly use: `s` for anything and
//! `d i u x X o` for numbers, with Python's flags, width and precision.

use std::collections::BTreeMap;

use super::values::repr;

/// What a name expands to: Python formats text and numbers differently
/// (`%(process_num)02d` works, `%(program_name)d` is an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Number(i64),
}

/// The names a value may use, with their values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    values: BTreeMap<String, Value>,
}

impl Names {
    pub fn new() -> Names {
        Names::default()
    }

    pub fn set_text(&mut self, name: &str, value: &str) {
        self.values
            .insert(name.to_string(), Value::Text(value.to_string()));
    }

    pub fn set_number(&mut self, name: &str, value: i64) {
        self.values.insert(name.to_string(), Value::Number(value));
    }

    /// Adds `ENV_<name>` for each variable; later entries win.
    pub fn set_env<'a>(&mut self, vars: impl IntoIterator<Item = &'a (String, String)>) {
        for (k, v) in vars {
            self.set_text(&format!("ENV_{k}"), v);
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }
}

/// The names for an error message: environment variables are summarised
/// (4.3 lists every one of them, which buries the useful names).
fn describe(layers: &[&Names]) -> String {
    let mut listed: Vec<&str> = layers
        .iter()
        .flat_map(|names| names.values.keys())
        .filter(|k| !k.starts_with("ENV_"))
        .map(String::as_str)
        .collect();
    listed.sort_unstable();
    listed.dedup();
    listed.insert(0, "ENV_<NAME> for each environment variable");
    listed.join(", ")
}

/// A parsed conversion specification: `%(name)-08.3d`.
#[derive(Debug, Default)]
struct Spec {
    left: bool,
    zero: bool,
    plus: bool,
    space: bool,
    alternate: bool,
    width: usize,
    precision: Option<usize>,
}

#[cfg(test)]
/// Expands `template` against `names` as Python's `template % names` does,
/// or explains (in 4.3's words) why it cannot.
pub fn expand(template: &str, names: &Names) -> Result<String, String> {
    expand_layers(template, &[names])
}

/// Like [`expand`], with names looked up in several layers, the last layer
/// winning; this spares copying the environment for every key.
pub fn expand_layers(template: &str, layers: &[&Names]) -> Result<String, String> {
    let lookup = |key: &str| layers.iter().rev().find_map(|names| names.get(key));
    let badly = |why: &str| format!("Format string {} is badly formatted: {why}", repr(template));
    let chars: Vec<char> = template.chars().collect();
    let mut out = String::with_capacity(template.len());
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        if c != '%' {
            out.push(c);
            continue;
        }
        let percent_at = i;
        let key = match chars.get(i) {
            Some('(') => {
                let (key, next) =
                    read_key(&chars, i + 1).ok_or_else(|| badly("incomplete format key"))?;
                i = next;
                Some(key)
            }
            _ => None,
        };
        let spec = read_spec(&chars, &mut i).map_err(|why| badly(&why))?;
        let Some(&conversion) = chars.get(i) else {
            return Err(badly("incomplete format"));
        };
        let conversion_index = i;
        i += 1;
        let unsupported = || {
            badly(&format!(
                "unsupported format character {} (0x{:x}) at index {}",
                repr(&conversion.to_string()),
                conversion as u32,
                conversion_index
            ))
        };
        if conversion == '%' {
            // Only a bare `%%` is a literal percent sign.
            if conversion_index == percent_at {
                out.push('%');
                continue;
            }
            return Err(unsupported());
        }
        let Some(key) = key else {
            return Err(badly("format requires a mapping"));
        };
        let value = lookup(&key).ok_or_else(|| {
            format!(
                "Format string {} contains names ({}) which cannot be expanded. \
                 Available names: {}",
                repr(template),
                repr(&key),
                describe(layers)
            )
        })?;
        let text = convert(value, conversion, &spec).map_err(|why| match why {
            Some(why) => badly(&why),
            None => unsupported(),
        })?;
        out.push_str(&text);
    }
    Ok(out)
}

/// Reads a key up to its matching `)`, counting nested parentheses as
/// Python does; returns it with the index after the `)`.
fn read_key(chars: &[char], start: usize) -> Option<(String, usize)> {
    let mut depth = 1;
    let mut i = start;
    while let Some(&c) = chars.get(i) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some((chars.get(start..i)?.iter().collect(), i + 1));
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Reads flags, width, precision and length modifiers.
fn read_spec(chars: &[char], i: &mut usize) -> Result<Spec, String> {
    let mut spec = Spec::default();
    while let Some(&c) = chars.get(*i) {
        match c {
            '-' => spec.left = true,
            '0' => spec.zero = true,
            '+' => spec.plus = true,
            ' ' => spec.space = true,
            '#' => spec.alternate = true,
            _ => break,
        }
        *i += 1;
    }
    if chars.get(*i) == Some(&'*') {
        return Err("* wants int".to_string());
    }
    spec.width = read_number(chars, i)?.unwrap_or(0);
    if chars.get(*i) == Some(&'.') {
        *i += 1;
        if chars.get(*i) == Some(&'*') {
            return Err("* wants int".to_string());
        }
        spec.precision = Some(read_number(chars, i)?.unwrap_or(0));
    }
    while matches!(chars.get(*i), Some('h' | 'l' | 'L')) {
        *i += 1;
    }
    Ok(spec)
}

fn read_number(chars: &[char], i: &mut usize) -> Result<Option<usize>, String> {
    let mut n: Option<usize> = None;
    while let Some(d) = chars.get(*i).and_then(|c| c.to_digit(10)) {
        let digit = usize::try_from(d).unwrap_or(0);
        n = Some(
            n.unwrap_or(0)
                .checked_mul(10)
                .and_then(|v| v.checked_add(digit))
                .filter(|v| *v <= 1 << 16)
                .ok_or_else(|| "width too big".to_string())?,
        );
        *i += 1;
    }
    Ok(n)
}

/// Formats one value; `Err(None)` means an unsupported conversion.
fn convert(value: &Value, conversion: char, spec: &Spec) -> Result<String, Option<String>> {
    match (conversion, value) {
        ('s', Value::Text(t)) => Ok(pad_text(t, spec)),
        ('s', Value::Number(n)) => Ok(pad_text(&n.to_string(), spec)),
        ('d' | 'i' | 'u', Value::Number(n)) => Ok(format_number(*n, 10, false, spec)),
        ('x', Value::Number(n)) => Ok(format_number(*n, 16, false, spec)),
        ('X', Value::Number(n)) => Ok(format_number(*n, 16, true, spec)),
        ('o', Value::Number(n)) => Ok(format_number(*n, 8, false, spec)),
        ('d' | 'i' | 'u', Value::Text(_)) => Err(Some(format!(
            "%{conversion} format: a real number is required, not str"
        ))),
        ('x' | 'X' | 'o', Value::Text(_)) => Err(Some(format!(
            "%{conversion} format: an integer is required, not str"
        ))),
        _ => Err(None),
    }
}

fn pad_text(text: &str, spec: &Spec) -> String {
    let body: String = match spec.precision {
        Some(p) => text.chars().take(p).collect(),
        None => text.to_string(),
    };
    let fill = spec.width.saturating_sub(body.chars().count());
    if spec.left {
        format!("{body}{}", " ".repeat(fill))
    } else {
        format!("{}{body}", " ".repeat(fill))
    }
}

fn format_number(n: i64, radix: u32, upper: bool, spec: &Spec) -> String {
    let magnitude = n.unsigned_abs();
    let mut digits = match (radix, upper) {
        (16, true) => format!("{magnitude:X}"),
        (16, false) => format!("{magnitude:x}"),
        (8, _) => format!("{magnitude:o}"),
        _ => magnitude.to_string(),
    };
    if let Some(p) = spec.precision {
        if digits.len() < p {
            digits = format!("{}{digits}", "0".repeat(p - digits.len()));
        }
    }
    let sign = if n < 0 {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    let prefix = match (spec.alternate, radix, upper) {
        (true, 16, true) => "0X",
        (true, 16, false) => "0x",
        (true, 8, _) => "0o",
        _ => "",
    };
    let len = sign.len() + prefix.len() + digits.len();
    let fill = spec.width.saturating_sub(len);
    if spec.left {
        format!("{sign}{prefix}{digits}{}", " ".repeat(fill))
    } else if spec.zero {
        format!("{sign}{prefix}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{sign}{prefix}{digits}", " ".repeat(fill))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        let mut n = Names::new();
        n.set_text("here", "/etc/sv");
        n.set_text("program_name", "web");
        n.set_number("process_num", 3);
        n.set_number("neg", -5);
        n.set_env(&[("HOME".to_string(), "/root".to_string())]);
        n
    }

    fn ok(template: &str) -> String {
        expand(template, &names()).unwrap()
    }

    #[test]
    fn plain_text_and_percent_escapes() {
        assert_eq!(ok(""), "");
        assert_eq!(ok("no names here"), "no names here");
        assert_eq!(ok("100%%"), "100%");
        assert_eq!(ok("%%(here)s"), "%(here)s");
        assert_eq!(ok("ünïcode %(here)s"), "ünïcode /etc/sv");
    }

    #[test]
    fn names_expand() {
        assert_eq!(ok("%(here)s/x.log"), "/etc/sv/x.log");
        assert_eq!(ok("%(ENV_HOME)s"), "/root");
        assert_eq!(ok("%(program_name)s_%(process_num)s"), "web_3");
        assert_eq!(ok("%(program_name)s_%(process_num)02d"), "web_03");
        assert_eq!(ok("%(process_num)d"), "3");
        assert_eq!(ok("%(process_num)i%(process_num)u"), "33");
    }

    #[test]
    fn python_number_formatting() {
        // each checked against CPython's % operator
        assert_eq!(ok("%(process_num)5d|"), "    3|");
        assert_eq!(ok("%(process_num)-5d|"), "3    |");
        assert_eq!(ok("%(process_num)+d"), "+3");
        assert_eq!(ok("%(process_num) d"), " 3");
        assert_eq!(ok("%(process_num).3d"), "003");
        assert_eq!(ok("%(neg)03d"), "-05");
        assert_eq!(ok("%(neg)02d"), "-5");
        assert_eq!(ok("%(process_num)x%(process_num)X%(process_num)o"), "333");
        assert_eq!(ok("%(process_num)#x"), "0x3");
        assert_eq!(ok("%(process_num)#06x"), "0x0003");
        assert_eq!(ok("%(process_num)ld"), "3");
        assert_eq!(ok("%(process_num)-05d|"), "3    |");
    }

    #[test]
    fn python_text_formatting() {
        assert_eq!(ok("%(program_name)6s|"), "   web|");
        assert_eq!(ok("%(program_name)-6s|"), "web   |");
        assert_eq!(ok("%(program_name)06s|"), "   web|");
        assert_eq!(ok("%(program_name).2s"), "we");
    }

    #[test]
    fn unknown_names_are_named_in_the_error() {
        let err = expand("%(foo)s", &names()).unwrap_err();
        assert_eq!(
            err,
            "Format string '%(foo)s' contains names ('foo') which cannot be expanded. \
             Available names: ENV_<NAME> for each environment variable, here, neg, \
             process_num, program_name"
        );
        assert!(expand("%(ENV_NOPE)s", &names())
            .unwrap_err()
            .contains("('ENV_NOPE')"));
    }

    #[test]
    fn malformed_formats_are_errors() {
        let e = |t: &str| expand(t, &names()).unwrap_err();
        assert_eq!(
            e("100%"),
            "Format string '100%' is badly formatted: incomplete format"
        );
        assert_eq!(
            e("%(here"),
            "Format string '%(here' is badly formatted: incomplete format key"
        );
        assert_eq!(
            e("%(here)q"),
            "Format string '%(here)q' is badly formatted: unsupported format character 'q' (0x71) at index 7"
        );
        assert_eq!(
            e("%(program_name)d"),
            "Format string '%(program_name)d' is badly formatted: %d format: a real number is required, not str"
        );
        assert_eq!(
            e("%(program_name)x"),
            "Format string '%(program_name)x' is badly formatted: %x format: an integer is required, not str"
        );
        assert_eq!(
            e("%s"),
            "Format string '%s' is badly formatted: format requires a mapping"
        );
        assert!(e("%(here)").contains("incomplete format"));
        assert!(e("%5%").contains("unsupported format character '%' (0x25) at index 2"));
        assert!(e("%(here)*s").contains("* wants int"));
        assert!(e("%(here)99999999999999999999s").contains("width too big"));
        assert!(e("50% off").contains("badly formatted"));
        assert_eq!(
            e("%(here)%"),
            "Format string '%(here)%' is badly formatted: unsupported format character '%' (0x25) at index 7"
        );
    }

    #[test]
    fn nested_parentheses_in_keys() {
        let mut n = Names::new();
        n.set_text("a(b)", "x");
        assert_eq!(expand("%(a(b))s", &n), Ok("x".into()));
    }

    #[test]
    fn later_layers_win_and_all_layers_are_listed() {
        let mut local = Names::new();
        local.set_text("here", "/other");
        local.set_text("group_name", "g");
        let base = names();
        assert_eq!(
            expand_layers("%(here)s %(program_name)s", &[&base, &local]),
            Ok("/other web".into())
        );
        let err = expand_layers("%(x)s", &[&base, &local]).unwrap_err();
        assert!(
            err.ends_with("group_name, here, neg, process_num, program_name"),
            "{err}"
        );
    }

    #[test]
    fn later_values_replace_earlier_ones() {
        let mut n = names();
        n.set_env(&[("HOME".to_string(), "/other".to_string())]);
        assert_eq!(expand("%(ENV_HOME)s", &n), Ok("/other".into()));
    }
}
