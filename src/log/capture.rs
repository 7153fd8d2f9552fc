//! The pump: moves a child's stdout or stderr from its pipe to whoever stores
//! it, as one cooperative task per pipe on the daemon's single thread (no
//! thread per child, no polling timer: the task sleeps in the reactor until
//! the pipe is readable).
//!
//! Reads are large enough that a flood costs few wake-ups (one shared 128 KiB
//! buffer per thread; a busy pipe is grown to 256 KiB with F_SETPIPE_SZ) but
//! small enough that the buffer and the pipe's pages stay in the CPU cache
//! between the read and the write: with a 1 MiB buffer and pipe, a 1 GiB flood
//! cost the daemon about twice the CPU (1.0-2.1 s against 0.5-0.9 s here),
//! nearly all of it in the kernel copying out of a cold buffer. Linux splice(2)
//! was measured and not used: it refuses O_APPEND targets, and with
//! `head -c 200M /dev/zero` through a pipe it was slower here (best of six:
//! read/write 242 ms, cat 233 ms, splice 292-337 ms) since moving page
//! references into a file still copies, so the copy we would save is small.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::pin::pin;
use std::time::Duration;

use async_io::{Async, Timer};
use rustix::io::Errno;
use smol::future;

use super::writer::Congestion;

/// Bytes asked for per read (4.3 reads 128 KiB too).
pub const READ_CHUNK: usize = 1 << 17;

/// What a pipe that a read found full is grown to: two reads' worth, so the
/// child can keep writing while we write out the last read.
pub const BUSY_PIPE_SIZE: usize = 1 << 18;

/// Reads in a row without meeting an empty pipe before the pump lets other
/// tasks run: a flooding child must not starve RPC or other pumps.
const READS_BEFORE_YIELD: usize = 16;

/// The most reads a final drain does after `stop`, so a grandchild that
/// keeps the pipe open and floods it cannot hold the pump forever.
const DRAIN_READS: usize = 64;

/// How long a final drain waits for a congested stream (a FIFO whose reader
/// is slow) to take more before it stops waiting and lets the writer drop
/// what it cannot queue. The child's exit is reported only after the drain,
/// so this bounds how long a reader that stopped reading can delay it.
const DRAIN_PATIENCE: Duration = Duration::from_secs(5);

