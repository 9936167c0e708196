use trainwreck::sim::config::*;
use trainwreck::sim::data::*;
use trainwreck::sim::*;

fn show(name: &str, spec: &RunSpec) {
    let t0 = std::time::Instant::now();
    let trace = run(spec, &mut Unobserved);
    let dt = t0.elapsed();
    println!(
        "== {name} ({:.2} ms) outcome {:?}",
        dt.as_secs_f64() * 1e3,
        trace.outcome
    );
    for e in &trace.epochs {
        print!(
            "{}:{:.3}/{:.3}/{:.2} ",
            e.epoch, e.train_loss, e.val_loss, e.val_accuracy
        );
    }
    println!();
    for g in &trace.gradient_stats {
        print!(
            "{} mean {:.2e} max {:.2e} | ",
            g.layer_name, g.mean_norm, g.max_norm
        );
    }
    println!();
    let ds = &trace.data_stats;
    println!(
        "dup {:.2} overlap {:.2} modes {:?}",
        ds.duplicate_ratio,
        ds.class_overlap_score,
        trace.modes.first()
    );
}

fn base() -> RunSpec {
    RunSpec {
        data: DataSpec {
            train_samples: 256,
            val_samples: 128,
            features: 10,
            informative: 6,
            classes: 4,
            class_separation: 1.0,
            feature_scale: 1.0,
            feature_offset: 0.0,
            faults: DataFaults::default(),
        },
        patches: vec![],
        config: TrainConfig::default(),
        program: Program::standard(),
        seed: 42,
    }
}

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_default();
    let seed: u64 = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(42);
    let mut s = base();
    s.seed = seed;
    match arg.as_str() {
        "lr" => {
            s.data.feature_scale = std::env::var("SCALE")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(4.0);
            for lr in [0.05, 0.1, 0.2, 0.3, 0.001, 0.01] {
                s.config.learning_rate = lr;
                show(&format!("lr {lr}"), &s);
            }
        }
        "vanish2" => {
            s.config.activation = Activation::Sigmoid;
            s.config.weight_init = WeightInit::Tiny;
            s.config.optimizer = OptimizerKind::Adam;
            s.config.learning_rate = 0.001;
            show("sig tiny adam1e-3", &s);
            let mut t = s.clone();
            t.config.weight_init = WeightInit::Xavier;
            show("-> xavier", &t);
            let mut t = s.clone();
            t.config.weight_init = WeightInit::Kaiming;
            show("-> kaiming", &t);
            let mut t = s.clone();
            t.config.activation = Activation::Relu;
            show("-> relu", &t);
            let mut t = s.clone();
            t.config.callbacks = vec![Callback::LrWarmup];
            show("-> warmup", &t);
            let mut t = s.clone();
            t.config.learning_rate = 0.01;
            show("-> lr 0.01", &t);
        }
        "vanish3" => {
            s.config.activation = Activation::Sigmoid;
            s.config.weight_init = WeightInit::Tiny;
            s.config.learning_rate = 0.1;
            show("sig tiny sgd0.1", &s);
            let mut t = s.clone();
            t.config.weight_init = WeightInit::Xavier;
            show("-> xavier", &t);
            let mut t = s.clone();
            t.config.weight_init = WeightInit::Kaiming;
            show("-> kaiming", &t);
            let mut t = s.clone();
            t.config.activation = Activation::Relu;
            show("-> relu", &t);
            let mut t = s.clone();
            t.config.batch_norm = true;
            show("-> bn", &t);
        }
        "vanish" => {
            s.config.activation = Activation::Sigmoid;
            s.config.weight_init = WeightInit::Tiny;
            s.config.learning_rate = 0.01;
            show("sigmoid tiny", &s);
            s.config.weight_init = WeightInit::Xavier;
            show("sigmoid xavier", &s);
            s.config.weight_init = WeightInit::Tiny;
            s.config.activation = Activation::Relu;
            show("relu tiny", &s);
            s.config.weight_init = WeightInit::Kaiming;
            show("relu kaiming", &s);
            s.config.activation = Activation::Sigmoid;
            s.config.weight_init = WeightInit::Tiny;
            s.config.optimizer = OptimizerKind::Adam;
            s.config.learning_rate = 0.001;
            show("sigmoid tiny adam", &s);
            s.config.optimizer = OptimizerKind::Sgd;
            s.config.learning_rate = 0.01;
            s.config.callbacks = vec![Callback::LrWarmup];
            show("sigmoid tiny warmup", &s);
        }
        "leak" => {
            s.data.class_separation = 0.6;
            s.config.optimizer = OptimizerKind::Adam;
            s.config.learning_rate = 0.01;
            s.data.train_samples = 128;
            show("honest", &s);
            for p in [0.2, 0.4] {
                s.data.faults.leakage = p;
                show(&format!("leak {p}"), &s);
            }
        }
        "overfit" => {
            s.data.train_samples = 64;
            s.data.features = 20;
            s.data.informative = 4;
            s.data.class_separation = 1.0;
            s.data.faults.label_noise = 0.1;
            s.config.optimizer = OptimizerKind::Adam;
            s.config.learning_rate = 0.01;
            s.config.hidden_dim = 32;
            s.config.batch_size = 16;
            show("overfit", &s);
            let mut t = s.clone();
            t.config.weight_decay = 0.05;
            show("wd", &t);
            let mut t = s.clone();
            t.config.dropout_rate = 0.5;
            show("dropout", &t);
            let mut t = s.clone();
            t.config.callbacks = vec![Callback::EarlyStopping];
            show("es", &t);
            let mut t = s.clone();
            t.config.augmentation_noise = 1.0;
            show("aug", &t);
        }
        "eval" => {
            s.data.feature_scale = 8.0;
            s.data.feature_offset = 5.0;
            s.config.batch_norm = true;
            s.config.learning_rate = 0.05;
            s.config.dropout_rate = 0.2;
            show("train mode", &s);
            let mut t = s.clone();
            t.program
                .replace_line(12, "# evaluate() puts the model back in train mode")
                .unwrap();
            show("no train() (epoch1 train)", &t);
            t.program.replace_line(10, "model.eval()").unwrap();
            show("eval from start", &t);
            let mut t = s.clone();
            t.program.replace_line(12, "model.eval()").unwrap();
            show("eval in loop", &t);
            let mut t = s.clone();
            t.data.faults.glitch_epoch = 7;
            t.data.faults.glitch_scale = 6.0;
            show("glitch", &t);
        }
        "bugs" => {
            show("clean", &s);
            for (line, text) in [
                (14, "optimizer.zero_grad"),
                (16, "loss = criterion(output.detach(), y)"),
                (12, "model.eval()"),
                (15, "output = torch.relu(model(x))"),
            ] {
                let mut t = s.clone();
                t.program.replace_line(line, text).unwrap();
                show(text, &t);
            }
        }
        "grid" => grid(),
        "evalgrid2" => evalgrid2(),
        "evalgrid" => evalgrid(),
        "grid2" => grid2(),
        "traj" => {
            let a: Vec<f64> = std::env::args()
                .skip(2)
                .map(|x| x.parse().unwrap())
                .collect();
            traj(
                a[0],
                a[1],
                a[2],
                a[3],
                if a[4] > 0.0 {
                    Activation::Tanh
                } else {
                    Activation::Relu
                },
                a[5] as usize,
            );
        }
        _ => {}
    }
}

