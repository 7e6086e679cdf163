//! Tidy checks over the source tree, in the manner of rust-analyzer's:
//! - the `node` crate's top-level modules import one another without a
//!   cycle, and so do the `cli` crate's files, so each can be understood (and
//!   changed) from the floors below it;
//! - every "Architecture invariant" of ARCHITECTURE.md that grep can check
//!   holds (who names sled, ring, private-key parsing, prost types, peer
//!   clients, ...), and every invariant the document states is either
//!   checked here or listed as not grep-checkable, so the map cannot drift
//!   from the code without a red test;
//! - the audited-write protocol is written once, inside `audit`.
//!
//! Unit tests (`tests.rs` files and `#[cfg(test)] mod tests` blocks) may
//! reach anywhere and are not read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Top-level module → the top-level modules it names through `crate::`.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        // Unit tests may reach anywhere.
        if rel.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let top = first.trim_end_matches(".rs").to_owned();
        if top == "lib" || top == "main" {
            continue;
        }
        let text = code_of(&std::fs::read_to_string(&file).unwrap());
        let edges = graph.entry(top.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let name: String = text[i + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if !name.is_empty() && name != top {
                edges.insert(name);
            }
        }
    }
    graph
}

/// A cycle of `graph` as a path, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = path.iter().position(|n| n == node).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.to_owned(), Mark::Open);
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, marks, path) {
                return Some(c);
            }
        }
        path.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if let Some(c) = visit(node, graph, &mut marks, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

#[test]
fn the_node_module_graph_has_no_cycle() {
    let src = workspace().join("node/src");
    let graph = module_graph(&src);
    assert!(
        graph.len() > 20,
        "the node's modules were not found: {graph:?}"
    );
    assert!(
        graph["risk"].contains("licensing"),
        "edges are read: {graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "the node's modules import one another in a cycle: {}",
            cycle.join(" -> ")
        );
    }
}

/// Where `text` opens an audit append by hand or names the append's type:
/// (line number, line) for every hit.
fn hand_written_audit_steps(text: &str) -> Vec<(usize, String)> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let code = line.split("//").next().unwrap_or("");
            code.contains(".begin()") || code.contains("AuditTx")
        })
        .map(|(i, line)| (i + 1, line.trim().to_owned()))
        .collect()
}

#[test]
fn only_the_audit_module_opens_an_audit_append() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../node/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 50, "the node's files were not found");
    let mut found = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        if rel.starts_with("audit") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in hand_written_audit_steps(&text) {
            found.push(format!("node/src/{}:{n}: {line}", rel.display()));
        }
    }
    assert!(
        found.is_empty(),
        "audited writes go through AuditLog::commit (or commit_with, commit_releasing); \
         these open the audit log's append by hand:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_audit_step_check_sees_hand_written_steps() {
    let text = "let mut tx = self.audit.begin().await;\nfn f(tx: &mut AuditTx) {}\n\
                // audit.begin() in a comment\nself.audit.commit(batch, [a]).await?;\n";
    let hits: Vec<usize> = hand_written_audit_steps(text)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(hits, vec![1, 2]);
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    let cycle = find_cycle(&graph).expect("a cycle");
    assert_eq!(cycle.first(), cycle.last());
    assert!(cycle.len() == 4, "{cycle:?}");
    let acyclic: BTreeMap<String, BTreeSet<String>> = [("a", vec!["b"]), ("b", vec![])]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
        .collect();
    assert_eq!(find_cycle(&acyclic), None);
}

