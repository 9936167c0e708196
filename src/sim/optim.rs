//! Optimisers as torch implements them: SGD with momentum and Adam, both with
//! L2 weight decay folded into the gradient, plus gradient clipping by global norm.

use super::config::OptimizerKind;

const ADAM_BETA1: f64 = 0.9;
const ADAM_BETA2: f64 = 0.999;
const ADAM_EPS: f64 = 1e-8;

#[derive(Debug, Clone)]
pub struct Optimizer {
    kind: OptimizerKind,
    momentum: f64,
    weight_decay: f64,
    /// Momentum buffer (SGD) or first moment (Adam).
    first: Vec<Vec<f64>>,
    /// Second moment (Adam only).
    second: Vec<Vec<f64>>,
    steps: u32,
}

impl Optimizer {
    pub fn new(kind: OptimizerKind, momentum: f64, weight_decay: f64, shapes: &[Vec<f64>]) -> Self {
        let zeros: Vec<Vec<f64>> = shapes.iter().map(|p| vec![0.0; p.len()]).collect();
        Optimizer {
            kind,
            momentum,
            weight_decay,
            second: if kind == OptimizerKind::Adam {
                zeros.clone()
            } else {
                Vec::new()
            },
            first: zeros,
            steps: 0,
        }
    }

    /// One `optimizer.step()` with learning rate `lr`.
    pub fn step(&mut self, params: &mut [Vec<f64>], grads: &[Vec<f64>], lr: f64) {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU has AVX (checked just above).
            return unsafe { self.step_avx(params, grads, lr) };
        }
        self.step_portable(params, grads, lr)
    }

    /// The same code compiled for wider vectors: element-wise IEEE arithmetic
    /// (no FMA), so bit-identical to the portable build.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx")]
    fn step_avx(&mut self, params: &mut [Vec<f64>], grads: &[Vec<f64>], lr: f64) {
        self.step_portable(params, grads, lr)
    }

    #[inline(always)]
    fn step_portable(&mut self, params: &mut [Vec<f64>], grads: &[Vec<f64>], lr: f64) {
        self.steps += 1;
        let t = f64::from(self.steps);
        // Adam's bias corrections are the same for every tensor: once per step.
        let (correction1, correction2) = if self.kind == OptimizerKind::Adam {
            (
                1.0 - libm::pow(ADAM_BETA1, t),
                1.0 - libm::pow(ADAM_BETA2, t),
            )
        } else {
            (1.0, 1.0)
        };
        let wd = self.weight_decay;
        for (p, (param, grad)) in params.iter_mut().zip(grads).enumerate() {
            match self.kind {
                OptimizerKind::Sgd => {
                    let buf = &mut self.first[p];
                    for ((w, &g), b) in param.iter_mut().zip(grad).zip(buf.iter_mut()) {
                        let g = g + wd * *w;
                        *b = self.momentum * *b + g;
                        *w -= lr * *b;
                    }
                }
                OptimizerKind::Adam => {
                    // Equal lengths and plain indexing let the loop vectorise.
                    let n = param.len().min(grad.len());
                    let (w, grad) = (&mut param[..n], &grad[..n]);
                    let m = &mut self.first[p][..n];
                    let v = &mut self.second[p][..n];
                    for i in 0..n {
                        let g = grad[i] + wd * w[i];
                        let mi = ADAM_BETA1 * m[i] + (1.0 - ADAM_BETA1) * g;
                        let vi = ADAM_BETA2 * v[i] + (1.0 - ADAM_BETA2) * g * g;
                        m[i] = mi;
                        v[i] = vi;
                        let m_hat = mi / correction1;
                        let v_hat = vi / correction2;
                        // IEEE square root is correctly rounded: the same bits as
                        // libm's, and it vectorises.
                        w[i] -= lr * m_hat / (v_hat.sqrt() + ADAM_EPS);
                    }
                }
            }
        }
    }
}

/// L2 norm of all gradients together.
pub fn global_norm(grads: &[Vec<f64>]) -> f64 {
    let mut sum = 0.0;
    for g in grads {
        for v in g {
            sum += v * v;
        }
    }
    libm::sqrt(sum)
}

/// `global_norm`, and in the same pass each tensor's sum of squares (as
/// `Iterator::sum` adds them) into `sums`: the two running sums are
/// independent, so the processor overlaps them.
pub fn global_norm_and_sums(grads: &[Vec<f64>], sums: &mut Vec<f64>) -> f64 {
    sums.clear();
    let mut total = 0.0;
    for g in grads {
        let mut own = -0.0;
        for v in g {
            let square = v * v;
            total += square;
            own += square;
        }
        sums.push(own);
    }
    libm::sqrt(total)
}

/// Scale gradients so their global norm is at most `max_norm`, as
/// `torch.nn.utils.clip_grad_norm_` does. Returns the norm before clipping.
pub fn clip_global_norm(grads: &mut [Vec<f64>], max_norm: f64) -> f64 {
    let norm = global_norm(grads);
    if norm.is_finite() && norm > max_norm {
        let scale = max_norm / (norm + 1e-6);
        for g in grads.iter_mut() {
            g.iter_mut().for_each(|v| *v *= scale);
        }
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sgd_without_momentum_is_plain_descent() {
        let mut params = vec![vec![1.0, -2.0]];
        let mut opt = Optimizer::new(OptimizerKind::Sgd, 0.0, 0.0, &params);
        opt.step(&mut params, &[vec![0.5, -1.0]], 0.1);
        assert_eq!(params, vec![vec![0.95, -1.9]]);
    }

    #[test]
    fn adam_first_step_moves_by_lr_in_sign_direction() {
        let mut params = vec![vec![0.0, 0.0]];
        let mut opt = Optimizer::new(OptimizerKind::Adam, 0.0, 0.0, &params);
        opt.step(&mut params, &[vec![3.0, -0.001]], 0.01);
        assert!((params[0][0] + 0.01).abs() < 1e-6);
        assert!((params[0][1] - 0.01).abs() < 1e-4);
    }

    #[test]
    fn weight_decay_shrinks_weights_with_zero_gradient() {
        let mut params = vec![vec![2.0]];
        let mut opt = Optimizer::new(OptimizerKind::Sgd, 0.0, 0.1, &params);
        opt.step(&mut params, &[vec![0.0]], 1.0);
        assert!((params[0][0] - 1.8).abs() < 1e-12);
    }

    #[test]
    fn one_pass_norms_equal_the_separate_ones_to_the_bit() {
        let grads = vec![vec![0.1, -3.0, 1e-9], vec![], vec![2.5, f64::MIN_POSITIVE]];
        let mut sums = Vec::new();
        let norm = global_norm_and_sums(&grads, &mut sums);
        assert_eq!(norm.to_bits(), global_norm(&grads).to_bits());
        for (g, s) in grads.iter().zip(&sums) {
            assert_eq!(s.to_bits(), g.iter().map(|v| v * v).sum::<f64>().to_bits());
        }
    }

    #[test]
    fn clipping_bounds_the_global_norm() {
        let mut grads = vec![vec![3.0], vec![4.0]];
        assert_eq!(clip_global_norm(&mut grads, 1.0), 5.0);
        assert!((global_norm(&grads) - 1.0).abs() < 1e-5);
        let mut small = vec![vec![0.3]];
        clip_global_norm(&mut small, 1.0);
        assert_eq!(small, vec![vec![0.3]]);
    }
}
