//! Finding input files: paths given on the command line, with directories
//! expanded to their files of the wanted extensions, sorted by name.

use std::path::{Path, PathBuf};

/// The files in `dir` ending in one of `extensions`, sorted.
pub fn in_dir(dir: &Path, extensions: &[&str]) -> std::io::Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| extensions.contains(&e))
        })
        .collect();
    found.sort();
    Ok(found)
}

/// Whether `path`, found in `dir`, resolves to somewhere outside it (a
/// symlink leaving the directory). A path that cannot be resolved does not
/// leave it: reading it reports the error.
pub fn leaves(dir: &Path, path: &Path) -> bool {
    match (dir.canonicalize(), path.canonicalize()) {
        (Ok(dir), Ok(target)) => !target.starts_with(dir),
        _ => false,
    }
}

/// Files as given; directories replaced by their matching files. A directory
/// that cannot be read is kept as is, so reading it reports the error.
pub fn expand(paths: &[PathBuf], extensions: &[&str]) -> Vec<PathBuf> {
    paths
        .iter()
        .flat_map(|p| {
            if p.is_dir() {
                in_dir(p, extensions).unwrap_or_else(|_| vec![p.clone()])
            } else {
                vec![p.clone()]
            }
        })
        .collect()
}