/// A file's code as the checks read it: without its `#[cfg(test)] mod
/// tests` block (by convention the last item) and with whole-line comments
/// blanked, so doc comments that name a thing do not count as naming it
/// (line numbers stay the file's).
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|l| {
            if l.trim_start().starts_with("//") {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

// ---- the CLI's file graph ----------------------------------------------------

/// A file's module path inside its crate: `cmd/audit/mod.rs` → `cmd::audit`,
/// `cmd/alert.rs` → `cmd::alert`, `main.rs` → `` (the crate root).
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts
        .last()
        .is_some_and(|l| l == "mod" || l == "main" || l == "lib")
    {
        parts.pop();
    }
    parts
}

/// The paths a file names: `crate::a::b`, `super::x`, `self::y`, with
/// grouped imports (`crate::cmd::{pki, peer}`) expanded one level.
fn named_paths(code: &str) -> Vec<Vec<String>> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let bytes: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts = ["crate::", "super::", "self::"]
            .iter()
            .find(|p| code_chars_at(&bytes, i, p));
        let preceded = i > 0 && (ident(bytes[i - 1]) || bytes[i - 1] == ':');
        let Some(prefix) = starts.filter(|_| !preceded) else {
            i += 1;
            continue;
        };
        // Read `seg::seg::…` as far as it goes.
        let mut segs = vec![prefix.trim_end_matches("::").to_owned()];
        let mut j = i + prefix.len();
        loop {
            let start = j;
            while j < bytes.len() && ident(bytes[j]) {
                j += 1;
            }
            if j == start {
                break;
            }
            segs.push(bytes[start..j].iter().collect());
            if code_chars_at(&bytes, j, "::") {
                j += 2;
            } else {
                break;
            }
        }
        if j < bytes.len() && bytes[j] == '{' {
            // A group: each item's first segment extends the path.
            let end = bytes[j..].iter().position(|&c| c == '}').map(|e| j + e);
            let group: String = bytes[j + 1..end.unwrap_or(bytes.len())].iter().collect();
            for item in group.split(',') {
                let name: String = item.trim().chars().take_while(|&c| ident(c)).collect();
                if name == "self" {
                    out.push(segs.clone());
                } else if !name.is_empty() {
                    let mut path = segs.clone();
                    path.push(name);
                    out.push(path);
                }
            }
            i = end.unwrap_or(bytes.len());
        } else {
            out.push(segs);
            i = j;
        }
    }
    out
}

fn code_chars_at(chars: &[char], at: usize, s: &str) -> bool {
    s.chars()
        .enumerate()
        .all(|(k, c)| chars.get(at + k) == Some(&c))
}

/// File (as its module path, `cmd::audit::export`) → the files it names
/// through `crate::`, `super::` and `self::` paths, and the child modules it
/// declares (`mod x;`), resolved to the longest module path that is a file.
fn file_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut modules: BTreeMap<Vec<String>, String> = BTreeMap::new();
    for file in &files {
        let rel = file.strip_prefix(src).unwrap();
        if rel.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        modules.insert(module_path(rel), code_of(&text));
    }
    let name = |path: &[String]| {
        if path.is_empty() {
            "main".to_owned()
        } else {
            path.join("::")
        }
    };
    let resolve = |path: &[String]| -> Option<Vec<String>> {
        (0..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|p| modules.contains_key(p))
    };
    let mut graph = BTreeMap::new();
    for (me, code) in &modules {
        let mut edges = BTreeSet::new();
        for path in named_paths(code) {
            let mut base: Vec<String> = me.clone();
            let mut rest = path.as_slice();
            if rest[0] == "crate" {
                base.clear();
                rest = &rest[1..];
            } else {
                while let Some(first) = rest.first() {
                    match first.as_str() {
                        "super" => {
                            base.pop();
                        }
                        "self" => {}
                        _ => break,
                    }
                    rest = &rest[1..];
                }
            }
            base.extend(rest.iter().cloned());
            if let Some(target) = resolve(&base).filter(|t| t != me) {
                edges.insert(name(&target));
            }
        }
        for line in code.lines() {
            let line = line.trim_start();
            let line = line
                .strip_prefix("pub(crate) ")
                .or_else(|| line.strip_prefix("pub "))
                .unwrap_or(line);
            if let Some(child) = line.strip_prefix("mod ").and_then(|l| l.strip_suffix(';')) {
                let mut path = me.clone();
                path.push(child.trim().to_owned());
                edges.insert(name(&path));
            }
        }
        graph.insert(name(me), edges);
    }
    graph
}

#[test]
fn the_cli_file_graph_has_no_cycle() {
    let graph = file_graph(&workspace().join("cli/src"));
    assert!(
        graph.len() > 40,
        "the CLI's files were not found: {graph:?}"
    );
    assert!(
        graph["cmd::demo"].contains("local") && graph["args"].contains("cmd::alert"),
        "edges are read: {graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "the CLI's files import one another in a cycle (arguments belong beside \
             their command, shared helpers in a file of their own): {}",
            cycle.join(" -> ")
        );
    }
}

#[test]
fn named_paths_reads_groups_and_relative_paths() {
    let paths = named_paths(
        "use crate::cmd::{pki, peer::PeerCommand};\nuse super::view::{self, X};\nlet a = self::fields::f();\nfoo_crate::x; super::super::y",
    );
    let joined: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        joined,
        [
            "crate::cmd::pki",
            "crate::cmd::peer",
            "super::view",
            "super::view::X",
            "self::fields::f",
            "super::super::y"
        ]
    );
}

// ---- ARCHITECTURE.md's invariants --------------------------------------------

/// One grep-checkable invariant: `doc` is the phrase ARCHITECTURE.md states
/// it with; no file under `scope` but those under `allowed` may contain any
/// of `patterns` (in code, not comments or unit tests).
struct Rule {
    doc: &'static str,
    patterns: &'static [&'static str],
    scope: &'static [&'static str],
    allowed: &'static [&'static str],
}

