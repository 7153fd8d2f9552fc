//! Signal names and numbers, both ways, as Supervisor spells them (`TERM`,
//! `SIGTERM` or `15` in, `SIGTERM` out). The tables follow what Python's
//! `signal` module exposes on Linux, because 4.3 parses and prints through
//! it. Pure: sending a signal lives in `kill`.

/// Every name 4.3 resolves through `getattr(signal, 'SIG' + name)` on Linux,
/// with its number. Aliases (IOT, CLD, POLL/IO) parse but never print.
/// The `SIG_*` entries are the signal module's handler and mask constants:
/// 4.3 accepts them too (`stopsignal=SIG_IGN` means 1), so we do.
const NAMES_IN: &[(&str, i32)] = &[
    ("SIGHUP", 1),
    ("SIGINT", 2),
    ("SIGQUIT", 3),
    ("SIGILL", 4),
    ("SIGTRAP", 5),
    ("SIGABRT", 6),
    ("SIGIOT", 6),
    ("SIGBUS", 7),
    ("SIGFPE", 8),
    ("SIGKILL", 9),
    ("SIGUSR1", 10),
    ("SIGSEGV", 11),
    ("SIGUSR2", 12),
    ("SIGPIPE", 13),
    ("SIGALRM", 14),
    ("SIGTERM", 15),
    ("SIGSTKFLT", 16),
    ("SIGCHLD", 17),
    ("SIGCLD", 17),
    ("SIGCONT", 18),
    ("SIGSTOP", 19),
    ("SIGTSTP", 20),
    ("SIGTTIN", 21),
    ("SIGTTOU", 22),
    ("SIGURG", 23),
    ("SIGXCPU", 24),
    ("SIGXFSZ", 25),
    ("SIGVTALRM", 26),
    ("SIGPROF", 27),
    ("SIGWINCH", 28),
    ("SIGIO", 29),
    ("SIGPOLL", 29),
    ("SIGPWR", 30),
    ("SIGSYS", 31),
    ("SIGRTMIN", SIGRTMIN),
    ("SIGRTMAX", SIGRTMAX),
    ("SIG_DFL", 0),
    ("SIG_IGN", 1),
    ("SIG_BLOCK", 0),
    ("SIG_UNBLOCK", 1),
    ("SIG_SETMASK", 2),
];

/// glibc's first real-time signal: the kernel's 32 and 33 are kept by the
/// thread library, and Python (hence 4.3) reports glibc's values.
pub(super) const SIGRTMIN: i32 = 34;
pub(super) const SIGRTMAX: i32 = 64;

/// Parses a signal as a config value or an RPC argument: a name with or
/// without `SIG`, any case, or a number.
///
/// Accepts exactly what 4.3's `datatypes.signal_number` accepts on Linux:
/// numbers 0-31, 34 and 64 (the values its signal module names; 35-63 are
/// refused) and the names in the signal module.
pub fn number(text: &str) -> Option<i32> {
    let num = match parse_python_int(text) {
        Some(num) => num,
        None => number_of_name(text)?,
    };
    is_known_number(num).then_some(num)
}

/// `SIGTERM` for 15; `signal 99` for an unknown number (as 4.3's signame).
pub fn name(signal: i32) -> String {
    match printed_name(signal) {
        Some(name) => name.to_string(),
        None => format!("signal {signal}"),
    }
}

/// The name 4.3's signame prints: Python's signal dict keeps the last alias
/// it meets, which is SIGABRT, SIGCHLD and SIGPOLL on Linux.
fn printed_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        16 => "SIGSTKFLT",
        17 => "SIGCHLD",
        18 => "SIGCONT",
        19 => "SIGSTOP",
        20 => "SIGTSTP",
        21 => "SIGTTIN",
        22 => "SIGTTOU",
        23 => "SIGURG",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        26 => "SIGVTALRM",
        27 => "SIGPROF",
        28 => "SIGWINCH",
        29 => "SIGPOLL",
        30 => "SIGPWR",
        31 => "SIGSYS",
        SIGRTMIN => "SIGRTMIN",
        SIGRTMAX => "SIGRTMAX",
        _ => return None,
    })
}

/// The numbers 4.3 accepts: those its signal module has a constant for.
fn is_known_number(num: i32) -> bool {
    (0..=31).contains(&num) || num == SIGRTMIN || num == SIGRTMAX
}

