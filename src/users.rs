//! /etc/passwd and /etc/group, read directly (no NSS), for `user=` and
//! `chown=`. The binary is static, so glibc's NSS modules are out of reach;
//! the files themselves are the one source every Linux system has.
//!
//! The parsers take the file text so tests can feed fixtures; the thin
//! wrappers at the bottom read the real files. Malformed lines, comments and
//! NIS `+`/`-` entries are skipped, never fatal.

use std::io;
use std::path::{Path, PathBuf};

/// Where the account databases live.
pub const PASSWD_PATH: &str = "/etc/passwd";
pub const GROUP_PATH: &str = "/etc/group";

/// One account from the passwd file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
    pub shell: String,
}

/// One group from the group file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

/// Lines that carry no account: blanks, comments and NIS compat markers.
fn is_skippable(line: &str) -> bool {
    let trimmed = line.trim();
    trimmed.is_empty()
        || trimmed.starts_with('#')
        || trimmed.starts_with('+')
        || trimmed.starts_with('-')
}

/// `name:password:uid:gid:gecos:home:shell`; None for anything else.
fn parse_passwd_line(line: &str) -> Option<User> {
    if is_skippable(line) {
        return None;
    }
    let fields: Vec<&str> = line.split(':').collect();
    let [name, _password, uid, gid, _gecos, home, shell] = fields.as_slice() else {
        return None;
    };
    if name.is_empty() {
        return None;
    }
    Some(User {
        name: (*name).to_string(),
        uid: uid.parse().ok()?,
        gid: gid.parse().ok()?,
        home: PathBuf::from(home),
        shell: (*shell).to_string(),
    })
}

