//! Seeded synthetic classification data (Gaussian class clusters, balanced or
//! with skewed class priors), the data faults that act on the rows themselves
//! or on how the loaders prepare them (leakage, label noise, bad scale, NaN
//! rows, a glitched batch, class-sorted storage, a validation split that skips
//! the training transform or gets the training augmentation), the loader
//! patches that undo them, and the statistics `inspect_data_batch` reports.

use super::rng::SimRng;
use serde::{Deserialize, Serialize};

/// How to generate the data. Part of a task file; not player-settable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSpec {
    pub train_samples: usize,
    pub val_samples: usize,
    pub features: usize,
    /// Features that carry class signal; the rest are pure noise.
    pub informative: usize,
    pub classes: usize,
    /// Std of class centres around the origin: larger is easier.
    pub class_separation: f64,
    /// Multiplies every feature: values far from 1 make inputs unnormalised.
    #[serde(default = "one")]
    pub feature_scale: f64,
    #[serde(default)]
    pub feature_offset: f64,
    /// Share of rows in each class, indexed by class, for the training and
    /// the validation split alike (a random split of skewed data keeps its
    /// skew). Empty means balanced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub class_priors: Vec<f64>,
    #[serde(default)]
    pub faults: DataFaults,
}

fn one() -> f64 {
    1.0
}

/// Faults injected into the rows. All default to off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataFaults {
    /// Share of validation rows replaced by copies of training rows.
    #[serde(default)]
    pub leakage: f64,
    /// Share of training labels replaced by a random other class.
    #[serde(default)]
    pub label_noise: f64,
    /// Training rows whose first feature is NaN.
    #[serde(default)]
    pub nan_rows: usize,
    /// One batch of this epoch (1-based) arrives with features multiplied by
    /// `glitch_scale`: a one-off sensor glitch.
    #[serde(default)]
    pub glitch_epoch: usize,
    #[serde(default = "one")]
    pub glitch_scale: f64,
    /// Training rows are stored sorted by class (as when files are read one
    /// class folder after another): harmless while the loader shuffles.
    #[serde(default)]
    pub sorted_by_class: bool,
    /// The training loader standardises features with the training set's
    /// mean and std; the validation loader skips that transform and serves
    /// raw features.
    #[serde(default)]
    pub unscaled_validation: bool,
    /// The validation loader applies the training augmentation (Gaussian
    /// noise of std `augmentation_noise`), drawn afresh at every evaluation.
    #[serde(default)]
    pub augmented_validation: bool,
}

impl Default for DataFaults {
    fn default() -> Self {
        DataFaults {
            leakage: 0.0,
            label_noise: 0.0,
            nan_rows: 0,
            glitch_epoch: 0,
            glitch_scale: 1.0,
            sorted_by_class: false,
            unscaled_validation: false,
            augmented_validation: false,
        }
    }
}

/// What `patch_data_loader` can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataPatch {
    /// Drop validation rows that also occur in the training set.
    RemoveOverlap,
    /// Standardise features with training-set mean and std.
    NormalizeFeatures,
    /// Drop training rows that contain NaN.
    DropNanRows,
    /// Drop training rows whose label disagrees with the majority of their
    /// nearest training neighbours (Wilson's edited nearest neighbours).
    FilterNoisyLabels,
    /// Give the validation loader the training loader's fitted transform.
    ScaleValidation,
    /// Give the validation loader the deterministic evaluation transform.
    NoValidationAugmentation,
    /// Sample training rows with probability inversely proportional to their
    /// class's count (PyTorch's `WeightedRandomSampler`).
    BalanceClasses,
}

impl DataPatch {
    pub const ALL: [DataPatch; 7] = [
        DataPatch::RemoveOverlap,
        DataPatch::NormalizeFeatures,
        DataPatch::DropNanRows,
        DataPatch::FilterNoisyLabels,
        DataPatch::ScaleValidation,
        DataPatch::NoValidationAugmentation,
        DataPatch::BalanceClasses,
    ];

    pub fn name(self) -> &'static str {
        crate::vocab::name_of(crate::vocab::DATA_PATCHES, &self)
    }

    pub fn parse(name: &str) -> Option<Self> {
        crate::vocab::typed(crate::vocab::DATA_PATCHES, name)
    }
}

