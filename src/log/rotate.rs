//! The rotation plan for a capture file: which backup to drop and which files to
//! shift (`NAME.N-1 -> NAME.N` ... `NAME -> NAME.1`), as 4.3's
//! `RotatingFileHandler.doRollover` does. It is pure and resumable, after
//! s6-log's rotator: the writer runs one step at a time, and when a step fails
//! (EACCES, EBUSY...) it keeps the plan and retries that same step later, so a
//! half-done rotation never shifts a file twice or over a file not yet moved.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// One filesystem action of a rotation. For both kinds a missing source
/// (ENOENT) counts as done: there was nothing to move, as in 4.3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Remove the oldest backup, which falls off the end.
    Remove(PathBuf),
    /// Rename `from` to `to`, replacing `to`.
    Rename { from: PathBuf, to: PathBuf },
}

/// What the writer does with the live file once every step is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// The live file was renamed to `NAME.1`: create a new, empty `NAME`.
    CreateFresh,
    /// `backups=0`: no backups are kept, so `NAME` is truncated in place.
    TruncateInPlace,
}

/// Where a plan stands. Kept as a cursor rather than a list so that a huge
/// `backups` value costs no memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cursor {
    RemoveOldest,
    /// Next: rename `NAME.i` to `NAME.i+1`; counts down to 1.
    Shift(u32),
    RenameLive,
    Complete,
}

/// A rotation of `base` keeping `backups` old files, run step by step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationPlan {
    base: PathBuf,
    backups: u32,
    cursor: Cursor,
}

