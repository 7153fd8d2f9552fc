//! The XML-RPC wire format. serde-xml-rs stays inside this file: a body is
//! read into a small generic element tree (each element is a serde map whose
//! keys are child element names or `#text`), then the tree is checked against
//! the XML-RPC grammar, so every malformed input is a `DecodeError` and never
//! a panic. Writing mirrors Python's `xmlrpc.client.dumps` byte for byte.
//!
//! Reading follows Python's `xmlrpc.client`, the reference client: text is
//! kept exactly (an untyped `<value>` is a string, `<value></value>` is `""`,
//! whitespace inside `<string>` is significant), numbers may be surrounded by
//! whitespace, booleans are exactly `0` or `1`, `i1`/`i2`/`i4`/`i8`/`int`/
//! `biginteger` are ints, `float` is a double and a namespace prefix is
//! ignored (`<ex:nil/>`, when the prefix is declared). Like Python, the
//! name of the root element is not checked. Nesting is capped at
//! `MAX_DEPTH` arrays/structs so hostile input cannot exhaust the stack.
//!
//! Characters XML 1.0 cannot carry: Python writes them raw and its own
//! parser (expat) then rejects the whole response, and a character reference
//! such as `&#27;` is rejected too, so no encoding can deliver them. We
//! write U+FFFD in place of each C0 control other than tab, LF and CR, and
//! of U+FFFE/U+FFFF (e.g. ESC in a child's log read by
//! `readProcessStdoutLog`), so clients always get a parseable reply. CR is
//! written as `&#13;` so it survives the parser's line-end normalisation
//! (Python writes it raw and its clients receive LF instead). Reading is more
//! forgiving than expat: raw control characters, which Python's client and
//! Supervisor 4.3 write (log tails, `fg` keystrokes), are read as themselves
//! (see `shelter_controls`); character references to them stay errors.

use super::value::{Fault, Value};
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde_xml_rs::SerdeXml;

/// A decoded `<methodCall>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: String,
    pub params: Vec<Value>,
}

/// Why a document could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

/// How deeply arrays and structs may nest inside one value.
pub const MAX_DEPTH: usize = 64;

/// Server side: parses a request body.
pub fn decode_call(body: &[u8]) -> Result<Call, DecodeError> {
    let root = parse_document(body, "methodCall")?;
    let mut method = None;
    let mut params = Vec::new();
    for child in root.child_elements()? {
        match child.local_name() {
            "methodName" if method.is_none() => method = Some(child.text()?),
            "params" => params = decode_params(child)?,
            other => return Err(unexpected(other, "methodCall")),
        }
    }
    match method {
        Some(method) if !method.is_empty() => Ok(Call { method, params }),
        _ => Err(DecodeError("no methodName in the methodCall".into())),
    }
}

/// Server side: writes a `<methodResponse>` with one value or a fault.
pub fn encode_response(result: &Result<Value, Fault>) -> String {
    // Room for a typical answer up front (getAllProcessInfo is the big one).
    let mut out = String::with_capacity(8192);
    out.push_str(XML_DECLARATION);
    match result {
        Ok(value) => {
            out.push_str("<methodResponse>\n<params>\n<param>\n");
            write_value(&mut out, value);
            out.push_str("</param>\n</params>\n</methodResponse>\n");
        }
        Err(fault) => {
            out.push_str("<methodResponse>\n<fault>\n");
            write_value(&mut out, &fault_struct(fault));
            out.push_str("</fault>\n</methodResponse>\n");
        }
    }
    out
}

/// Client side: writes a `<methodCall>`.
pub fn encode_call(method: &str, params: &[Value]) -> String {
    let mut out = String::from(XML_DECLARATION);
    out.push_str("<methodCall>\n<methodName>");
    push_escaped(&mut out, method);
    out.push_str("</methodName>\n<params>\n");
    for param in params {
        out.push_str("<param>\n");
        write_value(&mut out, param);
        out.push_str("</param>\n");
    }
    out.push_str("</params>\n</methodCall>\n");
    out
}

/// Client side: parses a `<methodResponse>` into its value or its fault.
/// Like Python's client, a response without parameters gives `Nil` and one
/// with several gives them as an `Array`.
pub fn decode_response(body: &[u8]) -> Result<Result<Value, Fault>, DecodeError> {
    let root = parse_document(body, "methodResponse")?;
    let mut outcome = None;
    for child in root.child_elements()? {
        let decoded = match child.local_name() {
            "params" => Ok(collapse_params(decode_params(child)?)),
            "fault" => Err(decode_fault(child)?),
            other => return Err(unexpected(other, "methodResponse")),
        };
        if outcome.replace(decoded).is_some() {
            return Err(DecodeError(
                "methodResponse holds more than one params or fault".into(),
            ));
        }
    }
    outcome.ok_or_else(|| DecodeError("methodResponse holds neither params nor fault".into()))
}

// ---------------------------------------------------------------------------
// Reading XML into a generic tree with serde-xml-rs.

/// Elements deeper than this are refused before serde-xml-rs recurses into
/// them: enough for `MAX_DEPTH + 1` values (three elements per level:
/// value, array/struct, data/member) plus the envelope.
const MAX_ELEMENT_DEPTH: usize = 3 * MAX_DEPTH + 8;

/// serde-xml-rs's key for character data.
const TEXT_KEY: &str = "#text";

#[derive(Debug)]
struct Element {
    name: String,
    children: Vec<Node>,
}

#[derive(Debug)]
enum Node {
    Element(Element),
    Text(String),
}

/// serde-xml-rs does not report the root element's name, so the root is
/// labelled with the name the caller expects (used in error messages).
fn parse_document(body: &[u8], root: &str) -> Result<Element, DecodeError> {
    let sheltered = shelter_controls(body);
    let restore_controls = sheltered.is_some();
    let body = sheltered.as_deref().unwrap_or(body);
    let mut deserializer = serde_xml_rs::Deserializer::from_config(parser_settings(), body);
    let seed = ElementSeed {
        name: root.to_owned(),
        depth: 1,
        restore_controls,
    };
    let root = seed.deserialize(&mut deserializer).map_err(xml_error)?;
    de::Deserializer::deserialize_option(&mut deserializer, EndOfDocument).map_err(xml_error)?;
    Ok(root)
}

/// Where raw control characters are moved while the XML parser reads.
const SHELTER: u32 = 0xE000;

