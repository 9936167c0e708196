//! docs/PROTOCOL.md's examples, run against the real binary.

use crate::serve_raw;
use serde_json::Value;

/// `pattern` matches `actual`: "..." matches anything; objects match when every
/// key shown matches; other values must be equal.
fn matches(pattern: &Value, actual: &Value) -> Result<(), String> {
    match (pattern, actual) {
        (Value::String(s), _) if s == "..." => Ok(()),
        (Value::Object(p), Value::Object(a)) => p.iter().try_for_each(|(k, pv)| match a.get(k) {
            Some(av) => matches(pv, av).map_err(|e| format!("{k}.{e}")),
            None => Err(format!("{k}: missing")),
        }),
        (Value::Array(p), Value::Array(a)) if p.len() == a.len() => p
            .iter()
            .zip(a)
            .enumerate()
            .try_for_each(|(i, (pv, av))| matches(pv, av).map_err(|e| format!("[{i}]{e}"))),
        _ if pattern == actual => Ok(()),
        _ => Err(format!(": expected {pattern}, got {actual}")),
    }
}

#[test]
fn every_protocol_example_holds() {
    let doc = std::fs::read_to_string("docs/PROTOCOL.md").unwrap();
    let mut blocks = 0;
    for block in doc.split("```text\n").skip(1) {
        let block = block.split("```").next().unwrap();
        let requests: String = block
            .lines()
            .filter_map(|l| l.strip_prefix("→ "))
            .map(|l| format!("{l}\n"))
            .collect();
        if requests.is_empty() {
            continue;
        }
        blocks += 1;
        let expected: Vec<Value> = block
            .lines()
            .filter_map(|l| l.strip_prefix("← "))
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("doc reply is not JSON ({e}): {l}"))
            })
            .collect();
        let actual = serve_raw(&[], requests.as_bytes());
        assert_eq!(actual.len(), expected.len(), "block {blocks}: {actual:#?}");
        for (want, got) in expected.iter().zip(&actual) {
            if let Err(path) = matches(want, got) {
                panic!("block {blocks}: at {path}\nexpected {want}\nactual   {got}");
            }
        }
    }
    assert!(blocks >= 5, "found {blocks} example blocks");
}

/// The README's task table is the catalogue's, category by category.
#[test]
fn the_readme_lists_the_catalogue() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let table =
        trainwreck::task::catalogue::markdown_table(&trainwreck::task::TaskSet::builtin().unwrap());
    assert!(
        readme.contains(&table),
        "README.md's task table is out of step with the catalogue; paste this in:\n\n{table}"
    );
}

/// The Python package registers an environment per built-in task.
#[test]
fn python_catalogue_is_the_builtin_one() {
    let on_disk = std::fs::read_to_string("python/trainwreck/_catalogue.py").unwrap();
    let generated = trainwreck::task::catalogue::python_catalogue(
        &trainwreck::task::TaskSet::builtin().unwrap(),
    );
    assert!(
        on_disk == generated,
        "python/trainwreck/_catalogue.py is out of step with the catalogue; write this:\n\n{generated}"
    );
}

/// docs/BASELINES.md shows the heuristic agent's rule table as it is.
#[test]
fn baselines_show_the_heuristic_rules() {
    let doc = std::fs::read_to_string("docs/BASELINES.md").unwrap();
    let table = trainwreck::eval::heuristic_rules_table();
    assert!(
        doc.contains(&table),
        "docs/BASELINES.md's rule table is out of step with src/eval/rules.rs; paste this in:\n\n{table}"
    );
}
