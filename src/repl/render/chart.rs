//! Line charts drawn into text: any width from 20 columns up, epochs on the x
//! axis, a labelled y axis, log scale when the values span orders of
//! magnitude, every non-finite value marked where it happened, series drawn
//! in order (later ones on top) and a legend for what was drawn.

use super::layout::width_of;
use super::{Style, Tone};

/// One line of the chart.
#[derive(Debug, Clone)]
pub struct Series<'a> {
    pub name: &'a str,
    pub values: &'a [Option<f64>],
    /// Epochs that ran: a missing value before this is non-finite, after it
    /// the run had stopped.
    pub ran: usize,
    pub glyph: char,
    pub tone: Tone,
}

pub const DIVERGED: char = '×';
/// Where two series of the current run meet in one cell.
const BOTH: char = '◉';
const DOT: char = '·';
const LABEL_WIDTH: usize = 9;

/// One cell of the plot: a glyph, its tone, and which series drew it.
#[derive(Debug, Clone, Copy)]
struct Mark {
    glyph: char,
    tone: Tone,
    series: usize,
}

/// Render `series` in `width` columns (labels included) and `height` plot
/// rows. Returns the lines, legend last. Never panics, whatever the sizes or
/// values; when nothing is finite and nothing is marked it says so.
pub fn render(
    title: &str,
    series: &[Series<'_>],
    width: usize,
    height: usize,
    style: &Style,
) -> Vec<String> {
    let height = height.max(3);
    let plot_width = width.saturating_sub(LABEL_WIDTH + 1).max(10);
    let epochs = series.iter().map(|s| s.values.len()).max().unwrap_or(0);
    let non_finite = |s: &Series<'_>, epoch: usize, v: Option<&f64>| {
        epoch < s.ran && v.is_none_or(|v| !v.is_finite())
    };
    let finite: Vec<f64> = series
        .iter()
        .flat_map(|s| s.values.iter().flatten().copied())
        .filter(|v| v.is_finite())
        .collect();
    let any_marked = series
        .iter()
        .any(|s| (0..epochs).any(|e| non_finite(s, e, s.values.get(e).and_then(Option::as_ref))));
    let mut lines = Vec::new();
    if !title.is_empty() {
        lines.push(title.to_string());
    }
    if epochs == 0 || (finite.is_empty() && !any_marked) {
        lines.push("  (no finite values to draw)".into());
        return lines;
    }
    let (lo, hi) = if finite.is_empty() {
        (0.0, 0.0)
    } else {
        finite
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            })
    };
    // Losses fall by decades: a log axis keeps the end of the run (where
    // train and validation part) readable once the span passes 20×.
    let log = lo > 0.0 && hi / lo > 20.0;
    let scale = |v: f64| if log { libm::log10(v) } else { v };
    let (mut slo, mut shi) = (scale(lo), scale(hi));
    if (shi - slo).abs() < 1e-12 {
        // A flat series: centre it, padding in proportion to its value.
        let pad = if slo == 0.0 { 0.5 } else { slo.abs() * 0.5 };
        slo -= pad;
        shi += pad;
    }
    let mut grid: Vec<Vec<Option<Mark>>> = vec![vec![None; plot_width]; height];
    let column = |epoch: usize| {
        if epochs <= 1 {
            0
        } else {
            epoch * (plot_width - 1) / (epochs - 1)
        }
    };
    let row = |v: f64| {
        let t = (scale(v) - slo) / (shi - slo);
        let r = ((1.0 - t) * (height - 1) as f64).round();
        r.clamp(0.0, (height - 1) as f64) as usize
    };
    let mut drawn = vec![false; series.len()];
    let (mut any_both, mut any_diverged) = (false, false);
    for (index, s) in series.iter().enumerate() {
        let mut previous: Option<(usize, usize)> = None;
        for epoch in 0..s.values.len() {
            let value = s.values.get(epoch).and_then(Option::as_ref);
            let x = column(epoch);
            let mark = |glyph| Mark {
                glyph,
                tone: s.tone,
                series: index,
            };
            match value {
                Some(v) if v.is_finite() => {
                    let y = row(*v);
                    // Join consecutive points with dots so steep falls stay visible.
                    if let Some((px, py)) = previous {
                        for xx in px + 1..x {
                            let t = (xx - px) as f64 / (x - px) as f64;
                            let yy = (py as f64 + t * (y as f64 - py as f64)).round() as usize;
                            put(&mut grid, xx, yy, mark(DOT), series);
                        }
                    }
                    any_both |= put(&mut grid, x, y, mark(s.glyph), series);
                    drawn[index] = true;
                    previous = Some((x, y));
                }
                _ => {
                    if non_finite(s, epoch, value) {
                        let tone = if s.tone == Tone::Dim {
                            Tone::Dim
                        } else {
                            Tone::Bad
                        };
                        put(
                            &mut grid,
                            x,
                            0,
                            Mark {
                                glyph: DIVERGED,
                                tone,
                                series: index,
                            },
                            series,
                        );
                        any_diverged = true;
                    }
                    previous = None;
                }
            }
        }
    }
    let label = |r: usize| {
        let t = 1.0 - r as f64 / (height - 1) as f64;
        let v = slo + t * (shi - slo);
        let v = if log { libm::pow(10.0, v) } else { v };
        format!("{:>w$}", axis_number(v), w = LABEL_WIDTH - 1)
    };
    for (r, cells) in grid.iter().enumerate() {
        let show_label = !finite.is_empty() && (r == 0 || r == height - 1 || r == (height - 1) / 2);
        let prefix = if show_label {
            label(r)
        } else {
            " ".repeat(LABEL_WIDTH - 1)
        };
        lines.push(format!("{prefix} │{}", paint_row(cells, style)));
    }
    lines.push(format!(
        "{} └{}",
        " ".repeat(LABEL_WIDTH - 1),
        "─".repeat(plot_width)
    ));
    let first = "1".to_string();
    let last = epochs.to_string();
    let gap = plot_width.saturating_sub(first.len() + last.len() + 6);
    lines.push(format!(
        "{}  {first}{}epoch {last}",
        " ".repeat(LABEL_WIDTH - 1),
        " ".repeat(gap)
    ));
    // The legend lists what was drawn, current run first.
    let mut legend: Vec<String> = series
        .iter()
        .zip(&drawn)
        .rev()
        .filter(|(_, drawn)| **drawn)
        .map(|(s, _)| {
            let glyph = style.paint(&s.glyph.to_string(), s.tone);
            let name = if s.tone == Tone::Dim {
                style.dim(s.name)
            } else {
                s.name.to_string()
            };
            format!("{glyph} {name}")
        })
        .collect();
    if any_both {
        legend.push(format!("{BOTH} both at once"));
    }
    if any_diverged {
        legend.push(format!(
            "{} NaN or infinite",
            style.bad(&DIVERGED.to_string())
        ));
    }
    if log {
        legend.push("(log scale)".into());
    }
    // Pack the legend into as many lines as the width needs.
    let indent = " ".repeat(LABEL_WIDTH + 1);
    let mut current = String::new();
    for item in legend {
        let needed = indent.len() + width_of(&current) + 3 + width_of(&item);
        if !current.is_empty() && needed > width {
            lines.push(format!("{indent}{current}"));
            current.clear();
        }
        if !current.is_empty() {
            current.push_str("   ");
        }
        current.push_str(&item);
    }
    if !current.is_empty() {
        lines.push(format!("{indent}{current}"));
    }
    lines
}

