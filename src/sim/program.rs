//! `train.py` as a program: the lines the player reads are rendered from a list
//! of statements, and the trainer executes exactly that list. A code bug is an
//! edited statement; `fix_code` parses the replacement with a small recogniser
//! of the statement forms below and refuses what it does not understand.

use super::model::Mode;
use serde::{Deserialize, Serialize};

/// What the model output feeds into the loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wrap {
    /// As computed.
    Plain,
    /// `.detach()`: cut from the graph, so no gradient flows back.
    Detached,
    /// `torch.relu(…)`: negative logits clipped to zero.
    Relu,
    /// `torch.softmax(…, dim=1)`: probabilities, which `CrossEntropyLoss`
    /// would then squash a second time (it applies log-softmax itself).
    Softmax,
}

/// What `criterion = …` builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriterionKind {
    /// `nn.CrossEntropyLoss()`: log-softmax and negative log-likelihood of raw logits.
    CrossEntropy,
    /// `nn.MSELoss()`: mean squared error over every element.
    Mse,
}

/// What the loss compares the output with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// `y`: the class indices.
    #[default]
    Index,
    /// `F.one_hot(y, NUM_CLASSES).float()`: one row of 0s and a 1 per sample.
    OneHot,
}

/// What the loss is divided by: `… / ACCUM_STEPS` makes each micro-batch's
/// gradient its share of an accumulated step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Divisor {
    /// `ACCUM_STEPS`: the config's `accumulation_steps`.
    AccumSteps,
    /// A number written out, as `/ 4`.
    Literal(u32),
}

/// The largest number `fix_code` accepts as a literal divisor of the loss.
pub const MAX_LITERAL_DIVISOR: u32 = 1000;

/// The right-hand side of `loss = …`: `[-]criterion(<wrap>(output), <target>)[ / <divisor>]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LossExpr {
    pub wrap: Wrap,
    #[serde(default)]
    pub target: Target,
    /// `-criterion(…)`: the optimiser then maximises the loss.
    #[serde(default)]
    pub negated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub divisor: Option<Divisor>,
}