#[allow(dead_code)]
pub fn grid() {
    for act in [Activation::Relu, Activation::Tanh] {
        for (scale, offset) in [(10.0, 0.0), (10.0, 20.0), (30.0, 0.0), (30.0, 50.0)] {
            for mom in [0.0, 0.9] {
                let mut out = String::new();
                for lr in [0.05, 0.1, 0.3, 0.001, 0.0005] {
                    let mut s = base();
                    s.data.feature_scale = scale;
                    s.data.feature_offset = offset;
                    s.config.activation = act;
                    s.config.momentum = mom;
                    s.config.learning_rate = lr;
                    let mut diverged = 0;
                    let mut acc = 0.0;
                    let mut minmean = f64::INFINITY;
                    for seed in 0..5 {
                        s.seed = seed;
                        let t = run(&s, &mut Unobserved);
                        if t.diverged() {
                            diverged += 1;
                        }
                        acc += t
                            .epochs
                            .iter()
                            .rev()
                            .find(|e| e.val_accuracy.is_finite())
                            .map_or(0.0, |e| e.val_accuracy)
                            / 5.0;
                        let m = t
                            .gradient_stats
                            .iter()
                            .map(|g| g.mean_norm)
                            .fold(f64::INFINITY, f64::min);
                        minmean = minmean.min(m);
                    }
                    out += &format!(" lr{lr}: div{diverged}/5 acc{acc:.2} minnorm{minmean:.1e} |");
                }
                println!("{act:?} sc{scale} off{offset} mom{mom}:{out}");
            }
        }
    }
}

#[allow(dead_code)]
pub fn traj(scale: f64, offset: f64, lr: f64, mom: f64, act: Activation, bs: usize) {
    let mut s = base();
    s.data.feature_scale = scale;
    s.data.feature_offset = offset;
    s.config.activation = act;
    s.config.momentum = mom;
    s.config.learning_rate = lr;
    s.config.batch_size = bs;
    for seed in 0..3 {
        s.seed = seed;
        let t = run(&s, &mut Unobserved);
        let l: Vec<String> = t
            .epochs
            .iter()
            .map(|e| format!("{:.1e}", e.train_loss))
            .collect();
        println!(
            "sc{scale} off{offset} lr{lr} mom{mom} {act:?} bs{bs} seed{seed}: {:?} {}",
            t.outcome,
            l.join(" ")
        );
        let g: Vec<String> = t
            .gradient_stats
            .iter()
            .map(|g| format!("{:.1e}", g.mean_norm))
            .collect();
        println!("   grads {}", g.join(" "));
    }
}

