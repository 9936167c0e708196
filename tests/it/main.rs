//! End-to-end tests: the real `trainwreck` binary, driven through pipes (and a
//! pty for the REPL). One test binary keeps link time down.

mod cli;
mod docs;
mod eval;
mod events;
mod fuzz;
mod mystery;
mod props;
mod render;
mod repl;
mod replay;
mod robust;
mod schema;
mod seed_000;
mod serve;
mod strategies;
mod tasks;
mod two_faults;

use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::OnceLock;

/// The generated protocol schema, pointed at one of its shapes.
pub fn validator(shape: &str) -> jsonschema::Validator {
    let mut doc = trainwreck::schema::document();
    doc["$ref"] = json!(format!("#/$defs/{shape}"));
    jsonschema::validator_for(&doc).unwrap()
}

/// Fail unless `line` is a reply the schema describes.
pub fn assert_valid_reply(line: &Value) {
    static REPLY: OnceLock<jsonschema::Validator> = OnceLock::new();
    let v = REPLY.get_or_init(|| validator("reply"));
    let errors: Vec<String> = v
        .iter_errors(line)
        .map(|e| format!("{e} (at {})", e.instance_path()))
        .take(5)
        .collect();
    assert!(
        errors.is_empty(),
        "reply does not match the schema: {errors:?}\n{line}"
    );
}

/// A `trainwreck` command with a hermetic environment.
pub fn trainwreck() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_trainwreck"));
    cmd.env_remove("NO_COLOR")
        .env_remove("COLUMNS")
        .env("TERM", "dumb")
        .env("TRAINWRECK_DATA_DIR", scratch("data"));
    cmd
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "trainwreck-test-{}-{name}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Send `lines` to `trainwreck --serve` (plus `args`) and parse every reply line.
pub fn serve(args: &[&str], lines: &[Value]) -> Vec<Value> {
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    serve_raw(args, input.as_bytes())
}

pub fn serve_raw(args: &[&str], input: &[u8]) -> Vec<Value> {
    let output = trainwreck()
        .arg("--serve")
        .args(args)
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let reply = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {l}"));
            // Every reply any end-to-end test sees is checked against the schema.
            assert_valid_reply(&reply);
            reply
        })
        .collect()
}