impl LossExpr {
    pub const fn plain(wrap: Wrap) -> Self {
        LossExpr {
            wrap,
            target: Target::Index,
            negated: false,
            divisor: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Stmt {
    /// Setup, comment or blank: shown, not executed.
    Text {
        text: String,
    },
    SetMode {
        mode: ModeName,
    },
    EpochLoop,
    BatchLoop,
    /// `for step, (x, y) in enumerate(train_loader):`: the batch loop with
    /// the micro-batch's index, for gradient accumulation.
    EnumeratedBatchLoop,
    /// `if (step + 1) % ACCUM_STEPS == 0:`: the block that runs after every
    /// `ACCUM_STEPS`-th micro-batch (inside the enumerated batch loop).
    AccumulationGate,
    ZeroGrad,
    /// A statement with no effect (e.g. `optimizer.zero_grad` without the call).
    NoOp {
        text: String,
    },
    /// `criterion = nn.…()`: which loss function `criterion(…)` computes.
    Criterion {
        loss: CriterionKind,
    },
    Forward {
        wrap: Wrap,
    },
    Loss {
        expr: LossExpr,
    },
    Backward,
    Step,
    Validate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModeName {
    Train,
    Eval,
}

impl From<ModeName> for Mode {
    fn from(m: ModeName) -> Mode {
        match m {
            ModeName::Train => Mode::Train,
            ModeName::Eval => Mode::Eval,
        }
    }
}

impl Stmt {
    pub fn text(&self) -> String {
        let wrap = |w: Wrap, inner: &str| match w {
            Wrap::Plain => inner.to_string(),
            Wrap::Detached => format!("{inner}.detach()"),
            Wrap::Relu => format!("torch.relu({inner})"),
            Wrap::Softmax => format!("torch.softmax({inner}, dim=1)"),
        };
        match self {
            Stmt::Text { text } | Stmt::NoOp { text } => text.clone(),
            Stmt::SetMode {
                mode: ModeName::Train,
            } => "model.train()".into(),
            Stmt::SetMode {
                mode: ModeName::Eval,
            } => "model.eval()".into(),
            Stmt::EpochLoop => "for epoch in range(EPOCHS):".into(),
            Stmt::BatchLoop => "for x, y in train_loader:".into(),
            Stmt::EnumeratedBatchLoop => "for step, (x, y) in enumerate(train_loader):".into(),
            Stmt::AccumulationGate => "if (step + 1) % ACCUM_STEPS == 0:".into(),
            Stmt::ZeroGrad => "optimizer.zero_grad()".into(),
            Stmt::Forward { wrap: w } => format!("output = {}", wrap(*w, "model(x)")),
            Stmt::Criterion {
                loss: CriterionKind::CrossEntropy,
            } => "criterion = nn.CrossEntropyLoss()".into(),
            Stmt::Criterion {
                loss: CriterionKind::Mse,
            } => "criterion = nn.MSELoss()".into(),
            Stmt::Loss { expr } => format!(
                "loss = {}criterion({}, {}){}",
                if expr.negated { "-" } else { "" },
                wrap(expr.wrap, "output"),
                match expr.target {
                    Target::Index => "y",
                    Target::OneHot => "F.one_hot(y, NUM_CLASSES).float()",
                },
                match expr.divisor {
                    None => String::new(),
                    Some(Divisor::AccumSteps) => " / ACCUM_STEPS".into(),
                    Some(Divisor::Literal(n)) => format!(" / {n}"),
                }
            ),
            Stmt::Backward => "loss.backward()".into(),
            Stmt::Step => "optimizer.step()".into(),
            Stmt::Validate => "val_loss, val_acc = evaluate(model, val_loader)".into(),
        }
    }

    /// A line that opens a block: the loops and the accumulation `if`.
    fn is_header(&self) -> bool {
        matches!(
            self,
            Stmt::EpochLoop | Stmt::BatchLoop | Stmt::EnumeratedBatchLoop | Stmt::AccumulationGate
        )
    }

    /// Statements that do something when executed.
    pub fn is_executable(&self) -> bool {
        !matches!(self, Stmt::Text { .. } | Stmt::NoOp { .. })
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProgramError {
    #[error("line {line}: cannot understand `{text}` (fix_code accepts: {forms})")]
    Unrecognised {
        line: usize,
        text: String,
        forms: String,
    },
    #[error("line {line} does not exist (train.py has {count} lines)")]
    NoSuchLine { line: usize, count: usize },
    #[error(
        "line {line} is a loop or `if` header; fix_code edits the statements inside the blocks"
    )]
    LoopHeader { line: usize },
    #[error(
        "line {line}: a loop or `if` header cannot be written here; fix_code edits one statement"
    )]
    NewLoop { line: usize },
    #[error("line {line}: indentation must be a multiple of 4 spaces")]
    Indentation { line: usize },
    #[error(
        "train.py must have exactly one `for epoch` loop with one `for x, y in train_loader` loop inside it (an accumulation `if` goes directly inside an enumerated batch loop)"
    )]
    Structure,
    /// Python would raise `NameError`: the batch `x`, `y` exist only in the batch loop.
    #[error(
        "line {line}: `{text}` needs the batch `x, y`, which exist only inside `for x, y in train_loader:`"
    )]
    OutsideBatchLoop { line: usize, text: String },
    /// Python would raise `NameError` on the first batch.
    #[error(
        "line {line}: `{text}` uses `{name}` before it is assigned (`{assigner}` must come on an earlier line)"
    )]
    UsedBeforeAssigned {
        line: usize,
        text: String,
        name: &'static str,
        assigner: &'static str,
    },
}

/// The statements fix_code recognises, each as a careful programmer writes
/// it (spacing and a few equivalent spellings are accepted too).
pub const STATEMENT_FORMS: &[&str] = &[
    "model.train()",
    "model.eval()",
    "optimizer.zero_grad()",
    "output = model(x)",
    "output = model(x).detach()",
    "output = torch.relu(model(x))",
    "output = torch.softmax(model(x), dim=1)",
    "criterion = nn.CrossEntropyLoss()",
    "criterion = nn.MSELoss()",
    "loss = criterion(output, y)",
    "loss = criterion(output.detach(), y)",
    "loss = criterion(torch.relu(output), y)",
    "loss = criterion(torch.softmax(output, dim=1), y)",
    "loss = criterion(output, F.one_hot(y, NUM_CLASSES).float())",
    "loss = -criterion(output, y)",
    "loss = criterion(output, y) / ACCUM_STEPS",
    "loss.backward()",
    "optimizer.step()",
    "val_loss, val_acc = evaluate(model, val_loader)",
    "import torch.nn.functional as F",
    "pass",
];