/// A matrix of rows with their labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub features: usize,
    pub x: Vec<f64>,
    pub y: Vec<usize>,
}

impl Split {
    pub fn len(&self) -> usize {
        self.y.len()
    }

    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    pub fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.features..(i + 1) * self.features]
    }

    fn push(&mut self, row: &[f64], label: usize) {
        self.x.extend_from_slice(row);
        self.y.push(label);
    }

    fn empty(features: usize) -> Self {
        Split {
            features,
            x: Vec::new(),
            y: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub train: Split,
    pub val: Split,
    pub classes: usize,
}

impl DataSpec {
    /// Generate the rows, inject the faults, then apply the player's patches.
    pub fn build(&self, seed: u64, patches: &[DataPatch]) -> Dataset {
        let mut rng = SimRng::new(seed, "data");
        let d = self.features;
        let centres = class_centres(
            &mut rng,
            self.classes,
            d,
            self.informative,
            self.class_separation,
        );
        let sample = |rng: &mut SimRng, n: usize| {
            let mut split = Split::empty(d);
            let mut row = vec![0.0; d];
            for label in self.labels(n) {
                for (j, v) in row.iter_mut().enumerate() {
                    let raw = centres[label * d + j] + rng.normal();
                    *v = raw * self.feature_scale + self.feature_offset;
                }
                split.push(&row, label);
            }
            split
        };
        let mut train = sample(&mut rng, self.train_samples);
        let mut val = sample(&mut rng, self.val_samples);

        let faults = &self.faults;
        if faults.label_noise > 0.0 && self.classes > 1 {
            for label in train.y.iter_mut() {
                if rng.chance(faults.label_noise) {
                    *label = (*label + 1 + rng.below(self.classes - 1)) % self.classes;
                }
            }
        }
        if faults.leakage > 0.0 && !train.is_empty() {
            let leaked = ((val.len() as f64) * faults.leakage).round() as usize;
            let mut slots: Vec<usize> = (0..val.len()).collect();
            rng.shuffle(&mut slots);
            for &slot in slots.iter().take(leaked) {
                let source = rng.below(train.len());
                let row = train.row(source).to_vec();
                val.x[slot * d..(slot + 1) * d].copy_from_slice(&row);
                val.y[slot] = train.y[source];
            }
        }
        for i in 0..faults.nan_rows.min(train.len()) {
            let at = (i * 7919) % train.len();
            train.x[at * d] = f64::NAN;
        }
        if faults.sorted_by_class {
            train = sorted_by_label(&train, self.classes);
        }
        if faults.unscaled_validation {
            // The scaler is fitted on the training rows and applied to them;
            // only the patch hands the same fitted scaler to validation.
            let (mean, std) = column_moments(&train);
            standardise(&mut train, &mean, &std);
            if patches.contains(&DataPatch::ScaleValidation) {
                standardise(&mut val, &mean, &std);
            }
        }

        if patches.contains(&DataPatch::DropNanRows) {
            train = retain_rows(&train, |row, _| row.iter().all(|v| v.is_finite()));
        }
        if patches.contains(&DataPatch::RemoveOverlap) {
            let seen: std::collections::HashSet<Vec<u64>> =
                (0..train.len()).map(|i| row_key(train.row(i))).collect();
            val = retain_rows(&val, |row, _| !seen.contains(&row_key(row)));
        }
        if patches.contains(&DataPatch::NormalizeFeatures) {
            let (mean, std) = column_moments(&train);
            standardise(&mut train, &mean, &std);
            standardise(&mut val, &mean, &std);
        }
        if patches.contains(&DataPatch::FilterNoisyLabels) {
            // Judged on the features as the loader now delivers them: after
            // normalisation, when that patch is on too.
            let judge = LabelJudge::new(&train, self.classes);
            let mut distances = Vec::new();
            let mut kept = Split::empty(d);
            for i in 0..train.len() {
                if judge.disagrees(i, &mut distances) != Some(true) {
                    kept.push(train.row(i), train.y[i]);
                }
            }
            train = kept;
        }
        Dataset {
            train,
            val,
            classes: self.classes,
        }
    }
}

/// How many nearest training rows vote on a training row's label.
pub const LABEL_NEIGHBOURS: usize = 10;

/// At most this many training rows are judged for `knn_label_disagreement`
/// (evenly spaced), each against every training row: the statistic's cost
/// stays linear in the rows. The filter judges every row.
pub const LABEL_SAMPLE: usize = 512;

/// Judges training rows against their nearest neighbours (the check behind
/// `knn_label_disagreement` and the `filter_noisy_labels` patch): it looks
/// only at the rows and their labels, as a real pipeline can.
struct LabelJudge<'a> {
    split: &'a Split,
    finite: Vec<bool>,
    classes: usize,
    /// The rows feature-major: one row's distances to all come at once.
    columns: super::kernels::Columns,
}

