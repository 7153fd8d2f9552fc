//! echo_supervisord_conf: prints the sample configuration compiled into the
//! binary (supervisor.conf.example), as 4.3's prints its sample.conf. Its
//! first line is 4.3's, `; Sample supervisor config file.`, for scripts that
//! look for it.

use std::ffi::OsString;
use std::io::Write;

/// The sample configuration, supervisor.conf.example at build time.
pub const SAMPLE: &str = include_str!("../supervisor.conf.example");

/// Runs echo_supervisord_conf with `args` (args[0] is the name it was called
/// by) and returns its exit status.
pub fn main(args: Vec<OsString>) -> u8 {
    // 4.3 ignores its arguments; alone, these ask about the program.
    match args.get(1).and_then(|a| a.to_str()) {
        Some("-h" | "-?" | "--help") if args.len() == 2 => {
            let program = args.first().map(|a| a.to_string_lossy().into_owned());
            print!(
                "{}",
                usage(program.as_deref().unwrap_or("echo_supervisord_conf"))
            );
            return 0;
        }
        Some("-v" | "--version") if args.len() == 2 => {
            println!("{}", crate::VERSION);
            return 0;
        }
        _ => {}
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(SAMPLE.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => 0,
        // The reader has seen what it wanted (`echo_supervisord_conf | head`).
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("echo_supervisord_conf: could not write the sample configuration: {e}");
            1
        }
    }
}

fn usage(program: &str) -> String {
    format!(
        "echo_supervisord_conf -- print a sample supervisord configuration.\n\
         \n\
         Usage: {program} > supervisord.conf\n\
         \n\
         Writes the sample configuration compiled into this binary to stdout.\n"
    )
}
