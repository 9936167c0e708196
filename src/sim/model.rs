//! The network: a batched MLP (linear → batch norm → activation → dropout per
//! hidden layer) with a hand-written backward pass. Batch norm and dropout
//! really behave differently in train and eval mode, which is what makes the
//! eval-mode bugs real. Matrices are row-major `Vec<f64>`; loops run in a fixed
//! order with one accumulator per output element, so results are bit-identical
//! on every machine whatever the vector width.

use super::config::{Activation, TrainConfig, WeightInit};
use super::kernels::{accumulate_outer, biased_product, multiply_rows};
use super::rng::SimRng;

const BN_EPS: f64 = 1e-5;
const BN_MOMENTUM: f64 = 0.1;
const LEAKY_SLOPE: f64 = 0.01;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Train,
    Eval,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Train => "train",
            Mode::Eval => "eval",
        }
    }
}

/// Where one layer's tensors live in the flat parameter list.
#[derive(Debug, Clone, Copy)]
struct Slots {
    weight: usize,
    bias: usize,
    /// gamma, beta (batch norm) for hidden layers when enabled.
    norm: Option<(usize, usize)>,
}

#[derive(Debug, Clone)]
pub struct Mlp {
    /// Layer widths: input, hidden…, classes.
    pub dims: Vec<usize>,
    pub activation: Activation,
    pub dropout: f64,
    /// Every trainable tensor, in a fixed order (per layer: W, b, gamma, beta).
    pub params: Vec<Vec<f64>>,
    slots: Vec<Slots>,
    running_mean: Vec<Vec<f64>>,
    running_var: Vec<Vec<f64>>,
    pub mode: Mode,
}

/// Everything the backward pass needs from one forward pass, and the
/// buffers both passes work in. A cache is meant to be reused from batch to
/// batch: its buffers keep their capacity, so a run allocates them once.
#[derive(Debug, Default)]
pub struct Cache {
    rows: usize,
    /// Input of each linear layer (index 0: a copy of the batch).
    inputs: Vec<Vec<f64>>,
    /// Batch-norm normalised values (none for inference) and 1/std per unit.
    xhat: Vec<Vec<f64>>,
    inv_std: Vec<Vec<f64>>,
    /// Activation outputs before dropout, per hidden layer, where dropout
    /// acted; elsewhere they are the next layer's input.
    acts: Vec<Vec<f64>>,
    /// Dropout multipliers (0 or 1/(1-p)) per hidden layer; empty when off.
    masks: Vec<Vec<f64>>,
    mode: Vec<Mode>,
    /// Keep nothing for a backward pass (validation): skips the copies.
    inference_only: bool,
    /// Batch norm's batch mean and variance.
    mean: Vec<f64>,
    var: Vec<f64>,
    /// Backward's transposed weights and its two gradient buffers.
    transposed: Vec<f64>,
    gradient: Vec<f64>,
    spare: Vec<f64>,
}

impl Cache {
    /// A cache for a forward pass that no backward pass will follow.
    pub fn inference() -> Self {
        Cache {
            inference_only: true,
            ..Cache::default()
        }
    }

    /// One slot per layer in each per-layer list.
    fn shape_for(&mut self, layers: usize) {
        self.inputs.resize_with(layers, Vec::new);
        let hidden = layers.saturating_sub(1);
        for list in [
            &mut self.xhat,
            &mut self.inv_std,
            &mut self.acts,
            &mut self.masks,
        ] {
            list.resize_with(hidden, Vec::new);
        }
        self.mode.clear();
    }

    /// Hidden layer `h`'s activations (before dropout).
    fn activations(&self, h: usize) -> &[f64] {
        match self.acts.get(h) {
            Some(acts) if !acts.is_empty() => acts,
            _ => self.inputs.get(h + 1).map_or(&[], Vec::as_slice),
        }
    }
}