/// `… / <divisor>` in the spellings a programmer uses, spaces already removed.
fn split_divisor(expr: &str) -> Option<(&str, Option<Divisor>)> {
    const SUFFIXES: &[&str] = &[
        "/ACCUM_STEPS",
        "/float(ACCUM_STEPS)",
        "*(1/ACCUM_STEPS)",
        "*(1.0/ACCUM_STEPS)",
    ];
    if let Some(rest) = SUFFIXES.iter().find_map(|s| expr.strip_suffix(s)) {
        return Some((rest, Some(Divisor::AccumSteps)));
    }
    if let Some((rest, number)) = expr.rsplit_once('/')
        && rest.ends_with(')')
    {
        // `4` or `4.0`: a whole number of micro-batches.
        let n: f64 = number.parse().ok()?;
        let whole = n.fract() == 0.0 && (1.0..=f64::from(MAX_LITERAL_DIVISOR)).contains(&n);
        return whole.then_some((rest, Some(Divisor::Literal(n as u32))));
    }
    Some((expr, None))
}

/// `[-]criterion(<arg>, <target>)[ / <divisor>]`, spaces already removed.
fn parse_loss(expr: &str) -> Option<LossExpr> {
    let (expr, divisor) = split_divisor(expr)?;
    let (negated, expr) = match expr.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, expr),
    };
    // `(criterion(…))`: parentheses around the call, as around a division.
    let expr = match expr.strip_prefix('(').and_then(|e| e.strip_suffix(')')) {
        Some(inner) if inner.starts_with("criterion(") => inner,
        _ => expr,
    };
    let args = expr.strip_prefix("criterion(")?.strip_suffix(')')?;
    const ARGS: &[(&str, Wrap)] = &[
        ("output", Wrap::Plain),
        ("output.detach()", Wrap::Detached),
        ("torch.relu(output)", Wrap::Relu),
        ("F.relu(output)", Wrap::Relu),
        ("torch.softmax(output,dim=1)", Wrap::Softmax),
        ("torch.softmax(output,dim=-1)", Wrap::Softmax),
        ("F.softmax(output,dim=1)", Wrap::Softmax),
        ("F.softmax(output,dim=-1)", Wrap::Softmax),
    ];
    const TARGETS: &[(&str, Target)] = &[
        ("y", Target::Index),
        ("F.one_hot(y,NUM_CLASSES).float()", Target::OneHot),
        (
            "F.one_hot(y,num_classes=NUM_CLASSES).float()",
            Target::OneHot,
        ),
    ];
    ARGS.iter().find_map(|(arg, wrap)| {
        let rest = args.strip_prefix(arg)?.strip_prefix(',')?;
        TARGETS
            .iter()
            .find(|(target, _)| rest == *target)
            .map(|(_, target)| LossExpr {
                wrap: *wrap,
                target: *target,
                negated,
                divisor,
            })
    })
}

/// The forms, for messages.
fn forms() -> String {
    format!("{}, a # comment", STATEMENT_FORMS.join(", "))
}

/// Recognise one statement. Spacing is free; a trailing `# comment` is ignored
/// for meaning (callers keep it for display with `split_comment`).
pub fn parse_statement(text: &str) -> Option<Stmt> {
    let trimmed = text.trim();
    let code = trimmed.split('#').next().unwrap_or("").trim();
    if code.is_empty() {
        return Some(Stmt::Text {
            text: trimmed.to_string(),
        });
    }
    let canonical: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let canonical = canonical.trim_end_matches(';');
    let stmt = match canonical {
        "model.train()" | "model.train(True)" | "model.train(mode=True)" => Stmt::SetMode {
            mode: ModeName::Train,
        },
        "model.eval()" | "model.train(False)" | "model.train(mode=False)" => Stmt::SetMode {
            mode: ModeName::Eval,
        },
        "forepochinrange(EPOCHS):" => Stmt::EpochLoop,
        "forx,yintrain_loader:" | "for(x,y)intrain_loader:" => Stmt::BatchLoop,
        "forstep,(x,y)inenumerate(train_loader):" => Stmt::EnumeratedBatchLoop,
        "if(step+1)%ACCUM_STEPS==0:" => Stmt::AccumulationGate,
        "optimizer.zero_grad()"
        | "optimizer.zero_grad(set_to_none=True)"
        | "optimizer.zero_grad(set_to_none=False)"
        | "model.zero_grad()" => Stmt::ZeroGrad,
        "output=model(x)" | "output=model.forward(x)" => Stmt::Forward { wrap: Wrap::Plain },
        "output=model(x).detach()" => Stmt::Forward {
            wrap: Wrap::Detached,
        },
        "output=torch.relu(model(x))" | "output=F.relu(model(x))" | "output=model(x).relu()" => {
            Stmt::Forward { wrap: Wrap::Relu }
        }
        "output=torch.softmax(model(x),dim=1)"
        | "output=torch.softmax(model(x),dim=-1)"
        | "output=F.softmax(model(x),dim=1)"
        | "output=F.softmax(model(x),dim=-1)"
        | "output=model(x).softmax(dim=1)"
        | "output=model(x).softmax(dim=-1)" => Stmt::Forward {
            wrap: Wrap::Softmax,
        },
        "criterion=nn.CrossEntropyLoss()" | "criterion=torch.nn.CrossEntropyLoss()" => {
            Stmt::Criterion {
                loss: CriterionKind::CrossEntropy,
            }
        }
        "criterion=nn.MSELoss()" | "criterion=torch.nn.MSELoss()" => Stmt::Criterion {
            loss: CriterionKind::Mse,
        },
        loss if loss.starts_with("loss=") => Stmt::Loss {
            expr: parse_loss(&loss["loss=".len()..])?,
        },
        "loss.backward()" => Stmt::Backward,
        "optimizer.step()" => Stmt::Step,
        "val_loss,val_acc=evaluate(model,val_loader)" => Stmt::Validate,
        // The import `F.one_hot`, `F.relu` and `F.softmax` need: setup, not executed.
        "importtorch.nn.functionalasF" => Stmt::Text {
            text: "import torch.nn.functional as F".into(),
        },
        "pass"
        | "optimizer.zero_grad"
        | "model.zero_grad"
        | "optimizer.step"
        | "loss.backward"
        | "model.train"
        | "model.eval" => Stmt::NoOp {
            text: trimmed.to_string(),
        },
        _ => return None,
    };
    Some(stmt)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub indent: usize,
    pub stmt: Stmt,
    /// A trailing `# comment` shown after an executable statement.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
}

