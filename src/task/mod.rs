//! Tasks: loading TOML/JSON task files, checking them against the engine's
//! vocabulary and ranges, and turning a task plus a seed into the concrete
//! training setup of one episode. Built-in tasks are embedded in the binary.

pub mod catalogue;
pub mod limits;
mod locate;
pub mod memo;
pub mod scenario;
pub mod schema;

use crate::sim::{DataPatch, DataSpec, TrainConfig};
use crate::vocab;
pub use scenario::Scenario;
use scenario::resolve;
pub use schema::{
    ActionRule, Debrief, Difficulty, Dressing, Edit, Pool, Recovery, Rubric, Sign, Span, TaskFile,
    Variant, WalkStep,
};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

// The built-in tasks: every file under `tasks/` (see build.rs).
include!(concat!(env!("OUT_DIR"), "/builtin_tasks.rs"));

/// A located problem in a task file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TaskError {
    #[error("{file}:{line}:{column}: {field}: {message}")]
    Invalid {
        file: String,
        line: usize,
        column: usize,
        field: String,
        message: String,
    },
    #[error("{file}: cannot read: {message}")]
    Read { file: String, message: String },
    #[error("{file}: unsupported extension (task files end in .toml or .json)")]
    Extension { file: String },
    #[error("task id '{id}' is defined twice: {first} and {second}")]
    Duplicate {
        id: String,
        first: String,
        second: String,
    },
}

/// One step of a path into a task file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl From<&str> for Seg {
    fn from(s: &str) -> Self {
        Seg::Key(s.to_string())
    }
}

impl From<usize> for Seg {
    fn from(i: usize) -> Self {
        Seg::Index(i)
    }
}

/// A field path such as `variants[2].config.learning_rate`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    fn with(&self, seg: impl Into<Seg>) -> FieldPath {
        let mut next = self.clone();
        next.0.push(seg.into());
        next
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        if self.0.is_empty() {
            write!(f, "(file)")?;
        }
        Ok(())
    }
}

/// A problem found after parsing, before it is located in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub path: FieldPath,
    pub message: String,
}

/// A checked task, ready to play.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub file: TaskFile,
    /// Where it came from: `builtin:task_001.toml` or a path.
    pub origin: String,
    /// sha256 of the file's bytes, hex.
    pub hash: String,
    /// Its healthy reference runs, per seed.
    pub references: memo::ReferenceMemo,
    /// For a mystery episode's disguised task: the task it really is.
    pub unmasked: Option<catalogue::Unmasked>,
}

impl Task {
    pub fn id(&self) -> &str {
        &self.file.id
    }

    /// Which variant a seed plays: a ChaCha draw, so consecutive seeds mix.
    pub fn variant_for_seed(&self, seed: u64) -> usize {
        let n = self.file.variants.len();
        if n == 0 {
            return 0;
        }
        crate::sim::rng::SimRng::new(seed, "variant").below(n)
    }

    /// Variant `index` (0 when the task has none) with no seed's draws: the
    /// first value of every pool.
    pub fn scenario(&self, index: usize) -> Result<Scenario, Vec<Problem>> {
        resolve(&self.file, index, None)
    }

    /// The seed's variant with the seed's draws: what an episode plays.
    pub fn scenario_for_seed(&self, seed: u64) -> Result<Scenario, Vec<Problem>> {
        resolve(&self.file, self.variant_for_seed(seed), Some(seed))
    }
}

pub(crate) fn problem(path: FieldPath, message: impl Into<String>) -> Problem {
    Problem {
        path,
        message: message.into(),
    }
}

fn check_range(
    problems: &mut Vec<Problem>,
    at: &FieldPath,
    name: &str,
    value: f64,
    lo: f64,
    hi: f64,
) {
    if !(value.is_finite() && (lo..=hi).contains(&value)) {
        problems.push(problem(
            at.with(name),
            format!("must be in [{lo}, {hi}], got {value}"),
        ));
    }
}