/// The first `len` elements of `buffer`, growing it (never shrinking) as
/// needed: a buffer whose every element is written before it is read need
/// not be cleared.
fn sized(buffer: &mut Vec<f64>, len: usize) -> &mut [f64] {
    if buffer.len() < len {
        buffer.resize(len, 0.0);
    }
    &mut buffer[..len]
}

impl Mlp {
    pub fn new(inputs: usize, classes: usize, config: &TrainConfig, rng: &mut SimRng) -> Self {
        let mut dims = vec![inputs];
        dims.extend(std::iter::repeat_n(
            config.hidden_dim,
            config.num_layers.saturating_sub(1),
        ));
        dims.push(classes);
        let mut params = Vec::new();
        let mut slots = Vec::new();
        let (mut running_mean, mut running_var) = (Vec::new(), Vec::new());
        let layers = dims.len() - 1;
        for l in 0..layers {
            let (fan_in, fan_out) = (dims[l], dims[l + 1]);
            let std = match config.weight_init {
                WeightInit::Kaiming => libm::sqrt(2.0 / fan_in as f64),
                WeightInit::Xavier => libm::sqrt(2.0 / (fan_in + fan_out) as f64),
                WeightInit::Tiny => 1e-3,
                WeightInit::Huge => 1.0,
            };
            let weight = (0..fan_in * fan_out).map(|_| rng.normal() * std).collect();
            params.push(weight);
            params.push(vec![0.0; fan_out]);
            let hidden = l + 1 < layers;
            let norm = if hidden && config.batch_norm {
                params.push(vec![1.0; fan_out]);
                params.push(vec![0.0; fan_out]);
                Some((params.len() - 2, params.len() - 1))
            } else {
                None
            };
            running_mean.push(vec![0.0; fan_out]);
            running_var.push(vec![1.0; fan_out]);
            let base = params.len() - if norm.is_some() { 4 } else { 2 };
            slots.push(Slots {
                weight: base,
                bias: base + 1,
                norm,
            });
        }
        Mlp {
            dims,
            activation: config.activation,
            dropout: config.dropout_rate,
            params,
            slots,
            running_mean,
            running_var,
            mode: Mode::Train,
        }
    }

    pub fn layer_count(&self) -> usize {
        self.slots.len()
    }

    pub fn weight_index(&self, layer: usize) -> usize {
        self.slots[layer].weight
    }

    /// Zeroed tensors shaped like the parameters.
    pub fn zeros_like(&self) -> Vec<Vec<f64>> {
        self.params.iter().map(|p| vec![0.0; p.len()]).collect()
    }

    /// Module name → mode, as `model.named_modules()` would report it.
    pub fn module_modes(&self, mode: Mode) -> Vec<(String, &'static str)> {
        let mut out = vec![("model".to_string(), mode.name())];
        let layers = self.layer_count();
        for (l, slot) in self.slots.iter().enumerate() {
            out.push((format!("fc{}", l + 1), mode.name()));
            if slot.norm.is_some() {
                out.push((format!("bn{}", l + 1), mode.name()));
            }
            if l + 1 < layers && self.dropout > 0.0 {
                out.push((format!("dropout{}", l + 1), mode.name()));
            }
        }
        out
    }

