//! Bounds on a task file before its meaning is checked: what may be read (a
//! regular file, at most [`MAX_FILE_BYTES`]), how deeply it may nest, and what
//! every value in it may be (strings of bounded length without control
//! characters, so nothing in a task can drive the player's terminal; numbers
//! finite). A task file is outside input: these hold whatever the schema says.

use super::{FieldPath, Problem, TaskError, problem};
use std::io::Read;
use std::path::Path;

/// Largest task file read, in bytes. The built-in ones are under 8 KB.
pub const MAX_FILE_BYTES: u64 = 256 * 1024;
/// Deepest nesting of arrays and tables (the schema needs 4).
pub const MAX_DEPTH: usize = 16;
/// Longest string, in characters (notes, debriefs and titles included).
pub const MAX_STRING_CHARS: usize = 4000;

/// Read a task file: a regular file (a symlink to one is followed), no larger
/// than [`MAX_FILE_BYTES`], UTF-8. A FIFO or a device is refused before it is
/// opened, so neither can hang or flood the loader.
pub fn read(path: &Path) -> Result<String, TaskError> {
    let origin = path.display().to_string();
    let fail = |message: String| TaskError::Read {
        file: origin.clone(),
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    if !meta.is_file() {
        return Err(fail(
            "not a regular file (task files are plain .toml or .json files)".into(),
        ));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(fail(format!(
            "{} bytes is larger than the limit of {MAX_FILE_BYTES} bytes for a task file",
            meta.len()
        )));
    }
    let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
    // The file may have grown since: read no more than the limit allows.
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(fail(format!(
            "larger than the limit of {MAX_FILE_BYTES} bytes for a task file"
        )));
    }
    String::from_utf8(bytes).map_err(|e| fail(format!("not UTF-8: {e}")))
}

/// The byte offset where nesting first goes deeper than [`MAX_DEPTH`], found
/// without parsing (a parser handed "[[[[…" may recurse once per bracket).
/// Brackets inside strings and TOML comments do not count.
pub fn too_deep(text: &str, is_json: bool) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'#' if !is_json => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            quote @ (b'"' | b'\'') => {
                let literal = quote == b'\'' && !is_json;
                let triple = !is_json && bytes.get(i..i + 3) == Some(&[quote; 3][..]);
                i += if triple { 3 } else { 1 };
                while i < bytes.len() {
                    if bytes[i] == b'\\' && !literal {
                        i += 2;
                        continue;
                    }
                    if bytes[i] == quote
                        && (!triple || bytes.get(i..i + 3) == Some(&[quote; 3][..]))
                    {
                        i += if triple { 2 } else { 0 };
                        break;
                    }
                    if bytes[i] == b'\n' && !triple {
                        break;
                    }
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// A value of the file, whatever its format.
pub enum Node<'a> {
    Text(&'a str),
    Number(f64),
    Other,
    List(Vec<Node<'a>>),
    Map(Vec<(&'a str, Node<'a>)>),
}

impl<'a> From<&'a serde_json::Value> for Node<'a> {
    fn from(v: &'a serde_json::Value) -> Self {
        match v {
            serde_json::Value::String(s) => Node::Text(s),
            serde_json::Value::Number(n) => n.as_f64().map_or(Node::Other, Node::Number),
            serde_json::Value::Array(items) => Node::List(items.iter().map(Node::from).collect()),
            serde_json::Value::Object(map) => Node::Map(
                map.iter()
                    .map(|(k, v)| (k.as_str(), Node::from(v)))
                    .collect(),
            ),
            _ => Node::Other,
        }
    }
}

impl<'a> From<&'a toml::Value> for Node<'a> {
    fn from(v: &'a toml::Value) -> Self {
        match v {
            toml::Value::String(s) => Node::Text(s),
            toml::Value::Float(f) => Node::Number(*f),
            toml::Value::Array(items) => Node::List(items.iter().map(Node::from).collect()),
            toml::Value::Table(map) => Node::Map(
                map.iter()
                    .map(|(k, v)| (k.as_str(), Node::from(v)))
                    .collect(),
            ),
            _ => Node::Other,
        }
    }
}

/// Every string and number in the file, checked.
pub fn check_values(node: &Node<'_>) -> Vec<Problem> {
    let mut problems = Vec::new();
    walk(node, &FieldPath::default(), &mut problems);
    problems
}

fn walk(node: &Node<'_>, at: &FieldPath, problems: &mut Vec<Problem>) {
    match node {
        Node::Text(s) => {
            if let Some(why) = text_problem(s) {
                problems.push(problem(at.clone(), why));
            }
        }
        Node::Number(n) if !n.is_finite() => {
            problems.push(problem(
                at.clone(),
                format!("must be a finite number, got {n}"),
            ));
        }
        Node::List(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &at.with(i), problems);
            }
        }
        Node::Map(entries) => {
            for (key, value) in entries {
                let here = at.with(*key);
                if let Some(why) = text_problem(key) {
                    problems.push(problem(here.clone(), format!("key: {why}")));
                }
                walk(value, &here, problems);
            }
        }
        Node::Number(_) | Node::Other => {}
    }
}

