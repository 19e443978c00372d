//! Layers point down. Every file under `src/` belongs to a layer, and a file may import
//! (`crate::…`) only from its own layer or those below:
//!
//! 0. values, config, error, telemetry — plain values and settings
//! 1. db, metrics, events, audit — storage, counters, the event log and bus, the audit log
//! 2. domain features (auth, directory, topics, inquiries, questions, news, tips, meetings, plans,
//!    subscriptions, partners, agenda, announcements,
//!    trainings, projects): their services, loaders and access rules
//! 3. notify — who gets which email, the outbox, the worker
//! 4. changes — the unit of work every caller changes data through
//! 5. GraphQL: `graphql/`, the shared `state`, and every feature's `schema.rs`
//! 6. http, inbound, and `schema` (the assembly of every feature's GraphQL) — the API, WebSockets,
//!    feeds, pages, and mail that arrives
//! 7. app, cli, commands, demo, doctor, network, scheduler — what runs it all
//!
//! The test reads the source as text, so it also sees imports inside functions.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The GraphQL layer, where every feature's `schema.rs` belongs.
const SCHEMA: usize = 5;

fn layer_of_module(top: &str) -> Option<usize> {
    Some(match top {
        "values" | "error" | "config" | "telemetry" => 0,
        "db" | "metrics" | "events" | "audit" => 1,
        "auth" | "directory" | "topics" | "inquiries" | "questions" | "news" | "tips"
        | "meetings" | "plans" | "subscriptions" | "partners" | "agenda" | "announcements"
        | "trainings" | "projects" => 2,
        "notify" => 3,
        "changes" => 4,
        "graphql" | "state" => SCHEMA,
        "http" | "inbound" | "schema" => 6,
        "app" | "cli" | "commands" | "demo" | "doctor" | "network" | "scheduler" | "lib"
        | "main" => 7,
        _ => return None,
    })
}

/// A file's layer: its top module's, except that a feature's `schema.rs` is GraphQL.
fn layer_of_file(relative: &Path) -> usize {
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let top = parts[0].trim_end_matches(".rs");
    if parts.len() > 1 && parts.last().is_some_and(|p| p == "schema.rs") {
        return SCHEMA;
    }
    layer_of_module(top).unwrap_or_else(|| panic!("{relative:?}: add its module to a layer"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The upward imports of the source tree: (file, the module it reaches up into).
fn upward_imports(src: &Path) -> BTreeSet<(String, String)> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut found = BTreeSet::new();
    for file in files {
        let relative = file.strip_prefix(src).unwrap();
        let layer = layer_of_file(relative);
        let text = std::fs::read_to_string(&file).unwrap();
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or_default();
            for (at, _) in code.match_indices("crate::") {
                let path: String = code[at + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let mut parts = path.split("::");
                let top = parts.next().unwrap_or_default();
                let Some(mut target) = layer_of_module(top) else {
                    continue;
                };
                if parts.next() == Some("schema") {
                    target = SCHEMA;
                }
                if target > layer {
                    found.insert((format!("src/{}", relative.display()), top.to_owned()));
                }
            }
        }
    }
    found
}

#[test]
fn no_module_imports_from_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = upward_imports(&src);
    assert!(
        found.is_empty(),
        "imports from a layer above (see the layers at the top of this file): {found:?}"
    );
}

#[test]
fn the_check_sees_an_upward_import() {
    let dir = tempfile::tempdir().unwrap();
    let values = dir.path().join("values");
    std::fs::create_dir_all(&values).unwrap();
    std::fs::write(
        values.join("mod.rs"),
        "use crate::error::AppError;\n// use crate::http::serve;\nfn f() { crate::inquiries::service::load(); }\n",
    )
    .unwrap();
    let found = upward_imports(dir.path());
    assert_eq!(
        found,
        BTreeSet::from([("src/values/mod.rs".to_owned(), "inquiries".to_owned())])
    );
}

/// Changes go through the unit of work (`Changes::run`): nothing else in `src/` begins a
/// transaction, except the migrations and the login throttle's bookkeeping, which append no
/// event and plan no email.
#[test]
fn only_the_unit_of_work_begins_transactions() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let allowed = ["changes.rs", "db/mod.rs", "auth/throttle.rs"];
    let mut found = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap().display().to_string();
        if allowed.contains(&relative.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if code.contains(".begin()") || code.contains("TransactionTrait") {
                found.push(format!("src/{relative}:{}", number + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "begins a transaction outside the unit of work: {found:?}"
    );
}
