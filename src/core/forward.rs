//! `forward_to_stdout=` (or `[supervisord] forward_all=`): a process's
//! stdout lines also go to supervisord's own stdout, its stderr lines to
//! supervisord's stderr, each whole and headed `[name] ` (after the stamp
//! with `timestamps=true`), so a container's log shows every program
//! without `/dev/stdout` logfile tricks.

use std::time::SystemTime;

use super::Stream;
use crate::config::{Config, Process};
use crate::log::lines::Joiner;
use crate::log::outlet::Outlets;
use crate::timefmt::Zone;

/// One process's forwarding: a partial line held per stream until its
/// newline, so two programs' halves never meet on one line.
pub struct Forward {
    name: String,
    /// `timestamps=true`: the zone the stamp is read in.
    stamp: Option<Zone>,
    joiners: [Joiner; 2],
}

impl Forward {
    /// None when the process does not forward.
    pub fn for_process(config: &Config, process: &Process, zone: &Zone) -> Option<Forward> {
        let on = process
            .lines
            .forward_to_stdout
            .unwrap_or(config.supervisord.forward_all);
        on.then(|| Forward {
            name: process.name.clone(),
            stamp: process.lines.timestamps.then(|| zone.clone()),
            joiners: [Joiner::new(), Joiner::new()],
        })
    }

    /// Output as read from the child (after strip_ansi).
    pub fn feed(&mut self, stream: Stream, data: &[u8], outlets: &Outlets) {
        if data.is_empty() {
            return;
        }
        let Forward {
            name,
            stamp,
            joiners,
        } = self;
        let mut head = || match stamp {
            Some(zone) => format!("{} [{name}] ", zone.iso_stamp(SystemTime::now())),
            None => format!("[{name}] "),
        };
        let mut lines = Vec::new();
        joiners[index(stream)].feed(data, &mut head, &mut lines);
        write(stream, &lines, outlets);
    }

    /// The stream's pipe closed: a line left unfinished goes out, ended.
    pub fn close(&mut self, stream: Stream, outlets: &Outlets) {
        let mut lines = Vec::new();
        self.joiners[index(stream)].finish(&mut lines);
        write(stream, &lines, outlets);
    }
}

fn index(stream: Stream) -> usize {
    match stream {
        Stream::Stdout => 0,
        Stream::Stderr => 1,
    }
}

fn write(stream: Stream, lines: &[u8], outlets: &Outlets) {
    if lines.is_empty() {
        return;
    }
    match stream {
        Stream::Stdout => outlets.stdout.write_lines(lines),
        Stream::Stderr => outlets.stderr.write_lines(lines),
    }
}