impl Line {
    pub fn render(&self) -> String {
        let pad = "    ".repeat(self.indent);
        let body = self.stmt.text();
        if self.comment.is_empty() {
            format!("{pad}{body}")
        } else if body.is_empty() {
            format!("{pad}{}", self.comment)
        } else {
            format!("{pad}{body}  {}", self.comment)
        }
    }
}

/// One executable block of the program.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A statement and its 1-based line in train.py (for tracebacks).
    Stmt(Stmt, usize),
    EpochLoop(Vec<Node>),
    BatchLoop(Vec<Node>),
    /// `if (step + 1) % ACCUM_STEPS == 0:` and its statements, directly
    /// inside an enumerated batch loop.
    AccumulationGate(Vec<Node>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Program {
    pub lines: Vec<Line>,
}

/// The training script every task starts from (tasks edit it).
pub const STANDARD_SOURCE: &str = "import torch
import torch.nn as nn
from model import build_model
from data import make_loaders, evaluate

train_loader, val_loader = make_loaders(batch_size=BATCH_SIZE)
model = build_model()
optimizer = make_optimizer(model.parameters(), lr=LR)
criterion = nn.CrossEntropyLoss()

for epoch in range(EPOCHS):
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        output = model(x)
        loss = criterion(output, y)
        loss.backward()
        optimizer.step()
    model.eval()
    val_loss, val_acc = evaluate(model, val_loader)";

/// The same script with gradient accumulation: each loader batch is a
/// micro-batch, and the optimizer steps once every `ACCUM_STEPS` of them on
/// the gradients `backward` has summed meanwhile. Dividing each micro-batch's
/// loss by `ACCUM_STEPS` makes the sum the mean over the effective batch.
pub const ACCUMULATION_SOURCE: &str = "import torch
import torch.nn as nn
from model import build_model
from data import make_loaders, evaluate

train_loader, val_loader = make_loaders(batch_size=BATCH_SIZE)
model = build_model()
optimizer = make_optimizer(model.parameters(), lr=LR)
criterion = nn.CrossEntropyLoss()

for epoch in range(EPOCHS):
    model.train()
    optimizer.zero_grad()
    for step, (x, y) in enumerate(train_loader):
        output = model(x)
        loss = criterion(output, y) / ACCUM_STEPS
        loss.backward()
        if (step + 1) % ACCUM_STEPS == 0:
            optimizer.step()
            optimizer.zero_grad()
    model.eval()
    val_loss, val_acc = evaluate(model, val_loader)";

/// The training script a task starts from, before its edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Script {
    /// One optimizer step per loader batch ([`STANDARD_SOURCE`]).
    #[default]
    Standard,
    /// One step per `ACCUM_STEPS` micro-batches ([`ACCUMULATION_SOURCE`]).
    GradientAccumulation,
}

impl Script {
    pub fn is_standard(&self) -> bool {
        *self == Script::Standard
    }