/// Ranges that bound the cost of a run (see docs/TASKS.md).
pub(crate) fn check_data(data: &DataSpec, at: &FieldPath) -> Vec<Problem> {
    let mut p = Vec::new();
    check_range(
        &mut p,
        at,
        "train_samples",
        data.train_samples as f64,
        8.0,
        2000.0,
    );
    check_range(
        &mut p,
        at,
        "val_samples",
        data.val_samples as f64,
        4.0,
        1000.0,
    );
    check_range(&mut p, at, "features", data.features as f64, 1.0, 64.0);
    check_range(
        &mut p,
        at,
        "informative",
        data.informative as f64,
        0.0,
        data.features as f64,
    );
    check_range(&mut p, at, "classes", data.classes as f64, 2.0, 10.0);
    check_range(
        &mut p,
        at,
        "class_separation",
        data.class_separation,
        0.0,
        20.0,
    );
    check_range(
        &mut p,
        at,
        "feature_scale",
        data.feature_scale,
        1e-3,
        1000.0,
    );
    check_range(
        &mut p,
        at,
        "feature_offset",
        data.feature_offset,
        -1000.0,
        1000.0,
    );
    if !data.class_priors.is_empty() {
        let priors = at.with("class_priors");
        if data.class_priors.len() != data.classes {
            p.push(problem(
                priors.clone(),
                format!(
                    "needs one share per class ({}), got {}",
                    data.classes,
                    data.class_priors.len()
                ),
            ));
        }
        for (i, share) in data.class_priors.iter().enumerate() {
            if !(share.is_finite() && (0.001..=1.0).contains(share)) {
                p.push(problem(
                    priors.with(i),
                    format!("a class's share must be in [0.001, 1], got {share}"),
                ));
            }
        }
        let total: f64 = data.class_priors.iter().sum();
        if (total - 1.0).abs() > 1e-6 {
            p.push(problem(
                priors,
                format!("the shares must sum to 1, got {total}"),
            ));
        }
    }
    let f = at.with("faults");
    let faults = &data.faults;
    check_range(&mut p, &f, "leakage", faults.leakage, 0.0, 1.0);
    check_range(&mut p, &f, "label_noise", faults.label_noise, 0.0, 1.0);
    check_range(
        &mut p,
        &f,
        "nan_rows",
        faults.nan_rows as f64,
        0.0,
        data.train_samples as f64,
    );
    check_range(
        &mut p,
        &f,
        "glitch_epoch",
        faults.glitch_epoch as f64,
        0.0,
        100.0,
    );
    check_range(
        &mut p,
        &f,
        "glitch_scale",
        faults.glitch_scale,
        1e-3,
        1000.0,
    );
    p
}

fn check_rule(rule: &ActionRule, at: &FieldPath, problems: &mut Vec<Problem>) {
    if !vocab::is_action_type(&rule.action) {
        problems.push(problem(
            at.with("action"),
            format!(
                "unknown action '{}' (known: {})",
                rule.action,
                vocab::ACTION_TYPES.join(", ")
            ),
        ));
    }
    if rule.action == "modify_config"
        && let Some(target) = &rule.target
        && TrainConfig::canonical_target(target).is_none()
    {
        problems.push(problem(
            at.with("target"),
            format!("unknown config target '{target}'"),
        ));
    }
}

fn check_labels(
    labels: &BTreeMap<String, f64>,
    root_cause: &str,
    at: &FieldPath,
    problems: &mut Vec<Problem>,
) {
    for (label, share) in labels {
        if !vocab::is_diagnosis(label) {
            problems.push(problem(
                at.with(label.as_str()),
                format!("unknown diagnosis '{label}'"),
            ));
        } else if label == root_cause {
            problems.push(problem(
                at.with(label.as_str()),
                "the root cause always earns full credit; list only other labels",
            ));
        }
        if !(share.is_finite() && *share > 0.0 && *share <= 1.0) {
            problems.push(problem(
                at.with(label.as_str()),
                format!("a label's share must be in (0, 1], got {share}"),
            ));
        }
    }
}