/// One plot row as text, each run of same-toned glyphs painted once.
fn paint_row(cells: &[Option<Mark>], style: &Style) -> String {
    let used = cells.iter().rposition(Option::is_some).map_or(0, |i| i + 1);
    let mut out = String::new();
    let mut run = String::new();
    let mut tone = Tone::Plain;
    for cell in cells.iter().take(used) {
        let (glyph, t) = match cell {
            Some(m) if m.glyph == DOT => (DOT, Tone::Dim),
            Some(m) => (m.glyph, m.tone),
            None => (' ', Tone::Plain),
        };
        if t != tone && !run.is_empty() {
            out.push_str(&style.paint(&run, tone));
            run.clear();
        }
        tone = t;
        run.push(glyph);
    }
    out.push_str(&style.paint(&run, tone));
    out
}

/// Draw `mark` unless it would hide something more important: a point never
/// gives way to a connecting dot, the dimmed previous run never covers the
/// current one, and two current series in one cell become [`BOTH`]. Returns
/// whether it drew [`BOTH`].
fn put(
    grid: &mut [Vec<Option<Mark>>],
    x: usize,
    y: usize,
    mark: Mark,
    series: &[Series<'_>],
) -> bool {
    let Some(cell) = grid.get_mut(y).and_then(|row| row.get_mut(x)) else {
        return false;
    };
    let Some(old) = *cell else {
        *cell = Some(mark);
        return false;
    };
    let dim = |m: &Mark| series.get(m.series).is_some_and(|s| s.tone == Tone::Dim);
    if mark.glyph == DOT && old.glyph != DOT {
        return false;
    }
    if old.glyph == DOT || dim(&old) {
        *cell = Some(mark);
        return false;
    }
    if dim(&mark) || (old.glyph == DIVERGED && mark.glyph != DIVERGED) {
        return false;
    }
    let points = |g: char| g != DOT && g != DIVERGED;
    if old.series != mark.series && points(old.glyph) && points(mark.glyph) {
        *cell = Some(Mark {
            glyph: BOTH,
            tone: Tone::Plain,
            series: mark.series,
        });
        return true;
    }
    *cell = Some(mark);
    false
}

/// A number in at most 8 characters.
pub fn axis_number(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        format!("{v:.1e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

/// A one-line sparkline (log scale: gradient norms span decades).
pub fn sparkline(values: &[Option<f64>]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let logs: Vec<Option<f64>> = values
        .iter()
        .map(|v| v.filter(|x| x.is_finite() && *x > 0.0).map(libm::log10))
        .collect();
    let known: Vec<f64> = logs.iter().flatten().copied().collect();
    let (lo, hi) = known
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    logs.iter()
        .zip(values)
        .map(|(l, raw)| match (l, raw) {
            (Some(v), _) if hi - lo > 1e-12 => {
                BARS[(((v - lo) / (hi - lo)) * 7.0).round().clamp(0.0, 7.0) as usize]
            }
            (Some(_), _) => BARS[3],
            (None, Some(x)) if !x.is_finite() => DIVERGED,
            (None, Some(_)) => '_',
            (None, None) => ' ',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(values: &[Option<f64>]) -> Vec<Series<'_>> {
        vec![Series {
            name: "loss",
            values,
            ran: values.len(),
            glyph: '●',
            tone: Tone::Plain,
        }]
    }

    fn plain(series: &[Series<'_>], width: usize, height: usize) -> String {
        render("t", series, width, height, &Style::plain(width)).join("\n")
    }

    #[test]
    fn any_width_and_any_values_render() {
        let weird = [
            Some(f64::NAN),
            None,
            Some(1e300),
            Some(-1e-300),
            Some(f64::INFINITY),
            Some(0.0),
        ];
        for width in [0, 1, 10, 40, 200] {
            for height in [0, 1, 8] {
                let lines = render("t", &s(&weird), width, height, &Style::coloured(40));
                assert!(lines.len() >= 2);
            }
        }
        assert_eq!(
            render("t", &s(&[]), 40, 5, &Style::plain(40)),
            vec!["t", "  (no finite values to draw)"]
        );
    }

    #[test]
    fn lines_fit_the_width_coloured_or_not() {
        let values: Vec<Option<f64>> = (0..20).map(|i| Some(1.0 / (1.0 + i as f64))).collect();
        for width in [40, 80, 200] {
            for style in [Style::plain(width), Style::coloured(width)] {
                for line in render("loss", &s(&values), width, 8, &style) {
                    assert!(width_of(&line) <= width, "{width}: {line}");
                }
            }
        }
    }

    #[test]
    fn spans_of_decades_use_a_log_axis_and_divergence_is_marked() {
        let values = [Some(1.0), Some(10.0), Some(1000.0), Some(f64::NAN)];
        let text = plain(&s(&values), 60, 6);
        assert!(text.contains("(log scale)"));
        assert!(text.contains('×'));
    }

    #[test]
    fn a_missing_value_is_non_finite_while_the_run_ran_and_blank_after() {
        let values = [Some(1.0), None, Some(0.5), None, None];
        let mut series = s(&values);
        series[0].ran = 3;
        let text = plain(&series, 40, 4);
        assert_eq!(
            text.matches('×').count(),
            2,
            "one in the plot, one in the legend:\n{text}"
        );
        assert!(text.contains("NaN or infinite"));
    }

    #[test]
    fn the_legend_names_only_what_was_drawn() {
        let nothing = [None, None];
        let some = [Some(1.0), Some(0.5)];
        let series = vec![
            Series {
                name: "empty",
                values: &nothing,
                ran: 0,
                glyph: '+',
                tone: Tone::Dim,
            },
            Series {
                name: "drawn",
                values: &some,
                ran: 2,
                glyph: '●',
                tone: Tone::Plain,
            },
        ];
        let text = plain(&series, 40, 4);
        assert!(
            text.contains("● drawn") && !text.contains("empty"),
            "{text}"
        );
    }

    #[test]
    fn the_current_run_is_drawn_over_the_previous_one() {
        let previous = [Some(1.0), Some(1.0)];
        let current = [Some(1.0), Some(1.0)];
        let series = vec![
            Series {
                name: "previous",
                values: &previous,
                ran: 2,
                glyph: '+',
                tone: Tone::Dim,
            },
            Series {
                name: "current",
                values: &current,
                ran: 2,
                glyph: '○',
                tone: Tone::Plain,
            },
        ];
        let text = plain(&series, 40, 4);
        let plot: String = text.lines().skip(1).take(4).collect();
        assert!(plot.contains('○') && !plot.contains('+'), "{text}");
    }

    #[test]
    fn sparkline_marks_non_finite() {
        assert_eq!(
            sparkline(&[Some(1.0), Some(10.0), Some(f64::NAN), None]),
            "▁█× "
        );
    }
}