/// Python's xmlrpc.client and Supervisor write control characters raw (a
/// child's log read back, keys sent by `supervisorctl fg`), which XML 1.0
/// and so the XML parser refuse. They are moved to the Private Use Area
/// (U+E000 + byte) for the parse and moved back in text afterwards, so we
/// read what they meant. Left alone: bodies that may be UTF-16 (a zero or
/// BOM byte up front) and bodies already holding U+E000..U+E01F, where the
/// move could not be undone; those parse (or fail) as they are. (A
/// character reference to U+E000..U+E01F in a sheltered body would come
/// back as a control too; no real client writes one.)
fn shelter_controls(body: &[u8]) -> Option<Vec<u8>> {
    if !body.iter().copied().any(is_forbidden_control) || may_be_utf16(body) {
        return None;
    }
    let already_sheltered = body
        .windows(3)
        .any(|w| w[0] == 0xEE && w[1] == 0x80 && (0x80..=0x9F).contains(&w[2]));
    if already_sheltered {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() + 64);
    let mut utf8 = [0u8; 4];
    for &byte in body {
        match char::from_u32(SHELTER + u32::from(byte)).filter(|_| is_forbidden_control(byte)) {
            Some(moved) => out.extend_from_slice(moved.encode_utf8(&mut utf8).as_bytes()),
            None => out.push(byte),
        }
    }
    Some(out)
}