    /// Forward a batch of `rows` inputs; returns logits (rows × classes).
    /// In train mode batch norm uses batch statistics (and updates its running
    /// estimates) and dropout drops; in eval mode neither happens.
    pub fn forward(
        &mut self,
        x: &[f64],
        rows: usize,
        rng: &mut SimRng,
        cache: &mut Cache,
    ) -> Vec<f64> {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU has AVX (checked just above).
            return unsafe { self.forward_avx(x, rows, rng, cache) };
        }
        self.forward_portable(x, rows, rng, cache)
    }

    /// The same code compiled for wider vectors. Element-wise IEEE arithmetic
    /// in the same order, no FMA: bit-identical to the portable build.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx")]
    fn forward_avx(
        &mut self,
        x: &[f64],
        rows: usize,
        rng: &mut SimRng,
        cache: &mut Cache,
    ) -> Vec<f64> {
        self.forward_portable(x, rows, rng, cache)
    }

    #[inline(always)]
    fn forward_portable(
        &mut self,
        x: &[f64],
        rows: usize,
        rng: &mut SimRng,
        cache: &mut Cache,
    ) -> Vec<f64> {
        let layers = self.layer_count();
        let keep = !cache.inference_only;
        cache.rows = rows;
        cache.shape_for(layers);
        let mut input = std::mem::take(&mut cache.inputs[0]);
        input.clear();
        input.extend_from_slice(x);
        for l in 0..layers {
            let (fan_in, fan_out) = (self.dims[l], self.dims[l + 1]);
            let slot = self.slots[l];
            let w = &self.params[slot.weight];
            let b = &self.params[slot.bias];
            let last = l + 1 == layers;
            let mut z = if last {
                Vec::new()
            } else {
                std::mem::take(&mut cache.inputs[l + 1])
            };
            z.resize(rows * fan_out, 0.0);
            biased_product(&mut z, fan_out, &input, fan_in, w, b);
            cache.inputs[l] = input;
            if last {
                cache.mode.push(self.mode);
                return z;
            }
            if let Some((g, beta)) = slot.norm {
                self.batch_norm(l, &mut z, rows, g, beta, cache);
            } else {
                cache.xhat[l].clear();
                cache.inv_std[l].clear();
            }
            activate_all(self.activation, &mut z);
            cache.acts[l].clear();
            if self.mode == Mode::Train && self.dropout > 0.0 {
                if keep {
                    cache.acts[l].extend_from_slice(&z);
                }
                let mask = &mut cache.masks[l];
                dropout_mask(rng, mask, z.len(), 1.0 - self.dropout);
                for (v, m) in z.iter_mut().zip(mask.iter()) {
                    *v *= m;
                }
            } else {
                cache.masks[l].clear();
            }
            cache.mode.push(self.mode);
            input = z;
        }
        input
    }

    #[inline(always)]
    fn batch_norm(
        &mut self,
        l: usize,
        z: &mut [f64],
        rows: usize,
        g: usize,
        beta: usize,
        cache: &mut Cache,
    ) {
        let n = self.dims[l + 1];
        let gamma = &self.params[g];
        let shift = &self.params[beta];
        let keep = !cache.inference_only;
        let inv_std = &mut cache.inv_std[l];
        inv_std.clear();
        if self.mode == Mode::Train && rows > 1 {
            let count = rows as f64;
            let mean = sized(&mut cache.mean, n);
            mean.fill(0.0);
            for row in z.chunks_exact(n) {
                for (m, v) in mean.iter_mut().zip(row) {
                    *m += v;
                }
            }
            mean.iter_mut().for_each(|m| *m /= count);
            let var = sized(&mut cache.var, n);
            var.fill(0.0);
            for row in z.chunks_exact(n) {
                for ((s, v), m) in var.iter_mut().zip(row).zip(mean.iter()) {
                    *s += (v - m) * (v - m);
                }
            }
            var.iter_mut().for_each(|s| *s /= count);
            inv_std.extend(var.iter().map(|v| 1.0 / libm::sqrt(v + BN_EPS)));
            normalise(z, n, mean, inv_std, gamma, shift, &mut cache.xhat[l], keep);
            let unbias = count / (count - 1.0);
            for j in 0..n {
                self.running_mean[l][j] =
                    (1.0 - BN_MOMENTUM) * self.running_mean[l][j] + BN_MOMENTUM * mean[j];
                self.running_var[l][j] =
                    (1.0 - BN_MOMENTUM) * self.running_var[l][j] + BN_MOMENTUM * var[j] * unbias;
            }
        } else {
            inv_std.extend(
                self.running_var[l]
                    .iter()
                    .map(|v| 1.0 / libm::sqrt(v + BN_EPS)),
            );
            normalise(
                z,
                n,
                &self.running_mean[l],
                inv_std,
                gamma,
                shift,
                &mut cache.xhat[l],
                keep,
            );
        }
    }

    /// Accumulate (+=) the gradients of a loss whose gradient with respect to the
    /// logits is `dlogits` into `grads`, as `loss.backward()` does.
    pub fn backward(&self, cache: &mut Cache, dlogits: Vec<f64>, grads: &mut [Vec<f64>]) {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU has AVX (checked just above).
            return unsafe { self.backward_avx(cache, dlogits, grads) };
        }
        self.backward_portable(cache, dlogits, grads)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx")]
    fn backward_avx(&self, cache: &mut Cache, dlogits: Vec<f64>, grads: &mut [Vec<f64>]) {
        self.backward_portable(cache, dlogits, grads)
    }

    #[inline(always)]
    fn backward_portable(&self, cache: &mut Cache, dlogits: Vec<f64>, grads: &mut [Vec<f64>]) {
        let rows = cache.rows;
        let layers = self.layer_count();
        // The gradient with respect to the current layer's output (`dz`) and
        // its input (`dx`) live in two buffers that swap roles per layer.
        let mut dz = dlogits;
        let mut dx = std::mem::take(&mut cache.gradient);
        let mut spare = std::mem::take(&mut cache.spare);
        let mut dz_is_dlogits = true;
        let mut wt = std::mem::take(&mut cache.transposed);
        for l in (0..layers).rev() {
            let (fan_in, fan_out) = (self.dims[l], self.dims[l + 1]);
            let slot = self.slots[l];
            let dzl = &dz[..rows * fan_out];
            accumulate_outer(
                &mut grads[slot.weight],
                fan_out,
                &cache.inputs[l],
                fan_in,
                dzl,
                rows,
            );
            let db = &mut grads[slot.bias][..fan_out];
            for row in dzl.chunks_exact(fan_out) {
                for (g, &dj) in db.iter_mut().zip(row) {
                    *g += dj;
                }
            }
            if l == 0 {
                break;
            }
            // Gradient with respect to this layer's input = previous layer's output:
            // dx[i][k] = sum_j dz[i][j] * w[k][j], summed over j in ascending order.
            // Written as a product with the transposed weights it adds the same
            // products in the same order (bit-identical) but vectorises.
            let w = &self.params[slot.weight];
            let wtl = sized(&mut wt, fan_out * fan_in);
            for (k, wk) in w.chunks_exact(fan_out).take(fan_in).enumerate() {
                for (j, &v) in wk.iter().enumerate() {
                    wtl[j * fan_in + k] = v;
                }
            }
            let dxl = sized(&mut dx, rows * fan_in);
            multiply_rows(dxl, fan_in, dzl, fan_out, wtl);
            let h = l - 1; // the hidden layer that produced `dx`'s activations
            if !cache.masks[h].is_empty() {
                for (v, m) in dxl.iter_mut().zip(&cache.masks[h]) {
                    *v *= m;
                }
            }
            scale_by_activation_grad(self.activation, dxl, cache.activations(h));
            if let Some((g, beta)) = self.slots[h].norm {
                self.batch_norm_backward(h, dxl, rows, g, beta, cache, grads);
            }
            // `dx` becomes the next layer's `dz`; the old `dz` buffer is
            // reused for the next `dx`, except the logits' gradient, which
            // is the caller's and too small: the spare buffer takes its place.
            let old = std::mem::replace(&mut dz, dx);
            dx = if dz_is_dlogits {
                dz_is_dlogits = false;
                std::mem::take(&mut spare)
            } else {
                old
            };
        }
        cache.gradient = dx;
        cache.spare = if dz_is_dlogits { spare } else { dz };
        cache.transposed = wt;
    }

    /// Batch norm's backward pass over `dy` (rows × units), in place: each
    /// element needs only itself and the column sums taken first.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn batch_norm_backward(
        &self,
        h: usize,
        dy: &mut [f64],
        rows: usize,
        g: usize,
        beta: usize,
        cache: &mut Cache,
        grads: &mut [Vec<f64>],
    ) {
        let n = self.dims[h + 1];
        let xhat = &cache.xhat[h][..rows * n];
        let inv_std = &cache.inv_std[h][..n];
        let gamma = &self.params[g][..n];
        let dgamma = sized(&mut cache.mean, n);
        dgamma.fill(0.0);
        let dbeta = sized(&mut cache.var, n);
        dbeta.fill(0.0);
        for (dyr, xr) in dy.chunks_exact(n).zip(xhat.chunks_exact(n)) {
            for j in 0..n {
                dgamma[j] += dyr[j] * xr[j];
                dbeta[j] += dyr[j];
            }
        }
        for j in 0..n {
            grads[g][j] += dgamma[j];
            grads[beta][j] += dbeta[j];
        }
        let batch_stats = cache.mode[h] == Mode::Train && rows > 1;
        let count = rows as f64;
        for (dzr, xr) in dy.chunks_exact_mut(n).zip(xhat.chunks_exact(n)) {
            let dzr = &mut dzr[..n];
            let xr = &xr[..n];
            if batch_stats {
                // The batch mean and variance depend on every row.
                for j in 0..n {
                    let dxhat = dzr[j] * gamma[j];
                    dzr[j] = inv_std[j] / count
                        * (count * dxhat - dbeta[j] * gamma[j] - xr[j] * dgamma[j] * gamma[j]);
                }
            } else {
                for j in 0..n {
                    dzr[j] = dzr[j] * gamma[j] * inv_std[j];
                }
            }
        }
    }

    /// Logits and every hidden layer's activations for `x`, in eval mode (no
    /// dropout); the model's mode is left as it was.
    pub fn eval_forward(&mut self, x: &[f64], rows: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
        let saved = self.mode;
        self.mode = Mode::Eval;
        let mut cache = Cache::default();
        let mut unused = SimRng::new(0, "unused");
        let logits = self.forward(x, rows, &mut unused, &mut cache);
        self.mode = saved;
        let layers = self.layer_count();
        let acts = (0..layers.saturating_sub(1))
            .map(|h| cache.activations(h).to_vec())
            .collect();
        (logits, acts)
    }
}

