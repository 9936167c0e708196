//! What can be wrong with a task file, and where: typed errors located at
//! file:line:column, and the field paths that problems found after parsing
//! carry until `locate` turns them into positions.

use std::fmt;

/// A located problem in a task file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TaskError {
    #[error("{file}:{line}:{column}: {field}: {message}")]
    Invalid {
        file: String,
        line: usize,
        column: usize,
        field: String,
        message: String,
    },
    #[error("{file}: cannot read: {message}")]
    Read { file: String, message: String },
    #[error("{file}: unsupported extension (task files end in .toml or .json)")]
    Extension { file: String },
    #[error("task id '{id}' is defined twice: {first} and {second}")]
    Duplicate {
        id: String,
        first: String,
        second: String,
    },
}

/// One step of a path into a task file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl From<&str> for Seg {
    fn from(s: &str) -> Self {
        Seg::Key(s.to_string())
    }
}

impl From<usize> for Seg {
    fn from(i: usize) -> Self {
        Seg::Index(i)
    }
}

/// A field path such as `variants[2].config.learning_rate`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    pub(crate) fn with(&self, seg: impl Into<Seg>) -> FieldPath {
        let mut next = self.clone();
        next.0.push(seg.into());
        next
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        if self.0.is_empty() {
            write!(f, "(file)")?;
        }
        Ok(())
    }
}

/// A problem found after parsing, before it is located in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub path: FieldPath,
    pub message: String,
}

pub(crate) fn problem(path: FieldPath, message: impl Into<String>) -> Problem {
    Problem {
        path,
        message: message.into(),
    }
}