fn restore_controls(text: &str) -> String {
    text.chars()
        .map(|c| match u32::from(c).checked_sub(SHELTER) {
            Some(byte @ 0..=0x1F) => char::from_u32(byte).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// C0 controls other than tab, LF and CR.
fn is_forbidden_control(byte: u8) -> bool {
    byte < 0x20 && !matches!(byte, b'\t' | b'\n' | b'\r')
}

fn may_be_utf16(body: &[u8]) -> bool {
    matches!(
        body,
        [0xFE, 0xFF, ..] | [0xFF, 0xFE, ..] | [0, ..] | [_, 0, ..]
    )
}

/// Makes serde-xml-rs look one event past the root element, where the XML
/// parser reports anything but the end of the document (a second root,
/// stray text) as an error.
struct EndOfDocument;

impl<'de> Visitor<'de> for EndOfDocument {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("the end of the document")
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: de::Deserializer<'de>>(self, _rest: D) -> Result<(), D::Error> {
        Ok(())
    }
}

/// Text must reach us untrimmed, whitespace-only text included (a log chunk
/// of blank lines is data), so serde-xml-rs's trimming default is replaced.
fn parser_settings() -> SerdeXml {
    let mut parser = default_argument_of(SerdeXml::parser);
    parser.trim_whitespace = false;
    parser.whitespace_to_characters = true;
    parser.cdata_to_characters = true;
    parser.coalesce_characters = true;
    parser.ignore_comments = true;
    parser.allow_multiple_root_elements = false;
    SerdeXml::new().parser(parser)
}

/// serde-xml-rs does not re-export xml-rs's `ParserConfig`; taking the type
/// from the setter's signature lets us configure it without naming the
/// xml-rs crate as a dependency of our own.
fn default_argument_of<P: Default>(_setter: fn(SerdeXml, P) -> SerdeXml) -> P {
    P::default()
}

fn xml_error(error: serde_xml_rs::Error) -> DecodeError {
    match error {
        serde_xml_rs::Error::Custom(message) => DecodeError(message),
        other => DecodeError(format!("malformed XML: {other}")),
    }
}

struct ElementSeed {
    name: String,
    depth: usize,
    /// The body went through `shelter_controls`; text needs `restore_controls`.
    restore_controls: bool,
}

impl<'de> DeserializeSeed<'de> for ElementSeed {
    type Value = Element;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Element, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ElementSeed {
    type Value = Element;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an XML element")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Element, A::Error> {
        let mut children = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == TEXT_KEY {
                let text = map.next_value::<String>()?;
                let text = if self.restore_controls {
                    restore_controls(&text)
                } else {
                    text
                };
                children.push(Node::Text(text));
                continue;
            }
            if self.depth >= MAX_ELEMENT_DEPTH {
                return Err(de::Error::custom(format!(
                    "XML nested deeper than {MAX_ELEMENT_DEPTH} elements"
                )));
            }
            let child = map.next_value_seed(ElementSeed {
                name: key,
                depth: self.depth + 1,
                restore_controls: self.restore_controls,
            })?;
            children.push(Node::Element(child));
        }
        Ok(Element {
            name: self.name,
            children,
        })
    }
}

impl Element {
    /// The name without a namespace prefix, as Python's client compares it.
    fn local_name(&self) -> &str {
        local_name(&self.name)
    }

    /// Child elements; text between them may only be whitespace.
    fn child_elements(&self) -> Result<Vec<&Element>, DecodeError> {
        let mut elements = Vec::new();
        for child in &self.children {
            match child {
                Node::Element(element) => elements.push(element),
                Node::Text(text) if is_xml_blank(text) => {}
                Node::Text(text) => {
                    return Err(DecodeError(format!(
                        "unexpected text {} in <{}>",
                        quote_excerpt(text),
                        self.local_name()
                    )))
                }
            }
        }
        Ok(elements)
    }

    /// The element's character data, exactly as sent; child elements are refused.
    fn text(&self) -> Result<String, DecodeError> {
        let mut text = String::new();
        for child in &self.children {
            match child {
                Node::Text(part) => text.push_str(part),
                Node::Element(element) => {
                    return Err(unexpected(element.local_name(), self.local_name()))
                }
            }
        }
        Ok(text)
    }

    /// The one child element named `name`.
    fn only_child(&self, name: &str) -> Result<&Element, DecodeError> {
        match self.child_elements()?.as_slice() {
            [only] if only.local_name() == name => Ok(only),
            [only] => Err(unexpected(only.local_name(), self.local_name())),
            _ => Err(DecodeError(format!(
                "<{}> must hold exactly one <{name}>",
                self.local_name()
            ))),
        }
    }
}

fn local_name(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

fn is_xml_blank(text: &str) -> bool {
    text.chars().all(is_xml_space)
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn unexpected(child: &str, parent: &str) -> DecodeError {
    DecodeError(format!("unexpected <{child}> in <{parent}>"))
}

/// Offending input quoted in an error message, cut short so a hostile
/// megabyte does not end up in a log line.
fn quote_excerpt(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    let mut excerpt: String = text.chars().take(MAX_CHARS).collect();
    if text.chars().nth(MAX_CHARS).is_some() {
        excerpt.push_str("...");
    }
    format!("{excerpt:?}")
}

// ---------------------------------------------------------------------------
// From the tree to XML-RPC values.

fn decode_params(params: &Element) -> Result<Vec<Value>, DecodeError> {
    params
        .child_elements()?
        .into_iter()
        .map(|param| match param.local_name() {
            "param" => decode_value(param.only_child("value")?, 0),
            other => Err(unexpected(other, "params")),
        })
        .collect()
}

fn collapse_params(mut values: Vec<Value>) -> Value {
    match values.len() {
        0 => Value::Nil,
        1 => values.pop().unwrap_or(Value::Nil),
        _ => Value::Array(values),
    }
}

fn decode_fault(fault: &Element) -> Result<Fault, DecodeError> {
    let value = decode_value(fault.only_child("value")?, 0)?;
    let code = value.get("faultCode").and_then(Value::as_int);
    let string = value.get("faultString").and_then(Value::as_str);
    match (code.map(i32::try_from), string) {
        (Some(Ok(code)), Some(string)) => Ok(Fault {
            code,
            string: string.to_owned(),
        }),
        _ => Err(DecodeError(
            "fault must be a struct with an int faultCode and a string faultString".into(),
        )),
    }
}

/// `<value>`: one typed child, or bare text which is a string.
/// `depth` counts the arrays and structs around this value.
fn decode_value(value: &Element, depth: usize) -> Result<Value, DecodeError> {
    if value.local_name() != "value" {
        return Err(DecodeError(format!(
            "expected <value>, found <{}>",
            value.local_name()
        )));
    }
    let has_elements = value.children.iter().any(|c| matches!(c, Node::Element(_)));
    if !has_elements {
        return value.text().map(Value::String);
    }
    match value.child_elements()?.as_slice() {
        [typed] => decode_typed(typed, depth),
        _ => Err(DecodeError("<value> holds more than one element".into())),
    }
}

fn decode_typed(typed: &Element, depth: usize) -> Result<Value, DecodeError> {
    let name = typed.local_name();
    match name {
        "int" | "i4" | "i8" | "i1" | "i2" | "biginteger" => {
            parse_int(&typed.text()?).map(Value::Int)
        }
        "boolean" => parse_boolean(&typed.text()?).map(Value::Bool),
        "string" => typed.text().map(Value::String),
        "double" | "float" => parse_double(&typed.text()?).map(Value::Double),
        "dateTime.iso8601" => Ok(Value::DateTime(
            typed.text()?.trim_matches(is_xml_space).to_owned(),
        )),
        "base64" => parse_base64(&typed.text()?).map(Value::Base64),
        "nil" => typed.child_elements().map(|_| Value::Nil),
        "array" => decode_array(typed, deeper(depth)?),
        "struct" => decode_struct(typed, deeper(depth)?),
        other => Err(DecodeError(format!("unknown XML-RPC type <{other}>"))),
    }
}

fn deeper(depth: usize) -> Result<usize, DecodeError> {
    if depth >= MAX_DEPTH {
        return Err(DecodeError(format!(
            "arrays and structs nested deeper than {MAX_DEPTH} levels"
        )));
    }
    Ok(depth + 1)
}

fn decode_array(array: &Element, depth: usize) -> Result<Value, DecodeError> {
    let data = array.only_child("data")?;
    data.child_elements()?
        .into_iter()
        .map(|item| decode_value(item, depth))
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

/// Members keep their order; a repeated name keeps its first place and its
/// last value, as a Python dict built from the members would.
fn decode_struct(structure: &Element, depth: usize) -> Result<Value, DecodeError> {
    let mut members: Vec<(String, Value)> = Vec::new();
    for member in structure.child_elements()? {
        if member.local_name() != "member" {
            return Err(unexpected(member.local_name(), "struct"));
        }
        let (name, value) = decode_member(member, depth)?;
        match members.iter_mut().find(|(existing, _)| *existing == name) {
            Some(slot) => slot.1 = value,
            None => members.push((name, value)),
        }
    }
    Ok(Value::Struct(members))
}

fn decode_member(member: &Element, depth: usize) -> Result<(String, Value), DecodeError> {
    let mut name = None;
    let mut value = None;
    for part in member.child_elements()? {
        match part.local_name() {
            "name" if name.is_none() => name = Some(part.text()?),
            "value" if value.is_none() => value = Some(decode_value(part, depth)?),
            other => return Err(unexpected(other, "member")),
        }
    }
    match (name, value) {
        (Some(name), Some(value)) => Ok((name, value)),
        _ => Err(DecodeError(
            "<member> needs one <name> and one <value>".into(),
        )),
    }
}

fn parse_int(text: &str) -> Result<i64, DecodeError> {
    text.trim_matches(is_xml_space)
        .parse()
        .map_err(|_| DecodeError(format!("bad int value {}", quote_excerpt(text))))
}

/// Exactly `0` or `1`, as Python's client insists.
fn parse_boolean(text: &str) -> Result<bool, DecodeError> {
    match text {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => Err(DecodeError(format!(
            "bad boolean value {}",
            quote_excerpt(text)
        ))),
    }
}

fn parse_double(text: &str) -> Result<f64, DecodeError> {
    text.trim_matches(is_xml_space)
        .parse()
        .map_err(|_| DecodeError(format!("bad double value {}", quote_excerpt(text))))
}

/// Base64 as Python writes it: in lines, so whitespace is skipped.
fn parse_base64(text: &str) -> Result<Vec<u8>, DecodeError> {
    let compact: String = text.chars().filter(|&c| !is_xml_space(c)).collect();
    crate::base64::decode(&compact)
        .ok_or_else(|| DecodeError(format!("bad base64 value {}", quote_excerpt(text))))
}

// ---------------------------------------------------------------------------
// Writing, in the exact shapes of Python's xmlrpc.client.Marshaller.

const XML_DECLARATION: &str = "<?xml version='1.0'?>\n";

fn fault_struct(fault: &Fault) -> Value {
    Value::Struct(vec![
        ("faultCode".to_owned(), Value::Int(i64::from(fault.code))),
        (
            "faultString".to_owned(),
            Value::String(fault.string.clone()),
        ),
    ])
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Int(i) => write_scalar(out, "int", &i.to_string()),
        Value::Bool(b) => write_scalar(out, "boolean", if *b { "1" } else { "0" }),
        Value::String(s) => write_text_scalar(out, "string", s),
        Value::Double(d) => write_scalar(out, "double", &crate::pytext::repr_float(*d)),
        Value::DateTime(text) => write_text_scalar(out, "dateTime.iso8601", text),
        Value::Base64(bytes) => {
            out.push_str("<value><base64>\n");
            push_base64_lines(out, bytes);
            out.push_str("</base64></value>\n");
        }
        Value::Array(items) => {
            out.push_str("<value><array><data>\n");
            for item in items {
                write_value(out, item);
            }
            out.push_str("</data></array></value>\n");
        }
        Value::Struct(members) => {
            out.push_str("<value><struct>\n");
            for (name, member) in members {
                out.push_str("<member>\n<name>");
                push_escaped(out, name);
                out.push_str("</name>\n");
                write_value(out, member);
                out.push_str("</member>\n");
            }
            out.push_str("</struct></value>\n");
        }
        // Python writes no newline after nil.
        Value::Nil => out.push_str("<value><nil/></value>"),
    }
}

/// A scalar whose text needs no escaping (numbers, booleans).
fn write_scalar(out: &mut String, tag: &str, text: &str) {
    out.push_str("<value><");
    out.push_str(tag);
    out.push('>');
    out.push_str(text);
    out.push_str("</");
    out.push_str(tag);
    out.push_str("></value>\n");
}

fn write_text_scalar(out: &mut String, tag: &str, text: &str) {
    out.push_str("<value><");
    out.push_str(tag);
    out.push('>');
    push_escaped(out, text);
    out.push_str("</");
    out.push_str(tag);
    out.push_str("></value>\n");
}

/// Escapes markup characters, keeps CR through a character reference and
/// replaces what XML 1.0 cannot carry (see the module header).
fn push_escaped(out: &mut String, text: &str) {
    // Copy runs that need no escaping in one go; most text is such a run.
    let mut plain_from = 0;
    for (at, c) in text.char_indices() {
        let replacement = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '\r' => "&#13;",
            '\t' | '\n' => continue,
            c if is_xml_char(c) => continue,
            _ => "\u{FFFD}",
        };
        out.push_str(text.get(plain_from..at).unwrap_or_default());
        out.push_str(replacement);
        plain_from = at + c.len_utf8();
    }
    out.push_str(text.get(plain_from..).unwrap_or_default());
}

/// XML 1.0 `Char`, minus the surrogates a Rust `char` cannot hold anyway.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Python's `base64.encodebytes`: 76 characters per line, each line ended.
fn push_base64_lines(out: &mut String, bytes: &[u8]) {
    const BYTES_PER_LINE: usize = 57;
    for line in bytes.chunks(BYTES_PER_LINE) {
        out.push_str(&crate::base64::encode(line));
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value {
        Value::str(text)
    }

    fn response(value_xml: &str) -> String {
        format!(
            "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n{value_xml}</param>\n</params>\n</methodResponse>\n"
        )
    }

    fn decoded_value(value_xml: &str) -> Result<Value, DecodeError> {
        match decode_response(response(value_xml).as_bytes())? {
            Ok(value) => Ok(value),
            Err(fault) => panic!("unexpected fault {fault}"),
        }
    }

    fn call_error(body: &str) -> String {
        match decode_call(body.as_bytes()) {
            Err(DecodeError(message)) => message,
            Ok(call) => panic!("decoded {call:?} from {body:?}"),
        }
    }

    fn value_error(value_xml: &str) -> String {
        match decoded_value(value_xml) {
            Err(DecodeError(message)) => message,
            Ok(value) => panic!("decoded {value:?} from {value_xml:?}"),
        }
    }

    /// One value of each type, nested, as the round-trip tests use.
    fn every_type() -> Value {
        Value::Struct(vec![
            ("int".into(), Value::Int(-42)),
            ("big".into(), Value::Int(i64::MAX)),
            ("true".into(), Value::Bool(true)),
            ("false".into(), Value::Bool(false)),
            ("string".into(), s("a & b < c > d \"q\" 'a' é ☃ 𝄞")),
            ("empty".into(), s("")),
            ("blank".into(), s("  \n\t \n")),
            ("double".into(), Value::Double(-2.5e-7)),
            ("date".into(), Value::DateTime("20240102T03:04:05".into())),
            ("bytes".into(), Value::Base64((0..=255u8).collect())),
            ("no bytes".into(), Value::Base64(Vec::new())),
            ("nil".into(), Value::Nil),
            (
                "array".into(),
                Value::Array(vec![
                    Value::Int(1),
                    Value::Array(vec![]),
                    Value::Struct(vec![]),
                    Value::Array(vec![s("x"), Value::Nil, Value::Bool(false)]),
                ]),
            ),
            ("<name & more>".into(), s("member names are escaped")),
        ])
    }

    // --- Python fixtures: produced by xmlrpc.client.dumps (Python 3.11) ---

    const PY_PROCESS_LIST: &str = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><array><data>\n<value><struct>\n<member>\n<name>name</name>\n<value><string>cat</string></value>\n</member>\n<member>\n<name>start</name>\n<value><int>1700000000</int></value>\n</member>\n<member>\n<name>statename</name>\n<value><string>RUNNING</string></value>\n</member>\n<member>\n<name>spawnerr</name>\n<value><string></string></value>\n</member>\n<member>\n<name>pid</name>\n<value><int>4242</int></value>\n</member>\n</struct></value>\n<value><struct>\n<member>\n<name>name</name>\n<value><string>x &amp; &lt;y&gt;</string></value>\n</member>\n<member>\n<name>ok</name>\n<value><boolean>0</boolean></value>\n</member>\n</struct></value>\n</data></array></value>\n</param>\n</params>\n</methodResponse>\n";

    const PY_FAULT: &str = "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>10</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>BAD_NAME: no &lt;such&gt; &amp; process</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n";

    const PY_CALL: &str = "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.startProcess</methodName>\n<params>\n<param>\n<value><string>cat</string></value>\n</param>\n<param>\n<value><boolean>1</boolean></value>\n</param>\n<param>\n<value><int>3</int></value>\n</param>\n<param>\n<value><base64>\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\nOTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiYw==\n</base64></value>\n</param>\n<param>\n<value><dateTime.iso8601>20240102T03:04:05</dateTime.iso8601></value>\n</param>\n<param>\n<value><double>2.5</double></value>\n</param>\n<param>\n<value><nil/></value></param>\n<param>\n<value><array><data>\n</data></array></value>\n</param>\n<param>\n<value><struct>\n</struct></value>\n</param>\n</params>\n</methodCall>\n";

    fn py_call_params() -> Vec<Value> {
        vec![
            s("cat"),
            Value::Bool(true),
            Value::Int(3),
            Value::Base64((0..100u8).collect()),
            Value::DateTime("20240102T03:04:05".into()),
            Value::Double(2.5),
            Value::Nil,
            Value::Array(vec![]),
            Value::Struct(vec![]),
        ]
    }

    #[test]
    fn decodes_a_python_method_call() {
        let call = decode_call(PY_CALL.as_bytes()).unwrap();
        assert_eq!(call.method, "supervisor.startProcess");
        assert_eq!(call.params, py_call_params());
    }

    #[test]
    fn encodes_a_method_call_exactly_as_python() {
        assert_eq!(
            encode_call("supervisor.startProcess", &py_call_params()),
            PY_CALL
        );
    }

    #[test]
    fn encodes_a_call_without_params_as_python() {
        // xmlrpc.client.dumps((), 'supervisor.getState')
        assert_eq!(
            encode_call("supervisor.getState", &[]),
            "<?xml version='1.0'?>\n<methodCall>\n<methodName>supervisor.getState</methodName>\n<params>\n</params>\n</methodCall>\n"
        );
    }

    #[test]
    fn decodes_a_python_response() {
        let value = decode_response(PY_PROCESS_LIST.as_bytes())
            .unwrap()
            .unwrap();
        let items = value.as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].get("name"), Some(&s("cat")));
        assert_eq!(items[0].get("start"), Some(&Value::Int(1_700_000_000)));
        assert_eq!(items[0].get("spawnerr"), Some(&s("")));
        assert_eq!(items[1].get("name"), Some(&s("x & <y>")));
        assert_eq!(items[1].get("ok"), Some(&Value::Bool(false)));
        if let Value::Struct(members) = &items[0] {
            let names: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(names, ["name", "start", "statename", "spawnerr", "pid"]);
        } else {
            panic!("not a struct: {:?}", items[0]);
        }
    }

    #[test]
    fn encodes_a_response_exactly_as_python() {
        let value = decode_response(PY_PROCESS_LIST.as_bytes()).unwrap();
        assert_eq!(encode_response(&value), PY_PROCESS_LIST);
    }

    #[test]
    fn decodes_a_python_fault() {
        let fault = decode_response(PY_FAULT.as_bytes()).unwrap().unwrap_err();
        assert_eq!(
            fault,
            Fault {
                code: 10,
                string: "BAD_NAME: no <such> & process".into()
            }
        );
    }

    #[test]
    fn encodes_a_fault_exactly_as_python() {
        let fault = Fault {
            code: 10,
            string: "BAD_NAME: no <such> & process".into(),
        };
        assert_eq!(encode_response(&Err(fault)), PY_FAULT);
    }

    #[test]
    fn encodes_a_string_response_in_supervisors_shape() {
        assert_eq!(
            encode_response(&Ok(s("3.0"))),
            "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><string>3.0</string></value>\n</param>\n</params>\n</methodResponse>\n"
        );
    }

    // --- round trips ---

    #[test]
    fn every_type_round_trips_through_a_response() {
        let value = every_type();
        let body = encode_response(&Ok(value.clone()));
        assert_eq!(decode_response(body.as_bytes()), Ok(Ok(value)));
    }

    #[test]
    fn every_type_round_trips_through_a_call() {
        let params = vec![every_type(), s("second"), Value::Int(0)];
        let body = encode_call("supervisor.anything", &params);
        let call = decode_call(body.as_bytes()).unwrap();
        assert_eq!(call.method, "supervisor.anything");
        assert_eq!(call.params, params);
    }

    #[test]
    fn faults_round_trip() {
        for code in [i32::MIN, -1, 0, 1, 70, i32::MAX] {
            let fault = Fault {
                code,
                string: format!("NAME: detail <{code}> &"),
            };
            let body = encode_response(&Err(fault.clone()));
            assert_eq!(decode_response(body.as_bytes()), Ok(Err(fault)));
        }
    }

    #[test]
    fn doubles_round_trip_exactly() {
        for x in [
            0.0,
            -0.0,
            0.1,
            1.0 / 3.0,
            1e16,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            let body = encode_response(&Ok(Value::Double(x)));
            match decode_response(body.as_bytes()) {
                Ok(Ok(Value::Double(y))) => assert_eq!(x.to_bits(), y.to_bits(), "{x}"),
                other => panic!("{x}: {other:?}"),
            }
        }
        let body = encode_response(&Ok(Value::Double(f64::NAN)));
        assert!(matches!(
            decode_response(body.as_bytes()),
            Ok(Ok(Value::Double(y))) if y.is_nan()
        ));
    }

    #[test]
    fn doubles_are_written_as_python_repr() {
        // repr() of each, from Python 3.11.
        let cases = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e-300, "1e-300"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (-2.5e-7, "-2.5e-07"),
            (1.2345, "1.2345"),
            (100.0, "100.0"),
            (1e22, "1e+22"),
            (12345.678, "12345.678"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
        ];
        for (x, repr) in cases {
            assert_eq!(crate::pytext::repr_float(x), repr, "{x:e}");
        }
    }

    #[test]
    fn ints_are_written_as_int() {
        assert_eq!(
            encode_response(&Ok(Value::Int(-7))),
            response("<value><int>-7</int></value>\n")
        );
    }

    #[test]
    fn base64_is_written_in_lines_of_76_like_python() {
        let body = encode_response(&Ok(Value::Base64((0..100u8).collect())));
        assert!(body.contains("<value><base64>\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\nOTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiYw==\n</base64></value>\n"));
    }

    #[test]
    fn arrays_and_structs_nest_to_the_limit() {
        let mut value = s("core");
        for level in 0..MAX_DEPTH {
            value = if level % 2 == 0 {
                Value::Array(vec![value])
            } else {
                Value::Struct(vec![("k".into(), value)])
            };
        }
        let body = encode_response(&Ok(value.clone()));
        assert_eq!(decode_response(body.as_bytes()), Ok(Ok(value.clone())));

        let too_deep = Value::Array(vec![value]);
        let body = encode_response(&Ok(too_deep));
        let error = decode_response(body.as_bytes()).unwrap_err();
        assert!(error.0.contains("deeper than 64"), "{error}");
    }

    #[test]
    fn absurdly_deep_xml_is_refused_without_recursing() {
        let depth = 100_000;
        let body = format!(
            "<methodCall><methodName>a.b</methodName><params><param>{}{}</param></params></methodCall>",
            "<value><array><data>".repeat(depth),
            "</data></array></value>".repeat(depth)
        );
        let error = call_error(&body);
        assert!(error.contains("nested deeper"), "{error}");

        let body = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
        assert!(call_error(&body).contains("nested deeper"));
    }

    // --- escaping and characters XML cannot carry ---

    #[test]
    fn markup_characters_are_escaped() {
        let body = encode_response(&Ok(s("<a href=\"x\">&amp;</a>")));
        assert!(body.contains("<string>&lt;a href=\"x\"&gt;&amp;amp;&lt;/a&gt;</string>"));
    }

    #[test]
    fn method_names_are_escaped() {
        let body = encode_call("a<b>&c", &[]);
        assert!(body.contains("<methodName>a&lt;b&gt;&amp;c</methodName>"));
        assert_eq!(decode_call(body.as_bytes()).unwrap().method, "a<b>&c");
    }

    #[test]
    fn control_characters_become_replacement_characters() {
        let log = "\u{1b}[31mred\u{1b}[0m\u{0}\u{7}\u{b}\u{c}\u{1f}\u{fffe}\u{ffff}";
        let body = encode_response(&Ok(s(log)));
        assert!(body.contains("<string>\u{fffd}[31mred\u{fffd}[0m\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}</string>"));
        assert_eq!(
            decoded_value_of(&body),
            s("\u{fffd}[31mred\u{fffd}[0m\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}\u{fffd}")
        );
    }

    fn decoded_value_of(body: &str) -> Value {
        decode_response(body.as_bytes()).unwrap().unwrap()
    }

    #[test]
    fn tab_newline_delete_and_c1_controls_are_kept() {
        let text = "a\tb\nc\u{7f}\u{85}\u{9f}\u{a0}";
        let body = encode_response(&Ok(s(text)));
        assert!(body.contains(text));
        assert_eq!(decoded_value_of(&body), s(text));
    }

    #[test]
    fn carriage_returns_survive_as_character_references() {
        let body = encode_response(&Ok(s("50%\r100%\r\n")));
        assert!(body.contains("<string>50%&#13;100%&#13;\n</string>"));
        assert_eq!(decoded_value_of(&body), s("50%\r100%\r\n"));
    }

    #[test]
    fn raw_carriage_returns_from_python_are_normalised_like_expat() {
        // Python writes CR raw; its own client then reads LF.
        assert_eq!(
            decoded_value("<value><string>a\rb\r\nc&#13;d</string></value>\n"),
            Ok(s("a\nb\nc\rd"))
        );
    }

    #[test]
    fn control_character_references_are_refused_like_expat() {
        assert!(value_error("<value><string>a&#27;b</string></value>").contains("malformed XML"));
        assert!(value_error("<value><string>a&#x1;b</string></value>").contains("malformed XML"));
    }

    #[test]
    fn raw_control_characters_from_python_are_read_as_themselves() {
        // xmlrpc.client.dumps(("\x1b[31mred\x1b[0m\x00\x07",), methodresponse=True):
        // Python writes them raw, and its own client cannot read the result.
        let body = "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><string>\u{1b}[31mred\u{1b}[0m\u{0}\u{7}</string></value>\n</param>\n</params>\n</methodResponse>\n";
        assert_eq!(
            decode_response(body.as_bytes()),
            Ok(Ok(s("\u{1b}[31mred\u{1b}[0m\u{0}\u{7}")))
        );
        // supervisorctl fg sends keystrokes with sendProcessStdin.
        let call = "<methodCall><methodName>supervisor.sendProcessStdin</methodName><params>\
            <param><value><string>cat</string></value></param>\
            <param><value><string>\u{3}\u{4}\u{1b}[A</string></value></param></params></methodCall>";
        assert_eq!(
            decode_call(call.as_bytes()).unwrap().params,
            vec![s("cat"), s("\u{3}\u{4}\u{1b}[A")]
        );
        // Names and untyped values too.
        assert_eq!(
            decoded_value("<value><struct><member><name>a\u{1}</name><value>\u{2}</value></member></struct></value>"),
            Ok(Value::Struct(vec![("a\u{1}".into(), s("\u{2}"))]))
        );
    }

    #[test]
    fn private_use_characters_are_untouched() {
        let text = "\u{e000}\u{e01b}\u{e0ff}";
        assert_eq!(
            decoded_value(&format!("<value>{text}</value>")),
            Ok(s(text))
        );
        // With raw controls as well, nothing can be moved back safely: refused.
        assert!(value_error(&format!("<value>{text}\u{1b}</value>")).contains("malformed XML"));
    }

    #[test]
    fn control_characters_outside_text_are_still_malformed() {
        assert!(
            call_error("<methodCall\u{1}><methodName>a</methodName></methodCall>")
                .starts_with("malformed XML")
        );
        assert!(call_error("<method\u{1}Call/>").starts_with("malformed XML"));
    }

    #[test]
    fn utf16_bodies_are_not_sheltered() {
        let utf16: Vec<u8> = "\u{feff}<methodCall><methodName>a.b</methodName></methodCall>"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(decode_call(&utf16).map(|c| c.method), Ok("a.b".to_owned()));
    }

    // --- reading rules (as Python's xmlrpc.client) ---

    #[test]
    fn untyped_values_are_strings_kept_exactly() {
        assert_eq!(
            decoded_value("<value>  hi \n x </value>"),
            Ok(s("  hi \n x "))
        );
        assert_eq!(decoded_value("<value></value>"), Ok(s("")));
        assert_eq!(decoded_value("<value/>"), Ok(s("")));
        assert_eq!(decoded_value("<value>\n\n</value>"), Ok(s("\n\n")));
        assert_eq!(decoded_value("<value>a&amp;b&lt;</value>"), Ok(s("a&b<")));
    }

    #[test]
    fn strings_keep_their_whitespace() {
        assert_eq!(
            decoded_value("<value><string>  a  </string></value>"),
            Ok(s("  a  "))
        );
        assert_eq!(
            decoded_value("<value><string>\n</string></value>"),
            Ok(s("\n"))
        );
        assert_eq!(
            decoded_value("<value><string> </string></value>"),
            Ok(s(" "))
        );
        assert_eq!(decoded_value("<value><string/></value>"), Ok(s("")));
    }

    #[test]
    fn cdata_comments_and_entities_make_one_string() {
        assert_eq!(
            decoded_value(
                "<value><string>a<![CDATA[<b>&]]><!-- c -->d&#x263A;&#9731;</string></value>"
            ),
            Ok(s("a<b>&d☺☃"))
        );
    }

    #[test]
    fn whitespace_around_typed_values_is_ignored() {
        assert_eq!(
            decoded_value("<value>\n  <int>5</int>\n</value>"),
            Ok(Value::Int(5))
        );
        assert_eq!(
            decoded_value("<value><array>\n<data>\n\n</data>\n</array></value>"),
            Ok(Value::Array(vec![]))
        );
    }

    #[test]
    fn int_spellings() {
        for (xml, n) in [
            ("<int>12</int>", 12),
            ("<i4>-3</i4>", -3),
            ("<i8>9223372036854775807</i8>", i64::MAX),
            ("<i1>1</i1>", 1),
            ("<i2>+2</i2>", 2),
            ("<biginteger>7</biginteger>", 7),
            ("<int> 12 \n</int>", 12),
        ] {
            assert_eq!(
                decoded_value(&format!("<value>{xml}</value>")),
                Ok(Value::Int(n)),
                "{xml}"
            );
        }
    }

    #[test]
    fn bad_ints_are_errors() {
        for xml in [
            "<int></int>",
            "<int>1.5</int>",
            "<int>x</int>",
            "<int>9223372036854775808</int>",
            "<i4>1 2</i4>",
            "<int><string>1</string></int>",
        ] {
            let error = value_error(&format!("<value>{xml}</value>"));
            assert!(
                error.contains("int") || error.contains("unexpected"),
                "{xml}: {error}"
            );
        }
        let huge = format!("<value><int>{}</int></value>", "9".repeat(10_000));
        let error = value_error(&huge);
        assert!(
            error.starts_with("bad int value") && error.len() < 100,
            "{error}"
        );
    }

    #[test]
    fn booleans_are_exactly_zero_or_one() {
        assert_eq!(
            decoded_value("<value><boolean>1</boolean></value>"),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            decoded_value("<value><boolean>0</boolean></value>"),
            Ok(Value::Bool(false))
        );
        for bad in ["true", "false", " 1", "2", "", "01"] {
            let error = value_error(&format!("<value><boolean>{bad}</boolean></value>"));
            assert!(error.starts_with("bad boolean value"), "{bad:?}: {error}");
        }
    }

    #[test]
    fn doubles_parse_with_whitespace_and_reject_junk() {
        assert_eq!(
            decoded_value("<value><double> 1.5 </double></value>"),
            Ok(Value::Double(1.5))
        );
        assert_eq!(
            decoded_value("<value><float>-2e3</float></value>"),
            Ok(Value::Double(-2000.0))
        );
        assert!(value_error("<value><double>1,5</double></value>").starts_with("bad double value"));
        assert!(value_error("<value><double></double></value>").starts_with("bad double value"));
    }

    #[test]
    fn base64_accepts_line_breaks_and_refuses_junk() {
        assert_eq!(
            decoded_value("<value><base64>\nZm9v\nYmFy\n</base64></value>"),
            Ok(Value::Base64(b"foobar".to_vec()))
        );
        assert_eq!(
            decoded_value("<value><base64></base64></value>"),
            Ok(Value::Base64(vec![]))
        );
        for bad in ["Zm9", "Zm9v!", "Zg=", "Z==="] {
            let error = value_error(&format!("<value><base64>{bad}</base64></value>"));
            assert!(error.starts_with("bad base64 value"), "{bad}: {error}");
        }
    }

    #[test]
    fn datetimes_are_kept_as_trimmed_text() {
        assert_eq!(
            decoded_value(
                "<value><dateTime.iso8601> 20240102T03:04:05 </dateTime.iso8601></value>"
            ),
            Ok(Value::DateTime("20240102T03:04:05".into()))
        );
    }

    #[test]
    fn nil_with_or_without_a_namespace_prefix() {
        assert_eq!(decoded_value("<value><nil/></value>"), Ok(Value::Nil));
        assert_eq!(
            decoded_value("<value><ex:nil xmlns:ex=\"http://ws.apache.org/xmlrpc/namespaces/extensions\"/></value>"),
            Ok(Value::Nil)
        );
        // An undeclared prefix is not namespace-well-formed XML.
        assert!(value_error("<value><ex:nil/></value>").contains("malformed XML"));
    }

    #[test]
    fn struct_members_keep_order_and_repeated_names_keep_the_last_value() {
        let xml = "<value><struct>\
            <member><name>b</name><value><int>1</int></value></member>\
            <member><value><int>2</int></value><name>a</name></member>\
            <member><name>b</name><value><int>3</int></value></member>\
            <member><name> spaced </name><value/></member>\
            </struct></value>";
        assert_eq!(
            decoded_value(xml),
            Ok(Value::Struct(vec![
                ("b".into(), Value::Int(3)),
                ("a".into(), Value::Int(2)),
                (" spaced ".into(), s("")),
            ]))
        );
    }

    #[test]
    fn response_with_no_or_several_params() {
        let none = "<methodResponse><params></params></methodResponse>";
        assert_eq!(decode_response(none.as_bytes()), Ok(Ok(Value::Nil)));
        let two = "<methodResponse><params><param><value>a</value></param>\
                   <param><value><int>1</int></value></param></params></methodResponse>";
        assert_eq!(
            decode_response(two.as_bytes()),
            Ok(Ok(Value::Array(vec![s("a"), Value::Int(1)])))
        );
    }

    #[test]
    fn call_without_params_element_has_no_params() {
        let call =
            decode_call(b"<methodCall><methodName>supervisor.getState</methodName></methodCall>")
                .unwrap();
        assert_eq!(call.method, "supervisor.getState");
        assert!(call.params.is_empty());
    }

    #[test]
    fn utf8_and_latin1_bodies() {
        let utf8 = "<?xml version='1.0' encoding='UTF-8'?><methodCall><methodName>a.b</methodName><params><param><value>é☃</value></param></params></methodCall>";
        assert_eq!(decode_call(utf8.as_bytes()).unwrap().params, vec![s("é☃")]);
        let mut latin1 = b"<?xml version='1.0' encoding='ISO-8859-1'?><methodCall><methodName>a.b</methodName><params><param><value>".to_vec();
        latin1.push(0xe9);
        latin1.extend_from_slice(b"</value></param></params></methodCall>");
        assert_eq!(decode_call(&latin1).unwrap().params, vec![s("é")]);
    }

    // --- bad documents ---

    #[test]
    fn malformed_xml_is_an_error() {
        for body in [
            "",
            "   ",
            "not xml",
            "<methodCall>",
            "<methodCall><methodName>a.b</methodName>",
            "<methodCall><methodName>a.b</methodCall>",
            "<methodCall><methodName>a.b</methodName></methodCall><again/>",
            "<methodCall><methodName>a.b</methodName></methodCall>trailing",
            "<?xml version='1.0'?><?xml version='1.0'?><methodCall/>",
            "<methodCall><methodName>a&bogus;b</methodName></methodCall>",
        ] {
            let error = call_error(body);
            assert!(error.starts_with("malformed XML"), "{body:?}: {error}");
        }
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let body = b"<methodCall><methodName>a.\xff\xfe</methodName></methodCall>";
        assert!(decode_call(body)
            .unwrap_err()
            .0
            .starts_with("malformed XML"));
    }

    #[test]
    fn a_missing_or_empty_method_name_is_an_error() {
        for body in [
            "<methodCall><params/></methodCall>",
            "<methodCall/>",
            "<methodCall><methodName></methodName></methodCall>",
        ] {
            assert_eq!(
                call_error(body),
                "no methodName in the methodCall",
                "{body}"
            );
        }
    }

    #[test]
    fn structural_mistakes_are_errors() {
        let cases = [
            ("<methodCall><methodName>a</methodName><methodName>b</methodName></methodCall>", "unexpected <methodName> in <methodCall>"),
            ("<methodCall><methodName>a<b/></methodName></methodCall>", "unexpected <b> in <methodName>"),
            ("<methodCall><methodName>a</methodName><extra/></methodCall>", "unexpected <extra> in <methodCall>"),
            ("<methodCall><methodName>a</methodName>junk</methodCall>", "unexpected text \"junk\" in <methodCall>"),
            ("<methodCall><methodName>a</methodName><params><value/></params></methodCall>", "unexpected <value> in <params>"),
            ("<methodCall><methodName>a</methodName><params><param/></params></methodCall>", "<param> must hold exactly one <value>"),
            ("<methodCall><methodName>a</methodName><params><param><int>1</int></param></params></methodCall>", "unexpected <int> in <param>"),
        ];
        for (body, message) in cases {
            assert_eq!(call_error(body), message, "{body}");
        }
    }

    #[test]
    fn bad_values_are_errors() {
        let cases = [
            ("<value><foo>1</foo></value>", "unknown XML-RPC type <foo>"),
            ("<value><int>1</int><int>2</int></value>", "<value> holds more than one element"),
            ("<value>x<int>1</int></value>", "unexpected text \"x\" in <value>"),
            ("<value><array><value/></array></value>", "unexpected <value> in <array>"),
            ("<value><array/></value>", "<array> must hold exactly one <data>"),
            ("<value><array><data><int>1</int></data></array></value>", "expected <value>, found <int>"),
            ("<value><struct><value/></struct></value>", "unexpected <value> in <struct>"),
            ("<value><struct><member><name>a</name></member></struct></value>", "<member> needs one <name> and one <value>"),
            ("<value><struct><member><value/></member></struct></value>", "<member> needs one <name> and one <value>"),
            ("<value><struct><member><name>a</name><name>b</name><value/></member></struct></value>", "unexpected <name> in <member>"),
            ("<value><nil><x/></nil></value>", "unexpected text"),
        ];
        for (xml, message) in cases.iter().take(cases.len() - 1) {
            assert_eq!(value_error(xml), *message, "{xml}");
        }
        // <nil> with an element inside is not a nil.
        assert!(value_error("<value><nil>oops</nil></value>").contains("unexpected text"));
    }

    #[test]
    fn bad_responses_are_errors() {
        let cases = [
            ("<methodResponse/>", "methodResponse holds neither params nor fault"),
            ("<methodResponse><params/><params/></methodResponse>", "methodResponse holds more than one params or fault"),
            ("<methodResponse><fault><value>x</value></fault></methodResponse>", "fault must be a struct with an int faultCode and a string faultString"),
            ("<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>99999999999</int></value></member><member><name>faultString</name><value>x</value></member></struct></value></fault></methodResponse>", "fault must be a struct with an int faultCode and a string faultString"),
            ("<methodResponse><fault/></methodResponse>", "<fault> must hold exactly one <value>"),
            ("<methodResponse><result/></methodResponse>", "unexpected <result> in <methodResponse>"),
        ];
        for (body, message) in cases {
            assert_eq!(
                decode_response(body.as_bytes()),
                Err(DecodeError(message.into())),
                "{body}"
            );
        }
    }

    #[test]
    fn a_fault_with_an_untyped_string_is_accepted() {
        let body = "<methodResponse><fault><value><struct>\
            <member><name>faultString</name><value>SHUTDOWN_STATE</value></member>\
            <member><name>faultCode</name><value><i4>6</i4></value></member>\
            </struct></value></fault></methodResponse>";
        assert_eq!(
            decode_response(body.as_bytes()),
            Ok(Err(Fault {
                code: 6,
                string: "SHUTDOWN_STATE".into()
            }))
        );
    }

    #[test]
    fn entity_expansion_is_bounded() {
        let body = "<?xml version='1.0'?>\
            <!DOCTYPE lolz [<!ENTITY a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">\
            <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\
            <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\
            <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\
            <!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\
            <!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">\
            ]><methodCall><methodName>&f;</methodName></methodCall>";
        // Either refused or expanded within xml-rs's limits; never a hang.
        if let Ok(call) = decode_call(body.as_bytes()) {
            assert!(call.method.len() <= 1 << 24);
        }
    }
}