fn number_of_name(text: &str) -> Option<i32> {
    let upper = text.trim().to_ascii_uppercase();
    let full = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    NAMES_IN
        .iter()
        .find(|(name, _)| *name == full)
        .map(|(_, num)| *num)
}

/// Python's `int(text)` for what can matter here: surrounding whitespace, an
/// optional sign, ASCII digits with single underscores between them.
fn parse_python_int(text: &str) -> Option<i32> {
    let text = text.trim();
    let (negative, digits) = match text.as_bytes().first()? {
        b'+' => (false, text.get(1..)?),
        b'-' => (true, text.get(1..)?),
        _ => (false, text),
    };
    let well_formed = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    if !well_formed {
        return None;
    }
    let plain: String = digits.chars().filter(|c| *c != '_').collect();
    // Too large for i32 is not a signal either way; saturate so it is refused.
    let magnitude = plain.parse::<i64>().unwrap_or(i64::MAX);
    let value = if negative { -magnitude } else { magnitude };
    Some(i32::try_from(value).unwrap_or(i32::MIN))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_with_or_without_sig_in_any_case() {
        assert_eq!(number("TERM"), Some(15));
        assert_eq!(number("term"), Some(15));
        assert_eq!(number("SIGterm"), Some(15));
        assert_eq!(number("sigkill"), Some(9));
        assert_eq!(number(" hup "), Some(1));
        assert_eq!(number("USR2"), Some(12));
        assert_eq!(number("rtmin"), Some(34));
        assert_eq!(number("SIGRTMAX"), Some(64));
    }

    #[test]
    fn aliases_parse() {
        assert_eq!(number("iot"), Some(6));
        assert_eq!(number("cld"), Some(17));
        assert_eq!(number("poll"), Some(29));
        assert_eq!(number("IO"), Some(29));
    }

    #[test]
    fn signal_module_constants_parse_as_in_4_3() {
        assert_eq!(number("SIG_DFL"), Some(0));
        assert_eq!(number("sig_ign"), Some(1));
        assert_eq!(number("_DFL"), Some(0));
        assert_eq!(number("SIG_SETMASK"), Some(2));
    }

    #[test]
    fn numbers_parse_like_python_int() {
        assert_eq!(number("15"), Some(15));
        assert_eq!(number(" 15 "), Some(15));
        assert_eq!(number("+15"), Some(15));
        assert_eq!(number("1_5"), Some(15));
        assert_eq!(number("0"), Some(0));
        assert_eq!(number("31"), Some(31));
        assert_eq!(number("34"), Some(34));
        assert_eq!(number("64"), Some(64));
    }

    #[test]
    fn numbers_without_a_name_in_4_3_are_refused() {
        for text in [
            "32",
            "33",
            "35",
            "63",
            "65",
            "-1",
            "-15",
            "99999999999999999999",
        ] {
            assert_eq!(number(text), None, "{text}");
        }
    }

    #[test]
    fn garbage_is_refused() {
        for text in [
            "",
            " ",
            "+",
            "-",
            "15.0",
            "1__5",
            "_15",
            "15_",
            "DFL",
            "SIGSIGTERM",
            "TERM X",
            "SIG",
            "ＴＥＲＭ",
        ] {
            assert_eq!(number(text), None, "{text:?}");
        }
    }

    #[test]
    fn names_print_as_4_3_signame() {
        assert_eq!(name(15), "SIGTERM");
        assert_eq!(name(9), "SIGKILL");
        assert_eq!(name(6), "SIGABRT");
        assert_eq!(name(17), "SIGCHLD");
        assert_eq!(name(29), "SIGPOLL");
        assert_eq!(name(34), "SIGRTMIN");
        assert_eq!(name(64), "SIGRTMAX");
    }

    #[test]
    fn unknown_numbers_print_as_signal_n() {
        assert_eq!(name(0), "signal 0");
        assert_eq!(name(32), "signal 32");
        assert_eq!(name(40), "signal 40");
        assert_eq!(name(99), "signal 99");
        assert_eq!(name(-3), "signal -3");
    }

    #[test]
    fn every_known_number_round_trips() {
        for num in (1..=31).chain([34, 64]) {
            assert_eq!(number(&name(num)), Some(num));
        }
    }
}
