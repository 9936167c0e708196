//! The player's progress (best score per task) and history file, kept in the
//! user's data directory: `$TRAINWRECK_DATA_DIR`, else `$XDG_DATA_HOME/trainwreck`,
//! else `~/.local/share/trainwreck`. Failing to read or write it is reported
//! once and never stops the game.

use std::collections::BTreeMap;
use std::path::PathBuf;

pub fn data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("TRAINWRECK_DATA_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(xdg).join("trainwreck"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share/trainwreck"))
}

#[derive(Debug, Default)]
pub struct Progress {
    best: BTreeMap<String, f64>,
    path: Option<PathBuf>,
    /// Set once a read or write failed and the player was told.
    pub warning: Option<String>,
}

impl Progress {
    pub fn load() -> Self {
        let Some(dir) = data_dir() else {
            return Progress {
                warning: Some("no home directory: progress will not be saved".into()),
                ..Progress::default()
            };
        };
        let path = dir.join("progress.json");
        let mut progress = Progress {
            path: Some(path.clone()),
            ..Progress::default()
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => match serde_json::from_str(&text) {
                Ok(best) => progress.best = best,
                Err(e) => {
                    progress.warning = Some(format!(
                        "cannot read {}: {e}; starting afresh",
                        path.display()
                    ))
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => progress.warning = Some(format!("cannot read {}: {e}", path.display())),
        }
        progress
    }

    pub fn best(&self, task: &str) -> Option<f64> {
        self.best.get(task).copied()
    }

    /// Remember a score; returns a warning the first time saving fails.
    pub fn record(&mut self, task: &str, score: f64) -> Option<String> {
        let entry = self.best.entry(task.to_string()).or_insert(score);
        *entry = entry.max(score);
        let path = self.path.clone()?;
        let result = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                std::fs::write(
                    &path,
                    serde_json::to_string_pretty(&self.best).unwrap_or_default(),
                )
            });
        match result {
            Ok(()) => None,
            Err(e) if self.warning.is_none() => {
                let w = format!("cannot save progress to {}: {e}", path.display());
                self.warning = Some(w.clone());
                Some(w)
            }
            Err(_) => None,
        }
    }

    pub fn history_path() -> Option<PathBuf> {
        data_dir().map(|d| d.join("history.txt"))
    }
}
