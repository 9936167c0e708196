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
                    let (m, v) = (&mut self.first[p], &mut self.second[p]);
                    for (((w, &g), m), v) in param
                        .iter_mut()
                        .zip(grad)
                        .zip(m.iter_mut())
                        .zip(v.iter_mut())
                    {
                        let g = g + wd * *w;
                        *m = ADAM_BETA1 * *m + (1.0 - ADAM_BETA1) * g;
                        *v = ADAM_BETA2 * *v + (1.0 - ADAM_BETA2) * g * g;
                        let m_hat = *m / correction1;
                        let v_hat = *v / correction2;
                        *w -= lr * m_hat / (libm::sqrt(v_hat) + ADAM_EPS);
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
    fn clipping_bounds_the_global_norm() {
        let mut grads = vec![vec![3.0], vec![4.0]];
        assert_eq!(clip_global_norm(&mut grads, 1.0), 5.0);
        assert!((global_norm(&grads) - 1.0).abs() < 1e-5);
        let mut small = vec![vec![0.3]];
        clip_global_norm(&mut small, 1.0);
        assert_eq!(small, vec![vec![0.3]]);
    }
}
