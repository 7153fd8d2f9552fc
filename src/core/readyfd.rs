//! `ready=fd:N`: s6's readiness notification. The child is given the write
//! end of a pipe as its descriptor N and is ready once it writes a newline
//! there; the daemon keeps the read end.

use std::io;
use std::os::fd::OwnedFd;

use async_io::Async;

use super::probe::error_text;

/// Waits on the read end of the readiness pipe: `Ok` at the first newline
/// read, whatever came before it. End of file before a newline (the child
/// closed its end, or exited) is `Err("closed before the newline")`; the
/// caller, who knows the child's number N, says `fd N closed before the
/// newline`. Bytes after the newline are left unread; dropping the read end
/// afterwards is the caller's choice (a later write by the child then fails
/// with EPIPE, as under s6).
pub async fn wait_newline(fd: OwnedFd) -> Result<(), String> {
    // Non-blocking is set on the read end's own file description: the
    // child's write end is not affected.
    let pipe = Async::new(fd).map_err(|e| format!("cannot watch the pipe: {}", error_text(&e)))?;
    let mut buffer = [0u8; 512];
    loop {
        let read = pipe
            .read_with(|fd| rustix::io::read(fd, &mut buffer[..]).map_err(io::Error::from))
            .await;
        match read {
            Ok(0) => return Err("closed before the newline".to_string()),
            Ok(n) => {
                if buffer.get(..n).is_some_and(|got| got.contains(&b'\n')) {
                    return Ok(());
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("cannot read the pipe: {}", error_text(&e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::io::Write;
    use std::os::unix::process::ExitStatusExt;
    use std::pin::pin;
    use std::time::Duration;

    use async_io::Timer;
    use smol::future;

    use crate::process::spawn::{spawn, Plan};

    /// `f`'s output, or `None` if it takes longer than `limit`.
    async fn within<T>(limit: Duration, f: impl Future<Output = T>) -> Option<T> {
        future::or(async { Some(f.await) }, async {
            Timer::after(limit).await;
            None
        })
        .await
    }

    const LIMIT: Duration = Duration::from_secs(20);

    fn pipe() -> (OwnedFd, std::fs::File) {
        let (reader, writer) =
            rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).expect("pipe");
        (reader, writer.into())
    }

    #[test]
    fn ready_only_at_the_newline() {
        let (reader, mut writer) = pipe();
        let result = smol::block_on(async {
            let mut waiting = pin!(wait_newline(reader));
            writer.write_all(b"starting up").expect("write");
            assert_eq!(future::poll_once(&mut waiting).await, None);
            writer.write_all(b" still\nand more").expect("write");
            within(LIMIT, waiting).await
        });
        assert_eq!(result, Some(Ok(())));
    }

    #[test]
    fn end_of_file_before_the_newline_is_an_error() {
        let (reader, mut writer) = pipe();
        writer.write_all(b"no newline").expect("write");
        drop(writer);
        let result = smol::block_on(within(LIMIT, wait_newline(reader)));
        assert_eq!(result, Some(Err("closed before the newline".to_string())));
    }

    #[test]
    fn a_child_that_writes_a_newline_to_fd_3_is_ready() {
        let (reader, writer) = pipe();
        let dev_null = || -> OwnedFd { std::fs::File::open("/dev/null").expect("null").into() };
        // The child keeps fd 3 open afterwards: readiness comes from the
        // newline, not from end of file.
        let plan = Plan::new(
            "/bin/sh",
            [
                "sh",
                "-c",
                r#"printf 'ready' >&3; printf '\n' >&3; exec sleep 30"#,
            ],
            Vec::<(&str, &str)>::new(),
            dev_null(),
            dev_null(),
            dev_null(),
        )
        .and_then(|p| p.with_fd(OwnedFd::from(writer), 3))
        .expect("plan");
        let child = spawn(plan).expect("spawn");
        let result = smol::block_on(within(LIMIT, wait_newline(reader)));
        rustix::process::pidfd_send_signal(child.pidfd(), rustix::process::Signal::KILL)
            .expect("kill");
        let status = smol::block_on(child.wait()).expect("wait");
        assert_eq!(result, Some(Ok(())));
        assert_eq!(status.signal(), Some(libc::SIGKILL));
    }
}