impl<'a> LabelJudge<'a> {
    fn new(split: &'a Split, classes: usize) -> Self {
        LabelJudge {
            split,
            finite: finite_rows(split),
            classes,
            columns: super::kernels::Columns::new(&split.x, split.features),
        }
    }

    /// Whether row `i` disagrees with its nearest neighbours: another label
    /// is more common than its own among its `LABEL_NEIGHBOURS` nearest
    /// other rows (Euclidean). Rows with a non-finite value neither vote nor
    /// are judged (`None`). `distances` is scratch space.
    fn disagrees(&self, i: usize, distances: &mut Vec<f64>) -> Option<bool> {
        if !self.finite.get(i).copied().unwrap_or(false) {
            return None;
        }
        self.columns.squared_distances(self.split.row(i), distances);
        let mut nearest: Vec<(f64, usize)> = Vec::with_capacity(LABEL_NEIGHBOURS + 1);
        for (j, &dist) in distances.iter().enumerate() {
            if j == i || !self.finite.get(j).copied().unwrap_or(false) {
                continue;
            }
            let full = nearest.len() >= LABEL_NEIGHBOURS;
            if full && nearest.last().is_some_and(|&(far, _)| dist >= far) {
                continue;
            }
            // Equal distances keep the earlier row first: deterministic.
            let at = nearest.partition_point(|&(e, _)| e <= dist);
            nearest.insert(at, (dist, j));
            nearest.truncate(LABEL_NEIGHBOURS);
        }
        let mut votes = vec![0usize; self.classes];
        for &(_, j) in &nearest {
            if let Some(v) = self.split.y.get(j).and_then(|&y| votes.get_mut(y)) {
                *v += 1;
            }
        }
        let own = self
            .split
            .y
            .get(i)
            .and_then(|&y| votes.get(y))
            .copied()
            .unwrap_or(0);
        Some(votes.iter().any(|&v| v > own))
    }
}

fn finite_rows(split: &Split) -> Vec<bool> {
    (0..split.len())
        .map(|i| split.row(i).iter().all(|v| v.is_finite()))
        .collect()
}

impl DataSpec {
    /// The labels of `n` rows, in order. Balanced data cycles through the
    /// classes; with priors each row goes to the class furthest behind its
    /// quota, so every prefix of the split keeps the priors (no draws: the
    /// counts are exact, `round(n * prior)` give or take one).
    fn labels(&self, n: usize) -> Vec<usize> {
        let classes = self.classes.max(1);
        let total: f64 = self.class_priors.iter().sum();
        if self.class_priors.len() != classes || total.is_nan() || total <= 0.0 {
            return (0..n).map(|i| i % classes).collect();
        }
        let mut counts = vec![0usize; classes];
        (0..n)
            .map(|i| {
                let behind =
                    |c: usize| self.class_priors[c] / total * (i + 1) as f64 - counts[c] as f64;
                let label =
                    (1..classes).fold(0, |best, c| if behind(c) > behind(best) { c } else { best });
                counts[label] += 1;
                label
            })
            .collect()
    }
}

/// The rows grouped by class (stable within a class): how a dataset read one
/// class folder after another is stored.
fn sorted_by_label(split: &Split, classes: usize) -> Split {
    let mut out = Split::empty(split.features);
    for class in 0..classes {
        for i in 0..split.len() {
            if split.y[i] == class {
                out.push(split.row(i), class);
            }
        }
    }
    out
}

/// `(x - mean) / std` per feature, as a fitted `StandardScaler` transforms.
fn standardise(split: &mut Split, mean: &[f64], std: &[f64]) {
    let d = split.features.max(1);
    for (i, v) in split.x.iter_mut().enumerate() {
        let j = i % d;
        let (m, s) = (
            mean.get(j).copied().unwrap_or(0.0),
            std.get(j).copied().unwrap_or(1.0),
        );
        *v = (*v - m) / s.max(1e-12);
    }
}

