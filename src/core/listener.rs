//! The event listener protocol on a listener's stdout, ported from 4.3's
//! `PEventListenerDispatcher` step for step (including where it waits for
//! more bytes), so a listener that works with 4.3 sees the same states here.
//! Pure: bytes in, what happened out; the core sends events and logs.

/// 4.3's listener states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerState {
    /// Waiting for `READY\n` (also the state a new listener starts in).
    Acknowledged,
    Ready,
    /// An event was sent; waiting for `RESULT <len>\n` and the result.
    Busy,
    /// The listener broke the protocol; it gets no more events.
    Unknown,
}

impl ListenerState {
    pub fn name(self) -> &'static str {
        match self {
            ListenerState::Acknowledged => "ACKNOWLEDGED",
            ListenerState::Ready => "READY",
            ListenerState::Busy => "BUSY",
            ListenerState::Unknown => "UNKNOWN",
        }
    }
}

/// What feeding bytes to the protocol caused, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reaction {
    /// A state change (4.3 logs `name: FROM -> TO` at debug).
    Changed {
        from: ListenerState,
        to: ListenerState,
    },
    /// The result was OK (`name: event was processed`, debug).
    Processed,
    /// The result was anything else (`name: event was rejected`, warn): the
    /// event goes back to the pool.
    Rejected,
    /// `RESULT` was followed by something that is not a length (warn with
    /// the line): the event goes back to the pool.
    BadResultLine(String),
}

const READY: &[u8] = b"READY\n";
const RESULT: &[u8] = b"RESULT ";

/// One listener's side of the protocol.
#[derive(Debug)]
pub struct Protocol {
    state: ListenerState,
    buffer: Vec<u8>,
    result_len: Option<usize>,
    result: Vec<u8>,
}

impl Protocol {
    /// A freshly started listener: ACKNOWLEDGED, as in 4.3.
    pub fn new() -> Protocol {
        Protocol {
            state: ListenerState::Acknowledged,
            buffer: Vec::new(),
            result_len: None,
            result: Vec::new(),
        }
    }

    pub fn state(&self) -> ListenerState {
        self.state
    }

    /// An event was written to the listener's stdin.
    pub fn sent(&mut self) -> Reaction {
        self.change(ListenerState::Busy)
    }

    fn change(&mut self, to: ListenerState) -> Reaction {
        let from = self.state;
        self.state = to;
        Reaction::Changed { from, to }
    }

    /// Bytes the listener wrote on stdout.
    pub fn feed(&mut self, data: &[u8]) -> Vec<Reaction> {
        self.buffer.extend_from_slice(data);
        let mut out = Vec::new();
        self.step(&mut out);
        out
    }

    /// 4.3's handle_listener_state_change, with its recursion as a loop.
    fn step(&mut self, out: &mut Vec<Reaction>) {
        loop {
            if self.buffer.is_empty() {
                return;
            }
            match self.state {
                ListenerState::Unknown => {
                    self.buffer.clear();
                    return;
                }
                ListenerState::Acknowledged => {
                    if self.buffer.len() < READY.len() {
                        return;
                    }
                    if self.buffer.starts_with(READY) {
                        out.push(self.change(ListenerState::Ready));
                        self.buffer.drain(..READY.len());
                    } else {
                        out.push(self.change(ListenerState::Unknown));
                        self.buffer.clear();
                    }
                }
                ListenerState::Ready => {
                    // Spurious data: 4.3 is strict about it.
                    out.push(self.change(ListenerState::Unknown));
                    self.buffer.clear();
                    return;
                }
                ListenerState::Busy => match self.result_len {
                    None => {
                        let Some(pos) = self.buffer.iter().position(|b| *b == b'\n') else {
                            return;
                        };
                        let line: Vec<u8> = self.buffer.drain(..=pos).take(pos).collect();
                        let len = line.get(RESULT.len()..).unwrap_or_default();
                        match parse_len(len) {
                            Some(n) => self.result_len = Some(n),
                            None => {
                                let text = match std::str::from_utf8(&line) {
                                    Ok(t) => t.to_string(),
                                    Err(_) => {
                                        format!("Undecodable: {}", crate::pytext::repr_bytes(&line))
                                    }
                                };
                                out.push(Reaction::BadResultLine(text));
                                out.push(self.change(ListenerState::Unknown));
                                self.buffer.clear();
                                return;
                            }
                        }
                    }
                    Some(len) => {
                        let needed = len - self.result.len();
                        if needed > 0 {
                            let take = needed.min(self.buffer.len());
                            self.result.extend(self.buffer.drain(..take));
                        }
                        if self.result.len() == len {
                            if self.result == b"OK" {
                                out.push(Reaction::Processed);
                                out.push(self.change(ListenerState::Acknowledged));
                            } else {
                                out.push(Reaction::Rejected);
                                out.push(self.change(ListenerState::Acknowledged));
                            }
                            self.result.clear();
                            self.result_len = None;
                        }
                    }
                },
            }
        }
    }
}