    pub fn source(self) -> &'static str {
        match self {
            Script::Standard => STANDARD_SOURCE,
            Script::GradientAccumulation => ACCUMULATION_SOURCE,
        }
    }
}

fn split_comment(text: &str) -> (String, String) {
    match text.find('#') {
        Some(at) => (text[..at].trim().to_string(), text[at..].trim().to_string()),
        None => (text.trim().to_string(), String::new()),
    }
}

impl Program {
    pub fn standard() -> Self {
        Self::of(Script::Standard)
    }

    pub fn of(script: Script) -> Self {
        // The sources are constants that the tests parse; this cannot fail.
        Self::parse(script.source()).unwrap_or(Program { lines: Vec::new() })
    }

    /// Parse a whole script. Outside the loops, unrecognised lines are setup text;
    /// inside them every line must be a recognised statement.
    pub fn parse(source: &str) -> Result<Self, ProgramError> {
        let mut lines = Vec::new();
        for (i, raw) in source.lines().enumerate() {
            let number = i + 1;
            let spaces = raw.len() - raw.trim_start_matches(' ').len();
            if spaces % 4 != 0 {
                return Err(ProgramError::Indentation { line: number });
            }
            let indent = spaces / 4;
            let (code, comment) = split_comment(raw);
            let stmt = match parse_statement(&code) {
                Some(stmt) => stmt,
                None if indent == 0 => Stmt::Text { text: code.clone() },
                None => {
                    return Err(ProgramError::Unrecognised {
                        line: number,
                        text: raw.trim().to_string(),
                        forms: forms(),
                    });
                }
            };
            let (stmt, comment) = match stmt {
                Stmt::Text { text } if text.is_empty() => {
                    (Stmt::Text { text: comment }, String::new())
                }
                other => (other, comment),
            };
            lines.push(Line {
                indent,
                stmt,
                comment,
            });
        }
        let program = Program { lines };
        program.tree()?;
        Ok(program)
    }

