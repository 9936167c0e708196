//! Maps a field path back to a line and column of the task file's text, so a
//! problem found after parsing is reported where the author can fix it.

use super::{FieldPath, Seg};

/// 1-based line and column of byte `offset`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Where `path` is in `text`: the deepest part of the path that exists there.
pub fn locate(text: &str, is_json: bool, path: &FieldPath) -> (usize, usize) {
    let offset = if is_json {
        locate_json(text, path)
    } else {
        locate_toml(text, path)
    };
    line_col(text, offset.unwrap_or(0))
}

fn locate_toml(text: &str, path: &FieldPath) -> Option<usize> {
    let root = toml::de::DeValue::Table(toml::de::DeTable::parse(text).ok()?.into_inner());
    let mut current = &root;
    let mut best = None;
    for seg in &path.0 {
        let next = match seg {
            Seg::Key(k) => current.get(k.as_str()),
            Seg::Index(i) => current.get(*i),
        };
        match next {
            Some(value) => {
                best = Some(value.span().start);
                current = value.get_ref();
            }
            None => break,
        }
    }
    best
}

/// JSON has no span tree in serde_json: find each key in turn after the last.
fn locate_json(text: &str, path: &FieldPath) -> Option<usize> {
    let mut from = 0;
    let mut best = None;
    for seg in &path.0 {
        if let Seg::Key(k) = seg {
            let needle = format!("\"{k}\"");
            match text.get(from..).and_then(|rest| rest.find(&needle)) {
                Some(at) => {
                    from += at;
                    best = Some(from);
                }
                None => break,
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 99), (1, 3));
    }

    #[test]
    fn toml_paths_find_nested_values() {
        let text = "id = 'x'\n[[variants]]\nname = 'a'\n[[variants]]\nname = 'b'\nconfig = { learning_rate = -1 }\n";
        let path = FieldPath(vec![
            "variants".into(),
            1.into(),
            "config".into(),
            "learning_rate".into(),
        ]);
        assert_eq!(locate(text, false, &path), (6, 28));
    }
}