const NODE_AND_CLI: &[&str] = &["node/src/", "cli/src/"];

const RULES: &[Rule] = &[
    Rule {
        doc: "only this module names sled",
        patterns: &["sled::", "use sled"],
        scope: NODE_AND_CLI,
        allowed: &["node/src/store/"],
    },
    Rule {
        doc: "never names sled",
        patterns: &["sled::", "use sled"],
        scope: &["node/src/backup/"],
        allowed: &[],
    },
    Rule {
        doc: "only this module touches ring and parses private keys",
        patterns: &[
            " ring::",
            "(ring::",
            "<ring::",
            "PrivateKeyDer::from",
            "PrivatePkcs8KeyDer",
            "PrivatePkcs1KeyDer",
            "PrivateSec1KeyDer",
            "rustls_pemfile",
            "KeyPair::from_pem",
            "KeyPair::from_der",
            "Identity::from_pem",
            "Ed25519KeyPair",
            "from_pkcs8_maybe_unchecked",
        ],
        scope: NODE_AND_CLI,
        allowed: &["node/src/crypto/"],
    },
    Rule {
        doc: "rustls's provider is selected as ring",
        patterns: &["rustls::crypto::ring"],
        scope: NODE_AND_CLI,
        allowed: &[
            "node/src/main.rs",
            "node/src/tls/mod.rs",
            "cli/src/main.rs",
            "cli/src/tls_probe.rs",
        ],
    },
    Rule {
        doc: "`Denied` is built only here",
        patterns: &["Denied::"],
        scope: &["node/src/"],
        allowed: &["node/src/policy.rs"],
    },
    Rule {
        doc: "no other module reads a recipient list to decide who gets a record",
        patterns: &["recipients.contains("],
        scope: &["node/src/"],
        // The envelope's own consistency check: an issuer never lists itself.
        allowed: &["node/src/policy.rs", "node/src/exchange/envelope.rs"],
    },
    Rule {
        doc: "envelopes take their wire form only in `federation::wire`",
        patterns: &["envelope_out", "envelope_in"],
        scope: &["node/src/"],
        allowed: &["node/src/federation/", "node/src/api/federation.rs"],
    },
    Rule {
        doc: "matching is pure (no I/O, no clock",
        patterns: &[
            "std::fs",
            "std::net",
            "tokio",
            "crate::store",
            "clock::",
            "SystemTime",
            "Instant::now",
        ],
        scope: &[
            "node/src/screening/normalize.rs",
            "node/src/screening/score.rs",
            "node/src/screening/index.rs",
            "node/src/screening/legal_forms.rs",
            "node/src/screening/countries.rs",
        ],
        allowed: &[],
    },
    Rule {
        doc: "only this module talks to peers",
        patterns: &["peer_channel(", "tonic::transport::Channel"],
        scope: &["node/src/"],
        allowed: &["node/src/federation/", "node/src/tls/client.rs"],
    },
    Rule {
        doc: "every outbound peer call goes through `PeerClient`, and only `grpc` names a generated service client",
        patterns: &["_service_client::", "ServiceClient<", "ServiceClient::new"],
        scope: &["node/src/"],
        allowed: &["node/src/federation/grpc/"],
    },
    Rule {
        doc: "see prost types; `server` names the generated service wrappers",
        patterns: &["concord_proto::v1 as pb", "pb::", "concord_proto::v1::"],
        scope: &["node/src/"],
        allowed: &["node/src/api/", "node/src/federation/"],
    },
    Rule {
        doc: "the console reaches the domain only through its services: it names neither `api`, `store` nor `federation`",
        patterns: &["crate::api", "crate::store", "crate::federation", "pb::"],
        scope: &["node/src/web/"],
        allowed: &[],
    },
    Rule {
        doc: "`anyhow` lives only in `main`",
        patterns: &["anyhow"],
        scope: &["cli/src/"],
        allowed: &["cli/src/main.rs"],
    },
    Rule {
        doc: "only `nodes` spawns processes and sends signals",
        patterns: &["Command::new", ".spawn()", "libc::kill"],
        scope: &["cli/src/"],
        allowed: &["cli/src/nodes.rs"],
    },
];

/// Invariants stated as top-level module edges that must not exist.
struct Edges {
    doc: &'static str,
    from: &'static str,
    never: &'static [&'static str],
}

const EDGES: &[Edges] = &[
    Edges {
        doc: "TLS decides *who* is calling, never *what they may do*",
        from: "tls",
        never: &["policy"],
    },
    Edges {
        doc: "licensing records never leave the node",
        from: "licensing",
        never: &["federation", "api", "taskforce", "consult"],
    },
];

