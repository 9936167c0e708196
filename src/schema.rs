//! The protocol's JSON Schema (draft 2020-12), generated: the observation,
//! replies and request data from the Rust types that produce and parse them
//! (schemars), the action and config ranges from the vocabulary table.
//! `{"type":"schema"}` and `trainwreck schema` return it; docs/schema.json is
//! a copy a test keeps in step.
//!
//! Every shape is under `$defs`; validate a line against one of them by
//! pointing a `$ref` at it from the root: `{…document, "$ref": "#/$defs/reply"}`.
//! `action`, `observation` and `replies` are also at the top level with every
//! reference resolved, for clients that read shapes directly.

use crate::env::StepInfo;
use crate::events::{EVENT_NAMES, TrainingEvent};
use crate::protocol::{ErrorCode, REQUEST_TYPES, RenderData, ResetData};
use crate::session::{EventsReply, GradeReply, RenderReply, StateReply, StepReply, TasksReply};
use crate::sim::TrainConfig;
use crate::vocab;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value, json};

pub const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The `data` of an `error` reply.
#[derive(serde::Serialize, JsonSchema)]
pub struct ErrorData {
    pub code: ErrorCode,
    pub message: String,
    /// The JSON path of the offending field, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The schema of a `{"type": kind, "id"?, "data": data}` line.
fn envelope(kind: &str, data: Option<Value>, data_required: bool, description: &str) -> Value {
    let mut properties = Map::new();
    properties.insert("type".into(), json!({ "const": kind }));
    properties.insert(
        "id".into(),
        json!({ "description": "any JSON value; echoed on every reply to this request" }),
    );
    let mut required = vec![json!("type")];
    if let Some(data) = data {
        properties.insert("data".into(), data);
        if data_required {
            required.push(json!("data"));
        }
    }
    json!({
        "title": kind,
        "description": description,
        "type": "object",
        "additionalProperties": false,
        "required": required,
        "properties": properties,
    })
}

fn request(kind: &str) -> Value {
    let none = json!({ "type": ["object", "null"], "additionalProperties": false });
    let events = json!({
        "description": "\"all\" or a list of event names",
        "anyOf": [ { "const": "all" }, { "type": "array", "items": { "enum": EVENT_NAMES } } ]
    });
    match kind {
        "reset" => envelope(
            kind,
            Some(json!({ "anyOf": [ { "$ref": "#/$defs/ResetData" }, { "type": "null" } ] })),
            false,
            "Start an episode. No task_id: the task of the last reset (the first task in a new session). \
             No seed: the next seed of the session's own sequence.",
        ),
        "step" => envelope(
            kind,
            Some(json!({ "$ref": "#/$defs/action" })),
            true,
            "Take one action.",
        ),
        "subscribe" => envelope(
            kind,
            Some(json!({
                "type": "object", "additionalProperties": false, "required": ["events"],
                "properties": { "events": events }
            })),
            true,
            "Receive training events as lines.",
        ),
        "unsubscribe" => envelope(
            kind,
            Some(json!({
                "type": ["object", "null"], "additionalProperties": false,
                "properties": { "events": events }
            })),
            false,
            "Stop receiving events (all when no list is given).",
        ),
        "state" | "grade" | "tasks" | "schema" | "close" => {
            envelope(kind, Some(none), false, "No data.")
        }
        _ => envelope(kind, Some(json!({})), false, "See docs/PROTOCOL.md."),
    }
}

fn reply(kind: &str, data: Value) -> Value {
    envelope(kind, Some(data), true, "")
}

/// Narrow the generated `TrainConfig` with the table's ranges and words, so
/// `current_config` documents what each value may be.
fn narrow_config(defs: &mut Map<String, Value>) {
    let Some(Value::Object(props)) = defs
        .get_mut("TrainConfig")
        .and_then(|c| c.get_mut("properties"))
    else {
        return;
    };
    for target in vocab::CONFIG_TARGETS {
        let mut range = vocab::range_schema(&target.range);
        if let Some(obj) = range.as_object_mut() {
            obj.insert("description".into(), json!(target.expected()));
        }
        props.insert(target.name.into(), range);
    }
}

/// `value` with every `{"$ref": "#/$defs/X"}` replaced by a copy of X, for
/// clients that read a shape without resolving references. The shapes here
/// are not recursive; `depth` guards against a future one.
fn inlined(value: &Value, defs: &Map<String, Value>, depth: usize) -> Value {
    match value {
        Value::Object(obj) => {
            let target = obj
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
                .and_then(|name| defs.get(name));
            match target {
                Some(target) if depth > 0 => {
                    let mut out = match inlined(target, defs, depth - 1) {
                        Value::Object(o) => o,
                        other => return other,
                    };
                    for (k, v) in obj.iter().filter(|(k, _)| *k != "$ref") {
                        out.insert(k.clone(), inlined(v, defs, depth));
                    }
                    Value::Object(out)
                }
                _ => Value::Object(
                    obj.iter()
                        .map(|(k, v)| (k.clone(), inlined(v, defs, depth)))
                        .collect(),
                ),
            }
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| inlined(v, defs, depth)).collect())
        }
        other => other.clone(),
    }
}

