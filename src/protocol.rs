//! The JSON-lines protocol: request shapes, reply shapes and error codes. One
//! JSON object per line each way; `"type"` first in every object. Parsing is
//! strict (unknown keys are errors) and precise (the error names the field).

use crate::env::ActionRequest;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest accepted request line, in bytes (without the newline).
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Error codes: the origin's four, then ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// Not JSON, or not UTF-8.
    InvalidJson,
    /// A `type` this server does not know.
    UnknownType,
    /// JSON, but not the shape of a request: not an object, a missing, unknown
    /// or mistyped field.
    ValidationError,
    /// The request was understood but could not be carried out.
    ExecutionError,
    /// `reset` named a task that is not loaded.
    UnknownTask,
    /// `step`, `state` or `grade` before any `reset`.
    NoEpisode,
    /// `step` after the episode ended.
    EpisodeDone,
    /// A line longer than [`MAX_LINE_BYTES`].
    LineTooLong,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 8] = [
        ErrorCode::InvalidJson,
        ErrorCode::UnknownType,
        ErrorCode::ValidationError,
        ErrorCode::ExecutionError,
        ErrorCode::UnknownTask,
        ErrorCode::NoEpisode,
        ErrorCode::EpisodeDone,
        ErrorCode::LineTooLong,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "INVALID_JSON",
            ErrorCode::UnknownType => "UNKNOWN_TYPE",
            ErrorCode::ValidationError => "VALIDATION_ERROR",
            ErrorCode::ExecutionError => "EXECUTION_ERROR",
            ErrorCode::UnknownTask => "UNKNOWN_TASK",
            ErrorCode::NoEpisode => "NO_EPISODE",
            ErrorCode::EpisodeDone => "EPISODE_DONE",
            ErrorCode::LineTooLong => "LINE_TOO_LONG",
        }
    }
}

/// A refused request.
#[derive(Debug, Clone, PartialEq)]
pub struct ProtocolError {
    pub code: ErrorCode,
    pub message: String,
    /// The JSON path of the offending field, when there is one.
    pub field: Option<String>,
}

impl ProtocolError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ProtocolError {
            code,
            message: message.into(),
            field: None,
        }
    }
}

/// Request types, as they appear in `"type"`.
pub const REQUEST_TYPES: [&str; 10] = [
    "reset",
    "step",
    "state",
    "render",
    "close",
    "tasks",
    "grade",
    "schema",
    "subscribe",
    "unsubscribe",
];

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetData {
    #[serde(default)]
    pub task_id: Option<String>,
    #[serde(default)]
    pub seed: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// How `render` shows the observation.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RenderFormat {
    /// Compact plain text for language models (see `render_text`).
    #[default]
    Text,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderData {
    #[serde(default)]
    pub format: RenderFormat,
}

/// `"all"` or a list of event names.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum EventSelection {
    All(String),
    Names(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscribeData {
    pub events: EventSelection,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnsubscribeData {
    #[serde(default)]
    pub events: Option<EventSelection>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Reset(ResetData),
    Step(ActionRequest),
    State,
    Render(RenderData),
    Close,
    Tasks,
    Grade,
    Schema,
    Subscribe(SubscribeData),
    Unsubscribe(UnsubscribeData),
}

impl Request {
    /// The request's `"type"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Request::Reset(_) => "reset",
            Request::Step(_) => "step",
            Request::State => "state",
            Request::Render(_) => "render",
            Request::Close => "close",
            Request::Tasks => "tasks",
            Request::Grade => "grade",
            Request::Schema => "schema",
            Request::Subscribe(_) => "subscribe",
            Request::Unsubscribe(_) => "unsubscribe",
        }
    }
}

/// A parsed line: the request and its optional `id`, echoed on every reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub id: Option<Value>,
    pub request: Request,
}

/// The top level of every request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvelope {
    #[serde(rename = "type")]
    kind: String,
    /// Read (so it is not an unknown key) but taken from the raw object,
    /// where `null` stays a value.
    #[serde(default, rename = "id")]
    _id: Option<Value>,
    #[serde(default)]
    data: Option<Value>,
}