/// Invariants the graph tests above check.
const GRAPH_CHECKED: &[&str] = &[
    "the node's top-level modules import one another without a cycle",
    "the CLI's files import one another without a cycle",
    // only_the_audit_module_opens_an_audit_append
    "only `audit` opens an append",
];

/// Invariants ARCHITECTURE.md states that grep cannot check (they are
/// property- or integration-tested instead), by a phrase of each.
const NOT_GREP_CHECKABLE: &[&str] = &[
    "the score never decides",
    "a record is revealed to a task-force",
    "an approval resembling an active peer denial",
];

/// ARCHITECTURE.md's text with its line breaks and runs of spaces folded,
/// so a phrase may wrap.
fn architecture() -> String {
    let text = std::fs::read_to_string(workspace().join("ARCHITECTURE.md")).unwrap();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every "Architecture invariant:" statement of ARCHITECTURE.md, up to the
/// next heading or paragraph break.
fn stated_invariants() -> Vec<String> {
    let text = std::fs::read_to_string(workspace().join("ARCHITECTURE.md")).unwrap();
    let mut out = Vec::new();
    for (at, _) in text.match_indices("**Architecture invariant:**") {
        let rest = &text[at..];
        let end = ["\n\n", "\n#", "\n- "]
            .iter()
            .filter_map(|e| rest.find(e))
            .min()
            .unwrap_or(rest.len());
        out.push(rest[..end].split_whitespace().collect::<Vec<_>>().join(" "));
    }
    out
}

#[test]
fn every_stated_invariant_is_checked_or_named_as_not_grep_checkable() {
    let doc = architecture();
    let phrases: Vec<&str> = RULES
        .iter()
        .map(|r| r.doc)
        .chain(EDGES.iter().map(|e| e.doc))
        .chain(GRAPH_CHECKED.iter().copied())
        .chain(NOT_GREP_CHECKABLE.iter().copied())
        .collect();
    for phrase in &phrases {
        assert!(
            doc.contains(phrase),
            "tidy.rs checks an invariant ARCHITECTURE.md no longer states: {phrase:?} \
             (update the rule beside the changed line)"
        );
    }
    let stated = stated_invariants();
    assert!(stated.len() >= 10, "{stated:#?}");
    for invariant in stated {
        assert!(
            phrases.iter().any(|p| invariant.contains(p)),
            "ARCHITECTURE.md states an invariant tidy.rs neither checks nor names as \
             not grep-checkable: {invariant:?}"
        );
    }
}

#[test]
fn the_architecture_invariants_hold() {
    let root = workspace();
    let mut files = Vec::new();
    for dir in ["node/src", "cli/src"] {
        rust_files(&root.join(dir), &mut files);
    }
    let mut broken = Vec::new();
    for file in &files {
        let rel = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel.ends_with("/tests.rs") {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(file).unwrap());
        for rule in RULES {
            let in_scope = rule.scope.iter().any(|s| rel.starts_with(s));
            let allowed = rule.allowed.iter().any(|a| rel.starts_with(a));
            if !in_scope || allowed {
                continue;
            }
            for (n, line) in code.lines().enumerate() {
                if let Some(p) = rule.patterns.iter().find(|p| line.contains(**p)) {
                    // `server` mounts the generated service wrappers and
                    // registers the descriptor set for reflection.
                    let wrapper = rel == "node/src/server.rs"
                        && (line.contains("_service_server::")
                            || line.contains("FILE_DESCRIPTOR_SET"));
                    if !wrapper {
                        broken.push(format!(
                            "{rel}:{}: names {p:?}, but ARCHITECTURE.md says {:?}",
                            n + 1,
                            rule.doc
                        ));
                    }
                }
            }
        }
    }
    let graph = module_graph(&root.join("node/src"));
    for e in EDGES {
        for to in e.never {
            if graph.get(e.from).is_some_and(|edges| edges.contains(*to)) {
                broken.push(format!(
                    "node/src/{}: imports `{to}`, but ARCHITECTURE.md says {:?}",
                    e.from, e.doc
                ));
            }
        }
    }
    // sled is a dependency of the node only.
    for manifest in ["cli/Cargo.toml", "proto/Cargo.toml"] {
        let text = std::fs::read_to_string(root.join(manifest)).unwrap();
        if text.lines().any(|l| l.trim_start().starts_with("sled")) {
            broken.push(format!("{manifest}: depends on sled"));
        }
    }
    assert!(
        broken.is_empty(),
        "architecture invariants broken:\n{}",
        broken.join("\n")
    );
}
