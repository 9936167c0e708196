//! How `replay` reports its results, for people and for CI: one case per
//! recording or walkthrough; a failed case as a compiler-style diagnostic
//! (`file:N: …`) on stderr, or as a GitHub annotation (`::error file=…,line=…::…`)
//! on stdout, where the runner reads workflow commands; a JUnit XML report; and
//! a summary with its plurals right.

use crate::replay::Verdict;

/// How failed cases are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `file:N: title: message` on stderr.
    Human,
    /// `::error file=…,line=…,title=…::message` on stdout.
    Github,
}

/// What went wrong in one case.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The recording, when the case is one.
    pub file: Option<String>,
    /// 1-based line in `file`; 0 when the finding is about the whole file.
    pub line: usize,
    /// A short kind: "diverged", "unusable", "walkthrough failed".
    pub title: &'static str,
    /// What happened, starting with the kind in words.
    pub message: String,
    /// An unusable input (JUnit `error`) rather than a failed check (`failure`).
    pub unusable: bool,
}

/// One replayed recording or played walkthrough.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// "recordings" or "walkthroughs".
    pub suite: &'static str,
    pub name: String,
    /// What it did when it passed (e.g. "12 requests").
    pub detail: String,
    pub finding: Option<Finding>,
}

impl Case {
    pub fn recording(file: &str, verdict: &Verdict) -> Case {
        let (detail, finding) = match verdict {
            Verdict::Match { exchanges } => (plural(*exchanges, "request"), None),
            Verdict::Diverged(d) => (
                String::new(),
                Some(Finding {
                    file: Some(file.to_string()),
                    line: d.line,
                    title: "diverged",
                    message: d.to_string(),
                    unusable: false,
                }),
            ),
            Verdict::Unusable(u) => (
                String::new(),
                Some(Finding {
                    file: Some(file.to_string()),
                    line: u.line,
                    title: "unusable",
                    message: format!("unusable: {}", u.why),
                    unusable: true,
                }),
            ),
        };
        Case {
            suite: "recordings",
            name: file.to_string(),
            detail,
            finding,
        }
    }
}

impl Finding {
    /// `file:N: message`, or `name: message` without a file.
    pub fn human(&self, case_name: &str) -> String {
        let place = match (&self.file, self.line) {
            (Some(f), 0) => f.clone(),
            (Some(f), n) => format!("{f}:{n}"),
            (None, _) => case_name.to_string(),
        };
        format!("{place}: {}", self.message)
    }

    /// A GitHub Actions error annotation (one line; newlines escaped).
    pub fn github(&self, case_name: &str) -> String {
        let mut properties = Vec::new();
        if let Some(f) = &self.file {
            properties.push(format!("file={}", escape_property(f)));
            if self.line > 0 {
                properties.push(format!("line={}", self.line));
            }
        }
        properties.push(format!("title={}", escape_property(self.title)));
        let message = match &self.file {
            Some(_) => self.message.clone(),
            None => format!("{case_name}: {}", self.message),
        };
        format!(
            "::error {}::{}",
            properties.join(","),
            escape_data(&message)
        )
    }
}

/// Escapes for a workflow command's message (GitHub's `escapeData`).
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes for a workflow command's property value (GitHub's `escapeProperty`).
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// `1 episode`, `2 episodes`.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' => out.push(c),
            // XML 1.0 cannot carry other control characters, even escaped.
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// A JUnit XML report: one `testsuite` per suite that has cases.
pub fn junit(cases: &[Case]) -> String {
    let failures = |cs: &[&Case], unusable: bool| {
        cs.iter()
            .filter(|c| c.finding.as_ref().is_some_and(|f| f.unusable == unusable))
            .count()
    };
    let all: Vec<&Case> = cases.iter().collect();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"trainwreck replay\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
        all.len(),
        failures(&all, false),
        failures(&all, true)
    );
    for suite in ["recordings", "walkthroughs"] {
        let members: Vec<&Case> = cases.iter().filter(|c| c.suite == suite).collect();
        if members.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "  <testsuite name=\"{suite}\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
            members.len(),
            failures(&members, false),
            failures(&members, true)
        ));
        for case in members {
            let open = format!(
                "    <testcase classname=\"{suite}\" name=\"{}\"",
                xml(&case.name)
            );
            match &case.finding {
                None => out.push_str(&format!("{open}/>\n")),
                Some(f) => {
                    let tag = if f.unusable { "error" } else { "failure" };
                    out.push_str(&format!(
                        "{open}>\n      <{tag} type=\"{}\" message=\"{}\">{}</{tag}>\n    </testcase>\n",
                        f.title,
                        xml(f.message.lines().next().unwrap_or_default()),
                        xml(&f.human(&case.name))
                    ));
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::{Divergence, Unusable};

    #[test]
    fn plurals() {
        assert_eq!(plural(0, "episode"), "0 episodes");
        assert_eq!(plural(1, "episode"), "1 episode");
        assert_eq!(plural(2, "request"), "2 requests");
    }

    #[test]
    fn annotations_escape_what_github_parses() {
        let case = Case::recording(
            "dir/a,b:c.jsonl",
            &Verdict::Diverged(Divergence {
                line: 7,
                path: "$.data.x".into(),
                expected: "1%".into(),
                actual: "2".into(),
            }),
        );
        let finding = case.finding.as_ref().unwrap();
        assert_eq!(
            finding.github(&case.name),
            "::error file=dir/a%2Cb%3Ac.jsonl,line=7,title=diverged::diverged at $.data.x%0A  expected: 1%25%0A  actual:   2"
        );
        assert_eq!(
            finding.human(&case.name),
            "dir/a,b:c.jsonl:7: diverged at $.data.x\n  expected: 1%\n  actual:   2"
        );
    }

    #[test]
    fn junit_counts_failures_and_errors_apart() {
        let cases = [
            Case::recording("ok.jsonl", &Verdict::Match { exchanges: 3 }),
            Case::recording(
                "cut.jsonl",
                &Verdict::Unusable(Unusable {
                    line: 4,
                    why: "cut off <here> & \u{1b}".into(),
                }),
            ),
        ];
        let xml = junit(&cases);
        assert!(xml.contains(r#"<testsuite name="recordings" tests="2" failures="0" errors="1">"#));
        assert!(xml.contains(r#"<testcase classname="recordings" name="ok.jsonl"/>"#));
        assert!(xml.contains("cut off &lt;here&gt; &amp; \\u{1b}"), "{xml}");
        assert!(!xml.contains('\u{1b}'));
    }
}
