//! `depends_on=`: which processes a process waits for, resolved against
//! the whole configuration, with unknown names and cycles refused at load
//! (and so at reread) with an error naming them.

use super::{Config, ConfigError, Group, GroupKind};

/// `group:name`, or `name` when both are the same (4.3's namespec).
pub fn namespec(group: &str, name: &str) -> String {
    if group == name {
        name.to_string()
    } else {
        format!("{group}:{name}")
    }
}

/// The processes (group, name) one `depends_on` entry names: `group:name`,
/// a group (every process in it), or a process name in any group.
pub fn resolve(groups: &[Group], entry: &str) -> Vec<(String, String)> {
    if let Some((group, name)) = entry.split_once(':') {
        return groups
            .iter()
            .filter(|g| g.name == group)
            .flat_map(|g| &g.processes)
            .filter(|p| p.name == name || name == "*" || name.is_empty())
            .map(|p| (p.group.clone(), p.name.clone()))
            .collect();
    }
    if let Some(g) = groups.iter().find(|g| g.name == entry) {
        return g
            .processes
            .iter()
            .map(|p| (p.group.clone(), p.name.clone()))
            .collect();
    }
    groups
        .iter()
        .flat_map(|g| &g.processes)
        .filter(|p| p.name == entry)
        .map(|p| (p.group.clone(), p.name.clone()))
        .collect()
}

fn section_of(group: &Group, program: &str) -> String {
    let kind = match group.kind {
        GroupKind::EventListener => "eventlistener",
        GroupKind::FcgiProgram => "fcgi-program",
        GroupKind::Program | GroupKind::Group => "program",
    };
    format!("{kind}:{program}")
}

/// A process as (group, name).
type Key = (String, String);

/// Every entry names something, and nothing depends on itself in a loop.
pub(super) fn check(config: &Config) -> Result<(), ConfigError> {
    let groups = &config.groups;
    let mut edges: Vec<(Key, Vec<Key>)> = Vec::new();
    for g in groups {
        for p in &g.processes {
            let mut deps = Vec::new();
            for entry in &p.lifecycle.depends_on {
                let found = resolve(groups, entry);
                if found.is_empty() {
                    return Err(ConfigError {
                        file: Some(config.path.clone()),
                        line: None,
                        section: Some(section_of(g, &p.program)),
                        key: Some("depends_on".into()),
                        message: format!("'{entry}' is no program, process or group"),
                    });
                }
                deps.extend(found);
            }
            edges.push(((p.group.clone(), p.name.clone()), deps));
        }
    }
    // Depth-first search with the path kept, to name the cycle.
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let index = |node: &(String, String)| edges.iter().position(|(n, _)| n == node);
    let mut marks = vec![Mark::New; edges.len()];
    for start in 0..edges.len() {
        if marks[start] != Mark::New {
            continue;
        }
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        marks[start] = Mark::Open;
        while let Some(&(node, next)) = path.last() {
            let deps = &edges[node].1;
            if next >= deps.len() {
                marks[node] = Mark::Done;
                path.pop();
                continue;
            }
            if let Some(top) = path.last_mut() {
                top.1 += 1;
            }
            let Some(dep) = index(&deps[next]) else {
                continue;
            };
            match marks[dep] {
                Mark::Done => {}
                Mark::New => {
                    marks[dep] = Mark::Open;
                    path.push((dep, 0));
                }
                Mark::Open => {
                    let from = path.iter().position(|(n, _)| *n == dep).unwrap_or(0);
                    let mut names: Vec<String> = path[from..]
                        .iter()
                        .map(|(n, _)| namespec(&edges[*n].0 .0, &edges[*n].0 .1))
                        .collect();
                    names.push(namespec(&edges[dep].0 .0, &edges[dep].0 .1));
                    return Err(ConfigError {
                        file: Some(config.path.clone()),
                        line: None,
                        section: None,
                        key: None,
                        message: format!("dependency cycle: {}", names.join(" -> ")),
                    });
                }
            }
        }
    }
    Ok(())
}
