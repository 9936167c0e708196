//! Turning a task file's text (TOML or JSON) into a checked `Task`: size and
//! depth limits first, then the typed parse, then `validate`, with every
//! problem reported at its file:line:column.

use super::{Problem, Task, TaskError, TaskFile, limits, locate, memo, validate};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Parse and check one task file's text. `name` decides the format and is
/// used in messages.
pub fn parse_task(name: &str, origin: &str, text: &str) -> Result<Task, Vec<TaskError>> {
    let is_json = name.ends_with(".json");
    if !is_json && !name.ends_with(".toml") {
        return Err(vec![TaskError::Extension {
            file: origin.to_string(),
        }]);
    }
    if let Some(offset) = limits::too_deep(text, is_json) {
        let (line, column) = locate::line_col(text, offset);
        return Err(vec![TaskError::Invalid {
            file: origin.to_string(),
            line,
            column,
            field: "(file)".into(),
            message: format!(
                "nested deeper than {} levels of arrays and tables",
                limits::MAX_DEPTH
            ),
        }]);
    }
    // Strings and numbers are bounded whatever field they are in; a file that
    // does not parse at all is reported by the typed parse below.
    let bounded = if is_json {
        serde_json::from_str::<serde_json::Value>(text)
            .map(|v| limits::check_values(&limits::Node::from(&v)))
            .unwrap_or_default()
    } else {
        toml::from_str::<toml::Value>(text)
            .map(|v| limits::check_values(&limits::Node::from(&v)))
            .unwrap_or_default()
    };
    if !bounded.is_empty() {
        return Err(located(origin, text, is_json, bounded));
    }
    let file: TaskFile = if is_json {
        let mut de = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut de).map_err(|err| {
            let field = err.path().to_string();
            let inner = err.into_inner();
            vec![TaskError::Invalid {
                file: origin.to_string(),
                line: inner.line(),
                column: inner.column(),
                field,
                message: strip_position(&inner.to_string()),
            }]
        })?
    } else {
        let de = toml::Deserializer::parse(text)
            .map_err(|err| vec![toml_error(origin, text, "(file)", &err)])?;
        serde_path_to_error::deserialize(de).map_err(|err| {
            let field = err.path().to_string();
            vec![toml_error(origin, text, &field, err.inner())]
        })?
    };
    let problems = validate(&file);
    if !problems.is_empty() {
        return Err(located(origin, text, is_json, problems));
    }
    let hash = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Task {
        file,
        origin: origin.to_string(),
        hash,
        references: memo::ReferenceMemo::default(),
        unmasked: None,
    })
}

/// Problems with their line and column in the file's text.
fn located(origin: &str, text: &str, is_json: bool, problems: Vec<Problem>) -> Vec<TaskError> {
    problems
        .into_iter()
        .map(|p| {
            let (line, column) = locate::locate(text, is_json, &p.path);
            TaskError::Invalid {
                file: origin.to_string(),
                line,
                column,
                field: p.path.to_string(),
                message: p.message,
            }
        })
        .collect()
}

fn toml_error(origin: &str, text: &str, field: &str, err: &toml::de::Error) -> TaskError {
    let (line, column) = err
        .span()
        .map_or((1, 1), |span| locate::line_col(text, span.start));
    TaskError::Invalid {
        file: origin.to_string(),
        line,
        column,
        field: if field == "." {
            "(file)".into()
        } else {
            field.to_string()
        },
        message: err.message().trim().to_string(),
    }
}

/// serde_json appends " at line L column C"; we print the position up front.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// Read and check one task file from disk.
pub fn load_file(path: &Path) -> Result<Task, Vec<TaskError>> {
    let origin = path.display().to_string();
    let text = limits::read(path).map_err(|e| vec![e])?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    parse_task(name, &origin, &text)
}
