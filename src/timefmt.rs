//! Local time for log lines and descriptions, from the TZif zone files (no libc).
//!
//! A static binary cannot ask libc's `localtime`, yet the main log must show the
//! same wall-clock stamps Python's `time.localtime` gives under the same `TZ`.
//! So we read the zone once (the file `TZ` names, else /etc/localtime, else
//! UTC) into a [`Zone`] the caller keeps, and format from it without I/O.
//! The TZif files and POSIX TZ strings are parsed by the `tz-rs` crate; this
//! module decides which zone `TZ` means (as glibc does) and formats the stamps.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use tz::error::parse::TzStringError;
use tz::timezone::TransitionRule;
use tz::{TimeZone, TzError};

/// Where zone names like `Europe/Berlin` are looked up (glibc's default TZDIR).
pub const ZONEINFO_DIR: &str = "/usr/share/zoneinfo";
/// The system's zone when `TZ` is unset.
pub const LOCALTIME_FILE: &str = "/etc/localtime";

const SECS_PER_DAY: i64 = 86_400;
const MONTH_ABBR: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAY_ABBR: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// A calendar date and time of day (proleptic Gregorian), without a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    /// 1..=12
    pub month: u8,
    /// 1..=31
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    /// 0 = Sunday .. 6 = Saturday
    pub weekday: u8,
}

/// A moment as shown on a wall clock in some zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    pub civil: Civil,
    /// Milliseconds within the second, truncated (as Python's `%03d` of msecs).
    pub millis: u16,
    /// Seconds east of UTC in effect at that moment.
    pub utc_offset: i32,
    pub is_dst: bool,
}

/// Splits a `SystemTime` into whole Unix seconds (floored) and milliseconds.
pub fn unix_parts(t: SystemTime) -> (i64, u16) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            millis_of(d.subsec_nanos()),
        ),
        Err(before) => {
            let d = before.duration();
            let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            match d.subsec_nanos() {
                0 => (secs.saturating_neg(), 0),
                nanos => (
                    secs.saturating_neg().saturating_sub(1),
                    millis_of(1_000_000_000 - nanos),
                ),
            }
        }
    }
}

fn millis_of(nanos: u32) -> u16 {
    u16::try_from(nanos / 1_000_000).unwrap_or(999)
}

/// Days since 1970-01-01 to (year, month, day), after Howard Hinnant's
/// `civil_from_days`; exact for the whole i64 range we can reach from seconds.
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, small(month), small(day))
}

/// (year, month, day) to days since 1970-01-01 (inverse of `civil_from_days`).
#[cfg(test)]
fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn small(v: i64) -> u8 {
    u8::try_from(v).unwrap_or(0)
}

/// Unix seconds to the UTC calendar date and time.
pub fn civil_from_unix(secs: i64) -> Civil {
    let days = secs.div_euclid(SECS_PER_DAY);
    let in_day = secs.rem_euclid(SECS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    Civil {
        year,
        month,
        day,
        hour: small(in_day / 3600),
        minute: small(in_day % 3600 / 60),
        second: small(in_day % 60),
        // 1970-01-01 was a Thursday.
        weekday: small((days + 4).rem_euclid(7)),
    }
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 7231 IMF-fixdate), for HTTP headers.
pub fn http_date(t: SystemTime) -> String {
    let c = civil_from_unix(unix_parts(t).0);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        weekday_name(c.weekday),
        c.day,
        month_name(c.month),
        c.year,
        c.hour,
        c.minute,
        c.second
    )
}

fn month_name(month: u8) -> &'static str {
    MONTH_ABBR
        .get(usize::from(month).wrapping_sub(1))
        .copied()
        .unwrap_or("???")
}

fn weekday_name(weekday: u8) -> &'static str {
    WEEKDAY_ABBR
        .get(usize::from(weekday))
        .copied()
        .unwrap_or("???")
}

/// One local time type of a zone: its offset and whether it is summer time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LocalType {
    utc_offset: i32,
    is_dst: bool,
}

/// A time zone loaded once: transitions from a TZif file and the rule for
/// times after the last of them (or a POSIX TZ rule alone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// Never has leap seconds: like glibc we compare Unix seconds with the
    /// transitions as they are (see [`without_leap_seconds`]).
    tz: TimeZone,
}

/// Why a zone file could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZoneError {
    Io(String),
    Malformed(&'static str),
}