/// `name:password:gid:member,member`; None for anything else.
fn parse_group_line(line: &str) -> Option<Group> {
    if is_skippable(line) {
        return None;
    }
    let fields: Vec<&str> = line.split(':').collect();
    let [name, _password, gid, members] = fields.as_slice() else {
        return None;
    };
    if name.is_empty() {
        return None;
    }
    Some(Group {
        name: (*name).to_string(),
        gid: gid.parse().ok()?,
        members: members
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

/// Every well-formed account in a passwd file's text, in file order.
pub fn parse_passwd(text: &str) -> Vec<User> {
    text.lines().filter_map(parse_passwd_line).collect()
}

/// Every well-formed group in a group file's text, in file order.
pub fn parse_group(text: &str) -> Vec<Group> {
    text.lines().filter_map(parse_group_line).collect()
}

/// A numeric id as Python's `int()` would read it for name_to_uid: digits
/// only (after trimming), so that a user literally named `123` cannot exist.
fn numeric_id(spec: &str) -> Option<u32> {
    let spec = spec.trim();
    if spec.is_empty() || !spec.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    spec.parse().ok()
}

/// Looks a user up by name, or by uid when `spec` is a number; the first
/// matching line wins, as getpwnam does.
pub fn find_user_in(passwd: &str, spec: &str) -> Option<User> {
    let mut users = passwd.lines().filter_map(parse_passwd_line);
    match numeric_id(spec) {
        Some(uid) => users.find(|u| u.uid == uid),
        None => users.find(|u| u.name == spec),
    }
}

/// Looks a group up by name, or by gid when `spec` is a number.
pub fn find_group_in(group: &str, spec: &str) -> Option<Group> {
    let mut groups = group.lines().filter_map(parse_group_line);
    match numeric_id(spec) {
        Some(gid) => groups.find(|g| g.gid == gid),
        None => groups.find(|g| g.name == spec),
    }
}

/// The group ids a process running as `user` should carry, as initgroups(3)
/// computes them: the primary gid first, then every group listing the user
/// as a member, without duplicates.
pub fn supplementary_gids_in(group: &str, user: &User) -> Vec<u32> {
    let mut gids = vec![user.gid];
    for g in group.lines().filter_map(parse_group_line) {
        if g.members.contains(&user.name) && !gids.contains(&g.gid) {
            gids.push(g.gid);
        }
    }
    gids
}

/// 4.3's `name_to_uid` over passwd text: a number must be an existing uid,
/// a name an existing user; the error texts are 4.3's.
pub fn name_to_uid_in(passwd: &str, spec: &str) -> Result<u32, String> {
    match (numeric_id(spec), find_user_in(passwd, spec)) {
        (_, Some(user)) => Ok(user.uid),
        (Some(_), None) => Err(format!("Invalid user id {spec}")),
        (None, None) => Err(format!("Invalid user name {spec}")),
    }
}

/// 4.3's `name_to_gid` over group text.
pub fn name_to_gid_in(group: &str, spec: &str) -> Result<u32, String> {
    match (numeric_id(spec), find_group_in(group, spec)) {
        (_, Some(g)) => Ok(g.gid),
        (Some(_), None) => Err(format!("Invalid group id {spec}")),
        (None, None) => Err(format!("Invalid group name {spec}")),
    }
}

/// Reads an account file; a missing file reads as empty (a minimal container
/// may lack /etc/group), any other failure is reported.
pub fn read_database(path: &Path) -> io::Result<String> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(e),
    }
}

/// Looks a user up in /etc/passwd by name or uid.
pub fn lookup_user(spec: &str) -> io::Result<Option<User>> {
    Ok(find_user_in(&read_database(Path::new(PASSWD_PATH))?, spec))
}

/// Looks a group up in /etc/group by name or gid.
pub fn lookup_group(spec: &str) -> io::Result<Option<Group>> {
    Ok(find_group_in(&read_database(Path::new(GROUP_PATH))?, spec))
}

/// The supplementary group ids for `user` from /etc/group (initgroups).
pub fn supplementary_gids(user: &User) -> io::Result<Vec<u32>> {
    Ok(supplementary_gids_in(
        &read_database(Path::new(GROUP_PATH))?,
        user,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "\
root:x:0:0:root:/root:/bin/bash
# a comment line
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin

broken line without colons
short:x:5:5
baduid:x:abc:5::/home/b:/bin/sh
+nisuser::::::
-nisexcluded::::::
web:x:1000:1000:Web User,,,:/home/web:/bin/sh
web:x:1001:1001:duplicate, later:/home/web2:/bin/sh
123:x:2000:2000::/home/n:/bin/sh
:x:3000:3000::/home/empty:/bin/sh
";

    const GROUP: &str = "\
root:x:0:
daemon:x:1:web
# comment
nogid:x::web
web:x:1000:
adm:x:4:syslog, web ,other
dup:x:1000:web
staff:x:50:other
truncated:x
";

    #[test]
    fn passwd_parses_good_lines_and_skips_the_rest() {
        let users = parse_passwd(PASSWD);
        let names: Vec<&str> = users.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["root", "daemon", "web", "web", "123"]);
        assert_eq!(
            users[2],
            User {
                name: "web".into(),
                uid: 1000,
                gid: 1000,
                home: PathBuf::from("/home/web"),
                shell: "/bin/sh".into(),
            }
        );
    }

    #[test]
    fn find_user_by_name_and_by_uid_first_match_wins() {
        assert_eq!(find_user_in(PASSWD, "web").map(|u| u.uid), Some(1000));
        assert_eq!(
            find_user_in(PASSWD, "1").map(|u| u.name),
            Some("daemon".into())
        );
        assert_eq!(find_user_in(PASSWD, "nobody"), None);
        assert_eq!(find_user_in(PASSWD, "4242"), None);
        assert_eq!(find_user_in(PASSWD, "+nisuser"), None);
    }

    #[test]
    fn a_numeric_spec_is_always_a_uid_as_in_python() {
        // "123" is a user name in the file, but 4.3 reads it as uid 123.
        assert_eq!(find_user_in(PASSWD, "123"), None);
        assert_eq!(
            name_to_uid_in(PASSWD, "123"),
            Err("Invalid user id 123".into())
        );
        assert_eq!(name_to_uid_in(PASSWD, "2000"), Ok(2000));
    }

    #[test]
    fn name_to_uid_messages_match_4_3() {
        assert_eq!(name_to_uid_in(PASSWD, "root"), Ok(0));
        assert_eq!(
            name_to_uid_in(PASSWD, "nosuch"),
            Err("Invalid user name nosuch".into())
        );
        assert_eq!(
            name_to_uid_in(PASSWD, "77"),
            Err("Invalid user id 77".into())
        );
        assert_eq!(name_to_uid_in(PASSWD, ""), Err("Invalid user name ".into()));
    }

    #[test]
    fn groups_parse_and_look_up() {
        let groups = parse_group(GROUP);
        let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["root", "daemon", "web", "adm", "dup", "staff"]);
        assert_eq!(groups[3].members, ["syslog", "web", "other"]);
        assert_eq!(find_group_in(GROUP, "adm").map(|g| g.gid), Some(4));
        assert_eq!(
            find_group_in(GROUP, "1000").map(|g| g.name),
            Some("web".into())
        );
        assert_eq!(name_to_gid_in(GROUP, "staff"), Ok(50));
        assert_eq!(
            name_to_gid_in(GROUP, "nope"),
            Err("Invalid group name nope".into())
        );
        assert_eq!(
            name_to_gid_in(GROUP, "999"),
            Err("Invalid group id 999".into())
        );
    }

    #[test]
    fn supplementary_groups_follow_initgroups() {
        let web = find_user_in(PASSWD, "web").unwrap();
        // primary first, then member groups, 1000 (dup) not repeated
        assert_eq!(supplementary_gids_in(GROUP, &web), [1000, 1, 4]);
        let root = find_user_in(PASSWD, "root").unwrap();
        assert_eq!(supplementary_gids_in(GROUP, &root), [0]);
        assert_eq!(supplementary_gids_in("", &root), [0]);
    }

    #[test]
    fn garbage_never_panics() {
        let junk = "::::::\n:::\n\u{0}\u{ffff}:x:1:1::\nöäü:x:-1:2:::\n:::::::::::\n";
        assert!(parse_passwd(junk).is_empty());
        assert!(parse_group(junk).is_empty());
        assert_eq!(find_user_in(junk, "0"), None);
        assert_eq!(find_group_in(junk, ""), None);
    }

    #[test]
    fn real_files_are_readable_and_missing_ones_are_empty() {
        assert_eq!(read_database(Path::new("/nonexistent/passwd")).unwrap(), "");
        // Every Linux system has root as uid 0.
        if Path::new(PASSWD_PATH).exists() {
            assert_eq!(lookup_user("0").unwrap().map(|u| u.uid), Some(0));
        }
    }
}