fn check_walk_step(step: &WalkStep, at: &FieldPath, problems: &mut Vec<Problem>) {
    if !vocab::is_action_type(&step.action_type) {
        problems.push(problem(
            at.with("action_type"),
            format!("unknown action '{}'", step.action_type),
        ));
    }
    if let Some(d) = &step.diagnosis
        && !vocab::is_diagnosis(d)
    {
        problems.push(problem(
            at.with("diagnosis"),
            format!("unknown diagnosis '{d}'"),
        ));
    }
}

/// A task's runs must fit the work budget every player run is held to: the
/// broken run, and the reference run with the walkthrough's loader patches.
fn over_budget(scenario: &Scenario, file: &TaskFile, index: usize) -> Option<Problem> {
    let patches: Vec<DataPatch> = scenario
        .walkthrough
        .iter()
        .filter(|step| step.action_type == "patch_data_loader")
        .filter_map(|step| DataPatch::parse(step.target.as_deref().unwrap_or_default()))
        .collect();
    let err = crate::sim::budget::check(
        &scenario.data,
        &scenario.config,
        &scenario.program,
        &patches,
    )
    .err()?;
    let at = if file.variants.is_empty() {
        FieldPath(vec!["data".into()])
    } else {
        FieldPath(vec!["variants".into(), index.into()])
    };
    Some(problem(at, err.to_string()))
}

