//! Line-aware decoration of captured output, as two pure state machines:
//! `Prefixer` puts a prefix (`*_logfile_prefix=`, `timestamps=true`) in
//! front of every line of a byte stream that arrives in arbitrary pieces,
//! and `Joiner` holds a partial line back until it is whole (forwarding to
//! supervisord's own stdout, where two programs' halves must not mix).
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

/// Longest line a `Joiner` holds back: past it the line is cut (a newline
/// added) so a child that never writes a newline cannot make the daemon
/// hold an unbounded amount of text.
pub const HELD_LINE_LIMIT: usize = 64 * 1024;

/// Turns pieces of a stream into whole lines, each with a head (`[name] `,
/// maybe a stamp before it) fixed when the line started.
#[derive(Debug, Default)]
pub struct Joiner {
    /// The partial line, head included; empty when at a line start.
    held: Vec<u8>,
}

impl Joiner {
    pub fn new() -> Joiner {
        Joiner::default()
    }

    /// Appends the whole lines `data` completes to `out` (each ending in a
    /// newline, each with its head); keeps a trailing partial line.
    /// `head` is asked for once per line start.
    pub fn feed(&mut self, data: &[u8], head: &mut dyn FnMut() -> String, out: &mut Vec<u8>) {
        let mut rest = data;
        while !rest.is_empty() {
            if self.held.is_empty() {
                self.held.extend_from_slice(head().as_bytes());
            }
            match rest.iter().position(|&b| b == b'\n') {
                Some(newline) => {
                    let (line, tail) = rest.split_at(newline + 1);
                    out.extend_from_slice(&self.held);
                    out.extend_from_slice(line);
                    self.held.clear();
                    rest = tail;
                }
                None => {
                    self.held.extend_from_slice(rest);
                    rest = &[];
                    if self.held.len() >= HELD_LINE_LIMIT {
                        self.finish(out);
                    }
                }
            }
        }
    }

    /// The stream ended (or the held line grew too long): the held partial
    /// line, if any, goes out with a newline added.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if !self.held.is_empty() {
            out.append(&mut self.held);
            out.push(b'\n');
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

    #[test]
    fn joiner_holds_partial_lines_and_heads_each_once() {
        let mut j = Joiner::new();
        let mut heads = 0;
        let mut head = || {
            heads += 1;
            format!("[w{heads}] ")
        };
        let mut out = Vec::new();
        j.feed(b"hel", &mut head, &mut out);
        assert_eq!(out, b"");
        j.feed(b"lo\nbye\npart", &mut head, &mut out);
        assert_eq!(out, b"[w1] hello\n[w2] bye\n");
        out.clear();
        j.finish(&mut out);
        assert_eq!(out, b"[w3] part\n");
        out.clear();
        j.finish(&mut out);
        assert_eq!(out, b"", "nothing held, nothing added");
    }

    #[test]
    fn joiner_cuts_a_line_that_never_ends() {
        let mut j = Joiner::new();
        let mut head = || "h ".to_string();
        let mut out = Vec::new();
        let long = vec![b'x'; HELD_LINE_LIMIT + 10];
        j.feed(&long, &mut head, &mut out);
        assert_eq!(out.len(), HELD_LINE_LIMIT + 10 + 3);
        assert_eq!(out.last(), Some(&b'\n'));
    }
}
