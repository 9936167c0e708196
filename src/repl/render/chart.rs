//! Line charts drawn into plain text: any width from 20 columns up, epochs on
//! the x axis, a labelled y axis, log scale when the values span orders of
//! magnitude, and non-finite values (divergence) marked where they happened.

/// One line of the chart.
#[derive(Debug, Clone)]
pub struct Series<'a> {
    pub name: &'a str,
    pub values: &'a [Option<f64>],
    pub glyph: char,
}

const DIVERGED: char = '×';
const LABEL_WIDTH: usize = 9;

/// Render `series` in `width` columns (labels included) and `height` plot rows,
/// marking `diverged_at` (0-based epoch) where the run went non-finite.
/// Returns the lines, legend last. Never panics, whatever the sizes or values.
pub fn render(
    title: &str,
    series: &[Series<'_>],
    diverged_at: Option<usize>,
    width: usize,
    height: usize,
) -> Vec<String> {
    let height = height.max(3);
    let plot_width = width.saturating_sub(LABEL_WIDTH + 1).max(10);
    let epochs = series.iter().map(|s| s.values.len()).max().unwrap_or(0);
    let mut finite: Vec<f64> = series
        .iter()
        .flat_map(|s| s.values.iter().flatten().copied())
        .filter(|v| v.is_finite())
        .collect();
    let mut lines = vec![title.to_string()];
    if epochs == 0 || (finite.is_empty() && diverged_at.is_none()) {
        lines.push("  (no finite values to draw)".into());
        return lines;
    }
    if finite.is_empty() {
        finite.push(0.0); // nothing finite: an empty frame that still shows where it diverged
    }
    let (lo, hi) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let log = lo > 0.0 && hi / lo > 100.0;
    let scale = |v: f64| if log { libm::log10(v) } else { v };
    let (mut slo, mut shi) = (scale(lo), scale(hi));
    if (shi - slo).abs() < 1e-12 {
        // A flat series: centre it, padding in proportion to its value.
        let pad = if slo == 0.0 { 0.5 } else { slo.abs() * 0.5 };
        slo -= pad;
        shi += pad;
    }
    let mut grid = vec![vec![' '; plot_width]; height];
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
    for s in series {
        let mut previous: Option<(usize, usize)> = None;
        for (epoch, value) in s.values.iter().enumerate() {
            let x = column(epoch);
            match value {
                Some(v) if v.is_finite() => {
                    let y = row(*v);
                    // Join consecutive points with a vertical run so steep falls stay visible.
                    if let Some((px, py)) = previous {
                        for xx in px + 1..x {
                            let t = (xx - px) as f64 / (x - px) as f64;
                            let yy = (py as f64 + t * (y as f64 - py as f64)).round() as usize;
                            put(&mut grid, xx, yy, '·');
                        }
                    }
                    put(&mut grid, x, y, s.glyph);
                    previous = Some((x, y));
                }
                Some(_) => {
                    put(&mut grid, x, 0, DIVERGED);
                    previous = None;
                }
                None => previous = None,
            }
        }
    }
    if let Some(epoch) = diverged_at.filter(|e| *e < epochs) {
        put(&mut grid, column(epoch), 0, DIVERGED);
    }
    let label = |r: usize| {
        let t = 1.0 - r as f64 / (height - 1) as f64;
        let v = slo + t * (shi - slo);
        let v = if log { libm::pow(10.0, v) } else { v };
        format!("{:>w$}", axis_number(v), w = LABEL_WIDTH - 1)
    };
    for (r, cells) in grid.iter().enumerate() {
        let text: String = cells.iter().collect();
        let show_label = r == 0 || r == height - 1 || r == (height - 1) / 2;
        let prefix = if show_label {
            label(r)
        } else {
            " ".repeat(LABEL_WIDTH - 1)
        };
        lines.push(format!("{prefix} │{}", text.trim_end()));
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
    let mut legend: Vec<String> = series
        .iter()
        .map(|s| format!("{} {}", s.glyph, s.name))
        .collect();
    if log {
        legend.push("(log scale)".into());
    }
    if diverged_at.is_some()
        || series
            .iter()
            .any(|s| s.values.iter().flatten().any(|v| !v.is_finite()))
    {
        legend.push(format!("{DIVERGED} non-finite"));
    }
    // Pack the legend into as many lines as the width needs.
    let indent = " ".repeat(LABEL_WIDTH + 1);
    let mut current = String::new();
    for item in legend {
        let needed = indent.chars().count() + current.chars().count() + 3 + item.chars().count();
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

fn put(grid: &mut [Vec<char>], x: usize, y: usize, c: char) {
    if let Some(cell) = grid.get_mut(y).and_then(|row| row.get_mut(x)) {
        // A point never gives way to a connecting dot.
        if *cell == ' ' || *cell == '·' || c != '·' {
            *cell = c;
        }
    }
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
            glyph: '●',
        }]
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
                let lines = render("t", &s(&weird), None, width, height);
                assert!(lines.len() >= 2);
            }
        }
        assert_eq!(
            render("t", &s(&[]), None, 40, 5),
            vec!["t", "  (no finite values to draw)"]
        );
    }

    #[test]
    fn lines_fit_the_width() {
        let values: Vec<Option<f64>> = (0..20).map(|i| Some(1.0 / (1.0 + i as f64))).collect();
        for width in [40, 80, 200] {
            for line in render("loss", &s(&values), None, width, 8) {
                assert!(line.chars().count() <= width, "{width}: {line}");
            }
        }
    }

    #[test]
    fn spans_of_decades_use_a_log_axis_and_divergence_is_marked() {
        let values = [Some(1.0), Some(10.0), Some(1000.0), Some(f64::NAN)];
        let text = render("loss", &s(&values), None, 60, 6).join("\n");
        assert!(text.contains("(log scale)"));
        assert!(text.contains('×'));
    }

    #[test]
    fn a_run_that_diverged_at_once_still_shows_where() {
        let values = [None, None, None];
        let text = render("loss", &s(&values), Some(0), 40, 4).join("\n");
        assert!(text.contains('×'), "{text}");
        assert!(text.contains("non-finite"));
    }

    #[test]
    fn sparkline_marks_non_finite() {
        assert_eq!(
            sparkline(&[Some(1.0), Some(10.0), Some(f64::NAN), None]),
            "▁█× "
        );
    }
}
