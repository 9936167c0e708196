//! The docs' vocabulary tables, rendered from the table as Markdown. A test
//! holds docs/PROTOCOL.md and docs/TASKS.md to these exact blocks, so the docs
//! cannot drift from the code.

use super::table::{
    ACTIONS, Availability, CALLBACKS, CONFIG_TARGETS, DATA_PATCHES, LABELS, Param, Values,
};
use super::term::Term;
use crate::sim::TrainConfig;

fn quoted(words: impl IntoIterator<Item = &'static str>) -> String {
    words
        .into_iter()
        .map(|w| format!("`{w}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_param(p: &Param) -> String {
    let key = p.field.key();
    let what = match p.values {
        Values::ConfigTarget => "a config target or alias (docs/TASKS.md)".to_string(),
        Values::ConfigValue => "number, string or bool in the target's range".to_string(),
        Values::Terms(terms) if terms == LABELS => "a diagnosis label (docs/TASKS.md)".to_string(),
        Values::Terms(terms) => {
            let list = quoted(terms.iter().map(|t| t.name));
            match (p.required, terms.first()) {
                (false, Some(first)) => format!("{list} (default `{}`)", first.name),
                _ => list,
            }
        }
        Values::Line => "integer ≥ 1".to_string(),
        Values::Code => "one line of Python".to_string(),
    };
    let optional = if p.required { "" } else { "optional " };
    format!("{optional}`{key}`: {what}")
}

/// The action table of docs/PROTOCOL.md.
pub fn markdown_actions() -> String {
    let mut out = String::from("| action_type | parameters | effect |\n| --- | --- | --- |\n");
    for a in ACTIONS {
        let params = if a.params.is_empty() {
            "–".to_string()
        } else {
            a.params
                .iter()
                .map(describe_param)
                .collect::<Vec<_>>()
                .join("; ")
        };
        let when = match a.availability {
            Availability::Always => "",
            Availability::AfterCodeInspected => " (offered after `inspect_code`)",
            Availability::AfterPendingFix => " (offered after a fix)",
        };
        out.push_str(&format!(
            "| `{}` | {params} | {}{when} |\n",
            a.name, a.effect
        ));
    }
    out
}

/// The config-target table of docs/TASKS.md, with today's defaults.
pub fn markdown_config_targets() -> String {
    let defaults = serde_json::to_value(TrainConfig::default()).unwrap_or_default();
    let mut out = String::from("| target (aliases) | default | valid |\n| --- | --- | --- |\n");
    for t in CONFIG_TARGETS {
        let aliases = if t.aliases.is_empty() {
            String::new()
        } else {
            format!(" ({})", quoted(t.aliases.iter().copied()))
        };
        let default = match defaults.get(t.name) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => "–".to_string(),
        };
        out.push_str(&format!(
            "| `{}`{aliases} | {default} | {} |\n",
            t.name,
            t.expected()
        ));
    }
    out
}

fn terms_table(header: &str, terms: &[Term]) -> String {
    let mut out = format!("| {header} | meaning |\n| --- | --- |\n");
    for t in terms {
        let aliases = if t.aliases.is_empty() {
            String::new()
        } else {
            format!(" (also {})", quoted(t.aliases.iter().copied()))
        };
        out.push_str(&format!("| `{}`{aliases} | {} |\n", t.name, t.definition));
    }
    out
}

/// The diagnosis-label table of docs/TASKS.md.
pub fn markdown_labels() -> String {
    terms_table("label", LABELS)
}

/// The callback table of docs/TASKS.md.
pub fn markdown_callbacks() -> String {
    terms_table("callback", CALLBACKS)
}

/// The data-patch table of docs/TASKS.md.
pub fn markdown_data_patches() -> String {
    terms_table("patch", DATA_PATCHES)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROTOCOL: &str = include_str!("../../docs/PROTOCOL.md");
    const TASKS: &str = include_str!("../../docs/TASKS.md");

    fn holds(doc: &str, name: &str, block: &str) {
        assert!(
            doc.contains(block),
            "{name} is out of step with src/vocab/table.rs; paste this table in:\n\n{block}"
        );
    }

    #[test]
    fn docs_tables_match_the_vocabulary_table() {
        holds(PROTOCOL, "docs/PROTOCOL.md", &markdown_actions());
        holds(TASKS, "docs/TASKS.md", &markdown_config_targets());
        holds(TASKS, "docs/TASKS.md", &markdown_labels());
        holds(TASKS, "docs/TASKS.md", &markdown_callbacks());
        holds(TASKS, "docs/TASKS.md", &markdown_data_patches());
    }
}