impl std::fmt::Display for ZoneError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ZoneError::Io(e) => write!(f, "cannot read zone file: {e}"),
            ZoneError::Malformed(what) => write!(f, "malformed zone file: {what}"),
        }
    }
}

impl Zone {
    /// Coordinated Universal Time, the fallback for anything unreadable.
    pub fn utc() -> Zone {
        Zone {
            tz: TimeZone::utc(),
        }
    }

    /// The zone the `TZ` environment variable selects, as glibc reads it.
    pub fn from_env() -> Zone {
        let tz = std::env::var_os("TZ");
        let tz = tz.as_ref().map(|v| v.to_string_lossy());
        Zone::from_tz_setting(tz.as_deref(), Path::new(ZONEINFO_DIR))
    }

    /// Resolves a `TZ` value: unset means /etc/localtime; empty means UTC;
    /// `:spec` or `spec` names a file (absolute, or under `zoneinfo_dir`), and
    /// failing that is read as a POSIX TZ string; anything unusable is UTC.
    pub fn from_tz_setting(tz: Option<&str>, zoneinfo_dir: &Path) -> Zone {
        let Some(tz) = tz else {
            return Zone::from_file(Path::new(LOCALTIME_FILE)).unwrap_or_else(|_| Zone::utc());
        };
        let spec = tz.strip_prefix(':').unwrap_or(tz);
        if spec.is_empty() {
            return Zone::utc();
        }
        if let Some(path) = zone_file_path(spec, zoneinfo_dir) {
            if let Ok(zone) = Zone::from_file(&path) {
                return zone;
            }
        }
        match parse_posix_tz(spec) {
            Some(rule) => Zone::from_rule(rule),
            None => Zone::utc(),
        }
    }

    /// Reads a TZif file (versions 1 to 3).
    pub fn from_file(path: &Path) -> Result<Zone, ZoneError> {
        let bytes = std::fs::read(path).map_err(|e| ZoneError::Io(e.to_string()))?;
        Zone::from_tzif(&bytes)
    }

    /// Parses TZif bytes; for version 2+ the 64-bit block and the footer rule.
    pub fn from_tzif(bytes: &[u8]) -> Result<Zone, ZoneError> {
        let tz = TimeZone::from_tz_data(bytes).map_err(|e| {
            ZoneError::Malformed(match e {
                TzError::TzFile(_) => "bad TZif structure",
                TzError::TzString(_) => "bad TZ string in the footer",
                _ => "inconsistent zone data",
            })
        })?;
        Ok(Zone {
            tz: without_leap_seconds(tz),
        })
    }

    fn from_rule(rule: TransitionRule) -> Zone {
        let types = match rule {
            TransitionRule::Fixed(t) => vec![t],
            TransitionRule::Alternate(a) => vec![*a.std(), *a.dst()],
        };
        TimeZone::new(Vec::new(), types, Vec::new(), Some(rule))
            .map_or_else(|_| Zone::utc(), |tz| Zone { tz })
    }

    /// The local type in force at Unix second `secs`.
    fn local_type_at(&self, secs: i64) -> LocalType {
        let tz = self.tz.as_ref();
        let types = tz.local_time_types();
        // tz-rs has no answer past the last transition of a file without a
        // rule (glibc keeps that transition's type), nor for years beyond i32.
        let found = tz.find_local_time_type(secs).ok().or_else(|| {
            tz.transitions()
                .last()
                .filter(|last| secs >= last.unix_leap_time())
                .and_then(|last| types.get(last.local_time_type_index()))
                .or(types.first())
        });
        found.map_or(
            LocalType {
                utc_offset: 0,
                is_dst: false,
            },
            |t| LocalType {
                utc_offset: t.ut_offset(),
                is_dst: t.is_dst(),
            },
        )
    }

    /// The wall-clock reading of `t` in this zone.
    pub fn local(&self, t: SystemTime) -> LocalTime {
        let (secs, millis) = unix_parts(t);
        let local_type = self.local_type_at(secs);
        LocalTime {
            civil: civil_from_unix(secs.saturating_add(i64::from(local_type.utc_offset))),
            millis,
            utc_offset: local_type.utc_offset,
            is_dst: local_type.is_dst,
        }
    }

