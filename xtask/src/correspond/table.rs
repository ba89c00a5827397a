//! The step table (`proofs/steps.txt`): one row per labelled step of `proofs/ALGORITHM.md`.

use std::fmt;

/// The memory orderings, as written in Rust and in ALGORITHM.md.
pub const ORDERINGS: [&str; 5] = ["Relaxed", "Acquire", "Release", "AcqRel", "SeqCst"];

/// The kind of an atomic operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `load`.
    Load,
    /// `store`.
    Store,
    /// `compare_exchange` or `compare_exchange_weak`.
    Cas,
    /// `swap`.
    Swap,
    /// `fetch_add` (and `fetch_or`, `fetch_and`).
    Fetch,
    /// `fetch_sub` (a reference count's release, kept apart from an increment).
    FetchSub,
    /// `fence`.
    Fence,
}

impl Kind {
    /// The table's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Load => "load",
            Kind::Store => "store",
            Kind::Cas => "cas",
            Kind::Swap => "swap",
            Kind::Fetch => "fetch_add",
            Kind::FetchSub => "fetch_sub",
            Kind::Fence => "fence",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "load" => Kind::Load,
            "store" => Kind::Store,
            "cas" => Kind::Cas,
            "swap" => Kind::Swap,
            "fetch_add" => Kind::Fetch,
            "fetch_sub" => Kind::FetchSub,
            "fence" => Kind::Fence,
            _ => return None,
        })
    }

    /// Whether the operation writes the word.
    pub fn writes(self) -> bool {
        matches!(
            self,
            Kind::Store | Kind::Cas | Kind::Swap | Kind::Fetch | Kind::FetchSub
        )
    }

    /// How many orderings the operation takes (a CAS: success and failure).
    pub fn arity(self) -> usize {
        if self == Kind::Cas {
            2
        } else {
            1
        }
    }
}

/// One atomic operation with its orderings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    /// What it does.
    pub kind: Kind,
    /// Its orderings (two for a CAS).
    pub ord: Vec<String>,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.name(), self.ord.join(" "))
    }
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct Row {
    /// The step's label (`R1`, `H2`, …).
    pub label: String,
    /// The word it operates on (`state`, `head`, `node`, `runner`, `next`, `sleep`, or `-`).
    pub word: String,
    /// Its atomic operations, in program order.
    pub ops: Vec<Op>,
    /// The protocol.rs function whose result it writes.
    pub decision: Option<String>,
    /// The files under kernel/src that hold its markers.
    pub files: Vec<String>,
    /// The models that must name it (`sr`, `pml`, `iris`); empty when the table says why none.
    pub models: Vec<String>,
    /// Line in the table file.
    pub line: usize,
}

impl Row {
    /// Whether the step writes a protocol word, whose new value must come from the protocol.
    pub fn writes_protocol_word(&self) -> bool {
        matches!(self.word.as_str(), "state" | "head" | "node")
    }
}

/// Parse the table. Errors name the table's line.
pub fn parse(text: &str, path: &str) -> Result<Vec<Row>, Vec<String>> {
    let mut rows: Vec<Row> = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = t.split('|').map(str::trim).collect();
        if cols.len() != 7 {
            errors.push(format!(
                "{path}:{line}: expected 7 columns, found {}",
                cols.len()
            ));
            continue;
        }
        match parse_row(&cols, line) {
            Ok(row) => {
                if rows.iter().any(|r| r.label == row.label) {
                    errors.push(format!("{path}:{line}: label {} appears twice", row.label));
                }
                rows.push(row);
            }
            Err(e) => errors.push(format!("{path}:{line}: {e}")),
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

fn parse_row(cols: &[&str], line: usize) -> Result<Row, String> {
    let label = cols[0].to_string();
    if !is_label(&label) {
        return Err(format!(
            "`{label}` is not a step label (a capital letter and a number)"
        ));
    }
    let mut ops = Vec::new();
    if cols[3] != "-" {
        for spec in cols[3].split(';') {
            let words: Vec<&str> = spec.split_whitespace().collect();
            let kind = words
                .first()
                .and_then(|w| Kind::parse(w))
                .ok_or_else(|| format!("{label}: unknown operation `{spec}`"))?;
            let ord: Vec<String> = words[1..].iter().map(|w| w.to_string()).collect();
            if ord.len() != kind.arity() || ord.iter().any(|o| !ORDERINGS.contains(&o.as_str())) {
                return Err(format!(
                    "{label}: `{spec}` needs {} ordering(s) out of {ORDERINGS:?}",
                    kind.arity()
                ));
            }
            ops.push(Op { kind, ord });
        }
    }
    let decision = (cols[4] != "-").then(|| cols[4].to_string());
    let files = if cols[5] == "-" {
        vec![]
    } else {
        cols[5].split_whitespace().map(String::from).collect()
    };
    let models = match cols[6].strip_prefix('-') {
        Some(why) if !why.trim().is_empty() => vec![],
        Some(_) => {
            return Err(format!(
                "{label}: a `-` in the models column needs a reason"
            ))
        }
        None => {
            let m: Vec<String> = cols[6].split_whitespace().map(String::from).collect();
            if m.iter()
                .any(|x| !["sr", "pml", "iris"].contains(&x.as_str()))
            {
                return Err(format!("{label}: models are `sr`, `pml` and `iris`"));
            }
            m
        }
    };
    Ok(Row {
        label,
        word: cols[2].to_string(),
        ops,
        decision,
        files,
        models,
        line,
    })
}

/// A step label: one capital letter and a number (`R1`, `G10`).
pub fn is_label(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_ascii_uppercase())
        && !c.as_str().is_empty()
        && c.as_str().chars().all(|d| d.is_ascii_digit())
}