#[allow(dead_code)]
pub fn grid2() {
    for (scale, offset) in [(5.0, 5.0), (10.0, 10.0), (20.0, 20.0)] {
        for (act, mom) in [(Activation::LeakyRelu, 0.9), (Activation::LeakyRelu, 0.5)] {
            let mut out = String::new();
            for lr in [0.05, 0.1, 0.3, 0.001, 0.0005] {
                let mut s = base();
                s.data.feature_scale = scale;
                s.data.feature_offset = offset;
                s.config.activation = act;
                s.config.momentum = mom;
                s.config.learning_rate = lr;
                let (mut div, mut acc, mut ep) = (0, 0.0, 0);
                for seed in 0..6 {
                    s.seed = seed;
                    let t = run(&s, &mut Unobserved);
                    if let Outcome::Failed { epoch, .. } = t.outcome {
                        div += 1;
                        ep = ep.max(epoch);
                    }
                    acc += t.epochs.last().map_or(0.0, |e| {
                        if e.val_accuracy.is_finite() {
                            e.val_accuracy
                        } else {
                            0.0
                        }
                    }) / 6.0;
                }
                out += &format!(" lr{lr}: div{div}/6 (max ep {ep}) acc{acc:.2} |");
            }
            println!("sc{scale} off{offset} {act:?} mom{mom}:{out}");
        }
    }
}

#[allow(dead_code)]
pub fn evalgrid() {
    for (scale, offset) in [(1.0, 3.0), (1.0, 6.0), (2.0, 4.0), (1.0, 10.0)] {
        for lr in [0.01, 0.03] {
            let mut out = String::new();
            for eval in [false, true] {
                let mut s = base();
                s.data.feature_scale = scale;
                s.data.feature_offset = offset;
                s.config.batch_norm = true;
                s.config.dropout_rate = 0.2;
                s.config.learning_rate = lr;
                s.data.faults.glitch_epoch = 8;
                s.data.faults.glitch_scale = 25.0;
                if eval {
                    s.program.replace_line(10, "model.eval()").unwrap();
                    s.program
                        .replace_line(12, "# evaluate() puts the model back in train mode")
                        .unwrap();
                }
                let (mut div, mut acc, mut vl, mut maxg, mut spike) = (0, 0.0, 0.0, 0.0f64, 0.0f64);
                for seed in 0..5 {
                    s.seed = seed;
                    let t = run(&s, &mut Unobserved);
                    if t.diverged() {
                        div += 1;
                    }
                    let best = t.epochs.iter().map(|e| e.val_accuracy).fold(0.0, f64::max);
                    acc += best / 5.0;
                    vl += t
                        .epochs
                        .iter()
                        .map(|e| e.val_loss)
                        .fold(f64::INFINITY, f64::min)
                        / 5.0;
                    for g in &t.gradient_stats {
                        maxg = maxg.max(g.mean_norm);
                    }
                    let g1 = &t.gradient_stats[0];
                    spike = spike.max(g1.max_norm / g1.mean_norm);
                }
                out += &format!(
                    " eval={eval}: div{div} bestacc{acc:.2} bestvl{vl:.2} maxmean{maxg:.1} fc1spike{spike:.1} |"
                );
            }
            println!("sc{scale} off{offset} lr{lr}:{out}");
        }
    }
}

#[allow(dead_code)]
pub fn evalgrid2() {
    for (scale, offset, sep) in [
        (2.0, 4.0, 0.6),
        (1.0, 10.0, 0.6),
        (2.0, 10.0, 0.8),
        (1.0, 20.0, 0.8),
    ] {
        for (opt, lr) in [
            (OptimizerKind::Adam, 0.003),
            (OptimizerKind::Adam, 0.01),
            (OptimizerKind::Sgd, 0.03),
        ] {
            let mut out = String::new();
            for eval in [false, true] {
                let mut s = base();
                s.data.feature_scale = scale;
                s.data.feature_offset = offset;
                s.data.class_separation = sep;
                s.config.batch_norm = true;
                s.config.dropout_rate = 0.2;
                s.config.learning_rate = lr;
                s.config.optimizer = opt;
                s.data.faults.glitch_epoch = 8;
                s.data.faults.glitch_scale = 6.0;
                if eval {
                    s.program.replace_line(10, "model.eval()").unwrap();
                    s.program.replace_line(12, "# x").unwrap();
                }
                let (mut div, mut worst, mut acc, mut maxg) = (0, 1.0f64, 0.0, 0.0f64);
                let mut accs = vec![];
                for seed in 0..10 {
                    s.seed = seed;
                    let t = run(&s, &mut Unobserved);
                    if t.diverged() {
                        div += 1;
                    }
                    let a = t.final_metrics.val_accuracy;
                    let a = if a.is_finite() { a } else { 0.0 };
                    acc += a / 10.0;
                    worst = worst.min(a);
                    accs.push(a);
                    for g in &t.gradient_stats {
                        maxg = maxg.max(if g.mean_norm.is_finite() {
                            g.mean_norm
                        } else {
                            1e9
                        });
                    }
                }
                out += &format!(
                    " eval={eval}: div{div} acc{acc:.2} worst{worst:.2} maxmean{maxg:.1} |"
                );
            }
            println!("sc{scale} off{offset} sep{sep} {opt:?} lr{lr}:{out}");
        }
    }
}