/// Everything `serde` cannot check: vocabulary, ranges, sums, and that every
/// variant resolves.
pub fn validate(file: &TaskFile) -> Vec<Problem> {
    let mut p = Vec::new();
    let root = FieldPath::default();
    if file.id.trim().is_empty()
        || file
            .id
            .chars()
            .any(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    {
        p.push(problem(
            root.with("id"),
            "must be non-empty and use only letters, digits, '_' and '-'",
        ));
    }
    if file.id == catalogue::MYSTERY_ID {
        p.push(problem(
            root.with("id"),
            "'mystery' is reserved: it asks for a random task from the catalogue",
        ));
    }
    check_range(
        &mut p,
        &root,
        "max_steps",
        file.max_steps as f64,
        1.0,
        500.0,
    );
    if !vocab::is_diagnosis(&file.root_cause) {
        p.push(problem(
            root.with("root_cause"),
            format!(
                "unknown diagnosis '{}' (known: {})",
                file.root_cause,
                vocab::DIAGNOSES.join(", ")
            ),
        ));
    }
    let dressing = root.with("dressing");
    check_range(
        &mut p,
        &dressing,
        "gpu_memory_total_gb",
        file.dressing.gpu_memory_total_gb,
        0.0,
        1024.0,
    );
    let (lo, hi) = file.dressing.gpu_memory_used_gb.bounds();
    let total = file.dressing.gpu_memory_total_gb;
    check_range(
        &mut p,
        &dressing,
        "gpu_memory_used_gb",
        lo,
        0.0,
        hi.min(total),
    );
    check_range(&mut p, &dressing, "gpu_memory_used_gb", hi, lo, total);
    check_labels(&file.labels, &file.root_cause, &root.with("labels"), &mut p);
    let recovery = root.with("recovery");
    let r = &file.recovery;
    for (name, value) in [
        ("min_val_accuracy", r.min_val_accuracy),
        ("max_duplicate_ratio", r.max_duplicate_ratio),
        ("min_balanced_accuracy", r.min_balanced_accuracy),
        (
            "min_balanced_gain_vs_reference",
            r.min_balanced_gain_vs_reference,
        ),
    ] {
        if let Some(v) = value {
            check_range(&mut p, &recovery, name, v, 0.0, 1.0);
        }
    }
    for (name, value) in [
        ("max_val_loss", r.max_val_loss),
        ("max_val_loss_rise", r.max_val_loss_rise),
        ("min_accuracy_vs_reference", r.min_accuracy_vs_reference),
        ("max_val_loss_vs_reference", r.max_val_loss_vs_reference),
    ] {
        if let Some(v) = value {
            check_range(&mut p, &recovery, name, v, 0.0, 1e6);
        }
    }
    if r == &Recovery::default() {
        p.push(problem(recovery, "needs at least one criterion"));
    }
    let rubric = root.with("rubric");
    let rb = &file.rubric;
    for name in rb.evidence.keys() {
        if !vocab::INSPECTIONS.contains(&name.as_str()) {
            p.push(problem(
                rubric.with("evidence").with(name.as_str()),
                format!(
                    "'{name}' is not an inspection (known: {})",
                    vocab::INSPECTIONS.join(", ")
                ),
            ));
        }
    }
    let weights = [
        rb.fix,
        rb.recovered,
        rb.diagnosis,
        rb.wrong_diagnosis_penalty,
    ];
    let total: f64 = rb.evidence.values().sum::<f64>() + rb.fix + rb.recovered + rb.diagnosis;
    if weights
        .iter()
        .chain(rb.evidence.values())
        .any(|w| !w.is_finite() || !(0.0..=1.0).contains(w))
    {
        p.push(problem(
            rubric.clone(),
            "weights and penalties must be numbers in [0, 1]",
        ));
    } else if (total - 1.0).abs() > 1e-6 {
        p.push(problem(
            rubric.clone(),
            format!("evidence + fix + recovered + diagnosis must sum to 1, got {total}"),
        ));
    }
    for (i, rule) in rb.red_herrings.iter().enumerate() {
        let at = rubric.with("red_herrings").with(i);
        check_rule(rule, &at, &mut p);
        match rule.penalty {
            None => p.push(problem(at.with("penalty"), "a red herring needs a penalty")),
            Some(v) => check_range(&mut p, &at, "penalty", v, 0.0, 1.0),
        }
    }
    for (name, value) in [
        ("over_par_penalty", rb.over_par_penalty),
        ("max_over_par_penalty", rb.max_over_par_penalty),
        ("failed_restart_penalty", rb.failed_restart_penalty),
        ("guess_share", rb.guess_share),
    ] {
        if let Some(v) = value {
            check_range(&mut p, &rubric, name, v, 0.0, 1.0);
        }
    }
    check_range(
        &mut p,
        &rubric,
        "wrong_diagnosis_penalty",
        rb.wrong_diagnosis_penalty,
        0.0,
        1.0,
    );
    if let Some(par) = rb.par {
        check_range(
            &mut p,
            &rubric,
            "par",
            par as f64,
            1.0,
            file.max_steps as f64,
        );
    }
    for (i, sign) in file.debrief.signs.iter().enumerate() {
        if let Sign::Claim { claim, text } = sign {
            let at = root.with("debrief").with("signs").with(i);
            if let Err(why) = crate::env::claims::check_template(claim, text) {
                p.push(problem(at, why));
            }
        }
    }
    for (i, step) in file.walkthrough.iter().enumerate() {
        check_walk_step(step, &root.with("walkthrough").with(i), &mut p);
    }
    let variants = file.variants.len().max(1);
    for index in 0..variants {
        match resolve(file, index, None) {
            Err(problems) => p.extend(problems),
            Ok(scenario) => p.extend(over_budget(&scenario, file, index)),
        }
        if let Some(v) = file.variants.get(index) {
            let at = root.with("variants").with(index);
            check_labels(&v.labels, &file.root_cause, &at.with("labels"), &mut p);
            for (i, step) in v.walkthrough.iter().flatten().enumerate() {
                check_walk_step(step, &at.with("walkthrough").with(i), &mut p);
            }
        }
    }
    p.dedup();
    let resolved_walk =
        (0..variants).all(|i| resolve(file, i, None).is_ok_and(|s| !s.walkthrough.is_empty()));
    if !resolved_walk && p.is_empty() {
        p.push(problem(
            root.with("walkthrough"),
            "every variant needs a walkthrough",
        ));
    }
    p
}

/// Parse and check one task file's text. `name` decides the format and is
/// used in messages.
pub fn parse_task(name: &str, origin: &str, text: &str) -> Result<Task, Vec<TaskError>> {
    let is_json = name.ends_with(".json");
    if !is_json && !name.ends_with(".toml") {
        return Err(vec![TaskError::Extension {
            file: origin.to_string(),
        }]);
    }
    if let Some(offset) = limits::too_deep(text, is_json) {
        let (line, column) = locate::line_col(text, offset);
        return Err(vec![TaskError::Invalid {
            file: origin.to_string(),
            line,
            column,
            field: "(file)".into(),
            message: format!(
                "nested deeper than {} levels of arrays and tables",
                limits::MAX_DEPTH
            ),
        }]);
    }
    // Strings and numbers are bounded whatever field they are in; a file that
    // does not parse at all is reported by the typed parse below.
    let bounded = if is_json {
        serde_json::from_str::<serde_json::Value>(text)
            .map(|v| limits::check_values(&limits::Node::from(&v)))
            .unwrap_or_default()
    } else {
        toml::from_str::<toml::Value>(text)
            .map(|v| limits::check_values(&limits::Node::from(&v)))
            .unwrap_or_default()
    };
    if !bounded.is_empty() {
        return Err(located(origin, text, is_json, bounded));
    }
    let file: TaskFile = if is_json {
        let mut de = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut de).map_err(|err| {
            let field = err.path().to_string();
            let inner = err.into_inner();
            vec![TaskError::Invalid {
                file: origin.to_string(),
                line: inner.line(),
                column: inner.column(),
                field,
                message: strip_position(&inner.to_string()),
            }]
        })?
    } else {
        let de = toml::Deserializer::parse(text)
            .map_err(|err| vec![toml_error(origin, text, "(file)", &err)])?;
        serde_path_to_error::deserialize(de).map_err(|err| {
            let field = err.path().to_string();
            vec![toml_error(origin, text, &field, err.inner())]
        })?
    };
    let problems = validate(&file);
    if !problems.is_empty() {
        return Err(located(origin, text, is_json, problems));
    }
    let hash = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Task {
        file,
        origin: origin.to_string(),
        hash,
        references: memo::ReferenceMemo::default(),
        unmasked: None,
    })
}