/// The whole document.
pub fn document() -> Value {
    let mut generator = SchemaGenerator::new(SchemaSettings::draft2020_12());
    let mut defs = Map::new();
    let mut typed = |name: &str, schema: schemars::Schema| {
        defs.insert(name.to_string(), schema.to_value());
    };
    typed("observation_reply", generator.subschema_for::<StepReply>());
    typed("state_reply", generator.subschema_for::<StateReply>());
    typed("grade_reply", generator.subschema_for::<GradeReply>());
    typed("tasks_reply", generator.subschema_for::<TasksReply>());
    typed("render_reply", generator.subschema_for::<RenderReply>());
    typed("events_reply", generator.subschema_for::<EventsReply>());
    typed("error_data", generator.subschema_for::<ErrorData>());
    typed("event_data", generator.subschema_for::<TrainingEvent>());
    typed("step_info", generator.subschema_for::<StepInfo>());
    typed("config", generator.subschema_for::<TrainConfig>());
    generator.subschema_for::<ResetData>();
    generator.subschema_for::<RenderData>();
    for (name, schema) in generator.take_definitions(true) {
        defs.insert(name, schema);
    }
    narrow_config(&mut defs);
    if let Some(Value::Object(obs)) = defs.get_mut("ObservationOut")
        && let Some(Value::Object(props)) = obs.get_mut("properties")
    {
        props.insert(
            "available_actions".into(),
            json!({ "type": "array", "items": { "enum": vocab::ACTION_TYPES } }),
        );
    }
    defs.insert(
        "observation".into(),
        json!({ "$ref": "#/$defs/ObservationOut" }),
    );
    defs.insert("action".into(), vocab::action_schema());

    let mut requests = Map::new();
    for kind in REQUEST_TYPES {
        requests.insert(kind.to_string(), request(kind));
    }
    let reply_data = [
        ("observation", "#/$defs/observation_reply"),
        ("state", "#/$defs/state_reply"),
        ("grade", "#/$defs/grade_reply"),
        ("tasks", "#/$defs/tasks_reply"),
        ("render", "#/$defs/render_reply"),
        ("subscribed", "#/$defs/events_reply"),
        ("unsubscribed", "#/$defs/events_reply"),
        ("event", "#/$defs/event_data"),
        ("error", "#/$defs/error_data"),
    ];
    let mut replies = Map::new();
    for (kind, data) in reply_data {
        replies.insert(kind.to_string(), reply(kind, json!({ "$ref": data })));
    }
    replies.insert(
        "schema".into(),
        reply(
            "schema",
            json!({ "type": "object", "description": "this document" }),
        ),
    );
    let request_refs: Vec<Value> = REQUEST_TYPES
        .iter()
        .map(|k| json!({ "$ref": format!("#/$defs/requests/{k}") }))
        .collect();
    let reply_refs: Vec<Value> = replies
        .keys()
        .map(|k| json!({ "$ref": format!("#/$defs/replies/{k}") }))
        .collect();
    defs.insert("requests".into(), Value::Object(requests));
    defs.insert("replies".into(), Value::Object(replies));
    defs.insert("request".into(), json!({ "oneOf": request_refs }));
    defs.insert("reply".into(), json!({ "oneOf": reply_refs }));

    // Self-contained copies at the top level, for clients that read
    // `action`, `observation` and `replies/<type>` without resolving `$ref`.
    let action = defs.get("action").cloned().unwrap_or_default();
    let observation = inlined(&json!({ "$ref": "#/$defs/observation" }), &defs, 16);
    let replies_inlined = inlined(&json!({ "$ref": "#/$defs/replies" }), &defs, 16);
    json!({
        "$schema": DRAFT,
        "$id": "https://trainwreck.invalid/protocol.schema.json",
        "title": "trainwreck JSON-lines protocol",
        "description": "Every request and reply line, the action space and the observation. \
            Validate a line against one shape by adding \"$ref\": \"#/$defs/<shape>\" to this document \
            (shapes: request, reply, action, observation, requests/<type>, replies/<type>).",
        "$defs": defs,
        "action": action,
        "observation": observation,
        "replies": replies_inlined,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_request_type_and_action_has_a_shape() {
        let doc = document();
        for kind in REQUEST_TYPES {
            assert!(doc["$defs"]["requests"][kind].is_object(), "{kind}");
        }
        let variants = doc["$defs"]["action"]["oneOf"]
            .as_array()
            .map_or(0, Vec::len);
        assert_eq!(variants, vocab::ACTIONS.len());
    }

    #[test]
    fn docs_schema_json_is_the_generated_document() {
        let generated = serde_json::to_string_pretty(&document()).unwrap_or_default() + "\n";
        let on_disk = include_str!("../docs/schema.json");
        assert!(
            on_disk == generated,
            "docs/schema.json is out of date: run `trainwreck schema > docs/schema.json`"
        );
    }
}
