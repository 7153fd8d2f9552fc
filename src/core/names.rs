//! Namespecs as Supervisor 4.3 reads them: `name` (group and process of the
//! same name), `group:name`, and `group:` or `group:*` (the whole group).
//! Pure string handling; lookups happen in core.

/// A parsed namespec: the group, and the process unless the whole group is meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespec<'a> {
    pub group: &'a str,
    pub process: Option<&'a str>,
}

/// Splits a namespec the way 4.3's `split_namespec` does.
pub fn split(spec: &str) -> Namespec<'_> {
    match spec.split_once(':') {
        Some((group, process)) => Namespec {
            group,
            process: if process.is_empty() || process == "*" {
                None
            } else {
                Some(process)
            },
        },
        None => Namespec {
            group: spec,
            process: Some(spec),
        },
    }
}

/// `group:name`, or just `name` when they are equal (4.3's `make_namespec`).
pub fn make(group: &str, process: &str) -> String {
    if group == process {
        process.to_string()
    } else {
        format!("{group}:{process}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_name_is_group_and_process() {
        assert_eq!(
            split("web"),
            Namespec {
                group: "web",
                process: Some("web")
            }
        );
    }

    #[test]
    fn group_and_process() {
        assert_eq!(
            split("g:web_01"),
            Namespec {
                group: "g",
                process: Some("web_01")
            }
        );
    }

    #[test]
    fn whole_group_forms() {
        for spec in ["g:*", "g:"] {
            assert_eq!(
                split(spec),
                Namespec {
                    group: "g",
                    process: None
                }
            );
        }
    }

    #[test]
    fn only_the_first_colon_splits() {
        assert_eq!(split("a:b:c").process, Some("b:c"));
    }

    #[test]
    fn make_collapses_equal_names() {
        assert_eq!(make("web", "web"), "web");
        assert_eq!(make("g", "web"), "g:web");
    }
}