/// Dropout multipliers into `mask`: 0, or 1/keep with probability `keep`.
/// Each 64-bit draw decides four units (16 bits each): dropout needs no finer
/// probabilities, and a draw per unit was a sixth of a run's cost.
fn dropout_mask(rng: &mut SimRng, mask: &mut Vec<f64>, len: usize, keep: f64) {
    let threshold = (keep * 65536.0).round() as u64;
    let scale = 1.0 / keep;
    mask.clear();
    while mask.len() < len {
        let bits = rng.next_u64();
        for lane in 0..4 {
            if mask.len() == len {
                break;
            }
            let u = (bits >> (16 * lane)) & 0xffff;
            mask.push(if u < threshold { scale } else { 0.0 });
        }
    }
}

/// Batch norm's affine normalisation of every row of `z` (width `n`) in place;
/// the normalised values before the affine step go to the start of `xhat`
/// when `keep` is set.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn normalise(
    z: &mut [f64],
    n: usize,
    mean: &[f64],
    inv_std: &[f64],
    gamma: &[f64],
    shift: &[f64],
    xhat: &mut Vec<f64>,
    keep: bool,
) {
    let (mean, inv_std, gamma, shift) = (&mean[..n], &inv_std[..n], &gamma[..n], &shift[..n]);
    if keep {
        let xhat = sized(xhat, z.len());
        for (row, hrow) in z.chunks_exact_mut(n).zip(xhat.chunks_exact_mut(n)) {
            for j in 0..n {
                let h = (row[j] - mean[j]) * inv_std[j];
                hrow[j] = h;
                row[j] = gamma[j] * h + shift[j];
            }
        }
    } else {
        for row in z.chunks_exact_mut(n) {
            for j in 0..n {
                let h = (row[j] - mean[j]) * inv_std[j];
                row[j] = gamma[j] * h + shift[j];
            }
        }
    }
}

