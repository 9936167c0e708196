//! The loops that decide a run's time, written to vectorise without changing
//! a bit: the dense products of training (forward, input gradient, weight
//! gradient) as register-tiled loops, and the nearest-neighbour distances of
//! the data statistics. Each output element keeps one accumulator and adds
//! its terms one at a time, in ascending order, as a separate multiply and add
//! (no FMA): the result is bit-identical to the naive triple loop whatever the
//! tile sizes or the vector width. Tiling only decides how many accumulators
//! stay in registers while the shared operand streams past, which is where the
//! time goes at these small widths (16–32 units): the untiled loop loaded and
//! stored every output element once per term.

/// Rows of `out` processed together (each loaded operand serves all of them).
const ROWS: usize = 4;
/// Columns of `out` per tile: two 256-bit vectors of f64.
const WIDE: usize = 8;
const NARROW: usize = 4;

/// What each output element's sum starts from.
#[derive(Clone, Copy)]
enum Start<'a> {
    /// +0.0, without reading the output (what a zeroed output would give).
    Zero,
    /// `bias[j]` for column j (what an output filled with the bias would give).
    Bias(&'a [f64]),
}

/// `out[i][j] = sum_k x[i][k] * w[k][j]`, k ascending from +0.0 (`out` is
/// rows × n, `x` rows × m, `w` m × n): the input
/// gradient over transposed weights, without zeroing `out` first.
#[inline(always)]
pub fn multiply_rows(out: &mut [f64], n: usize, x: &[f64], m: usize, w: &[f64]) {
    product(out, n, x, m, w, Start::Zero);
}

/// `out[i][j] = bias[j] + sum_k x[i][k] * w[k][j]`, k ascending: a linear
/// layer's forward pass, without filling `out` with the bias first.
#[inline(always)]
pub fn biased_product(out: &mut [f64], n: usize, x: &[f64], m: usize, w: &[f64], bias: &[f64]) {
    if bias.len() < n {
        return;
    }
    product(out, n, x, m, w, Start::Bias(bias));
}

#[inline(always)]
fn product(out: &mut [f64], n: usize, x: &[f64], m: usize, w: &[f64], start: Start<'_>) {
    let rows = out.len().checked_div(n).unwrap_or(0);
    if x.len() < rows * m || w.len() < m * n {
        return;
    }
    let mut i = 0;
    while i + ROWS <= rows {
        row_band::<ROWS>(out, n, x, m, w, i, start);
        i += ROWS;
    }
    while i < rows {
        row_band::<1>(out, n, x, m, w, i, start);
        i += 1;
    }
}

/// `g[k][j] += sum_i x[i][k] * d[i][j]`, i ascending (`g` is m × n, `x`
/// rows × m, `d` rows × n): the weight gradient.
#[inline(always)]
pub fn accumulate_outer(g: &mut [f64], n: usize, x: &[f64], m: usize, d: &[f64], rows: usize) {
    if g.len() < m * n || x.len() < rows * m || d.len() < rows * n {
        return;
    }
    let mut k = 0;
    while k + ROWS <= m {
        outer_band::<ROWS>(g, n, x, m, d, rows, k);
        k += ROWS;
    }
    while k < m {
        outer_band::<1>(g, n, x, m, d, rows, k);
        k += 1;
    }
}

/// Rows `row0..row0 + R` of `out = start + x · w`, across all columns: wide
/// tiles, then a narrow one, then single columns.
#[inline(always)]
fn row_band<const R: usize>(
    out: &mut [f64],
    n: usize,
    x: &[f64],
    m: usize,
    w: &[f64],
    row0: usize,
    start: Start<'_>,
) {
    let mut j = 0;
    while j + WIDE <= n {
        row_tile::<R, WIDE>(out, n, x, m, w, row0, j, start);
        j += WIDE;
    }
    if j + NARROW <= n {
        row_tile::<R, NARROW>(out, n, x, m, w, row0, j, start);
        j += NARROW;
    }
    while j < n {
        row_tile::<R, 1>(out, n, x, m, w, row0, j, start);
        j += 1;
    }
}

/// Rows `row0..row0 + R` of `g += xᵀ · d`, across all columns.
#[inline(always)]
fn outer_band<const R: usize>(
    g: &mut [f64],
    n: usize,
    x: &[f64],
    m: usize,
    d: &[f64],
    rows: usize,
    row0: usize,
) {
    let mut j = 0;
    while j + WIDE <= n {
        outer_tile::<R, WIDE>(g, n, x, m, d, rows, row0, j);
        j += WIDE;
    }
    if j + NARROW <= n {
        outer_tile::<R, NARROW>(g, n, x, m, d, rows, row0, j);
        j += NARROW;
    }
    while j < n {
        outer_tile::<R, 1>(g, n, x, m, d, rows, row0, j);
        j += 1;
    }
}