fn validation(err: serde_path_to_error::Error<serde_json::Error>, prefix: &str) -> ProtocolError {
    let path = err.path().to_string();
    let field = if path == "." {
        prefix.to_string()
    } else if prefix.is_empty() {
        path
    } else {
        format!("{prefix}.{path}")
    };
    let inner = err.into_inner();
    let message = inner.to_string();
    let message = match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message,
    };
    let message = in_game_words(&message);
    ProtocolError {
        code: ErrorCode::ValidationError,
        message: if field.is_empty() {
            message
        } else {
            format!("{field}: {message}")
        },
        field: (!field.is_empty()).then_some(field),
    }
}

/// serde's wording where it leaks Rust: say what the game accepts instead.
fn in_game_words(message: &str) -> String {
    const PLAIN: [(&str, &str); 4] = [
        (
            "data did not match any variant of untagged enum ConfigValue",
            "expected a number, a string or true/false",
        ),
        (
            "data did not match any variant of untagged enum EventSelection",
            "expected \"all\" or a list of event names",
        ),
        (
            "expected u64",
            "expected a whole number from 0 to 18446744073709551615",
        ),
        ("expected usize", "expected a whole number from 0"),
    ];
    PLAIN
        .iter()
        .fold(message.to_string(), |m, (rust, game)| m.replace(rust, game))
}

fn typed<T: for<'de> Deserialize<'de>>(data: Value) -> Result<T, ProtocolError> {
    serde_path_to_error::deserialize(data).map_err(|e| validation(e, "data"))
}

fn required(kind: &str, data: Option<Value>) -> Result<Value, ProtocolError> {
    data.ok_or_else(|| ProtocolError {
        code: ErrorCode::ValidationError,
        message: format!("a {kind} request needs a 'data' object"),
        field: Some("data".into()),
    })
}

/// Parse one line (without its newline). `Ok(None)` for a blank line.
pub fn parse_line(line: &[u8]) -> Result<Option<Envelope>, (Option<Value>, ProtocolError)> {
    let text = std::str::from_utf8(line).map_err(|e| {
        (
            None,
            ProtocolError::new(
                ErrorCode::InvalidJson,
                format!("the line is not valid UTF-8 ({e})"),
            ),
        )
    })?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        (
            None,
            ProtocolError::new(ErrorCode::InvalidJson, format!("not valid JSON: {e}")),
        )
    })?;
    let Value::Object(_) = &value else {
        return Err((
            None,
            ProtocolError::new(
                ErrorCode::ValidationError,
                "a request must be a JSON object with a 'type'",
            ),
        ));
    };
    // Echo the id even when the rest of the request is refused.
    // `"id": null` is an id too (serde would read it as no id at all).
    let id = value.get("id").cloned();
    let raw: RawEnvelope =
        serde_path_to_error::deserialize(value).map_err(|e| (id.clone(), validation(e, "")))?;
    let data = raw.data;
    let kind = raw.kind.as_str();
    let request = match kind {
        "reset" => Request::Reset(match data {
            None | Some(Value::Null) => ResetData::default(),
            Some(d) => typed(d).map_err(|e| (id.clone(), e))?,
        }),
        "step" => Request::Step(
            typed(required(kind, data).map_err(|e| (id.clone(), e))?)
                .map_err(|e| (id.clone(), e))?,
        ),
        "subscribe" => Request::Subscribe(
            typed(required(kind, data).map_err(|e| (id.clone(), e))?)
                .map_err(|e| (id.clone(), e))?,
        ),
        "render" => Request::Render(match data {
            None | Some(Value::Null) => RenderData::default(),
            Some(d) => typed(d).map_err(|e| (id.clone(), e))?,
        }),
        "unsubscribe" => Request::Unsubscribe(match data {
            None | Some(Value::Null) => UnsubscribeData::default(),
            Some(d) => typed(d).map_err(|e| (id.clone(), e))?,
        }),
        "state" | "close" | "tasks" | "grade" | "schema" => {
            if let Some(d) = data
                && !d.is_null()
            {
                let _: Empty = typed(d).map_err(|e| (id.clone(), e))?;
            }
            match kind {
                "state" => Request::State,
                "close" => Request::Close,
                "tasks" => Request::Tasks,
                "grade" => Request::Grade,
                _ => Request::Schema,
            }
        }
        other => {
            return Err((
                id,
                ProtocolError::new(
                    ErrorCode::UnknownType,
                    format!(
                        "unknown message type '{other}' (known: {})",
                        REQUEST_TYPES.join(", ")
                    ),
                ),
            ));
        }
    };
    Ok(Some(Envelope { id, request }))
}