/// The activation of every element. The match sits outside the loops so each
/// loop is straight-line code that vectorises where its function allows.
#[inline(always)]
fn activate_all(activation: Activation, z: &mut [f64]) {
    #[inline(always)]
    fn each(z: &mut [f64], f: impl Fn(f64) -> f64) {
        for v in z {
            *v = f(*v);
        }
    }
    match activation {
        Activation::Relu => each(z, |v| activate(Activation::Relu, v)),
        Activation::LeakyRelu => each(z, |v| activate(Activation::LeakyRelu, v)),
        Activation::Tanh => each(z, |v| activate(Activation::Tanh, v)),
        Activation::Sigmoid => each(z, |v| activate(Activation::Sigmoid, v)),
    }
}

/// `dx[i] *= f'(a[i])` for every element, the match outside the loops.
#[inline(always)]
fn scale_by_activation_grad(activation: Activation, dx: &mut [f64], acts: &[f64]) {
    #[inline(always)]
    fn each(dx: &mut [f64], acts: &[f64], f: impl Fn(f64) -> f64) {
        for (v, &a) in dx.iter_mut().zip(acts) {
            *v *= f(a);
        }
    }
    match activation {
        Activation::Relu => each(dx, acts, |a| activation_grad(Activation::Relu, a)),
        Activation::LeakyRelu => each(dx, acts, |a| activation_grad(Activation::LeakyRelu, a)),
        Activation::Tanh => each(dx, acts, |a| activation_grad(Activation::Tanh, a)),
        Activation::Sigmoid => each(dx, acts, |a| activation_grad(Activation::Sigmoid, a)),
    }
}