/// Rows `row0..row0 + R`, columns `col0..col0 + C` of `out = start + x · w`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn row_tile<const R: usize, const C: usize>(
    out: &mut [f64],
    n: usize,
    x: &[f64],
    m: usize,
    w: &[f64],
    row0: usize,
    col0: usize,
    start: Start<'_>,
) {
    // Each row sliced to exactly `m` so that indexing by `k < m` needs no check.
    let mut xs: [&[f64]; R] = [&[]; R];
    for (r, xr) in xs.iter_mut().enumerate() {
        *xr = &x[(row0 + r) * m..][..m];
    }
    let mut acc = match start {
        Start::Zero => [[0.0; C]; R],
        Start::Bias(bias) => {
            let mut row = [0.0; C];
            row.copy_from_slice(&bias[col0..col0 + C]);
            [row; R]
        }
    };
    for (k, wk) in w.chunks_exact(n).take(m).enumerate() {
        let mut a = [0.0; R];
        for (a_r, xr) in a.iter_mut().zip(&xs) {
            *a_r = xr[k];
        }
        add_terms(&mut acc, &a, &wk[col0..col0 + C]);
    }
    store(out, n, row0, col0, &acc);
}

/// Rows `row0..row0 + R` (of `g`, that is columns of `x`), columns
/// `col0..col0 + C` of `g += xᵀ · d`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn outer_tile<const R: usize, const C: usize>(
    g: &mut [f64],
    n: usize,
    x: &[f64],
    m: usize,
    d: &[f64],
    rows: usize,
    row0: usize,
    col0: usize,
) {
    let mut acc = load::<R, C>(g, n, row0, col0);
    for (xi, di) in x.chunks_exact(m).zip(d.chunks_exact(n)).take(rows) {
        let mut a = [0.0; R];
        a.copy_from_slice(&xi[row0..row0 + R]);
        add_terms(&mut acc, &a, &di[col0..col0 + C]);
    }
    store(g, n, row0, col0, &acc);
}

/// One term for every element of the tile: `acc[r][t] += a[r] * b[t]`, a
/// separate multiply and add (no FMA), as the naive loop rounds.
#[inline(always)]
fn add_terms<const R: usize, const C: usize>(acc: &mut [[f64; C]; R], a: &[f64; R], b: &[f64]) {
    let b = &b[..C];
    for (acc_r, &a_r) in acc.iter_mut().zip(a) {
        for (v, &b_t) in acc_r.iter_mut().zip(b) {
            *v += a_r * b_t;
        }
    }
}

#[inline(always)]
fn load<const R: usize, const C: usize>(
    out: &[f64],
    n: usize,
    row0: usize,
    col0: usize,
) -> [[f64; C]; R] {
    let mut acc = [[0.0; C]; R];
    for (r, acc_r) in acc.iter_mut().enumerate() {
        let at = (row0 + r) * n + col0;
        acc_r.copy_from_slice(&out[at..at + C]);
    }
    acc
}

#[inline(always)]
fn store<const R: usize, const C: usize>(
    out: &mut [f64],
    n: usize,
    row0: usize,
    col0: usize,
    acc: &[[f64; C]; R],
) {
    for (r, acc_r) in acc.iter().enumerate() {
        let at = (row0 + r) * n + col0;
        out[at..at + C].copy_from_slice(acc_r);
    }
}

/// For each row of `queries`, the squared distance to its nearest row of
/// `points` (both row-major with `d` features), folded in row order over the
/// distances [`Columns::squared_distances`] gives, so the result is the one
/// a row-by-row loop gives.
pub fn nearest_squared_distances(queries: &[f64], points: &[f64], d: usize) -> Vec<f64> {
    let columns = Columns::new(points, d);
    let mut distances = Vec::new();
    queries
        .chunks_exact(d.max(1))
        .map(|query| {
            columns.squared_distances(query, &mut distances);
            distances.iter().copied().fold(f64::INFINITY, f64::min)
        })
        .collect()
}

/// Points held feature-major (all points' first feature, then all their
/// second, …), so the distances from one query to every point run across
/// many points at once instead of along one short row.
pub struct Columns {
    columns: Vec<f64>,
    /// Points.
    n: usize,
    /// Features.
    d: usize,
}

impl Columns {
    /// `points` row-major with `d` features each.
    pub fn new(points: &[f64], d: usize) -> Self {
        let width = d.max(1);
        let n = points.len() / width;
        let mut columns = vec![0.0; d * n];
        for (t, row) in points.chunks_exact(width).enumerate() {
            for (j, &v) in row.iter().take(d).enumerate() {
                columns[j * n + t] = v;
            }
        }
        Columns { columns, n, d }
    }

