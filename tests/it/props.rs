//! Property tests for every parser of outside input: whatever arrives, no
//! panic, and the answer has the promised shape.

use proptest::prelude::*;
use trainwreck::events::{FixedClock, NoSink};
use trainwreck::session::Session;
use trainwreck::task::TaskSet;

/// Lines that look like requests: real keys and types, wrong values.
fn request_like() -> impl Strategy<Value = String> {
    let kind = prop_oneof![
        Just("reset"),
        Just("step"),
        Just("state"),
        Just("grade"),
        Just("tasks"),
        Just("subscribe"),
        Just("unsubscribe"),
        Just("bogus")
    ];
    let value = prop_oneof![
        Just("null".to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| if f.is_finite() {
            f.to_string()
        } else {
            "1e999".into()
        }),
        "[a-z_]{0,12}".prop_map(|s| format!("\"{s}\"")),
        Just("[]".to_string()),
        Just("{}".to_string()),
    ];
    let key = prop_oneof![
        Just("task_id"),
        Just("seed"),
        Just("action_type"),
        Just("target"),
        Just("value"),
        Just("line"),
        Just("replacement"),
        Just("diagnosis"),
        Just("events"),
        Just("x")
    ];
    (kind, proptest::collection::vec((key, value), 0..4)).prop_map(|(kind, fields)| {
        let data: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{\"type\":\"{kind}\",\"data\":{{{}}}}}", data.join(","))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_get_at_most_one_reply_and_the_session_survives(line in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut session = Session::new(TaskSet::builtin().unwrap(), Box::new(FixedClock), false);
        let mut out = Vec::new();
        let line: Vec<u8> = line.into_iter().filter(|b| *b != b'\n').collect();
        session.handle_line(&line, &mut NoSink, &mut out);
        prop_assert!(out.len() <= 1);
        for reply in &out {
            let v: serde_json::Value = serde_json::from_str(reply).unwrap();
            prop_assert!(v["type"].is_string());
        }
    }

    #[test]
    fn request_like_lines_are_answered_with_a_typed_reply(lines in proptest::collection::vec(request_like(), 1..6)) {
        let mut session = Session::new(TaskSet::builtin().unwrap(), Box::new(FixedClock), false);
        for line in lines {
            let mut out = Vec::new();
            session.handle_line(line.as_bytes(), &mut NoSink, &mut out);
            prop_assert_eq!(out.len(), 1, "{}", line);
            let v: serde_json::Value = serde_json::from_str(&out[0]).unwrap();
            if v["type"] == "error" {
                let code = v["data"]["code"].as_str().unwrap();
                prop_assert!(trainwreck::protocol::ErrorCode::ALL.iter().any(|c| c.name() == code));
            }
        }
    }

    #[test]
    fn task_parser_never_panics(text in "\\PC{0,400}") {
        let _ = trainwreck::task::parse_task("x.toml", "x.toml", &text);
        let _ = trainwreck::task::parse_task("x.json", "x.json", &text);
    }

    #[test]
    fn mutated_task_files_give_located_errors_or_tasks(cut in 0usize..3000, insert in "[a-z =\\[\\]{}\"0-9.\\n]{0,8}") {
        let text = trainwreck::task::BUILTIN[0].1;
        let at = cut.min(text.len());
        let at = (0..=at).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        let mutated = format!("{}{}{}", &text[..at], insert, &text[at..]);
        if let Err(errors) = trainwreck::task::parse_task("t.toml", "t.toml", &mutated) {
            for e in errors {
                prop_assert!(e.to_string().starts_with("t.toml:"), "{}", e);
            }
        }
    }

    #[test]
    fn repl_commands_never_panic(line in "\\PC{0,80}") {
        let _ = trainwreck::repl::command::parse(&line);
    }

    #[test]
    fn fix_code_keeps_the_program_runnable(line in 0usize..25, text in "\\PC{0,60}") {
        let mut program = trainwreck::sim::Program::standard();
        if program.replace_line(line, &text).is_ok() {
            prop_assert!(program.tree().is_ok());
            prop_assert_eq!(
                program.line_count(),
                trainwreck::sim::Program::standard().line_count()
            );
        } else {
            prop_assert_eq!(program, trainwreck::sim::Program::standard());
        }
    }
}