/// Why a string cannot be shown to a player, if it cannot.
fn text_problem(s: &str) -> Option<String> {
    let chars = s.chars().count();
    if chars > MAX_STRING_CHARS {
        return Some(format!(
            "{chars} characters is longer than the limit of {MAX_STRING_CHARS}"
        ));
    }
    // Newlines and tabs lay text out; every other control character (ESC
    // above all) would reach the player's terminal as a command.
    s.chars()
        .find(|c| c.is_control() && *c != '\n' && *c != '\t')
        .map(|c| {
            format!(
                "contains the control character {}; write text only",
                c.escape_unicode()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_measured_outside_strings_and_comments() {
        assert_eq!(too_deep("a = [[1]]", false), None);
        let deep = format!("a = {}", "[".repeat(MAX_DEPTH + 1));
        assert_eq!(too_deep(&deep, false), Some(4 + MAX_DEPTH));
        let quoted = format!(
            "a = \"{}\"\n# {}\nb = '''{}'''",
            "[".repeat(99),
            "{".repeat(99),
            "[".repeat(99)
        );
        assert_eq!(too_deep(&quoted, false), None);
        let json = format!("{{\"a\": \"{}\\\"\"}}", "[".repeat(99));
        assert_eq!(too_deep(&json, true), None);
        assert!(too_deep(&"[".repeat(10_000_000), true).is_some());
    }

    #[test]
    fn strings_with_escapes_or_too_long_are_refused() {
        let v: toml::Value = toml::from_str(
            "title = \"\\u001b]0;pwned\\u0007\"\nnotes = \"two\\nlines\\tare fine\"\n[dressing]\nx = nan",
        )
        .unwrap();
        let problems = check_values(&Node::from(&v));
        let paths: Vec<String> = problems.iter().map(|p| p.path.to_string()).collect();
        assert_eq!(paths, ["dressing.x", "title"]);
        assert!(
            problems[1].message.contains("\\u{1b}"),
            "{}",
            problems[1].message
        );
        let long = serde_json::json!({"notes": "x".repeat(MAX_STRING_CHARS + 1)});
        assert_eq!(check_values(&Node::from(&long)).len(), 1);
    }

    #[test]
    fn fifos_devices_and_huge_files_are_not_read() {
        assert!(read(Path::new("/dev/zero")).is_err());
        let dir = std::env::temp_dir().join(format!("trainwreck-limits-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let big = dir.join("big.toml");
        std::fs::write(&big, vec![b'#'; MAX_FILE_BYTES as usize + 1]).unwrap();
        let err = read(&big).unwrap_err().to_string();
        assert!(err.contains("larger than the limit"), "{err}");
    }
}