/// Problems with their line and column in the file's text.
fn located(origin: &str, text: &str, is_json: bool, problems: Vec<Problem>) -> Vec<TaskError> {
    problems
        .into_iter()
        .map(|p| {
            let (line, column) = locate::locate(text, is_json, &p.path);
            TaskError::Invalid {
                file: origin.to_string(),
                line,
                column,
                field: p.path.to_string(),
                message: p.message,
            }
        })
        .collect()
}

fn toml_error(origin: &str, text: &str, field: &str, err: &toml::de::Error) -> TaskError {
    let (line, column) = err
        .span()
        .map_or((1, 1), |span| locate::line_col(text, span.start));
    TaskError::Invalid {
        file: origin.to_string(),
        line,
        column,
        field: if field == "." {
            "(file)".into()
        } else {
            field.to_string()
        },
        message: err.message().trim().to_string(),
    }
}

/// serde_json appends " at line L column C"; we print the position up front.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// All tasks of a session: the built-ins plus any task directories.
#[derive(Debug, Clone, Default)]
pub struct TaskSet {
    tasks: Vec<Arc<Task>>,
    /// Every task under the mystery disguise, made on first use (the set is
    /// complete by then: tasks are only added while it is built).
    disguised: std::sync::OnceLock<Vec<Arc<Task>>>,
}

