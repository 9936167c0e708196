//! Fitting text to the terminal: prose wrapped at word boundaries, and tables
//! whose numbers never wrap. Widths are measured as a terminal shows them, so
//! colour codes count for nothing and are never split.

use super::{Style, Tone};
use comfy_table::{Cell, CellAlignment, ColumnConstraint, Width};

/// Display width of `text`: escape sequences take no room.
pub fn width_of(text: &str) -> usize {
    console::measure_text_width(text)
}

/// The widest line of `text`.
pub fn widest(text: &str) -> usize {
    text.lines().map(width_of).max().unwrap_or(0)
}

/// Split `text` into its visible characters, each with the escape sequences
/// that precede it, so a long word can be cut without cutting a sequence.
fn clusters(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            pending.push(c);
            if chars.peek() == Some(&'[') {
                // CSI: parameters, then one final byte in '@'..='~'.
                for next in chars.by_ref() {
                    pending.push(next);
                    if next != '[' && ('@'..='~').contains(&next) {
                        break;
                    }
                }
            }
            continue;
        }
        pending.push(c);
        out.push(std::mem::take(&mut pending));
    }
    if !pending.is_empty() {
        // Trailing escape codes (a colour reset) belong to the last character.
        match out.last_mut() {
            Some(last) => last.push_str(&pending),
            None => out.push(pending),
        }
    }
    out
}

/// The line split into alternating runs of spaces and of other characters.
fn segments(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut spaces = line.starts_with(' ');
    for (i, c) in line.char_indices() {
        if (c == ' ') != spaces {
            out.push(&line[start..i]);
            start = i;
            spaces = c == ' ';
        }
    }
    if start < line.len() {
        out.push(&line[start..]);
    }
    out
}

/// Wrap one line to `width` columns at spaces; continuation lines start with
/// `hang`. Spaces inside a line are kept as typed (code keeps its indentation);
/// the spaces where a line breaks are dropped. A word longer than a whole
/// line is cut between characters.
fn wrap_line(line: &str, width: usize, hang: &str) -> Vec<String> {
    let width = width.max(8);
    let hang_width = width_of(hang);
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut used = 0;
    // Spaces seen but not yet written: they are dropped if the line breaks.
    let mut gap = "";
    let mut fresh = true; // only the hang on the current line yet
    for segment in segments(line) {
        if segment.starts_with(' ') {
            if fresh && lines.is_empty() {
                current.push_str(segment); // the line's own indentation
                used += segment.len();
            } else {
                gap = segment;
            }
            continue;
        }
        let w = width_of(segment);
        if !fresh && used + gap.len() + w > width {
            lines.push(std::mem::take(&mut current));
            current = hang.to_string();
            used = hang_width;
            gap = "";
        }
        if used + gap.len() + w <= width {
            current.push_str(gap);
            current.push_str(segment);
            used += gap.len() + w;
            gap = "";
            fresh = false;
            continue;
        }
        // Too long for any line: cut it.
        current.push_str(gap);
        used += gap.len();
        gap = "";
        for piece in clusters(segment) {
            let pw = width_of(&piece);
            if used + pw > width && used > hang_width {
                lines.push(std::mem::take(&mut current));
                current = hang.to_string();
                used = hang_width;
            }
            current.push_str(&piece);
            used += pw;
        }
        fresh = false;
    }
    lines.push(current);
    lines
}

/// Wrap every line of `text` to `width`, continuation lines indented by `hang`.
pub fn wrap(text: &str, width: usize, hang: &str) -> String {
    text.split('\n')
        .flat_map(|line| wrap_line(line, width, hang))
        .collect::<Vec<_>>()
        .join("\n")
}

/// How a column behaves when the terminal is narrow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Words that may wrap, but not below this many columns.
    Text(u16),
    /// Numbers and other tokens that must stay on one line, right-aligned.
    Number,
    /// One unbreakable token (a sparkline, a status word), left-aligned.
    Token,
}

/// A table described by its columns and rows of (text, tone) cells. Laid out
/// by comfy-table, which styles cells itself after measuring them; when even
/// the narrowest layout does not fit, each row becomes a small block of
/// `header: value` lines instead.
pub struct Grid {
    headers: Vec<(String, Kind)>,
    rows: Vec<Vec<(String, Tone)>>,
}