/// max(0, v) as torch computes it: NaN stays NaN (a NaN input must reach the
/// loss, as it does in PyTorch), and both zeros give +0.0. Spelled out rather
/// than `v.max(0.0)`, which drops NaN and leaves the sign of zero open.
#[inline(always)]
pub fn relu(v: f64) -> f64 {
    if v > 0.0 || v.is_nan() { v } else { 0.0 }
}

fn activate(activation: Activation, v: f64) -> f64 {
    match activation {
        Activation::Relu => relu(v),
        Activation::LeakyRelu => {
            if v > 0.0 {
                v
            } else {
                LEAKY_SLOPE * v
            }
        }
        Activation::Tanh => libm::tanh(v),
        Activation::Sigmoid => 1.0 / (1.0 + libm::exp(-v)),
    }
}

/// Derivative expressed through the activation's output `a`.
#[inline(always)]
fn activation_grad(activation: Activation, a: f64) -> f64 {
    match activation {
        Activation::Relu => {
            if a > 0.0 {
                1.0
            } else {
                0.0
            }
        }
        Activation::LeakyRelu => {
            if a > 0.0 {
                1.0
            } else {
                LEAKY_SLOPE
            }
        }
        Activation::Tanh => 1.0 - a * a,
        Activation::Sigmoid => a * (1.0 - a),
    }
}

/// Mean cross-entropy of `logits` against `labels` and its gradient with respect
/// to the logits. Non-finite logits give a non-finite loss, as they would in torch.
pub fn cross_entropy(logits: &[f64], labels: &[usize], classes: usize) -> (f64, Vec<f64>) {
    let rows = labels.len();
    let mut grad = Vec::with_capacity(logits.len());
    let mut total = 0.0;
    for (i, &y) in labels.iter().enumerate() {
        let row = &logits[i * classes..(i + 1) * classes];
        let log_sum = log_sum_exp(row);
        total += log_sum - row.get(y).copied().unwrap_or(f64::NAN);
        for (j, &v) in row.iter().enumerate() {
            let p = libm::exp(v - log_sum);
            let target = if j == y { 1.0 } else { 0.0 };
            grad.push((p - target) / rows as f64);
        }
    }
    (total / rows.max(1) as f64, grad)
}