    /// `2026-01-02 03:04:05,678`: the stamp of a main log line (4.3's asctime).
    pub fn log_stamp(&self, t: SystemTime) -> String {
        let l = self.local(t);
        let c = l.civil;
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:03}",
            c.year, c.month, c.day, c.hour, c.minute, c.second, l.millis
        )
    }

    /// `2026-01-02T03:04:05.678`: ISO 8601 local time with milliseconds and
    /// no offset, the `timestamps=true` stamp of captured lines (sortable,
    /// and what people paste into tools that read ISO dates).
    pub fn iso_stamp(&self, t: SystemTime) -> String {
        let l = self.local(t);
        let c = l.civil;
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}",
            c.year, c.month, c.day, c.hour, c.minute, c.second, l.millis
        )
    }

    /// `Nov 23 06:59 PM`: Python's `strftime('%b %d %I:%M %p')` in the C locale,
    /// used in process descriptions.
    pub fn short_stamp(&self, t: SystemTime) -> String {
        let c = self.local(t).civil;
        let hour12 = match c.hour % 12 {
            0 => 12,
            h => h,
        };
        let meridiem = if c.hour < 12 { "AM" } else { "PM" };
        format!(
            "{} {:02} {:02}:{:02} {}",
            month_name(c.month),
            c.day,
            hour12,
            c.minute,
            meridiem
        )
    }
}

/// Where a zone name points: absolute paths as given; names under the zoneinfo
/// directory unless they try to climb out of it.
fn zone_file_path(spec: &str, zoneinfo_dir: &Path) -> Option<PathBuf> {
    if spec.starts_with('/') {
        return Some(PathBuf::from(spec));
    }
    if spec.split('/').any(|part| part == "..") {
        return None;
    }
    Some(zoneinfo_dir.join(spec))
}

/// The zone without its leap-second table (the `right/` zones): glibc looks
/// the local type up by the Unix seconds as given, while tz-rs would first
/// add the leap seconds passed.
fn without_leap_seconds(tz: TimeZone) -> TimeZone {
    let r = tz.as_ref();
    if r.leap_seconds().is_empty() {
        return tz;
    }
    let stripped = TimeZone::new(
        r.transitions().to_vec(),
        r.local_time_types().to_vec(),
        Vec::new(),
        *r.extra_rule(),
    );
    stripped.unwrap_or(tz)
}

/// Parses `std offset [dst [offset] [,start[/time],end[/time]]]` as glibc
/// does, with the TZif v3 extensions of negative and >24h switch times. A DST
/// name without rules gets the US default rule as glibc does.
fn parse_posix_tz(text: &str) -> Option<TransitionRule> {
    if text
        .bytes()
        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return None;
    }
    let rule = match rule_of_footer(text) {
        Err(TzError::TzString(TzStringError::MissingDstStartEndRules)) => {
            rule_of_footer(&format!("{text},M3.2.0,M11.1.0")).ok()?
        }
        rule => rule.ok()?,
    };
    // tz-rs takes one- and two-letter names too; glibc wants three or more.
    let names = match &rule {
        TransitionRule::Fixed(t) => [t, t],
        TransitionRule::Alternate(a) => [a.std(), a.dst()],
    };
    names
        .iter()
        .all(|t| t.time_zone_designation().len() >= 3)
        .then_some(rule)
}

