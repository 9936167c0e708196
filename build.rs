//! Embeds every task file under `tasks/` in the binary: a task is added to the
//! catalogue by adding its file, never by editing a list in the code.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=tasks");
    // Read at run time: `env!` would bake in the directory this script was
    // first compiled in, and a target/ copied to another checkout would then
    // embed that checkout's tasks.
    let Some(manifest_dir) = std::env::var_os("CARGO_MANIFEST_DIR") else {
        panic!("cargo sets CARGO_MANIFEST_DIR for build scripts");
    };
    let dir = Path::new(&manifest_dir).join("tasks");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".toml") || n.ends_with(".json"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut out =
        String::from("/// The built-in tasks: (file name, content), sorted by file name.\n");
    let _ = writeln!(out, "pub const BUILTIN: &[(&str, &str)] = &[");
    for name in &names {
        println!("cargo:rerun-if-changed=tasks/{name}");
        let _ = writeln!(
            out,
            "    ({name:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/tasks/\", {name:?}))),"
        );
    }
    out.push_str("];\n");
    let Some(out_dir) = std::env::var_os("OUT_DIR") else {
        panic!("cargo sets OUT_DIR for build scripts");
    };
    if let Err(err) = std::fs::write(Path::new(&out_dir).join("builtin_tasks.rs"), out) {
        panic!("cannot write the built-in task list: {err}");
    }
}