/// The loss of `cross_entropy` alone, to the bit, without the gradient's
/// exponentials (validation needs only the loss).
pub fn cross_entropy_loss(logits: &[f64], labels: &[usize], classes: usize) -> f64 {
    let rows = labels.len();
    let mut total = 0.0;
    for (i, &y) in labels.iter().enumerate() {
        let row = &logits[i * classes..(i + 1) * classes];
        total += log_sum_exp(row) - row.get(y).copied().unwrap_or(f64::NAN);
    }
    total / rows.max(1) as f64
}

/// `ln(sum(exp(row)))`, computed around the row's largest value.
#[inline(always)]
fn log_sum_exp(row: &[f64]) -> f64 {
    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for &v in row {
        sum += libm::exp(v - max);
    }
    max + libm::log(sum)
}

/// Cross-entropy with per-class weights, as `CrossEntropyLoss(weight=w)`
/// with its default mean reduction: each row's loss is scaled by its class's
/// weight and the sum is divided by the sum of the rows' weights (not by the
/// row count). A class missing from `weights` weighs 0.
pub fn weighted_cross_entropy(
    logits: &[f64],
    labels: &[usize],
    classes: usize,
    weights: &[f64],
) -> (f64, Vec<f64>) {
    let weight = |y: usize| weights.get(y).copied().unwrap_or(0.0);
    let norm: f64 = labels.iter().map(|&y| weight(y)).sum();
    let mut grad = Vec::with_capacity(logits.len());
    let mut total = 0.0;
    for (i, &y) in labels.iter().enumerate() {
        let row = &logits[i * classes..(i + 1) * classes];
        let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut sum = 0.0;
        for &v in row {
            sum += libm::exp(v - max);
        }
        let log_sum = max + libm::log(sum);
        let w = weight(y);
        total += w * (log_sum - row.get(y).copied().unwrap_or(f64::NAN));
        for (j, &v) in row.iter().enumerate() {
            let p = libm::exp(v - log_sum);
            let target = if j == y { 1.0 } else { 0.0 };
            grad.push(w * (p - target) / norm);
        }
    }
    // PyTorch returns NaN (0/0) for a batch whose rows all weigh nothing.
    (total / norm, grad)
}

