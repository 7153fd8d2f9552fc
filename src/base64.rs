//! Standard base64 (RFC 4648, `+/` alphabet, `=` padding), shared by the
//! XML-RPC `<base64>` type and HTTP basic authentication. It is small enough
//! to write here rather than add a crate, and strict decoding means a bad
//! token is an error instead of silently decoded garbage.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Encodes `bytes` on one line, padded with `=`.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b0 = chunk.first().copied().unwrap_or(0);
        let b1 = chunk.get(1).copied().unwrap_or(0);
        let b2 = chunk.get(2).copied().unwrap_or(0);
        let group = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        // A chunk of n bytes carries n + 1 significant sextets.
        for i in 0..4 {
            if i <= chunk.len() {
                let sextet = (group >> (18 - 6 * i)) & 0x3f;
                out.push(char::from(ALPHABET[sextet as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes padded base64. ASCII whitespace is not skipped here: callers that
/// allow line breaks (XML-RPC) remove it first, so that an `Authorization`
/// token with embedded spaces is refused.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let groups = bytes.len() / 4;
    for (index, group) in bytes.chunks(4).enumerate() {
        let is_last = index + 1 == groups;
        decode_group(group, is_last, &mut out)?;
    }
    Some(out)
}

/// One group of four characters; only the last group may carry padding.
fn decode_group(group: &[u8], is_last: bool, out: &mut Vec<u8>) -> Option<()> {
    let padding = group.iter().rev().take_while(|&&c| c == b'=').count();
    if padding > 2 || (padding > 0 && !is_last) {
        return None;
    }
    let significant = group.len() - padding;
    let mut bits: u32 = 0;
    for &c in group.iter().take(significant) {
        bits = (bits << 6) | u32::from(sextet(c)?);
    }
    bits <<= 6 * padding as u32;
    let [_, b0, b1, b2] = bits.to_be_bytes();
    let decoded = [b0, b1, b2];
    let keep = 3 - padding;
    // Canonical form only: bits hidden under the padding must be zero.
    if decoded.iter().skip(keep).any(|&b| b != 0) {
        return None;
    }
    out.extend_from_slice(decoded.get(..keep)?);
    Some(())
}

fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4648 section 10 test vectors.
    const VECTORS: &[(&str, &str)] = &[
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ];

    #[test]
    fn encodes_rfc4648_vectors() {
        for (plain, encoded) in VECTORS {
            assert_eq!(encode(plain.as_bytes()), *encoded, "{plain:?}");
        }
    }

    #[test]
    fn decodes_rfc4648_vectors() {
        for (plain, encoded) in VECTORS {
            assert_eq!(
                decode(encoded).as_deref(),
                Some(plain.as_bytes()),
                "{encoded:?}"
            );
        }
    }

    #[test]
    fn round_trips_every_byte_value() {
        let bytes: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for len in 0..bytes.len() {
            let slice = &bytes[..len];
            assert_eq!(decode(&encode(slice)).as_deref(), Some(slice));
        }
    }

    #[test]
    fn uses_the_plus_and_slash_alphabet() {
        assert_eq!(encode(&[0xfb, 0xff, 0xbf]), "+/+/");
        assert_eq!(decode("+/+/"), Some(vec![0xfb, 0xff, 0xbf]));
    }

    #[test]
    fn refuses_bad_length_characters_and_padding() {
        for bad in [
            "Zg", "Zg=", "Zm9", "Z===", "Zg==Zg==", "Zm9v!A==", "Zm 9v", "Zm9v\n", "====", "Zh==",
            "Zm9=", "-_==",
        ] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
    }
}
