//! 4.3's capture mode for PROCESS_COMMUNICATION events: with
//! `stdout_capture_maxbytes` (or stderr's) set, output between
//! `<!--XSUPERVISOR:BEGIN-->` and `<!--XSUPERVISOR:END-->` is kept aside in
//! a bounded buffer instead of the log and becomes one event at the end
//! token. Ported from `POutputDispatcher.record_output` step for step,
//! including its bounded buffer's quirk. Pure.

const BEGIN: &[u8] = b"<!--XSUPERVISOR:BEGIN-->";
const END: &[u8] = b"<!--XSUPERVISOR:END-->";

/// Where a piece of output goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Output outside the tokens: the log file.
    Normal(Vec<u8>),
    /// Output inside the tokens: the capture buffer (already kept here).
    Captured(Vec<u8>),
    /// The end token closed a capture: its contents, for one event.
    Communication(Vec<u8>),
}

/// One channel's capture state.
#[derive(Debug)]
pub struct Capture {
    maxbytes: usize,
    capturing: bool,
    pending: Vec<u8>,
    captured: Vec<u8>,
}

impl Capture {
    pub fn new(maxbytes: usize) -> Capture {
        Capture {
            maxbytes,
            capturing: false,
            pending: Vec::new(),
            captured: Vec::new(),
        }
    }

    /// Output read from the child, split into where each part goes.
    pub fn feed(&mut self, data: &[u8]) -> Vec<Piece> {
        self.pending.extend_from_slice(data);
        let mut out = Vec::new();
        loop {
            let token = if self.capturing { END } else { BEGIN };
            if self.pending.len() <= token.len() {
                return out;
            }
            let mut data = std::mem::take(&mut self.pending);
            match find(&data, token) {
                Some(at) => {
                    let after = data.split_off(at + token.len());
                    data.truncate(at);
                    self.log(data, &mut out);
                    self.toggle(&mut out);
                    self.pending = after;
                    if self.pending.is_empty() {
                        return out;
                    }
                }
                None => {
                    let keep = prefix_at_end(&data, token);
                    if keep > 0 {
                        self.pending = data.split_off(data.len() - keep);
                    }
                    self.log(data, &mut out);
                    return out;
                }
            }
        }
    }

    fn log(&mut self, data: Vec<u8>, out: &mut Vec<Piece>) {
        if data.is_empty() {
            return;
        }
        if self.capturing {
            // 4.3's BoundIO: on overflow it drops as many bytes from the
            // front as it is given, then appends.
            if self.captured.len() + data.len() > self.maxbytes {
                let drop = data.len().min(self.captured.len());
                self.captured.drain(..drop);
            }
            self.captured.extend_from_slice(&data);
            out.push(Piece::Captured(data));
        } else {
            out.push(Piece::Normal(data));
        }
    }

    fn toggle(&mut self, out: &mut Vec<Piece>) {
        self.capturing = !self.capturing;
        if !self.capturing {
            out.push(Piece::Communication(std::mem::take(&mut self.captured)));
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// 4.3's find_prefix_at_end: the length of the longest proper prefix of
/// `needle` that `haystack` ends with.
fn prefix_at_end(haystack: &[u8], needle: &[u8]) -> usize {
    let mut l = needle.len().saturating_sub(1);
    while l > 0 && !haystack.ends_with(&needle[..l]) {
        l -= 1;
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_between_tokens_becomes_one_communication() {
        let mut c = Capture::new(1000);
        let pieces = c.feed(b"before <!--XSUPERVISOR:BEGIN-->hello<!--XSUPERVISOR:END--> after\n");
        assert_eq!(
            pieces,
            vec![
                Piece::Normal(b"before ".to_vec()),
                Piece::Captured(b"hello".to_vec()),
                Piece::Communication(b"hello".to_vec()),
            ]
        );
        // As in 4.3, what follows is held until there is more than a
        // token's length of it.
        assert_eq!(
            c.feed(b"and more than twenty-four bytes"),
            vec![Piece::Normal(
                b" after\nand more than twenty-four bytes".to_vec()
            )]
        );
    }

    #[test]
    fn tokens_split_across_reads_are_found() {
        let mut c = Capture::new(1000);
        let mut pieces = c.feed(b"x<!--XSUPER");
        pieces.extend(c.feed(b"VISOR:BEGIN-->ab"));
        pieces.extend(c.feed(b"c<!--XSUPERVISOR:E"));
        pieces.extend(c.feed(b"ND-->\n"));
        let comm: Vec<&Piece> = pieces
            .iter()
            .filter(|p| matches!(p, Piece::Communication(_)))
            .collect();
        assert_eq!(comm, vec![&Piece::Communication(b"abc".to_vec())]);
        assert_eq!(pieces.first(), Some(&Piece::Normal(b"x".to_vec())));
    }

    #[test]
    fn short_output_waits_and_the_bound_drops_from_the_front() {
        let mut c = Capture::new(4);
        assert_eq!(c.feed(b"hi"), vec![], "not longer than a token yet");
        let pieces =
            c.feed(b"<!--XSUPERVISOR:BEGIN-->abcdefghijklmnopqrstuvwxyz0123<!--XSUPERVISOR:END-->");
        assert_eq!(
            pieces.last(),
            Some(&Piece::Communication(
                b"abcdefghijklmnopqrstuvwxyz0123".to_vec()
            )),
            "one write larger than the bound is kept whole, as BoundIO does"
        );
    }
}