/// Index of the largest logit per row (first on ties; NaN never wins).
pub fn argmax_rows(logits: &[f64], classes: usize) -> Vec<usize> {
    logits
        .chunks(classes)
        .map(|row| {
            let mut best = 0;
            for (j, &v) in row.iter().enumerate() {
                if v > row[best] {
                    best = j;
                }
            }
            best
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_model(batch_norm: bool, activation: Activation) -> (Mlp, SimRng) {
        let mut rng = SimRng::new(1, "init");
        let config = TrainConfig {
            hidden_dim: 5,
            num_layers: 3,
            batch_norm,
            activation,
            ..TrainConfig::default()
        };
        (Mlp::new(4, 3, &config, &mut rng), rng)
    }

    fn loss_of(model: &mut Mlp, x: &[f64], y: &[usize]) -> f64 {
        let mut rng = SimRng::new(0, "d");
        let mut cache = Cache::default();
        let logits = model.forward(x, y.len(), &mut rng, &mut cache);
        cross_entropy(&logits, y, 3).0
    }

    /// The hand-written backward pass must agree with finite differences, for
    /// every activation, with and without batch norm.
    #[test]
    #[allow(clippy::needless_range_loop)] // perturbs params[p][i] in place while reading grads[p][i]
    fn gradients_match_finite_differences() {
        for bn in [false, true] {
            for act in [
                Activation::Relu,
                Activation::LeakyRelu,
                Activation::Tanh,
                Activation::Sigmoid,
            ] {
                let (mut model, mut rng) = tiny_model(bn, act);
                // Zero biases can put a pre-activation exactly on relu's kink,
                // where finite differences see half a slope: jitter every parameter.
                for v in model.params.iter_mut().flatten() {
                    *v += 0.05 * rng.normal();
                }
                let x: Vec<f64> = (0..6 * 4).map(|_| rng.normal()).collect();
                let y = vec![0, 1, 2, 0, 1, 2];
                let mut cache = Cache::default();
                let logits = model.forward(&x, 6, &mut rng, &mut cache);
                let (_, dlogits) = cross_entropy(&logits, &y, 3);
                let mut grads = model.zeros_like();
                model.backward(&mut cache, dlogits, &mut grads);
                for p in 0..model.params.len() {
                    for i in 0..model.params[p].len() {
                        let orig = model.params[p][i];
                        let h = 1e-6;
                        model.params[p][i] = orig + h;
                        let up = loss_of(&mut model.clone(), &x, &y);
                        model.params[p][i] = orig - h;
                        let down = loss_of(&mut model.clone(), &x, &y);
                        model.params[p][i] = orig;
                        let numeric = (up - down) / (2.0 * h);
                        let analytic = grads[p][i];
                        assert!(
                            (numeric - analytic).abs() < 1e-5 * (1.0 + numeric.abs()),
                            "bn={bn} {act:?} param {p}[{i}]: numeric {numeric} analytic {analytic}"
                        );
                    }
                }
            }
        }
    }

    /// Replays must agree across machines: the AVX build and the portable build
    /// produce the same bits, forward and backward.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx_and_portable_builds_agree_to_the_bit() {
        if !std::is_x86_feature_detected!("avx") {
            return;
        }
        for bn in [false, true] {
            let (mut model, mut rng) = tiny_model(bn, Activation::Tanh);
            let x: Vec<f64> = (0..32 * 4).map(|_| rng.normal() * 3.0).collect();
            let y: Vec<usize> = (0..32).map(|i| i % 3).collect();
            let (mut a, mut b) = (model.clone(), model.clone());
            let (mut ca, mut cb) = (Cache::default(), Cache::default());
            let la = a.forward_portable(&x, 32, &mut SimRng::new(1, "d"), &mut ca);
            // SAFETY: AVX is present (checked above).
            let lb = unsafe { b.forward_avx(&x, 32, &mut SimRng::new(1, "d"), &mut cb) };
            assert_eq!(
                la.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                lb.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
            let (_, d) = cross_entropy(&la, &y, 3);
            let (mut ga, mut gb) = (model.zeros_like(), model.zeros_like());
            a.backward_portable(&mut ca, d.clone(), &mut ga);
            // SAFETY: as above.
            unsafe { b.backward_avx(&mut cb, d, &mut gb) };
            let bits = |g: &[Vec<f64>]| g.iter().flatten().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&ga), bits(&gb));
            model.mode = Mode::Eval;
        }
    }

    #[test]
    fn eval_mode_is_deterministic_and_skips_dropout() {
        let mut rng = SimRng::new(1, "init");
        let config = TrainConfig {
            dropout_rate: 0.5,
            hidden_dim: 8,
            ..TrainConfig::default()
        };
        let mut model = Mlp::new(4, 3, &config, &mut rng);
        let x: Vec<f64> = (0..4 * 4).map(|_| rng.normal()).collect();
        let mut cache = Cache::default();
        model.mode = Mode::Eval;
        let a = model.forward(&x, 4, &mut rng, &mut cache);
        let b = model.forward(&x, 4, &mut rng, &mut cache);
        assert_eq!(a, b);
        model.mode = Mode::Train;
        let c = model.forward(&x, 4, &mut rng, &mut cache);
        assert_ne!(a, c, "dropout must act in train mode");
    }

    #[test]
    fn cross_entropy_of_uniform_logits_is_ln_classes() {
        let (loss, grad) = cross_entropy(&[0.0; 8], &[0, 1], 4);
        assert!((loss - libm::log(4.0)).abs() < 1e-12);
        assert!((grad.iter().sum::<f64>()).abs() < 1e-12);
        let (nan_loss, _) = cross_entropy(&[f64::INFINITY, 0.0], &[0], 2);
        assert!(!nan_loss.is_finite());
    }

    #[test]
    fn modes_name_every_module() {
        let (model, _) = tiny_model(true, Activation::Relu);
        let names: Vec<String> = model
            .module_modes(Mode::Eval)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["model", "fc1", "bn1", "fc2", "bn2", "fc3"]);
    }
}