    /// The squared distance from `query` (`d` features) to every point, in
    /// point order, into `out`. Each adds its features' terms
    /// `(q - p) * (q - p)` in ascending order from -0.0, as `Iterator::sum`
    /// does over a zipped row, so each equals the row-by-row loop's bits.
    pub fn squared_distances(&self, query: &[f64], out: &mut Vec<f64>) {
        out.clear();
        out.resize(self.n, -0.0);
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU has AVX (checked just above).
            return unsafe { self.distances_avx(query, out) };
        }
        self.distances_portable(query, out);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx")]
    fn distances_avx(&self, query: &[f64], out: &mut [f64]) {
        self.distances_portable(query, out);
    }

    #[inline(always)]
    fn distances_portable(&self, query: &[f64], out: &mut [f64]) {
        for (&q, column) in query
            .iter()
            .take(self.d)
            .zip(self.columns.chunks_exact(self.n.max(1)))
        {
            for (s, &p) in out.iter_mut().zip(column) {
                *s += (q - p) * (q - p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::SimRng;

    fn values(rng: &mut SimRng, len: usize) -> Vec<f64> {
        (0..len).map(|_| rng.normal() * 3.0).collect()
    }

    /// The naive loops the kernels must equal to the bit, on shapes that
    /// exercise every tile and remainder.
    #[test]
    fn nearest_distances_equal_the_row_by_row_loop_to_the_bit() {
        let mut rng = SimRng::new(3, "nearest");
        for (queries, points, d) in [(7, 13, 3), (5, 1, 10), (4, 9, 1)] {
            let q = values(&mut rng, queries * d);
            let mut p = values(&mut rng, points * d);
            p[0] = f64::NAN;
            let naive: Vec<f64> = q
                .chunks_exact(d)
                .map(|a| {
                    p.chunks_exact(d)
                        .map(|b| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>())
                        .fold(f64::INFINITY, f64::min)
                })
                .collect();
            let fast = nearest_squared_distances(&q, &p, d);
            let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&naive), bits(&fast), "{queries} x {points} x {d}");
        }
    }

    #[test]
    fn distances_from_one_row_equal_the_zipped_sum_to_the_bit() {
        let mut rng = SimRng::new(5, "distances");
        let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        for (points, d) in [(13, 3), (1, 10), (9, 1), (37, 20)] {
            let mut p = values(&mut rng, points * d);
            p[0] = f64::NAN;
            let columns = Columns::new(&p, d);
            let mut fast = vec![7.0; 3];
            for query in p.chunks_exact(d) {
                let naive: Vec<f64> = p
                    .chunks_exact(d)
                    .map(|b| {
                        query
                            .iter()
                            .zip(b)
                            .map(|(x, y)| (x - y) * (x - y))
                            .sum::<f64>()
                    })
                    .collect();
                columns.squared_distances(query, &mut fast);
                assert_eq!(bits(&naive), bits(&fast), "{points} x {d}");
            }
        }
    }

    #[test]
    fn tiled_products_equal_the_naive_loops_to_the_bit() {
        let mut rng = SimRng::new(7, "kernels");
        for (rows, m, n) in [(1, 1, 1), (5, 3, 13), (32, 10, 16), (7, 24, 4), (9, 37, 21)] {
            let x = values(&mut rng, rows * m);
            let w = values(&mut rng, m * n);
            let bias = values(&mut rng, n);
            let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            for biased in [false, true] {
                let mut naive = vec![0.0; rows * n];
                for i in 0..rows {
                    for j in 0..n {
                        if biased {
                            naive[i * n + j] = bias[j];
                        }
                        for k in 0..m {
                            naive[i * n + j] += x[i * m + k] * w[k * n + j];
                        }
                    }
                }
                // Whatever `out` held before must not matter.
                let mut tiled = values(&mut rng, rows * n);
                if biased {
                    biased_product(&mut tiled, n, &x, m, &w, &bias);
                } else {
                    multiply_rows(&mut tiled, n, &x, m, &w);
                }
                assert_eq!(
                    bits(&naive),
                    bits(&tiled),
                    "rows {rows} m {m} n {n} bias {biased}"
                );
            }

            let d = values(&mut rng, rows * n);
            let g0 = values(&mut rng, m * n);
            let mut naive = g0.clone();
            for k in 0..m {
                for j in 0..n {
                    for i in 0..rows {
                        naive[k * n + j] += x[i * m + k] * d[i * n + j];
                    }
                }
            }
            let mut tiled = g0;
            accumulate_outer(&mut tiled, n, &x, m, &d, rows);
            assert_eq!(bits(&naive), bits(&tiled), "outer rows {rows} m {m} n {n}");
        }
    }
}