/// Class centres on orthonormal directions of the informative subspace, each
/// at distance `separation * sqrt(informative)` from the origin: every pair of
/// classes is equally far apart, so a seed changes the rotation and the noise
/// but never how hard the problem is. With fewer informative features than
/// classes, the directions cannot all be orthogonal and are left random.
fn class_centres(
    rng: &mut SimRng,
    classes: usize,
    d: usize,
    informative: usize,
    separation: f64,
) -> Vec<f64> {
    let k = informative.min(d);
    let radius = separation * libm::sqrt(k as f64);
    let mut dirs: Vec<Vec<f64>> = Vec::with_capacity(classes);
    for c in 0..classes {
        let mut v: Vec<f64> = (0..k).map(|_| rng.normal()).collect();
        if c < k {
            for u in &dirs {
                let dot: f64 = v.iter().zip(u).map(|(a, b)| a * b).sum();
                v.iter_mut().zip(u).for_each(|(a, b)| *a -= dot * b);
            }
        }
        let norm = libm::sqrt(v.iter().map(|a| a * a).sum::<f64>()).max(1e-12);
        v.iter_mut().for_each(|a| *a /= norm);
        dirs.push(v);
    }
    let mut centres = vec![0.0; classes * d];
    for (c, dir) in dirs.iter().enumerate() {
        for (j, v) in dir.iter().enumerate() {
            centres[c * d + j] = v * radius;
        }
    }
    centres
}

fn retain_rows(split: &Split, keep: impl Fn(&[f64], usize) -> bool) -> Split {
    let mut out = Split::empty(split.features);
    for i in 0..split.len() {
        if keep(split.row(i), split.y[i]) {
            out.push(split.row(i), split.y[i]);
        }
    }
    out
}

/// Exact row identity: bit patterns, so -0.0 and 0.0 differ as they do in a hash of bytes.
fn row_key(row: &[f64]) -> Vec<u64> {
    row.iter().map(|v| v.to_bits()).collect()
}

/// Per-feature mean and population std over finite values.
fn column_moments(split: &Split) -> (Vec<f64>, Vec<f64>) {
    moments(&split.x, split.features)
}

/// Per-feature mean and population std over finite values of row-major `x`
/// with `d` features.
fn moments(x: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let d = d.max(1);
    let mut sum = vec![0.0; d];
    let mut count = vec![0usize; d];
    for (i, v) in x.iter().enumerate() {
        if v.is_finite() {
            sum[i % d] += v;
            count[i % d] += 1;
        }
    }
    let mean: Vec<f64> = sum
        .iter()
        .zip(&count)
        .map(|(s, &n)| if n > 0 { s / n as f64 } else { 0.0 })
        .collect();
    let mut sq = vec![0.0; d];
    for (i, v) in x.iter().enumerate() {
        if v.is_finite() {
            let dv = v - mean[i % d];
            sq[i % d] += dv * dv;
        }
    }
    let std = sq
        .iter()
        .zip(&count)
        .map(|(s, &n)| if n > 0 { libm::sqrt(s / n as f64) } else { 0.0 })
        .collect();
    (mean, std)
}

/// What `inspect_data_batch` reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DataBatchStats {
    pub batch_size: usize,
    pub train_samples: usize,
    pub val_samples: usize,
    /// Count of each class among training labels, indexed by class.
    pub label_distribution: Vec<usize>,
    /// Mean over features of the per-feature training mean.
    pub feature_mean: f64,
    /// Mean over features of the per-feature training std.
    pub feature_std: f64,
    /// The same two for the validation rows as the validation loader serves
    /// them (after its transforms) in the final evaluation.
    pub val_feature_mean: f64,
    pub val_feature_std: f64,
    /// Count of each class among the labels of one training batch as the
    /// loader serves it (the first batch of the last epoch trained).
    pub batch_label_distribution: Vec<usize>,
    /// Training values that are NaN or infinite.
    pub null_count: usize,
    /// Share of validation rows exactly equal to some training row.
    pub duplicate_ratio: f64,
    /// Share of validation rows whose nearest training row (Euclidean) is closer
    /// than 5% of the median nearest-neighbour distance: train/val overlap that
    /// survives small perturbations.
    pub class_overlap_score: f64,
    /// Share of training rows (at most 512, evenly spaced) whose label another
    /// label outvotes among their 10 nearest training rows: a few percent where
    /// classes touch, far more where labels are wrong.
    pub knn_label_disagreement: f64,
}