/// Build a reply line's object: `type`, then `id` (when given), then `data`.
pub fn reply(kind: &str, id: Option<&Value>, data: impl Serialize) -> String {
    #[derive(Serialize)]
    struct Reply<'a, T> {
        #[serde(rename = "type")]
        kind: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<&'a Value>,
        data: T,
    }
    serde_json::to_string(&Reply { kind, id, data }).unwrap_or_else(|e| {
        format!(r#"{{"type":"error","data":{{"code":"EXECUTION_ERROR","message":"cannot serialise reply: {e}"}}}}"#)
    })
}

pub fn error_reply(id: Option<&Value>, err: &ProtocolError) -> String {
    #[derive(Serialize)]
    struct ErrorData<'a> {
        code: &'static str,
        message: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        field: Option<&'a str>,
    }
    reply(
        "error",
        id,
        ErrorData {
            code: err.code.name(),
            message: &err.message,
            field: err.field.as_deref(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(line: &str) -> ErrorCode {
        parse_line(line.as_bytes()).unwrap_err().1.code
    }

    #[test]
    fn errors_speak_the_games_words_not_rusts() {
        let message = |line: &str| parse_line(line.as_bytes()).unwrap_err().1.message;
        assert!(
            message(r#"{"type":"reset","data":{"seed":18446744073709551616}}"#)
                .ends_with("expected a whole number from 0 to 18446744073709551615")
        );
        assert!(
            message(r#"{"type":"reset","data":{"seed":-1}}"#)
                .ends_with("expected a whole number from 0 to 18446744073709551615")
        );
        assert_eq!(
            message(r#"{"type":"step","data":{"action_type":"modify_config","value":[1]}}"#),
            "data.value: expected a number, a string or true/false"
        );
    }

    #[test]
    fn hostile_lines_get_their_codes() {
        assert_eq!(code("not json"), ErrorCode::InvalidJson);
        assert_eq!(code("[1,2]"), ErrorCode::ValidationError);
        assert_eq!(code(r#"{"type":"fly"}"#), ErrorCode::UnknownType);
        assert_eq!(code(r#"{"type":"step"}"#), ErrorCode::ValidationError);
        assert_eq!(
            code(r#"{"type":"step","action":{"action_type":"x"}}"#),
            ErrorCode::ValidationError
        );
        assert_eq!(
            code(r#"{"type":"reset","data":{"seed":-1}}"#),
            ErrorCode::ValidationError
        );
        assert_eq!(
            code(r#"{"type":"reset","data":{"seed":1e400}}"#),
            ErrorCode::InvalidJson
        );
        assert_eq!(
            code(r#"{"type":"step","data":{"action_type":5}}"#),
            ErrorCode::ValidationError
        );
        assert_eq!(
            parse_line(b"\xff\xfe").unwrap_err().1.code,
            ErrorCode::InvalidJson
        );
        assert_eq!(parse_line(b"   ").unwrap(), None);
        assert_eq!(
            code(r#"{"type":"render","data":{"format":"html"}}"#),
            ErrorCode::ValidationError
        );
    }

    #[test]
    fn validation_errors_name_the_field() {
        let (_, err) =
            parse_line(br#"{"type":"step","data":{"action_type":"modify_config","value":[1]}}"#)
                .unwrap_err();
        assert_eq!(err.field.as_deref(), Some("data.value"));
        let (id, err) = parse_line(br#"{"type":"reset","id":7,"data":{"seed":"x"}}"#).unwrap_err();
        assert_eq!(id, Some(Value::from(7)));
        assert_eq!(err.field.as_deref(), Some("data.seed"));
    }

    #[test]
    fn render_defaults_to_text() {
        for line in [
            r#"{"type":"render"}"#,
            r#"{"type":"render","data":{"format":"text"}}"#,
        ] {
            let envelope = parse_line(line.as_bytes()).unwrap().unwrap();
            assert_eq!(envelope.request, Request::Render(RenderData::default()));
        }
    }

    #[test]
    fn replies_put_type_first_and_echo_the_id() {
        let line = reply(
            "state",
            Some(&Value::from("a")),
            serde_json::json!({"x": 1}),
        );
        assert_eq!(line, r#"{"type":"state","id":"a","data":{"x":1}}"#);
    }
}