impl Grid {
    pub fn new(headers: &[(&str, Kind)]) -> Self {
        Grid {
            headers: headers.iter().map(|(h, k)| (h.to_string(), *k)).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<(String, Tone)>) {
        self.rows.push(cells);
    }

    fn table(&self, style: &Style) -> String {
        let mut t = style.table();
        t.set_header(self.headers.iter().map(|(h, _)| Cell::new(h)));
        for row in &self.rows {
            t.add_row(
                row.iter()
                    .zip(&self.headers)
                    .map(|((text, tone), (_, kind))| {
                        let cell = style.cell(text, *tone);
                        if *kind == Kind::Number {
                            cell.set_alignment(CellAlignment::Right)
                        } else {
                            cell
                        }
                    }),
            );
        }
        // No word is ever cut: every column is at least as wide as its
        // longest word (header included), plus comfy-table's padding of 2.
        let longest_word = |text: &str| text.split_whitespace().map(width_of).max().unwrap_or(0);
        let constraints: Vec<ColumnConstraint> = self
            .headers
            .iter()
            .enumerate()
            .map(|(i, (header, kind))| {
                let cells = self.rows.iter().filter_map(|r| r.get(i)).map(|(t, _)| t);
                let least = match kind {
                    Kind::Text(min) => {
                        let content = cells.clone().map(|t| widest(t)).max().unwrap_or(0);
                        let words = cells.map(|t| longest_word(t)).max().unwrap_or(0);
                        usize::from(*min).min(content).max(words)
                    }
                    Kind::Number | Kind::Token => cells.map(|t| widest(t)).max().unwrap_or(0),
                };
                let least = least.max(longest_word(header)) + 2;
                ColumnConstraint::LowerBoundary(Width::Fixed(
                    u16::try_from(least).unwrap_or(u16::MAX),
                ))
            })
            .collect();
        t.set_constraints(constraints);
        t.to_string()
    }

    /// One block per row: the first cell, then `header: value` lines.
    fn blocks(&self, style: &Style) -> String {
        let mut out = Vec::new();
        for row in &self.rows {
            let mut cells = row.iter().zip(&self.headers);
            if let Some(((text, tone), _)) = cells.next() {
                let tone = if *tone == Tone::Plain {
                    Tone::Strong
                } else {
                    *tone
                };
                out.push(wrap(&style.paint(text, tone), style.width, "  "));
            }
            for ((text, tone), (header, _)) in cells {
                let line = format!("  {}: {}", style.dim(header), style.paint(text, *tone));
                out.push(wrap(&line, style.width, "    "));
            }
        }
        out.join("\n")
    }

    /// The table if it fits the width, else the blocks.
    pub fn render(&self, style: &Style) -> String {
        let table = self.table(style);
        if widest(&table) <= style.width {
            table
        } else {
            self.blocks(style)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_breaks_at_spaces_and_keeps_escape_codes_whole() {
        let text = "the weights grew by a factor of ten every row";
        let wrapped = wrap(text, 20, "  ");
        for line in wrapped.lines() {
            assert!(width_of(line) <= 20, "{line:?}");
        }
        assert_eq!(
            wrapped,
            "the weights grew by\n  a factor of ten\n  every row"
        );
        let red = "\u{1b}[31mabcdefghijklmnopqrstuvwxyz\u{1b}[0m";
        let cut = wrap(red, 10, "");
        assert_eq!(cut.lines().count(), 3);
        for line in cut.lines() {
            assert!(width_of(line) <= 10);
            // Every escape sequence is complete: an ESC is always followed by '[' and a final letter.
            let stripped = console::strip_ansi_codes(line);
            assert!(
                !stripped.contains('\u{1b}') && !stripped.contains("[0m"),
                "{line:?}"
            );
        }
    }

    #[test]
    fn leading_spaces_stay_and_blank_lines_survive() {
        assert_eq!(wrap("  • one two", 8, "    "), "  • one\n    two");
        assert_eq!(wrap("a\n\nb", 40, ""), "a\n\nb");
    }
}
