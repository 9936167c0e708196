//! The JSON Schema of an action, generated from the vocabulary table: one
//! variant per action type with its required parameters, the words each
//! parameter accepts (with their definitions) and, for `modify_config`, one
//! variant per config target with that target's range.

use super::table::{
    ACTIONS, ActionSpec, Availability, CONFIG_TARGETS, ConfigTarget, Param, Range, Values,
};
use super::term::Term;
use serde_json::{Map, Value, json};

/// `{"oneOf": [{"const": name, "description": definition}, …]}`: an enum whose
/// members explain themselves.
pub fn terms_schema(terms: &[Term]) -> Value {
    let members: Vec<Value> = terms
        .iter()
        .map(|t| {
            let mut m = json!({ "const": t.name, "description": t.definition });
            if !t.aliases.is_empty()
                && let Some(obj) = m.as_object_mut()
            {
                obj.insert("x-aliases".into(), json!(t.aliases));
            }
            m
        })
        .collect();
    json!({ "type": "string", "oneOf": members })
}

/// The schema of a value in `range`.
pub fn range_schema(range: &Range) -> Value {
    match range {
        Range::Real { min, max } => json!({ "type": "number", "minimum": min, "maximum": max }),
        Range::Count { min, max } => json!({ "type": "integer", "minimum": min, "maximum": max }),
        Range::Choice(terms) => terms_schema(terms),
        Range::Flag => json!({ "type": "boolean" }),
    }
}

fn target_variant(t: &ConfigTarget) -> Value {
    let names: Vec<&str> = std::iter::once(t.name)
        .chain(t.aliases.iter().copied())
        .collect();
    let mut value = range_schema(&t.range);
    if let Some(obj) = value.as_object_mut() {
        obj.insert("description".into(), json!(t.expected()));
    }
    json!({
        "title": t.name,
        "properties": {
            "target": { "enum": names },
            "value": value,
        },
    })
}

fn param_schema(p: &Param) -> Value {
    match p.values {
        Values::ConfigTarget => {
            let names: Vec<&str> = CONFIG_TARGETS
                .iter()
                .flat_map(|t| std::iter::once(t.name).chain(t.aliases.iter().copied()))
                .collect();
            json!({ "type": "string", "enum": names, "description": "a config target or alias" })
        }
        Values::ConfigValue => json!({
            "type": ["number", "string", "boolean"],
            "description": "in the target's range (see the variant for each target)"
        }),
        Values::Terms(terms) => {
            let mut s = terms_schema(terms);
            if !p.required
                && let (Some(obj), Some(first)) = (s.as_object_mut(), terms.first())
            {
                obj.insert("default".into(), json!(first.name));
            }
            s
        }
        Values::Line => json!({
            "type": "integer", "minimum": 1, "examples": [14],
            "description": "1-based line of train.py, at most code_snippet.line_count; loop and `if` headers cannot be edited"
        }),
        Values::Code => json!({
            "type": "string", "examples": ["optimizer.zero_grad()"],
            "description": "the new line of Python: a statement train.py understands (docs/TASKS.md)"
        }),
    }
}

fn variant(a: &ActionSpec) -> Value {
    let mut properties = Map::new();
    properties.insert("action_type".into(), json!({ "const": a.name }));
    let mut required = vec![json!("action_type")];
    for p in a.params {
        properties.insert(p.field.key().into(), param_schema(p));
        if p.required {
            required.push(json!(p.field.key()));
        }
    }
    let when = match a.availability {
        Availability::Always => "",
        Availability::AfterCodeInspected => " Offered after inspect_code.",
        Availability::AfterPendingFix => " Offered after a fix.",
    };
    let mut schema = json!({
        "title": a.name,
        "description": format!("{}.{when}", a.effect),
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "properties": properties,
    });
    if a.params.iter().any(|p| p.values == Values::ConfigTarget)
        && let Some(obj) = schema.as_object_mut()
    {
        let variants: Vec<Value> = CONFIG_TARGETS.iter().map(target_variant).collect();
        obj.insert("oneOf".into(), Value::Array(variants));
    }
    schema
}

/// The schema of a step's action: one variant per action type.
pub fn action_schema() -> Value {
    json!({
        "description": "An action: {\"action_type\": …} plus the parameters it needs.",
        "oneOf": ACTIONS.iter().map(variant).collect::<Vec<_>>(),
    })
}