/// Python's `int()` of the bytes after `RESULT ` (surrounding whitespace
/// allowed, a sign allowed, nothing else); a negative length counts as 0.
fn parse_len(bytes: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(bytes).ok()?;
    let n: i64 = crate::pytext::strip(text).replace('_', "").parse().ok()?;
    Some(usize::try_from(n).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ListenerState::*;

    fn changed(from: ListenerState, to: ListenerState) -> Reaction {
        Reaction::Changed { from, to }
    }

    #[test]
    fn ready_then_an_ok_result_then_ready_again() {
        let mut p = Protocol::new();
        assert_eq!(p.feed(b"REA"), vec![]);
        assert_eq!(p.feed(b"DY\n"), vec![changed(Acknowledged, Ready)]);
        assert_eq!(p.sent(), changed(Ready, Busy));
        assert_eq!(
            p.feed(b"RESULT 2\nOKREADY\n"),
            vec![
                Reaction::Processed,
                changed(Busy, Acknowledged),
                changed(Acknowledged, Ready)
            ]
        );
        assert_eq!(p.state(), Ready);
    }

    #[test]
    fn a_fail_result_is_rejected_and_the_result_may_arrive_in_pieces() {
        let mut p = Protocol::new();
        p.feed(b"READY\n");
        p.sent();
        assert_eq!(p.feed(b"RESULT 4"), vec![]);
        assert_eq!(p.feed(b"\nFA"), vec![]);
        assert_eq!(
            p.feed(b"IL"),
            vec![Reaction::Rejected, changed(Busy, Acknowledged)]
        );
    }

    #[test]
    fn protocol_violations_make_the_listener_unknown() {
        let mut p = Protocol::new();
        assert_eq!(p.feed(b"hello!\n"), vec![changed(Acknowledged, Unknown)]);
        assert_eq!(p.feed(b"READY\n"), vec![], "UNKNOWN is final");

        let mut p = Protocol::new();
        p.feed(b"READY\n");
        assert_eq!(p.feed(b"x"), vec![changed(Ready, Unknown)]);

        let mut p = Protocol::new();
        p.feed(b"READY\n");
        p.sent();
        assert_eq!(
            p.feed(b"RESULT two\n"),
            vec![
                Reaction::BadResultLine("RESULT two".into()),
                changed(Busy, Unknown)
            ]
        );
    }

    #[test]
    fn an_empty_result_waits_for_more_bytes_as_in_43() {
        let mut p = Protocol::new();
        p.feed(b"READY\n");
        p.sent();
        assert_eq!(p.feed(b"RESULT 0\n"), vec![]);
        assert_eq!(
            p.feed(b"READY\n"),
            vec![
                Reaction::Rejected,
                changed(Busy, Acknowledged),
                changed(Acknowledged, Ready)
            ]
        );
    }
}