thread_local! {
    /// One read buffer shared by every pump on this thread. A pump holds it
    /// only between a read and the end of its `on_data` call, with no await
    /// in between, so pumps never contend for it on a single-threaded
    /// executor; this keeps memory flat however many children there are.
    static READ_BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// What one read produced.
enum Read {
    Data { congestion: Option<Congestion> },
    Empty,
    Eof,
}

/// Pumps `fd` (a pipe's read end) until end of file or `stop`.
///
/// `on_data` gets each chunk as read, in order, never empty except for one
/// case: when it returned a [`Congestion`] (its stream target is full), the
/// pump stops reading, awaits it, and then calls `on_data(&[])` to mean
/// "flush now"; it keeps doing so while congestion is returned. Other
/// consumers (events, main-log copies) should ignore empty chunks.
///
/// When `stop` completes (e.g. the child was reaped), the pump reads what is
/// already in the pipe without waiting for more (as 4.3's `drain()`), then
/// returns; it still honours congestion then, for up to DRAIN_PATIENCE
/// without progress. Pass `std::future::pending()` to pump until EOF.
/// Dropping the future closes the pipe.
pub async fn pump<F, S>(fd: OwnedFd, mut on_data: F, stop: S) -> io::Result<()>
where
    F: FnMut(&[u8]) -> Option<Congestion>,
    S: Future<Output = ()>,
{
    let source = Async::new(fd)?;
    let mut stop = pin!(stop);
    let mut pipe_size = rustix::pipe::fcntl_getpipe_size(source.get_ref()).unwrap_or(0);
    let mut reads_in_a_row = 0;
    loop {
        match read_once(&source, &mut on_data, &mut pipe_size)? {
            Read::Eof => return Ok(()),
            Read::Data { congestion } => {
                if let Some(congestion) = congestion {
                    let stopped =
                        wait_out_congestion(congestion, &mut on_data, stop.as_mut()).await;
                    if stopped {
                        let congestion = on_data(&[]);
                        return drain(&source, &mut on_data, congestion).await;
                    }
                }
                reads_in_a_row += 1;
                if reads_in_a_row >= READS_BEFORE_YIELD {
                    reads_in_a_row = 0;
                    future::yield_now().await;
                }
            }
            Read::Empty => {
                reads_in_a_row = 0;
                let readable = async { Some(source.readable().await) };
                let stopped = async {
                    stop.as_mut().await;
                    None
                };
                match future::or(readable, stopped).await {
                    Some(ready) => ready?,
                    None => return drain(&source, &mut on_data, None).await,
                }
            }
        }
    }
}

/// Awaits the end of a congestion, flushing after each wake-up; true when
/// `stop` fired first.
async fn wait_out_congestion<F, S>(
    first: Congestion,
    on_data: &mut F,
    mut stop: std::pin::Pin<&mut S>,
) -> bool
where
    F: FnMut(&[u8]) -> Option<Congestion>,
    S: Future<Output = ()>,
{
    let mut congestion = Some(first);
    while let Some(current) = congestion {
        let writable = async {
            current.wait().await;
            false
        };
        let stopped = async {
            stop.as_mut().await;
            true
        };
        if future::or(writable, stopped).await {
            return true;
        }
        congestion = on_data(&[]);
    }
    false
}

/// After `stop`: take what the pipe already holds, then return. A congested
/// stream is still waited for (and flushed at the end) so a slow reader
/// gets a dead child's last output too, unless it makes no progress for
/// DRAIN_PATIENCE; from then on the drain reads without waiting.
async fn drain<F>(
    source: &Async<OwnedFd>,
    on_data: &mut F,
    mut congestion: Option<Congestion>,
) -> io::Result<()>
where
    F: FnMut(&[u8]) -> Option<Congestion>,
{
    let mut pipe_size = usize::MAX;
    let mut patient = true;
    for _ in 0..DRAIN_READS {
        if let Some(current) = congestion.take().filter(|_| patient) {
            patient = wait_patiently(current, on_data).await;
        }
        match read_once(source, on_data, &mut pipe_size)? {
            Read::Data { congestion: now } => congestion = now,
            Read::Empty | Read::Eof => break,
        }
    }
    if let Some(current) = congestion.filter(|_| patient) {
        wait_patiently(current, on_data).await;
    }
    Ok(())
}

/// Waits out a congestion, flushing after each wake-up; false when the
/// stream took nothing for DRAIN_PATIENCE.
async fn wait_patiently<F>(first: Congestion, on_data: &mut F) -> bool
where
    F: FnMut(&[u8]) -> Option<Congestion>,
{
    let mut congestion = Some(first);
    while let Some(current) = congestion {
        let writable = async {
            current.wait().await;
            true
        };
        let gave_up = async {
            Timer::after(DRAIN_PATIENCE).await;
            false
        };
        if !future::or(writable, gave_up).await {
            return false;
        }
        congestion = on_data(&[]);
    }
    true
}

/// One non-blocking read into the shared buffer, handed to `on_data`.
fn read_once<F>(source: &Async<OwnedFd>, on_data: &mut F, pipe_size: &mut usize) -> io::Result<Read>
where
    F: FnMut(&[u8]) -> Option<Congestion>,
{
    READ_BUFFER.with(|shared| match shared.try_borrow_mut() {
        Ok(mut buffer) => read_into(source, &mut buffer, on_data, pipe_size),
        // Only reachable if `on_data` itself ran a pump; stay correct.
        Err(_) => read_into(source, &mut Vec::new(), on_data, pipe_size),
    })
}

fn read_into<F>(
    source: &Async<OwnedFd>,
    buffer: &mut Vec<u8>,
    on_data: &mut F,
    pipe_size: &mut usize,
) -> io::Result<Read>
where
    F: FnMut(&[u8]) -> Option<Congestion>,
{
    if buffer.len() < READ_CHUNK {
        buffer.resize(READ_CHUNK, 0);
    }
    let fd = source.get_ref().as_fd();
    loop {
        match rustix::io::read(fd, &mut buffer[..]) {
            Ok(0) => return Ok(Read::Eof),
            Ok(n) => {
                grow_busy_pipe(fd, n, pipe_size);
                let chunk = buffer.get(..n).unwrap_or_default();
                let congestion = on_data(chunk);
                return Ok(Read::Data { congestion });
            }
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => return Ok(Read::Empty),
            Err(e) => return Err(e.into()),
        }
    }
}

/// A read that emptied a full pipe means the child outpaces us: grow the
/// pipe to BUSY_PIPE_SIZE so the next wake-up moves more. Done once; a
/// refusal (unprivileged users past pipe-user-pages-soft) is harmless.
fn grow_busy_pipe(fd: std::os::fd::BorrowedFd<'_>, read: usize, pipe_size: &mut usize) {
    if read < *pipe_size || *pipe_size >= BUSY_PIPE_SIZE {
        return;
    }
    *pipe_size = rustix::pipe::fcntl_setpipe_size(fd, BUSY_PIPE_SIZE).unwrap_or(usize::MAX);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::writer::LogFile;
    use rustix::pipe::{pipe_with, PipeFlags};
    use std::cell::Cell;
    use std::path::{Path, PathBuf};
    use std::rc::Rc;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    /// Writes all of `data` to a non-blocking pipe end, waiting when full.
    async fn feed(writer: OwnedFd, data: &[u8]) {
        let writer = Async::new(writer).expect("register writer");
        let mut rest = data;
        while !rest.is_empty() {
            match writer
                .write_with(|fd| Ok(rustix::io::write(fd, rest)?))
                .await
            {
                Ok(n) => rest = &rest[n..],
                Err(e) => panic!("feeding the pipe failed: {e}"),
            }
        }
    }

    #[test]
    fn pumps_everything_in_order_until_eof() {
        let (reader, writer) = pipe_with(PipeFlags::CLOEXEC).expect("pipe");
        let data = pattern(5 * 1024 * 1024 + 17);
        let mut got = Vec::new();
        let mut chunks = 0usize;
        let result = async_io::block_on(async {
            let pumping = pump(
                reader,
                |chunk: &[u8]| {
                    assert!(!chunk.is_empty());
                    chunks += 1;
                    got.extend_from_slice(chunk);
                    None
                },
                future::pending(),
            );
            let (result, ()) = future::zip(pumping, feed(writer, &data)).await;
            result
        });
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(got.len(), data.len());
        assert!(got == data, "bytes differ");
        assert!(chunks >= 2);
    }

    #[test]
    fn stop_drains_what_is_buffered_without_waiting_for_eof() {
        let (reader, writer) = pipe_with(PipeFlags::CLOEXEC).expect("pipe");
        rustix::io::write(&writer, b"last words\n").expect("write");
        let (tx, rx) = smol::channel::bounded::<()>(1);
        let mut got = Vec::new();
        let result = async_io::block_on(async {
            let pumping = pump(
                reader,
                |chunk: &[u8]| {
                    got.extend_from_slice(chunk);
                    None
                },
                async move {
                    let _ = rx.recv().await;
                },
            );
            let stopper = async {
                future::yield_now().await;
                rustix::io::write(&writer, b"more\n").expect("write");
                let _ = tx.send(()).await;
            };
            future::zip(pumping, stopper).await.0
        });
        assert!(result.is_ok());
        assert_eq!(got, b"last words\nmore\n");
        // The write end is still open: no EOF was needed to finish.
        drop(writer);
    }

    #[test]
    fn stop_that_is_already_done_still_drains() {
        let (reader, writer) = pipe_with(PipeFlags::CLOEXEC).expect("pipe");
        rustix::io::write(&writer, b"abc").expect("write");
        let mut got = Vec::new();
        let result = async_io::block_on(pump(
            reader,
            |chunk: &[u8]| {
                got.extend_from_slice(chunk);
                None
            },
            future::ready(()),
        ));
        assert!(result.is_ok());
        assert_eq!(got, b"abc");
        drop(writer);
    }

    #[test]
    fn eof_with_no_data_calls_nothing() {
        let (reader, writer) = pipe_with(PipeFlags::CLOEXEC).expect("pipe");
        drop(writer);
        let calls = Cell::new(0);
        let result = async_io::block_on(pump(
            reader,
            |_: &[u8]| {
                calls.set(calls.get() + 1);
                None
            },
            future::pending(),
        ));
        assert!(result.is_ok());
        assert_eq!(calls.get(), 0);
    }

    fn make_fifo(dir: &Path) -> (PathBuf, OwnedFd) {
        let fifo = dir.join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .expect("mkfifo");
        let reader = rustix::fs::open(
            &fifo,
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::NONBLOCK,
            rustix::fs::Mode::empty(),
        )
        .expect("fifo reader");
        (fifo, reader)
    }

    /// Bug: when a child exited while its FIFO target was full, the final
    /// drain read the rest of the pipe without waiting for the reader, so
    /// everything past the writer's queue limit was dropped, and what was
    /// queued reached the reader only when the next child wrote something.
    #[test]
    fn drain_after_exit_waits_for_a_congested_stream_instead_of_dropping() {
        let dir = std::env::temp_dir().join(format!(
            "sv-drain-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        let (fifo, fifo_reader) = make_fifo(&dir);
        let log = Rc::new(RefCell::new(LogFile::open(&fifo, 0, 0).expect("open fifo")));
        // A full 1 MiB pipe; the pump's first reads fill the FIFO and leave
        // the rest queued, so the pump waits. Then the child writes one more
        // read's worth and exits: the drain has about the writer's queue
        // limit to move, and must wait for the reader to do so.
        const PIPE: usize = 1 << 20;
        let (reader, writer) = pipe_with(PipeFlags::CLOEXEC).expect("pipe");
        let _ = rustix::pipe::fcntl_setpipe_size(&writer, PIPE);
        rustix::io::ioctl_fionbio(&writer, true).expect("nonblocking");
        let data = pattern(PIPE + READ_CHUNK);
        let (head, tail) = data.split_at(PIPE);
        let written = rustix::io::write(&writer, head).expect("prefill");
        assert_eq!(written, head.len(), "the pipe could not be grown");
        let congested = Cell::new(false);
        let mut notices = Vec::new();
        let mut got = Vec::new();
        let (stop_tx, stop_rx) = smol::channel::bounded::<()>(1);
        let (fed_tx, fed_rx) = smol::channel::bounded::<()>(1);
        let (result, finished) = async_io::block_on(async {
            let pumping = pump(
                reader,
                |chunk: &[u8]| {
                    let mut log = log.borrow_mut();
                    if let Some(n) = log.write(chunk) {
                        notices.push(n);
                    }
                    let congestion = log.congestion();
                    congested.set(congestion.is_some());
                    congestion
                },
                async move {
                    let _ = stop_rx.recv().await;
                },
            );
            // Once the FIFO is full, the child writes its last words and
            // exits: its pipe closes and the pump is told to stop.
            let exiting = async {
                while !congested.get() {
                    future::yield_now().await;
                }
                let writer = Async::new(writer).expect("register writer");
                let mut rest = tail;
                while !rest.is_empty() {
                    let n = writer
                        .write_with(|fd| Ok(rustix::io::write(fd, rest)?))
                        .await
                        .expect("write the tail");
                    rest = &rest[n..];
                }
                drop(writer);
                let _ = stop_tx.send(()).await;
                let _ = fed_tx.send(()).await;
            };
            // The reader only starts after the exit.
            let fifo_reader = Async::new(fifo_reader).expect("register");
            let reading = async {
                let _ = fed_rx.recv().await;
                let mut buf = vec![0u8; 64 * 1024];
                while got.len() < data.len() {
                    let n = fifo_reader
                        .read_with(|fd| Ok(rustix::io::read(fd, &mut buf[..])?))
                        .await
                        .expect("read fifo");
                    got.extend_from_slice(&buf[..n]);
                }
                true
            };
            let gave_up = async {
                Timer::after(Duration::from_secs(20)).await;
                false
            };
            let draining = future::or(reading, gave_up);
            let ((result, ()), finished) =
                future::zip(future::zip(pumping, exiting), draining).await;
            (result, finished)
        });
        let _ = std::fs::remove_dir_all(&dir);
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(notices, vec![], "output was dropped");
        assert!(
            finished,
            "only {} of {} bytes arrived",
            got.len(),
            data.len()
        );
        assert!(got == data, "bytes differ");
    }

    #[test]
    fn busy_pipes_grow() {
        let (reader, writer) = pipe_with(PipeFlags::CLOEXEC).expect("pipe");
        let reader_probe = rustix::io::dup(&reader).expect("dup");
        let data = pattern(4 * 1024 * 1024);
        let result = async_io::block_on(async {
            let pumping = pump(reader, |_: &[u8]| None, future::pending());
            future::zip(pumping, feed(writer, &data)).await.0
        });
        assert!(result.is_ok());
        let size = rustix::pipe::fcntl_getpipe_size(&reader_probe).expect("size");
        // Unprivileged runs may be refused; as root the grow must happen.
        if rustix::process::geteuid().is_root() {
            assert!(size >= BUSY_PIPE_SIZE, "pipe is {size} bytes");
        }
    }

    /// Pipe -> pump -> LogFile on a FIFO whose reader is slower: the pump
    /// must wait (backpressure) rather than drop, and lose nothing.
    #[test]
    fn congestion_pauses_the_pump_and_loses_nothing() {
        let dir = std::env::temp_dir().join(format!(
            "sv-capture-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        let fifo = dir.join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .expect("mkfifo");
        let fifo_reader = rustix::fs::open(
            &fifo,
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::NONBLOCK,
            rustix::fs::Mode::empty(),
        )
        .expect("fifo reader");
        let log = Rc::new(RefCell::new(LogFile::open(&fifo, 0, 0).expect("open fifo")));
        let (reader, writer) = pipe_with(PipeFlags::CLOEXEC).expect("pipe");
        let data = pattern(3 * 1024 * 1024 + 5);
        let mut notices = Vec::new();
        let mut congested = 0usize;
        let mut got = Vec::new();
        let result = async_io::block_on(async {
            let pumping = pump(
                reader,
                |chunk: &[u8]| {
                    let mut log = log.borrow_mut();
                    if let Some(n) = log.write(chunk) {
                        notices.push(n);
                    }
                    let congestion = log.congestion();
                    congested += usize::from(congestion.is_some());
                    congestion
                },
                future::pending(),
            );
            let fifo_reader = Async::new(fifo_reader).expect("register");
            let drain_fifo = async {
                let mut buf = vec![0u8; 8192];
                while got.len() < data.len() {
                    let n = fifo_reader
                        .read_with(|fd| Ok(rustix::io::read(fd, &mut buf[..])?))
                        .await
                        .expect("read fifo");
                    got.extend_from_slice(&buf[..n]);
                    // A slow reader: let others run between small reads.
                    future::yield_now().await;
                }
            };
            let feeding = feed(writer, &data);
            let ((result, ()), ()) = future::zip(future::zip(pumping, feeding), drain_fifo).await;
            result
        });
        let _ = std::fs::remove_dir_all(&dir);
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(notices, vec![]);
        assert!(
            congested > 0,
            "the FIFO never filled; the test proves nothing"
        );
        assert_eq!(got.len(), data.len());
        assert!(got == data, "bytes differ");
    }
}