impl TaskSet {
    /// The built-in tasks only. They are checked by the test suite, so an
    /// error here is a build defect; it is still reported, never panicked on.
    pub fn builtin() -> Result<Self, Vec<TaskError>> {
        let mut set = TaskSet::default();
        let mut errors = Vec::new();
        for (name, text) in BUILTIN {
            set.add(
                parse_task(name, &format!("builtin:{name}"), text),
                &mut errors,
            );
        }
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(errors)
        }
    }

    /// Built-ins plus every `.toml`/`.json` file in each directory (sorted by name).
    pub fn with_dirs(dirs: &[impl AsRef<Path>]) -> Result<Self, Vec<TaskError>> {
        let mut set = Self::builtin()?;
        let mut errors = Vec::new();
        for dir in dirs {
            let dir = dir.as_ref();
            match crate::files::in_dir(dir, &["toml", "json"]) {
                Ok(paths) => {
                    for path in paths {
                        if crate::files::leaves(dir, &path) {
                            errors.push(TaskError::Read {
                                file: path.display().to_string(),
                                message: format!(
                                    "a symlink to outside {}: task files must be in the directory",
                                    dir.display()
                                ),
                            });
                            continue;
                        }
                        set.add(load_file(&path), &mut errors);
                    }
                }
                Err(err) => errors.push(TaskError::Read {
                    file: dir.display().to_string(),
                    message: err.to_string(),
                }),
            }
        }
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(errors)
        }
    }

    /// Exactly these tasks (no built-ins); a repeated id is an error.
    pub fn from_tasks(tasks: impl IntoIterator<Item = Task>) -> Result<Self, Vec<TaskError>> {
        let mut set = TaskSet::default();
        let mut errors = Vec::new();
        for task in tasks {
            set.insert(task, &mut errors);
        }
        if errors.is_empty() {
            Ok(set)
        } else {
            Err(errors)
        }
    }

    /// Keep a loaded task, or its errors.
    fn add(&mut self, loaded: Result<Task, Vec<TaskError>>, errors: &mut Vec<TaskError>) {
        match loaded {
            Ok(task) => self.insert(task, errors),
            Err(mut e) => errors.append(&mut e),
        }
    }

    fn insert(&mut self, task: Task, errors: &mut Vec<TaskError>) {
        if let Some(existing) = self.get(task.id()) {
            errors.push(TaskError::Duplicate {
                id: task.id().to_string(),
                first: existing.origin.clone(),
                second: task.origin.clone(),
            });
            return;
        }
        self.tasks.push(Arc::new(task));
    }

    pub fn get(&self, id: &str) -> Option<Arc<Task>> {
        self.tasks.iter().find(|t| t.id() == id).cloned()
    }

    /// The task an episode with this id and seed plays: the task itself, or
    /// for `mystery` the seed's draw from the catalogue, disguised.
    pub fn resolve(&self, id: &str, seed: u64) -> Option<Arc<Task>> {
        if id == catalogue::MYSTERY_ID {
            return catalogue::mystery(self, seed);
        }
        self.get(id)
    }

    /// The hash a recording keeps for a task id (`mystery` included: the
    /// hash of the whole catalogue, which its draws depend on).
    pub fn hash_of(&self, id: &str) -> Option<String> {
        match self.get(id) {
            Some(task) => Some(task.hash.clone()),
            None if id == catalogue::MYSTERY_ID && !self.tasks.is_empty() => {
                Some(catalogue::catalogue_hash(self))
            }
            None => None,
        }
    }

    /// Every id a reset accepts, with its hash (what a recording's header keeps).
    pub fn hashes(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .tasks
            .iter()
            .map(|t| (t.id().to_string(), t.hash.clone()))
            .collect();
        if !self.tasks.is_empty() {
            out.push((
                catalogue::MYSTERY_ID.to_string(),
                catalogue::catalogue_hash(self),
            ));
        }
        out
    }

    /// Task `id` under the mystery disguise.
    pub fn disguised(&self, id: &str) -> Option<Arc<Task>> {
        let all = self.disguised.get_or_init(|| {
            let hash = catalogue::catalogue_hash(self);
            self.tasks
                .iter()
                .map(|t| Arc::new(catalogue::disguise(t, &hash)))
                .collect()
        });
        all.iter()
            .find(|t| t.unmasked.as_ref().is_some_and(|u| u.task_id == id))
            .cloned()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Task>> {
        self.tasks.iter()
    }

    pub fn ids(&self) -> Vec<String> {
        self.tasks.iter().map(|t| t.id().to_string()).collect()
    }

    pub fn first(&self) -> Option<Arc<Task>> {
        self.tasks.first().cloned()
    }
}

/// Read and check one task file from disk.
pub fn load_file(path: &Path) -> Result<Task, Vec<TaskError>> {
    let origin = path.display().to_string();
    let text = limits::read(path).map_err(|e| vec![e])?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    parse_task(name, &origin, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_tasks_load() {
        if let Err(errors) = TaskSet::builtin() {
            let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
            panic!("{}", text.join("\n"));
        }
    }
}