    pub fn render(&self) -> String {
        self.lines
            .iter()
            .map(Line::render)
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn line_count(&self) -> usize {
        self.lines.len()
    }

    /// Replace line `number` (1-based) with `replacement`, keeping its indentation.
    pub fn replace_line(&mut self, number: usize, replacement: &str) -> Result<(), ProgramError> {
        let count = self.lines.len();
        let index =
            number
                .checked_sub(1)
                .filter(|&i| i < count)
                .ok_or(ProgramError::NoSuchLine {
                    line: number,
                    count,
                })?;
        if self.lines[index].stmt.is_header() {
            return Err(ProgramError::LoopHeader { line: number });
        }
        let (code, comment) = split_comment(replacement);
        let stmt = parse_statement(&code).ok_or_else(|| ProgramError::Unrecognised {
            line: number,
            text: replacement.trim().to_string(),
            forms: forms(),
        })?;
        if stmt.is_header() {
            return Err(ProgramError::NewLoop { line: number });
        }
        let stmt = match stmt {
            Stmt::Text { text } if text.is_empty() => Stmt::Text {
                text: comment.clone(),
            },
            other => other,
        };
        let comment = if matches!(stmt, Stmt::Text { .. }) {
            String::new()
        } else {
            comment
        };
        let mut next = self.clone();
        next.lines[index] = Line {
            indent: self.lines[index].indent,
            stmt,
            comment,
        };
        next.tree()?;
        *self = next;
        Ok(())
    }

    /// Make sure the first statement of the epoch loop puts the model in train
    /// mode: `fix_model_mode`. Rewrites an existing mode line, or a comment or
    /// no-op standing in its place; otherwise inserts one. Returns the line number.
    pub fn ensure_train_mode(&mut self) -> usize {
        let Some(loop_at) = self.lines.iter().position(|l| l.stmt == Stmt::EpochLoop) else {
            return 0;
        };
        let indent = self.lines[loop_at].indent + 1;
        let train = Line {
            indent,
            stmt: Stmt::SetMode {
                mode: ModeName::Train,
            },
            comment: String::new(),
        };
        let first = loop_at + 1;
        match self.lines.get(first) {
            Some(line)
                if line.indent == indent
                    && matches!(
                        line.stmt,
                        Stmt::SetMode { .. } | Stmt::NoOp { .. } | Stmt::Text { .. }
                    ) =>
            {
                self.lines[first] = train;
            }
            _ => self.lines.insert(first, train),
        }
        first + 1
    }

    /// Make sure the model is put in eval mode right before each validation in
    /// the epoch loop: the other half of `fix_model_mode`. Rewrites a mode
    /// line, comment or no-op just above `evaluate(...)`, or inserts
    /// `model.eval()` there. Returns the lines that now call it.
    pub fn ensure_eval_before_validation(&mut self) -> Vec<usize> {
        let Some(loop_at) = self.lines.iter().position(|l| l.stmt == Stmt::EpochLoop) else {
            return Vec::new();
        };
        let indent = self.lines[loop_at].indent + 1;
        let validations: Vec<usize> = (loop_at + 1..self.lines.len())
            .filter(|&i| self.lines[i].indent == indent && self.lines[i].stmt == Stmt::Validate)
            .collect();
        let eval = Line {
            indent,
            stmt: Stmt::SetMode {
                mode: ModeName::Eval,
            },
            comment: String::new(),
        };
        let mut changed = Vec::new();
        // Bottom up, so an insertion does not move the validations still to do.
        for &at in validations.iter().rev() {
            let above = &self.lines[at - 1];
            let replaceable = above.indent == indent
                && matches!(
                    above.stmt,
                    Stmt::SetMode { .. } | Stmt::NoOp { .. } | Stmt::Text { .. }
                );
            if replaceable {
                self.lines[at - 1] = eval.clone();
                changed.push(at);
            } else {
                self.lines.insert(at, eval.clone());
                changed.iter_mut().for_each(|l| *l += 1);
                changed.push(at + 1);
            }
        }
        changed.sort_unstable();
        changed
    }

    /// The executable structure: top-level statements, then the epoch loop with
    /// the batch loop inside it.
    pub fn tree(&self) -> Result<Vec<Node>, ProgramError> {
        let mut at = 0;
        let nodes = build(&self.lines, &mut at, 0)?;
        let epoch_loops: Vec<&Vec<Node>> = nodes
            .iter()
            .filter_map(|n| match n {
                Node::EpochLoop(body) => Some(body),
                _ => None,
            })
            .collect();
        let [body] = epoch_loops.as_slice() else {
            return Err(ProgramError::Structure);
        };
        let batch_loops = body
            .iter()
            .filter(|n| matches!(n, Node::BatchLoop(_)))
            .count();
        let nested_epoch = body.iter().any(|n| matches!(n, Node::EpochLoop(_)));
        let stray = |n: &Node| matches!(n, Node::BatchLoop(_) | Node::AccumulationGate(_));
        let stray_gate = body.iter().any(|n| matches!(n, Node::AccumulationGate(_)));
        if batch_loops != 1 || nested_epoch || nodes.iter().any(stray) || stray_gate {
            return Err(ProgramError::Structure);
        }
        self.check_names()?;
        Ok(nodes)
    }

    /// Refuse what Python would reject with a `NameError` on the first batch:
    /// the model output, the loss and its backward pass need the batch, in that
    /// order. (Later batches could see a stale value from the one before, but
    /// the first never can, so the script dies there.) The loss needs a
    /// `criterion` assigned on an earlier line.
    fn check_names(&self) -> Result<(), ProgramError> {
        let mut batch_indent = None;
        let (mut has_output, mut has_loss) = (false, false);
        let mut has_criterion = false;
        for (i, line) in self.lines.iter().enumerate() {
            if !line.stmt.is_executable() && !line.stmt.is_header() {
                continue;
            }
            if batch_indent.is_some_and(|b| line.indent <= b) {
                batch_indent = None;
            }
            let text = || line.render().trim().to_string();
            let in_batch = batch_indent.is_some();
            match line.stmt {
                Stmt::BatchLoop | Stmt::EnumeratedBatchLoop => {
                    batch_indent = Some(line.indent);
                    (has_output, has_loss) = (false, false);
                }
                Stmt::Forward { .. } | Stmt::Loss { .. } | Stmt::Backward if !in_batch => {
                    return Err(ProgramError::OutsideBatchLoop {
                        line: i + 1,
                        text: text(),
                    });
                }
                Stmt::Forward { .. } => has_output = true,
                Stmt::Criterion { .. } => has_criterion = true,
                Stmt::Loss { .. } if !has_criterion => {
                    return Err(ProgramError::UsedBeforeAssigned {
                        line: i + 1,
                        text: text(),
                        name: "criterion",
                        assigner: "criterion = nn.CrossEntropyLoss()",
                    });
                }
                Stmt::Loss { .. } if !has_output => {
                    return Err(ProgramError::UsedBeforeAssigned {
                        line: i + 1,
                        text: text(),
                        name: "output",
                        assigner: "output = model(x)",
                    });
                }
                Stmt::Loss { .. } => has_loss = true,
                Stmt::Backward if !has_loss => {
                    return Err(ProgramError::UsedBeforeAssigned {
                        line: i + 1,
                        text: text(),
                        name: "loss",
                        assigner: "loss = criterion(output, y)",
                    });
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn build(lines: &[Line], at: &mut usize, indent: usize) -> Result<Vec<Node>, ProgramError> {
    let mut nodes = Vec::new();
    while let Some(line) = lines.get(*at) {
        if !line.stmt.is_executable() && !line.stmt.is_header() {
            *at += 1; // text and no-ops never change the block structure
            continue;
        }
        if line.indent < indent {
            break;
        }
        if line.indent > indent {
            return Err(ProgramError::Indentation { line: *at + 1 });
        }
        *at += 1;
        match &line.stmt {
            Stmt::EpochLoop => nodes.push(Node::EpochLoop(build(lines, at, indent + 1)?)),
            Stmt::BatchLoop | Stmt::EnumeratedBatchLoop => {
                // Only the enumerated loop has the `step` an accumulation
                // `if` tests (Python: NameError), and the `if` holds statements.
                let enumerated = line.stmt == Stmt::EnumeratedBatchLoop;
                let body = build(lines, at, indent + 1)?;
                let allowed = |n: &Node| match n {
                    Node::Stmt(..) => true,
                    Node::AccumulationGate(inner) => {
                        enumerated && inner.iter().all(|n| matches!(n, Node::Stmt(..)))
                    }
                    Node::EpochLoop(_) | Node::BatchLoop(_) => false,
                };
                if !body.iter().all(allowed) {
                    return Err(ProgramError::Structure);
                }
                nodes.push(Node::BatchLoop(body));
            }
            Stmt::AccumulationGate => {
                nodes.push(Node::AccumulationGate(build(lines, at, indent + 1)?));
            }
            stmt => nodes.push(Node::Stmt(stmt.clone(), *at)),
        }
    }
    Ok(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_program_round_trips() {
        let program = Program::parse(STANDARD_SOURCE).unwrap();
        assert_eq!(program.render(), STANDARD_SOURCE);
        assert_eq!(program.line_count(), 20);
        assert_eq!(program, Program::standard());
    }

    #[test]
    fn replacement_is_tolerant_of_spacing_and_keeps_indentation() {
        let mut p = Program::standard();
        p.replace_line(14, "optimizer.zero_grad").unwrap();
        assert_eq!(p.lines[13].render(), "        optimizer.zero_grad");
        p.replace_line(14, "  optimizer . zero_grad( )  ").unwrap();
        assert_eq!(p.lines[13].stmt, Stmt::ZeroGrad);
        assert_eq!(p.render(), STANDARD_SOURCE);
    }

    #[test]
    fn comments_survive_on_executable_lines() {
        let mut p = Program::standard();
        p.replace_line(12, "model.eval()  # BN frozen").unwrap();
        assert_eq!(p.lines[11].render(), "    model.eval()  # BN frozen");
        p.replace_line(12, "# evaluate() restores train mode")
            .unwrap();
        assert_eq!(p.lines[11].render(), "    # evaluate() restores train mode");
    }

    #[test]
    fn unknown_statements_are_refused_not_guessed() {
        let mut p = Program::standard();
        let err = p.replace_line(14, "optimizer.zero_grads()").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("line 14: cannot understand `optimizer.zero_grads()`")
        );
        assert_eq!(p, Program::standard());
        assert_eq!(
            p.replace_line(11, "pass").unwrap_err(),
            ProgramError::LoopHeader { line: 11 }
        );
        assert_eq!(
            p.replace_line(0, "pass").unwrap_err(),
            ProgramError::NoSuchLine { line: 0, count: 20 }
        );
        assert_eq!(
            p.replace_line(99, "pass").unwrap_err(),
            ProgramError::NoSuchLine {
                line: 99,
                count: 20
            }
        );
        assert_eq!(
            p.replace_line(14, "for x, y in train_loader:").unwrap_err(),
            ProgramError::NewLoop { line: 14 }
        );
    }

    #[test]
    fn variants_parse_to_their_statements() {
        assert_eq!(
            parse_statement("loss = criterion(output.detach(), y)"),
            Some(Stmt::Loss {
                expr: LossExpr::plain(Wrap::Detached)
            })
        );
        assert_eq!(
            parse_statement("output = torch.relu(model(x))"),
            Some(Stmt::Forward { wrap: Wrap::Relu })
        );
        assert!(matches!(
            parse_statement("optimizer.zero_grad"),
            Some(Stmt::NoOp { .. })
        ));
        assert_eq!(parse_statement("import os"), None);
    }

    #[test]
    fn ensure_train_mode_rewrites_or_inserts() {
        let mut p = Program::standard();
        p.replace_line(12, "model.eval()").unwrap();
        assert_eq!(p.ensure_train_mode(), 12);
        assert_eq!(p, Program::standard());
        let mut q = Program::parse(&STANDARD_SOURCE.replace("    model.train()\n", "")).unwrap();
        assert_eq!(q.line_count(), 19);
        q.ensure_train_mode();
        assert_eq!(q, Program::standard());
    }

    #[test]
    fn the_accumulation_script_round_trips_and_nests_its_gate_in_the_batch_loop() {
        let program = Program::of(Script::GradientAccumulation);
        assert_eq!(program.render(), ACCUMULATION_SOURCE);
        let tree = program.tree().unwrap();
        let Some(Node::EpochLoop(epoch)) = tree.iter().find(|n| matches!(n, Node::EpochLoop(_)))
        else {
            panic!("no epoch loop: {tree:?}")
        };
        let Some(Node::BatchLoop(batch)) = epoch.iter().find(|n| matches!(n, Node::BatchLoop(_)))
        else {
            panic!("no batch loop: {epoch:?}")
        };
        assert!(batch.iter().any(|n| matches!(
            n,
            Node::AccumulationGate(gated) if gated.len() == 2
        )));
        // Headers stay as they are: fix_code edits statements.
        let mut p = program.clone();
        for (line, text) in [
            (14, "pass"),
            (18, "pass"),
            (16, "if (step + 1) % ACCUM_STEPS == 0:"),
        ] {
            assert!(p.replace_line(line, text).is_err(), "{line}");
        }
        assert_eq!(p, program);
    }

    #[test]
    fn an_accumulation_gate_needs_the_enumerated_loop() {
        let plain = ACCUMULATION_SOURCE.replace(
            "for step, (x, y) in enumerate(train_loader):",
            "for x, y in train_loader:",
        );
        assert_eq!(Program::parse(&plain), Err(ProgramError::Structure));
        let outside = ACCUMULATION_SOURCE.replace(
            "        if (step + 1) % ACCUM_STEPS == 0:\n            optimizer.step()",
            "    if (step + 1) % ACCUM_STEPS == 0:\n        optimizer.step()",
        );
        assert_ne!(outside, ACCUMULATION_SOURCE);
        assert!(Program::parse(&outside).is_err());
    }

    #[test]
    fn the_loss_divisor_is_read_in_its_usual_spellings() {
        let scaled = |divisor| {
            Some(Stmt::Loss {
                expr: LossExpr {
                    divisor,
                    ..LossExpr::plain(Wrap::Plain)
                },
            })
        };
        let by_steps = scaled(Some(Divisor::AccumSteps));
        for text in [
            "loss = criterion(output, y) / ACCUM_STEPS",
            "loss = (criterion(output, y)) / ACCUM_STEPS",
            "loss = criterion(output, y) / float(ACCUM_STEPS)",
            "loss = criterion(output, y) * (1 / ACCUM_STEPS)",
        ] {
            assert_eq!(parse_statement(text), by_steps, "{text}");
        }
        assert_eq!(
            parse_statement("loss = criterion(output, y) / 4"),
            scaled(Some(Divisor::Literal(4)))
        );
        assert_eq!(
            parse_statement("loss = criterion(output, y) / 8.0"),
            scaled(Some(Divisor::Literal(8)))
        );
        for refused in [
            "loss = criterion(output, y) / 0",
            "loss = criterion(output, y) / -4",
            "loss = criterion(output, y) / 2.5",
            "loss = criterion(output, y) / accum_steps",
            "loss = criterion(output, y) / ACCUM_STEPS / ACCUM_STEPS",
            "loss = criterion(output, y) / 1e9",
            "loss = criterion(output, y) /",
        ] {
            assert_eq!(parse_statement(refused), None, "{refused}");
        }
        let rendered = by_steps.map(|s| s.text());
        assert_eq!(
            rendered.as_deref(),
            Some("loss = criterion(output, y) / ACCUM_STEPS")
        );
    }

    #[test]
    fn broken_structure_is_rejected() {
        assert_eq!(
            Program::parse("x = 1").unwrap_err(),
            ProgramError::Structure
        );
        assert!(matches!(
            Program::parse("for epoch in range(EPOCHS):\n  model.train()"),
            Err(ProgramError::Indentation { line: 2 })
        ));
        assert!(matches!(
            Program::parse("for epoch in range(EPOCHS):\n    frobnicate()"),
            Err(ProgramError::Unrecognised { line: 2, .. })
        ));
    }
}