impl Dataset {
    /// The statistics `inspect_data_batch` shows. `served_val` is the
    /// validation features as the validation loader served them (row-major,
    /// like `val.x`); `batch_labels` the labels of one served training batch.
    pub fn stats(
        &self,
        batch_size: usize,
        served_val: &[f64],
        batch_labels: &[usize],
    ) -> DataBatchStats {
        let train = &self.train;
        let mut label_distribution = vec![0; self.classes];
        for &y in &train.y {
            if let Some(slot) = label_distribution.get_mut(y) {
                *slot += 1;
            }
        }
        let (mean, std) = column_moments(train);
        let (val_mean, val_std) = moments(served_val, self.val.features);
        let d = train.features.max(1) as f64;
        let mut batch_label_distribution = vec![0; self.classes];
        for &y in batch_labels {
            if let Some(slot) = batch_label_distribution.get_mut(y) {
                *slot += 1;
            }
        }
        let null_count = train.x.iter().filter(|v| !v.is_finite()).count();

        let seen: std::collections::HashSet<Vec<u64>> =
            (0..train.len()).map(|i| row_key(train.row(i))).collect();
        let duplicates = (0..self.val.len())
            .filter(|&i| seen.contains(&row_key(self.val.row(i))))
            .count();

        let nearest =
            super::kernels::nearest_squared_distances(&self.val.x, &train.x, train.features);
        let mut sorted: Vec<f64> = nearest.iter().copied().filter(|x| x.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
        let threshold = median * 0.05 * 0.05; // squared distances
        let close = nearest.iter().filter(|&&n| n <= threshold).count();
        let share = |n: usize| {
            if self.val.is_empty() {
                0.0
            } else {
                n as f64 / self.val.len() as f64
            }
        };
        let judge = LabelJudge::new(train, self.classes);
        let mut distances = Vec::new();
        let sample = train.len().min(LABEL_SAMPLE);
        let verdicts: Vec<bool> = (0..sample)
            .filter_map(|k| judge.disagrees(k * train.len() / sample, &mut distances))
            .collect();
        let judged = verdicts.len();
        let disagreeing = verdicts.iter().filter(|&&d| d).count();
        DataBatchStats {
            batch_size,
            train_samples: train.len(),
            val_samples: self.val.len(),
            label_distribution,
            feature_mean: mean.iter().sum::<f64>() / d,
            feature_std: std.iter().sum::<f64>() / d,
            val_feature_mean: val_mean.iter().sum::<f64>() / d,
            val_feature_std: val_std.iter().sum::<f64>() / d,
            batch_label_distribution,
            null_count,
            duplicate_ratio: share(duplicates),
            class_overlap_score: share(close),
            knn_label_disagreement: if judged == 0 {
                0.0
            } else {
                disagreeing as f64 / judged as f64
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_patch_has_a_table_name_and_back() {
        assert_eq!(DataPatch::ALL.len(), crate::vocab::DATA_PATCHES.len());
        for p in DataPatch::ALL {
            assert_eq!(DataPatch::parse(p.name()), Some(p));
        }
        assert_eq!(DataPatch::parse(" dedupe "), Some(DataPatch::RemoveOverlap));
    }

    fn spec() -> DataSpec {
        DataSpec {
            train_samples: 200,
            val_samples: 100,
            features: 8,
            informative: 4,
            classes: 4,
            class_separation: 1.5,
            feature_scale: 1.0,
            feature_offset: 0.0,
            class_priors: Vec::new(),
            faults: DataFaults::default(),
        }
    }

    #[test]
    fn same_seed_same_rows_other_seed_other_rows() {
        assert_eq!(spec().build(1, &[]), spec().build(1, &[]));
        assert_ne!(spec().build(1, &[]).train.x, spec().build(2, &[]).train.x);
    }

    #[test]
    fn leakage_is_measured_and_removed() {
        let mut s = spec();
        s.faults.leakage = 0.2;
        let leaky = s.build(3, &[]);
        let stats = leaky.stats(32, &[], &[]);
        assert!((stats.duplicate_ratio - 0.2).abs() < 1e-9, "{stats:?}");
        assert!(stats.class_overlap_score >= 0.2);
        let clean = s.build(3, &[DataPatch::RemoveOverlap]);
        assert_eq!(clean.stats(32, &[], &[]).duplicate_ratio, 0.0);
        assert_eq!(clean.val.len(), 80);
    }

    #[test]
    fn honest_data_has_no_overlap() {
        let stats = spec().build(5, &[]).stats(32, &[], &[]);
        assert_eq!(stats.duplicate_ratio, 0.0);
        assert!(stats.class_overlap_score < 0.05);
        assert_eq!(stats.label_distribution, vec![50, 50, 50, 50]);
    }

    #[test]
    fn normalisation_undoes_bad_scale() {
        let mut s = spec();
        s.feature_scale = 40.0;
        s.feature_offset = 100.0;
        let raw = s.build(1, &[]).stats(32, &[], &[]);
        assert!(raw.feature_mean > 50.0 && raw.feature_std > 20.0, "{raw:?}");
        let fixed = s
            .build(1, &[DataPatch::NormalizeFeatures])
            .stats(32, &[], &[]);
        assert!(fixed.feature_mean.abs() < 1e-9);
        assert!((fixed.feature_std - 1.0).abs() < 1e-9);
    }

    #[test]
    fn nan_rows_are_counted_and_dropped() {
        let mut s = spec();
        s.faults.nan_rows = 3;
        assert_eq!(s.build(1, &[]).stats(32, &[], &[]).null_count, 3);
        let fixed = s.build(1, &[DataPatch::DropNanRows]);
        assert_eq!(fixed.stats(32, &[], &[]).null_count, 0);
        assert_eq!(fixed.train.len(), 197);
    }

    #[test]
    fn neighbours_see_flipped_labels_and_the_filter_drops_most_of_them() {
        let mut s = spec();
        s.class_separation = 1.2;
        let clean = s.build(4, &[]);
        let clean_share = clean.stats(32, &[], &[]).knn_label_disagreement;
        s.faults.label_noise = 0.4;
        let noisy = s.build(4, &[]);
        let noisy_share = noisy.stats(32, &[], &[]).knn_label_disagreement;
        assert!(clean_share < 0.15, "clean {clean_share}");
        assert!(noisy_share > clean_share + 0.2, "noisy {noisy_share}");
        let filtered = s.build(4, &[DataPatch::FilterNoisyLabels]);
        // The same rows in the same order, less the dropped ones: count how
        // many kept labels are still wrong against the clean labels.
        let mut wrong_kept = 0;
        let mut at = 0;
        for i in 0..noisy.train.len() {
            if at < filtered.train.len() && noisy.train.row(i) == filtered.train.row(at) {
                wrong_kept += usize::from(noisy.train.y[i] != clean.train.y[i]);
                at += 1;
            }
        }
        assert_eq!(at, filtered.train.len());
        let flipped = (0..noisy.train.len())
            .filter(|&i| noisy.train.y[i] != clean.train.y[i])
            .count();
        assert!(
            wrong_kept * 4 < flipped,
            "{wrong_kept} of {flipped} wrong labels survive"
        );
        assert!(filtered.stats(32, &[], &[]).knn_label_disagreement < noisy_share / 2.0);
    }

    #[test]
    fn rows_with_nan_neither_vote_nor_count() {
        let mut s = spec();
        s.faults.nan_rows = 5;
        let data = s.build(2, &[]);
        let share = data.stats(32, &[], &[]).knn_label_disagreement;
        assert!(share.is_finite() && share < 0.5, "{share}");
        let filtered = s.build(2, &[DataPatch::FilterNoisyLabels]);
        assert_eq!(
            filtered.stats(32, &[], &[]).null_count,
            5,
            "NaN rows are not judged"
        );
    }

    #[test]
    fn label_noise_flips_roughly_the_share_asked() {
        let mut s = spec();
        let clean = s.build(9, &[]).train.y;
        s.faults.label_noise = 0.3;
        let noisy = s.build(9, &[]).train.y;
        let flipped = clean.iter().zip(&noisy).filter(|(a, b)| a != b).count();
        assert!((40..=80).contains(&flipped), "flipped {flipped}");
    }
}