/// tz-rs takes a TZ string with the v3 extensions (which glibc also allows in
/// `TZ`) only as the footer of a version 3 TZif file, so the string is read
/// as the footer of an empty one: no transitions, one unused UTC type.
fn rule_of_footer(text: &str) -> Result<TransitionRule, TzError> {
    let mut file = Vec::with_capacity(2 * 51 + text.len() + 2);
    for _ in 0..2 {
        file.extend_from_slice(b"TZif3");
        file.extend_from_slice(&[0; 15]);
        // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
        for count in [0u32, 0, 0, 0, 1, 1] {
            file.extend_from_slice(&count.to_be_bytes());
        }
        // The type (offset 0, not DST, designation at 0) and an empty designation.
        file.extend_from_slice(&[0; 7]);
    }
    file.push(b'\n');
    file.extend_from_slice(text.as_bytes());
    file.push(b'\n');
    let zone = TimeZone::from_tz_data(&file)?;
    (*zone.as_ref().extra_rule()).ok_or(TzError::NoAvailableLocalTimeType)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: i64) -> SystemTime {
        if secs >= 0 {
            UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
        } else {
            UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
        }
    }

    fn stamp(zone: &Zone, secs: i64) -> String {
        let l = zone.local(at(secs));
        let c = l.civil;
        let sign = if l.utc_offset < 0 { '-' } else { '+' };
        let off = l.utc_offset.unsigned_abs();
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} {}{:02}{:02}",
            c.year,
            c.month,
            c.day,
            c.hour,
            c.minute,
            c.second,
            sign,
            off / 3600,
            off % 3600 / 60
        )
    }

    fn system_zone(name: &str) -> Option<Zone> {
        let path = Path::new(ZONEINFO_DIR).join(name);
        if !path.exists() {
            eprintln!("skipping: {} not installed", path.display());
            return None;
        }
        Some(Zone::from_file(&path).expect("installed zone parses"))
    }

    // Expected values below were produced by Python's time.localtime under
    // the same TZ on glibc.
    #[test]
    fn new_york_across_dst() {
        let Some(z) = system_zone("America/New_York") else {
            return;
        };
        let cases = [
            (0, "1969-12-31 19:00:00 -0500"),
            (1772953199, "2026-03-08 01:59:59 -0500"),
            (1772953200, "2026-03-08 03:00:00 -0400"),
            (1762063199, "2025-11-02 01:59:59 -0400"),
            (1762063200, "2025-11-02 01:00:00 -0500"),
            (4108492800, "2100-03-11 19:00:00 -0500"),
            (4118126400, "2100-07-01 08:00:00 -0400"),
            (638000000, "1990-03-21 01:13:20 -0500"),
            (1751370000, "2025-07-01 07:40:00 -0400"),
            (-1000000000, "1938-04-24 18:13:20 -0400"),
        ];
        for (secs, want) in cases {
            assert_eq!(stamp(&z, secs), want, "at {secs}");
        }
    }

    #[test]
    fn berlin_across_dst() {
        let Some(z) = system_zone("Europe/Berlin") else {
            return;
        };
        let cases = [
            (0, "1970-01-01 01:00:00 +0100"),
            (1751370000, "2025-07-01 13:40:00 +0200"),
            (1774745999, "2026-03-29 01:59:59 +0100"),
            (1774746000, "2026-03-29 03:00:00 +0200"),
            (4108492800, "2100-03-12 01:00:00 +0100"),
            (4118126400, "2100-07-01 14:00:00 +0200"),
            (-1000000000, "1938-04-24 23:13:20 +0100"),
        ];
        for (secs, want) in cases {
            assert_eq!(stamp(&z, secs), want, "at {secs}");
        }
    }

    #[test]
    fn sydney_summer_spans_new_year() {
        let Some(z) = system_zone("Australia/Sydney") else {
            return;
        };
        assert_eq!(stamp(&z, 1772953200), "2026-03-08 18:00:00 +1100");
        assert_eq!(stamp(&z, 1751370000), "2025-07-01 21:40:00 +1000");
        assert_eq!(stamp(&z, 4108492800), "2100-03-12 11:00:00 +1100");
        assert_eq!(stamp(&z, 4118126400), "2100-07-01 22:00:00 +1000");
        assert_eq!(stamp(&z, 4102488000), "2100-01-01 23:00:00 +1100");
    }

    #[test]
    fn posix_rule_only_zone() {
        let z = Zone::from_tz_setting(Some("EST5EDT,M3.2.0,M11.1.0"), Path::new("/nonexistent"));
        assert_eq!(stamp(&z, 1772953199), "2026-03-08 01:59:59 -0500");
        assert_eq!(stamp(&z, 1772953200), "2026-03-08 03:00:00 -0400");
        assert_eq!(stamp(&z, 1762063199), "2025-11-02 01:59:59 -0400");
        assert_eq!(stamp(&z, 1762063200), "2025-11-02 01:00:00 -0500");
        assert_eq!(stamp(&z, 638000000), "1990-03-21 02:13:20 -0400");
    }

    #[test]
    fn posix_quoted_names_and_minutes() {
        let z = Zone::from_tz_setting(Some("<+0530>-5:30"), Path::new("/nonexistent"));
        assert_eq!(stamp(&z, 0), "1970-01-01 05:30:00 +0530");
        let z = Zone::from_tz_setting(Some("<-03>3"), Path::new("/nonexistent"));
        assert_eq!(stamp(&z, 0), "1969-12-31 21:00:00 -0300");
    }

    #[test]
    fn posix_julian_rules() {
        // DST from day 60 (Mar 1 in any year) to day 300 (counting Feb 29).
        let rule = parse_posix_tz("AAA0BBB,J60/0,300/0").expect("parses");
        let z = Zone::from_rule(rule);
        // 2024 is leap: J60 is Mar 1, day 300 (0-based) is Oct 27.
        let mar1 = days_from_civil(2024, 3, 1) * SECS_PER_DAY;
        assert_eq!(z.local_type_at(mar1 - 1).utc_offset, 0);
        assert_eq!(z.local_type_at(mar1).utc_offset, 3600);
        let oct27 = days_from_civil(2024, 10, 27) * SECS_PER_DAY;
        assert_eq!(z.local_type_at(oct27 - 3601).utc_offset, 3600);
        assert_eq!(z.local_type_at(oct27 - 3600).utc_offset, 0);
    }

    #[test]
    fn posix_v3_switch_times_and_short_names() {
        // glibc reads `TZ` with the TZif v3 grammar: switch times past 24h or
        // negative (Israel's and Greenland's footers); names need 3 letters.
        let dir = Path::new("/nonexistent");
        let z = Zone::from_tz_setting(Some("IST-2IDT,M3.4.4/26,M10.5.0"), dir);
        assert_eq!(stamp(&z, 1774569599), "2026-03-27 01:59:59 +0200");
        assert_eq!(stamp(&z, 1774569600), "2026-03-27 03:00:00 +0300");
        let z = Zone::from_tz_setting(Some("<-02>2<-01>,M3.5.0/-1,M10.5.0/0"), dir);
        assert_eq!(stamp(&z, 1774745999), "2026-03-28 22:59:59 -0200");
        assert_eq!(stamp(&z, 1774746000), "2026-03-29 00:00:00 -0100");
        for tz in ["A5", "AB5", "<AB>5", "EST5AB,M3.2.0,M11.1.0"] {
            let z = Zone::from_tz_setting(Some(tz), dir);
            assert_eq!(z, Zone::utc(), "TZ={tz:?}");
        }
    }

    #[test]
    fn bad_tz_values_fall_back_to_utc() {
        for tz in [
            "",
            ":",
            "UT",
            "Nowhere/Zone",
            "../../etc/passwd",
            "EST5EDT,M13.1.0,M11.1.0",
            "EST5EDT,M3.2.0",
            "EST",
            "EST5EDT,M3.2.0,M11.1.0junk",
        ] {
            let z = Zone::from_tz_setting(Some(tz), Path::new("/nonexistent"));
            assert_eq!(z, Zone::utc(), "TZ={tz:?}");
        }
    }

    #[test]
    fn zone_names_resolve_under_zoneinfo_and_colon_paths() {
        let Some(berlin) = system_zone("Europe/Berlin") else {
            return;
        };
        let dir = Path::new(ZONEINFO_DIR);
        assert_eq!(Zone::from_tz_setting(Some("Europe/Berlin"), dir), berlin);
        assert_eq!(Zone::from_tz_setting(Some(":Europe/Berlin"), dir), berlin);
        let abs = format!(":{ZONEINFO_DIR}/Europe/Berlin");
        assert_eq!(Zone::from_tz_setting(Some(&abs), dir), berlin);
    }

    #[test]
    fn utc_file_is_utc() {
        let Some(z) = system_zone("UTC") else {
            return;
        };
        assert_eq!(stamp(&z, 1774745999), "2026-03-29 00:59:59 +0000");
        assert_eq!(stamp(&z, -1000000000), "1938-04-24 22:13:20 +0000");
    }

    #[test]
    fn malformed_tzif_is_an_error_not_a_panic() {
        assert!(Zone::from_tzif(b"").is_err());
        assert!(Zone::from_tzif(b"TZif").is_err());
        assert!(Zone::from_tzif(b"NOPE2...............").is_err());
        let mut header = b"TZif2".to_vec();
        header.extend_from_slice(&[0; 15]);
        // counts: typecnt = 0 is invalid
        header.extend_from_slice(&[0; 24]);
        assert!(Zone::from_tzif(&header).is_err());
        // huge counts must not allocate or panic
        let mut huge = b"TZif\0".to_vec();
        huge.extend_from_slice(&[0; 15]);
        huge.extend_from_slice(&[0xff; 24]);
        assert!(Zone::from_tzif(&huge).is_err());
        if let Ok(real) = std::fs::read(Path::new(ZONEINFO_DIR).join("Europe/Berlin")) {
            for cut in [10, 44, 60, 200, real.len() / 2] {
                if let Some(prefix) = real.get(..cut) {
                    assert!(Zone::from_tzif(prefix).is_err(), "cut at {cut}");
                }
            }
        }
    }

    #[test]
    fn hand_built_v1_file() {
        // One transition at t=1000 from +1h to +2h (DST).
        let mut f = b"TZif\0".to_vec();
        f.extend_from_slice(&[0; 15]);
        for count in [0u32, 0, 0, 1, 2, 4] {
            f.extend_from_slice(&count.to_be_bytes());
        }
        f.extend_from_slice(&1000i32.to_be_bytes());
        f.push(1);
        f.extend_from_slice(&3600i32.to_be_bytes());
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(&7200i32.to_be_bytes());
        f.extend_from_slice(&[1, 0]);
        f.extend_from_slice(b"AB\0\0");
        let z = Zone::from_tzif(&f).expect("valid v1");
        assert_eq!(z.local_type_at(999).utc_offset, 3600);
        assert_eq!(z.local_type_at(1000).utc_offset, 7200);
        assert!(z.local_type_at(1000).is_dst);
        assert_eq!(z.local_type_at(i64::MAX).utc_offset, 7200);
    }

    #[test]
    fn log_stamp_has_milliseconds_after_a_comma() {
        let z = Zone::utc();
        let t = at(1767323045) + Duration::from_millis(678);
        assert_eq!(z.log_stamp(t), "2026-01-02 03:04:05,678");
        let t = at(1767323045) + Duration::from_nanos(999_999_999);
        assert_eq!(z.log_stamp(t), "2026-01-02 03:04:05,999");
        assert_eq!(z.log_stamp(at(0)), "1970-01-01 00:00:00,000");
    }

    #[test]
    fn iso_stamp_is_local_with_milliseconds() {
        let t = at(1767323045) + Duration::from_millis(78);
        assert_eq!(Zone::utc().iso_stamp(t), "2026-01-02T03:04:05.078");
        let ny = Zone::from_tz_setting(Some("EST5EDT,M3.2.0,M11.1.0"), Path::new("/x"));
        assert_eq!(ny.iso_stamp(t), "2026-01-01T22:04:05.078");
    }

    #[test]
    fn short_stamp_is_twelve_hour_c_locale() {
        let z = Zone::utc();
        assert_eq!(z.short_stamp(at(0)), "Jan 01 12:00 AM");
        assert_eq!(z.short_stamp(at(1774745999)), "Mar 29 12:59 AM");
        assert_eq!(z.short_stamp(at(1751370000)), "Jul 01 11:40 AM");
        assert_eq!(z.short_stamp(at(43200)), "Jan 01 12:00 PM");
        assert_eq!(z.short_stamp(at(-1000000000)), "Apr 24 10:13 PM");
        let ny = Zone::from_tz_setting(Some("EST5EDT,M3.2.0,M11.1.0"), Path::new("/x"));
        assert_eq!(ny.short_stamp(at(1774746000)), "Mar 28 09:00 PM");
    }

    #[test]
    fn http_date_is_rfc7231() {
        assert_eq!(http_date(at(784111777)), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(at(0)), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(at(951782400)), "Tue, 29 Feb 2000 00:00:00 GMT");
    }

    #[test]
    fn civil_round_trips_and_before_epoch() {
        for days in [-719_468 - 400, -1, 0, 59, 11_016, 2_932_896, 10_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        let c = civil_from_unix(-1);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute, c.second),
            (1969, 12, 31, 23, 59, 59)
        );
        assert_eq!(c.weekday, 3);
        assert_eq!(unix_parts(at(-1) - Duration::from_millis(250)), (-2, 750));
        // Extreme values must not panic.
        let _ = civil_from_unix(i64::MAX);
        let _ = civil_from_unix(i64::MIN);
        let far = UNIX_EPOCH + Duration::from_secs(u64::MAX / 4);
        let _ = Zone::utc().log_stamp(far);
        let _ = Zone::from_tz_setting(Some("EST5EDT"), Path::new("/x")).log_stamp(far);
    }

    #[test]
    fn month_week_day_last_week() {
        // M10.5.0 = last Sunday of October: 2026-10-25 (summer time ends at
        // 00:00 summer time that day, 2026-10-24 23:00 UTC; not a week before).
        let rule = parse_posix_tz("AAA0BBB,M3.5.0/0,M10.5.0/0").expect("parses");
        let z = Zone::from_rule(rule);
        let oct25 = days_from_civil(2026, 10, 25) * SECS_PER_DAY;
        assert!(z.local_type_at(oct25 - 3601).is_dst);
        assert!(!z.local_type_at(oct25 - 3600).is_dst);
        assert!(z.local_type_at(oct25 - 7 * SECS_PER_DAY).is_dst);
    }
}
