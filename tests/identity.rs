//! `user=` as root: the child runs with that user's uid, primary gid and
//! every supplementary group /etc/group lists for it. The daemon runs in a
//! private mount namespace where a test copy of /etc/group is bound over the
//! real one, so the groups are the test's own and the machine's files are
//! never touched.

use std::time::Duration;

use crate::util::{binary, Daemon, Sandbox};

const T: Duration = Duration::from_secs(10);

/// The numbers of a `/proc/PID/status` line such as `Groups:` or `Uid:`.
fn status_numbers(pid: u32, field: &str) -> Vec<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let mut numbers: Vec<u32> = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|n| n.parse().ok())
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
}

#[test]
fn user_gets_its_uid_gid_and_supplementary_groups() {
    if !rustix::process::getuid().is_root() {
        eprintln!("skipped: switching users needs root");
        return;
    }
    let has_unshare = std::process::Command::new("unshare")
        .args(["-m", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_unshare {
        eprintln!("skipped: no mount namespaces here (unshare -m failed)");
        return;
    }
    let sb = Sandbox::new("groups");
    let nobody = supervisor::users::find_user("nobody").expect("nobody in /etc/passwd");
    let real = std::fs::read_to_string("/etc/group").expect("/etc/group");
    let group = sb.write(
        "group",
        &format!("{real}svextra:x:4242:nobody\nsvmore:x:4243:root,nobody\nsvnot:x:4244:root\n"),
    );
    // Put where the harness looks for our supervisord (its symlink is made
    // only when nothing is there): the daemon starts in its own namespace.
    sb.script(
        "bin/supervisord",
        &format!(
            "exec unshare -m --propagation private sh -c 'mount --bind {group} /etc/group && exec {bin} supervisord \"$@\"' sh \"$@\"",
            group = group.display(),
            bin = binary().display()
        ),
    );
    let d = Daemon::start(
        &sb,
        "[program:who]\ncommand=sleep 100\nuser=nobody\nstartsecs=0\n",
    );
    d.wait_state("who", "RUNNING", T);
    let pid = d.process_pid("who");
    assert_eq!(status_numbers(pid, "Uid:"), [nobody.uid]);
    assert_eq!(status_numbers(pid, "Gid:"), [nobody.gid]);
    let mut expected = vec![nobody.gid, 4242, 4243];
    expected.sort_unstable();
    assert_eq!(status_numbers(pid, "Groups:"), expected);
    // The daemon itself keeps root's credentials.
    assert_eq!(status_numbers(d.pid(), "Uid:"), [0]);
}
