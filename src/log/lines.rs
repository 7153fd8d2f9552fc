//! Line-aware decoration of captured output, as a pure state machine:
//! `Prefixer` puts a prefix (`*_logfile_prefix=`, `timestamps=true`) in
//! front of every line of a byte stream that arrives in arbitrary pieces.
//!
//! Neither reads the clock: the caller passes the stamp of "now" (the time
//! the current piece was read), which becomes the stamp of every line that
//! starts in that piece.

use crate::config::PrefixPart;

/// The prefix a channel's lines get: `timestamps=true` (stamp and a space)
/// first, then the expanded `*_logfile_prefix=` template. None when neither
/// is set, so the channel stays byte-exact and allocation-free.
pub fn channel_prefix(timestamps: bool, template: Option<&[PrefixPart]>) -> Option<Prefixer> {
    let mut parts = Vec::new();
    if timestamps {
        parts.push(PrefixPart::Timestamp);
        parts.push(PrefixPart::Text(" ".to_string()));
    }
    parts.extend(template.unwrap_or_default().iter().cloned());
    Prefixer::new(parts)
}

/// Prefixes every line. A line split across pieces gets one prefix, put in
/// front of its first byte: a partial last line is prefixed when it starts.
#[derive(Debug, Clone)]
pub struct Prefixer {
    parts: Vec<PrefixPart>,
    at_line_start: bool,
}

impl Prefixer {
    /// None for an empty template (nothing to add).
    pub fn new(parts: Vec<PrefixPart>) -> Option<Prefixer> {
        let empty = parts
            .iter()
            .all(|p| matches!(p, PrefixPart::Text(t) if t.is_empty()));
        (!empty).then_some(Prefixer {
            parts,
            at_line_start: true,
        })
    }

    /// Whether `feed` uses its stamp (spares formatting the time).
    pub fn needs_time(&self) -> bool {
        self.parts.contains(&PrefixPart::Timestamp)
    }

    /// `data` with the prefix before each line that starts in it.
    pub fn feed(&mut self, data: &[u8], stamp: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 64);
        let mut rest = data;
        while !rest.is_empty() {
            if self.at_line_start {
                self.render(stamp, &mut out);
                self.at_line_start = false;
            }
            match rest.iter().position(|&b| b == b'\n') {
                Some(newline) => {
                    let (line, tail) = rest.split_at(newline + 1);
                    out.extend_from_slice(line);
                    self.at_line_start = true;
                    rest = tail;
                }
                None => {
                    out.extend_from_slice(rest);
                    rest = &[];
                }
            }
        }
        out
    }

    /// The writer went away (the pipe closed): whatever comes next, from a
    /// new child, starts a line of its own and gets its prefix.
    pub fn line_break(&mut self) {
        self.at_line_start = true;
    }

    fn render(&self, stamp: &str, out: &mut Vec<u8>) {
        for part in &self.parts {
            match part {
                PrefixPart::Text(text) => out.extend_from_slice(text.as_bytes()),
                PrefixPart::Timestamp => out.extend_from_slice(stamp.as_bytes()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> PrefixPart {
        PrefixPart::Text(t.to_string())
    }

    fn stamped() -> Prefixer {
        channel_prefix(true, Some(&[text("web: ")])).expect("prefixer")
    }

    #[test]
    fn nothing_set_means_no_prefixer() {
        assert!(channel_prefix(false, None).is_none());
        assert!(channel_prefix(false, Some(&[text("")])).is_none());
        assert!(channel_prefix(false, Some(&[text("x")])).is_some());
    }

    #[test]
    fn every_line_gets_the_prefix_with_the_stamp_first() {
        let mut p = stamped();
        assert!(p.needs_time());
        assert_eq!(p.feed(b"a\nb\n", "T1"), b"T1 web: a\nT1 web: b\n");
    }

    #[test]
    fn a_line_split_across_pieces_gets_one_prefix_stamped_when_it_started() {
        let mut p = stamped();
        assert_eq!(p.feed(b"hel", "T1"), b"T1 web: hel");
        assert_eq!(p.feed(b"lo\nnext", "T2"), b"lo\nT2 web: next");
        assert_eq!(p.feed(b"", "T3"), b"");
        assert_eq!(p.feed(b"\n", "T3"), b"\n");
        assert_eq!(p.feed(b"\n", "T4"), b"T4 web: \n");
    }

    #[test]
    fn a_new_writer_starts_a_new_line() {
        let mut p = Prefixer::new(vec![text("> ")]).expect("prefixer");
        assert!(!p.needs_time());
        assert_eq!(p.feed(b"partial", ""), b"> partial");
        p.line_break();
        assert_eq!(p.feed(b"again\n", ""), b"> again\n");
    }

    #[test]
    fn template_timestamps_go_where_the_template_puts_them() {
        let mut p =
            Prefixer::new(vec![text("["), PrefixPart::Timestamp, text("] ")]).expect("prefixer");
        assert_eq!(p.feed(b"x\n", "T"), b"[T] x\n");
    }
}
