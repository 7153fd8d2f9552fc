//! HTTP basic authentication against a plain or `{SHA}` password, compared
//! in constant time. Includes the small SHA-1 it needs (base64 lives in
//! `crate::base64`, shared with the XML-RPC codec).
//!
//! Matching Supervisor 4.3 (`http.py` encrypted_dictionary_authorizer and
//! medusa's auth_handler): the scheme word is case-insensitive, user names
//! and passwords are compared exactly, the password is everything after the
//! first `:`, and a `{SHA}` password matches only Python's lower-case
//! `hexdigest()`: upper-case hex in the config never matches there either.

use crate::config::{Credentials, Password};

/// True when the `Authorization` header value matches the credentials.
pub fn check(authorization: Option<&str>, creds: &Credentials) -> bool {
    let Some((user, password)) = authorization.and_then(decode_basic) else {
        return false;
    };
    let user_matches = constant_time_eq(user.as_bytes(), creds.username.as_bytes());
    let password_matches = password_matches(&password, &creds.password);
    // Both comparisons always run, so timing does not tell which one failed.
    user_matches & password_matches
}

/// The `Authorization` header value a client sends for these credentials.
pub fn basic_header(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        crate::base64::encode(format!("{user}:{pass}").as_bytes())
    )
}

/// `Basic <base64 of user:password>` -> (user, password).
fn decode_basic(header: &str) -> Option<(String, String)> {
    let (scheme, token) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = crate::base64::decode(token.trim_matches([' ', '\t']))?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn password_matches(given: &str, stored: &Password) -> bool {
    match stored {
        Password::Plain(expected) => constant_time_eq(given.as_bytes(), expected.as_bytes()),
        Password::Sha1Hex(expected) => {
            // Tolerate the config layer keeping the `{SHA}` marker.
            let expected = expected.strip_prefix("{SHA}").unwrap_or(expected);
            let digest = to_lower_hex(&sha1(given.as_bytes()));
            constant_time_eq(digest.as_bytes(), expected.as_bytes())
        }
    }
}

/// Compares without stopping at the first difference, so the time taken
/// does not reveal how much of a guess was right (only its length).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

pub fn to_lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// SHA-1 (FIPS 180-4). Only used to check `{SHA}` passwords, as Supervisor
/// does; it is not relied on for anything else.
pub fn sha1(message: &[u8]) -> [u8; 20] {
    let mut state: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let bit_length = (message.len() as u64).wrapping_mul(8);
    let mut tail = Vec::with_capacity(128);
    let whole_blocks = message.len() - message.len() % 64;
    tail.extend_from_slice(message.get(whole_blocks..).unwrap_or_default());
    tail.push(0x80);
    while tail.len() % 64 != 56 {
        tail.push(0);
    }
    tail.extend_from_slice(&bit_length.to_be_bytes());
    let blocks = message
        .get(..whole_blocks)
        .unwrap_or_default()
        .chunks_exact(64);
    for block in blocks.chain(tail.chunks_exact(64)) {
        compress(&mut state, block);
    }
    let mut digest = [0u8; 20];
    for (out, word) in digest.chunks_exact_mut(4).zip(state) {
        out.copy_from_slice(&word.to_be_bytes());
    }
    digest
}

fn compress(state: &mut [u32; 5], block: &[u8]) {
    let mut w = [0u32; 80];
    for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
        *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    for t in 16..80 {
        w[t] = (w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]).rotate_left(1);
    }
    let [mut a, mut b, mut c, mut d, mut e] = *state;
    for (t, &word) in w.iter().enumerate() {
        let (f, k) = match t {
            0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
            20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
            40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
            _ => (b ^ c ^ d, 0xCA62_C1D6),
        };
        let temp = a
            .rotate_left(5)
            .wrapping_add(f)
            .wrapping_add(e)
            .wrapping_add(k)
            .wrapping_add(word);
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = temp;
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d, e]) {
        *s = s.wrapping_add(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha1_hex(message: &[u8]) -> String {
        to_lower_hex(&sha1(message))
    }

    fn plain(user: &str, pass: &str) -> Credentials {
        Credentials {
            username: user.into(),
            password: Password::Plain(pass.into()),
        }
    }

    fn hashed(user: &str, hex: &str) -> Credentials {
        Credentials {
            username: user.into(),
            password: Password::Sha1Hex(hex.into()),
        }
    }

    #[test]
    fn sha1_fips_180_and_rfc_3174_vectors() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            sha1_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        assert_eq!(
            sha1_hex(&vec![b'a'; 1_000_000]),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
        );
        assert_eq!(
            sha1_hex(
                &b"0123456701234567012345670123456701234567012345670123456701234567".repeat(10)
            ),
            "dea356a2cddd90c7a7ecedc5ebb563934f460452"
        );
    }

    #[test]
    fn sha1_around_block_boundaries() {
        // From Python's hashlib.sha1(b"x" * n).hexdigest().
        let cases = [
            (55, "cef734ba81a024479e09eb5a75b6ddae62e6abf1"),
            (56, "901305367c259952f4e7af8323f480d59f81335b"),
            (63, "0ddc4e0cccd9a12850deb5abb0853a4425559fec"),
            (64, "bb2fa3ee7afb9f54c6dfb5d021f14b1ffe40c163"),
            (65, "78c741ddc482e4cdf8c474a0876347a0905b6233"),
        ];
        for (n, hex) in cases {
            assert_eq!(sha1_hex(&vec![b'x'; n]), hex, "{n}");
        }
    }

    #[test]
    fn plain_passwords() {
        let creds = plain("user", "123");
        assert!(check(Some(&basic_header("user", "123")), &creds));
        assert!(check(Some("Basic dXNlcjoxMjM="), &creds));
        assert!(!check(Some(&basic_header("user", "1234")), &creds));
        assert!(!check(Some(&basic_header("user", "12")), &creds));
        assert!(!check(Some(&basic_header("User", "123")), &creds));
        assert!(!check(Some(&basic_header("use", "123")), &creds));
        assert!(!check(None, &creds));
    }

    #[test]
    fn the_password_is_everything_after_the_first_colon() {
        let creds = plain("user", "a:b:c");
        assert!(check(Some(&basic_header("user", "a:b:c")), &creds));
        let empty = plain("user", "");
        assert!(check(Some(&basic_header("user", "")), &empty));
        assert!(!check(
            Some(&format!("Basic {}", crate::base64::encode(b"user"))),
            &empty
        ));
    }

    #[test]
    fn unicode_credentials() {
        let creds = plain("jos\u{e9}", "p\u{e4}ss \u{2603}");
        assert!(check(
            Some(&basic_header("jos\u{e9}", "p\u{e4}ss \u{2603}")),
            &creds
        ));
    }

    #[test]
    fn sha_passwords_match_pythons_lower_case_hexdigest() {
        // sha1(b"thepassword").hexdigest()
        let hex = "82ab876d1387bfafe46cc1c8a2ef074eae50cb1d";
        assert_eq!(sha1_hex(b"thepassword"), hex);
        let creds = hashed("chris", hex);
        assert!(check(Some(&basic_header("chris", "thepassword")), &creds));
        assert!(!check(Some(&basic_header("chris", hex)), &creds));
        assert!(!check(Some(&basic_header("chris", "thepasswor")), &creds));
        let marked = hashed("chris", &format!("{{SHA}}{hex}"));
        assert!(check(Some(&basic_header("chris", "thepassword")), &marked));
        // Supervisor compares with `==` against hexdigest(): upper case never matches.
        let upper = hashed("chris", &hex.to_uppercase());
        assert!(!check(Some(&basic_header("chris", "thepassword")), &upper));
    }

    #[test]
    fn the_scheme_word_is_case_insensitive() {
        let creds = plain("user", "123");
        for header in [
            "basic dXNlcjoxMjM=",
            "BASIC dXNlcjoxMjM=",
            "Basic  dXNlcjoxMjM= ",
        ] {
            assert!(check(Some(header), &creds), "{header:?}");
        }
    }

    #[test]
    fn malformed_headers_are_refused() {
        let creds = plain("user", "123");
        for header in [
            "",
            "Basic",
            "Basic ",
            "Bearer dXNlcjoxMjM=",
            "Digest dXNlcjoxMjM=",
            "BasicdXNlcjoxMjM=",
            "Basic dXNlcjoxMjM",
            "Basic dXNl cjoxMjM=",
            "Basic !!!!",
            "Basic //79", // not UTF-8
        ] {
            assert!(!check(Some(header), &creds), "{header:?}");
        }
    }

    #[test]
    fn basic_header_is_one_line_even_for_long_credentials() {
        let header = basic_header(&"u".repeat(100), &"p".repeat(100));
        assert!(header.starts_with("Basic "));
        assert!(!header.contains('\n'));
        assert_eq!(basic_header("user", "123"), "Basic dXNlcjoxMjM=");
    }

    #[test]
    fn constant_time_eq_compares_whole_inputs() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"xbc"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
