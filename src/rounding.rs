//! Significant figures: formatting a number short enough for a language model
//! to read (`1.756`, `9.8e-8`) and rounding every float in a JSON reply line
//! (`--serve --float-digits N`). Both exist because replies spelled with 17
//! digits cost an LLM client tokens that carry no signal.

/// `v` with `digits` significant figures, in the shorter of plain and
/// scientific notation, trailing zeros dropped: `1.7556` → `1.756`,
/// `0.0000000981` → `9.81e-8`, `2.0` → `2`. Non-finite values spell
/// themselves (`NaN`, `inf`, `-inf`).
pub fn format_significant(v: f64, digits: usize) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "NaN".into()
        } else if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    if v == 0.0 {
        return "0".into();
    }
    let digits = digits.clamp(1, 17);
    let scientific = format!("{:.*e}", digits - 1, v);
    let Some((mantissa, exponent)) = scientific.split_once('e') else {
        return scientific;
    };
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let mantissa = trim_zeros(mantissa);
    let short_scientific = format!("{mantissa}e{exponent}");
    // Plain notation with exactly the significant digits asked for.
    let decimals = (digits as i32 - 1 - exponent).max(0) as usize;
    let plain = if (-4..=(digits as i32 + 1)).contains(&exponent) {
        let rounded: f64 = scientific.parse().unwrap_or(v);
        Some(trim_zeros(&format!("{rounded:.decimals$}")).to_string())
    } else {
        None
    };
    // Plain notation reads more naturally: keep it unless it costs more than
    // one extra character (0.004 over 4e-3, not 0.00000981 over 9.81e-6).
    match plain {
        Some(p) if p.len() <= short_scientific.len() + 1 => p,
        _ => short_scientific,
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// `v` rounded to `digits` significant figures (the nearest `f64`).
pub fn round_significant(v: f64, digits: usize) -> f64 {
    if !v.is_finite() || v == 0.0 {
        return v;
    }
    // Near the largest float, rounding up can pass it (1.75e308 to one
    // figure is 2e308, an infinity JSON cannot carry): keep the value then.
    format!("{:.*e}", digits.clamp(1, 17) - 1, v)
        .parse::<f64>()
        .ok()
        .filter(|r| r.is_finite())
        .unwrap_or(v)
}

/// Round every non-integer number of a JSON text to `digits` significant
/// figures, leaving strings, integers, keys and their order untouched. The
/// input is a line this program serialised; anything that does not lex as a
/// number is copied as it is.
pub fn round_json_floats(json: &str, digits: usize) -> String {
    let bytes = json.as_bytes();
    let mut out = String::with_capacity(json.len());
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len()
                    && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                let token = &json[start..i];
                if token.contains(['.', 'e', 'E'])
                    && let Ok(v) = token.parse::<f64>()
                {
                    out.push_str(&json[copied..start]);
                    out.push_str(&json_float(round_significant(v, digits)));
                    copied = i;
                }
            }
            _ => i += 1,
        }
    }
    out.push_str(&json[copied.min(json.len())..]);
    out
}

/// The shortest text that reads back as `v` and still reads as a float
/// (`2.0`, not `2`), so a client's types do not change with the rounding.
fn json_float(v: f64) -> String {
    let plain = format!("{v}");
    let scientific = format!("{v:e}");
    let text = if scientific.len() < plain.len() {
        scientific
    } else {
        plain
    };
    if text.contains(['.', 'e', 'E']) {
        text
    } else {
        format!("{text}.0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_never_passes_the_largest_float() {
        assert_eq!(
            round_significant(1.751_359_418_826_106_1e308, 1),
            1.751_359_418_826_106_1e308
        );
        assert_eq!(round_significant(-f64::MAX, 2), -f64::MAX);
        let line = round_json_floats("[1.7513594188261061e308]", 1);
        assert!(
            serde_json::from_str::<serde_json::Value>(&line).is_ok(),
            "{line}"
        );
    }
    use proptest::prelude::*;

    #[test]
    fn significant_figures_read_short() {
        assert_eq!(format_significant(1.7556270459395016, 4), "1.756");
        assert_eq!(format_significant(13.670504673950433, 4), "13.67");
        assert_eq!(format_significant(0.17708333333333334, 4), "0.1771");
        assert_eq!(format_significant(0.25, 4), "0.25");
        assert_eq!(format_significant(2.0, 4), "2");
        assert_eq!(format_significant(120.51032230028011, 4), "120.5");
        assert_eq!(format_significant(9.81e-8, 3), "9.81e-8");
        assert_eq!(format_significant(-0.001234567, 3), "-0.00123");
        assert_eq!(format_significant(123456.0, 4), "123500");
        assert_eq!(format_significant(1234567.0, 4), "1.235e6");
        assert_eq!(format_significant(0.0, 4), "0");
        assert_eq!(format_significant(f64::NAN, 4), "NaN");
        assert_eq!(format_significant(f64::NEG_INFINITY, 4), "-inf");
    }

    #[test]
    fn json_floats_round_and_nothing_else_moves() {
        let line = r#"{"type":"observation","id":"1.23456789","data":{"h":[1.7556270459395016,null,-2.5e-7],"n":20,"x":2.0,"s":"a \"3.14159\" b"}}"#;
        assert_eq!(
            round_json_floats(line, 3),
            r#"{"type":"observation","id":"1.23456789","data":{"h":[1.76,null,-2.5e-7],"n":20,"x":2.0,"s":"a \"3.14159\" b"}}"#
        );
    }

    proptest! {
        #[test]
        fn rounded_json_is_still_the_same_json_shape(
            values in proptest::collection::vec(proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO, 0..20),
            text in ".*",
            digits in 1usize..=17,
        ) {
            let value = serde_json::json!({"values": values, "text": text, "n": 7});
            let line = value.to_string();
            let rounded = round_json_floats(&line, digits);
            let back: serde_json::Value = serde_json::from_str(&rounded).unwrap();
            prop_assert_eq!(&back["text"], &value["text"]);
            prop_assert_eq!(&back["n"], &value["n"]);
            let got = back["values"].as_array().unwrap();
            prop_assert_eq!(got.len(), values.len());
            for (g, v) in got.iter().zip(&values) {
                let g = g.as_f64().unwrap();
                prop_assert_eq!(g, round_significant(*v, digits));
                prop_assert!(g == *v || ((g - v) / v).abs() <= 10f64.powi(1 - digits as i32));
            }
        }
    }
}
