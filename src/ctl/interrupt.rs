//! Ctrl-C as Python's `KeyboardInterrupt`: 4.3 stops `tail -f`, `fg` and the
//! shell on it, at whatever blocking read it happens. SIGINT is caught once
//! into a pipe, and every blocking read of supervisorctl waits with `poll` on
//! that pipe too, so an interrupt surfaces as an error from the read itself.

use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::OnceLock;
use std::time::Duration;

use async_signal::{Signal, Signals};
use rustix::event::{poll, PollFd, PollFlags, Timespec};

static SIGINT: OnceLock<Option<Signals>> = OnceLock::new();

/// The error payload that marks an `io::Error` as a Ctrl-C.
#[derive(Debug)]
pub struct KeyboardInterrupt;

impl std::fmt::Display for KeyboardInterrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyboardInterrupt")
    }
}

impl std::error::Error for KeyboardInterrupt {}

/// Starts catching SIGINT (for the rest of the process). Without this, or
/// when the handler cannot be installed, Ctrl-C keeps its default effect.
pub fn install() {
    SIGINT.get_or_init(|| Signals::new([Signal::Int]).ok());
}

fn signals() -> Option<&'static Signals> {
    SIGINT.get().and_then(Option::as_ref)
}

pub fn interrupted_error() -> io::Error {
    io::Error::other(KeyboardInterrupt)
}

pub fn is_interrupt(err: &io::Error) -> bool {
    err.get_ref()
        .is_some_and(|inner| inner.is::<KeyboardInterrupt>())
}

/// Consumes one queued SIGINT.
fn consume_one(signals: &'static Signals) {
    use smol::stream::StreamExt;
    let mut stream = signals;
    let _ = smol::future::block_on(smol::future::poll_once(stream.next()));
}

/// Waits until `fd` can be read (data, EOF or error), the timeout passes
/// (`Ok(false)`), or Ctrl-C is pressed (an `is_interrupt` error).
pub fn wait_readable(fd: BorrowedFd<'_>, timeout: Option<Duration>) -> io::Result<bool> {
    let timespec = timeout.map(|t| Timespec {
        tv_sec: t.as_secs() as i64,
        tv_nsec: i64::from(t.subsec_nanos()),
    });
    loop {
        let ready = match signals() {
            Some(signals) => {
                let mut fds = [
                    PollFd::new(&fd, PollFlags::IN),
                    PollFd::new(signals, PollFlags::IN),
                ];
                let n = match poll(&mut fds, timespec.as_ref()) {
                    Ok(n) => n,
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(e) => return Err(e.into()),
                };
                let [_, from_signal] = &fds;
                if !from_signal.revents().is_empty() {
                    consume_one(signals);
                    return Err(interrupted_error());
                }
                n > 0
            }
            None => {
                let mut fds = [PollFd::new(&fd, PollFlags::IN)];
                match poll(&mut fds, timespec.as_ref()) {
                    Ok(n) => n > 0,
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
        };
        return Ok(ready);
    }
}

/// A reader whose every blocking read can be cut short by Ctrl-C.
pub struct Interruptible<R>(pub R);

impl<R: Read + AsFd> Read for Interruptible<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        wait_readable(self.0.as_fd(), None)?;
        self.0.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream;

    #[test]
    fn marker_survives_io_error_wrapping() {
        assert!(is_interrupt(&interrupted_error()));
        assert!(!is_interrupt(&io::Error::other("x")));
        assert!(!is_interrupt(&io::Error::from_raw_os_error(4)));
    }

    #[test]
    fn wait_readable_reports_data_and_timeout() {
        let (mut a, b) = UnixStream::pair().unwrap();
        assert!(!wait_readable(b.as_fd(), Some(Duration::from_millis(1))).unwrap());
        a.write_all(b"x").unwrap();
        assert!(wait_readable(b.as_fd(), Some(Duration::from_secs(5))).unwrap());
        let mut reader = Interruptible(b);
        let mut buf = [0u8; 4];
        assert_eq!(reader.read(&mut buf).unwrap(), 1);
        drop(a);
        assert_eq!(reader.read(&mut buf).unwrap(), 0);
    }
}