/// `NAME.n`: the name of the n-th backup of `base` (`.1` is the newest).
pub fn backup_path(base: &Path, n: u32) -> PathBuf {
    let mut name = OsString::from(base.as_os_str());
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

impl RotationPlan {
    pub fn new(base: &Path, backups: u32) -> RotationPlan {
        RotationPlan {
            base: base.to_path_buf(),
            backups,
            cursor: if backups == 0 {
                Cursor::Complete
            } else {
                Cursor::RemoveOldest
            },
        }
    }

    /// The step to run now, or None when only [`RotationPlan::finish`] is left.
    pub fn next_step(&self) -> Option<Step> {
        match self.cursor {
            Cursor::RemoveOldest => Some(Step::Remove(backup_path(&self.base, self.backups))),
            Cursor::Shift(i) => Some(Step::Rename {
                from: backup_path(&self.base, i),
                to: backup_path(&self.base, i.saturating_add(1)),
            }),
            Cursor::RenameLive => Some(Step::Rename {
                from: self.base.clone(),
                to: backup_path(&self.base, 1),
            }),
            Cursor::Complete => None,
        }
    }

    /// Records that the current step succeeded (or found nothing to do).
    pub fn step_done(&mut self) {
        self.cursor = match self.cursor {
            Cursor::RemoveOldest if self.backups > 1 => Cursor::Shift(self.backups - 1),
            Cursor::RemoveOldest => Cursor::RenameLive,
            Cursor::Shift(i) if i > 1 => Cursor::Shift(i - 1),
            Cursor::Shift(_) => Cursor::RenameLive,
            Cursor::RenameLive | Cursor::Complete => Cursor::Complete,
        };
    }

    #[cfg(test)]
    pub fn is_complete(&self) -> bool {
        self.cursor == Cursor::Complete
    }

    pub fn finish(&self) -> Finish {
        if self.backups == 0 {
            Finish::TruncateInPlace
        } else {
            Finish::CreateFresh
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn all_steps(plan: &mut RotationPlan) -> Vec<Step> {
        let mut steps = Vec::new();
        while let Some(step) = plan.next_step() {
            steps.push(step);
            plan.step_done();
        }
        steps
    }

    fn rename(from: &str, to: &str) -> Step {
        Step::Rename {
            from: PathBuf::from(from),
            to: PathBuf::from(to),
        }
    }

    #[test]
    fn three_backups_shift_oldest_first() {
        let mut plan = RotationPlan::new(Path::new("/l/app.log"), 3);
        assert_eq!(
            all_steps(&mut plan),
            vec![
                Step::Remove(PathBuf::from("/l/app.log.3")),
                rename("/l/app.log.2", "/l/app.log.3"),
                rename("/l/app.log.1", "/l/app.log.2"),
                rename("/l/app.log", "/l/app.log.1"),
            ]
        );
        assert!(plan.is_complete());
        assert_eq!(plan.finish(), Finish::CreateFresh);
    }

    #[test]
    fn one_backup() {
        let mut plan = RotationPlan::new(Path::new("x"), 1);
        assert_eq!(
            all_steps(&mut plan),
            vec![Step::Remove(PathBuf::from("x.1")), rename("x", "x.1")]
        );
    }

    #[test]
    fn zero_backups_truncates_in_place() {
        let mut plan = RotationPlan::new(Path::new("x"), 0);
        assert!(plan.is_complete());
        assert_eq!(all_steps(&mut plan), vec![]);
        assert_eq!(plan.finish(), Finish::TruncateInPlace);
    }

    #[test]
    fn huge_backups_cost_no_memory() {
        let plan = RotationPlan::new(Path::new("x"), u32::MAX);
        assert_eq!(
            plan.next_step(),
            Some(Step::Remove(PathBuf::from(format!("x.{}", u32::MAX))))
        );
        let mut plan = plan;
        plan.step_done();
        assert_eq!(
            plan.next_step(),
            Some(rename(
                &format!("x.{}", u32::MAX - 1),
                &format!("x.{}", u32::MAX)
            ))
        );
    }

    #[test]
    fn step_done_after_complete_stays_complete() {
        let mut plan = RotationPlan::new(Path::new("x"), 1);
        for _ in 0..5 {
            plan.step_done();
        }
        assert!(plan.is_complete());
        assert_eq!(plan.next_step(), None);
    }

    /// A toy filesystem: file name -> content. `fail_once` makes the first
    /// attempt of the step touching that source fail, as EACCES would.
    fn run(
        fs: &mut BTreeMap<String, String>,
        plan: &mut RotationPlan,
        fail_once: &mut Option<String>,
    ) -> bool {
        while let Some(step) = plan.next_step() {
            let source = match &step {
                Step::Remove(p) => p.display().to_string(),
                Step::Rename { from, .. } => from.display().to_string(),
            };
            if fail_once.as_deref() == Some(source.as_str()) {
                *fail_once = None;
                return false;
            }
            match step {
                Step::Remove(p) => {
                    fs.remove(&p.display().to_string());
                }
                Step::Rename { from, to } => {
                    if let Some(content) = fs.remove(&from.display().to_string()) {
                        fs.insert(to.display().to_string(), content);
                    }
                }
            }
            plan.step_done();
        }
        true
    }

    #[test]
    fn a_failed_step_resumes_without_losing_or_doubling_files() {
        let mut fs: BTreeMap<String, String> = [
            ("log", "live"),
            ("log.1", "one"),
            ("log.2", "two"),
            ("log.3", "three"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut plan = RotationPlan::new(Path::new("log"), 3);
        let mut fail = Some("log.1".to_string());
        assert!(!run(&mut fs, &mut plan, &mut fail));
        // Halfway: log.2 moved to log.3, log.1 not yet moved.
        assert_eq!(fs.get("log.3").map(String::as_str), Some("two"));
        assert_eq!(fs.get("log.1").map(String::as_str), Some("one"));
        assert!(run(&mut fs, &mut plan, &mut fail));
        let want: BTreeMap<String, String> =
            [("log.1", "live"), ("log.2", "one"), ("log.3", "two")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        assert_eq!(fs, want);
    }

    #[test]
    fn gaps_in_backups_are_skipped_like_4_3() {
        let mut fs: BTreeMap<String, String> = [("log", "live"), ("log.2", "two")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut plan = RotationPlan::new(Path::new("log"), 3);
        assert!(run(&mut fs, &mut plan, &mut None));
        let names: Vec<&str> = fs.keys().map(String::as_str).collect();
        assert_eq!(names, vec!["log.1", "log.3"]);
    }

    #[test]
    fn backup_names_keep_non_utf8_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let base = Path::new(std::ffi::OsStr::from_bytes(b"/l/\xffbad"));
        assert_eq!(
            backup_path(base, 2).as_os_str().as_bytes(),
            b"/l/\xffbad.2".as_slice()
        );
    }
}
