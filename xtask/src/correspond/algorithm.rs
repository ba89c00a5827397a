//! ALGORITHM.md against the table: the step lines of its code blocks and their orderings.

use super::table::{is_label, Row, ORDERINGS};

/// A step as ALGORITHM.md writes it.
#[derive(Debug)]
pub struct Step {
    /// Its label.
    pub label: String,
    /// The line of the label (1-based).
    pub line: usize,
    /// The orderings in brackets on its lines, in order (`Release`, `AcqRel/Acquire`).
    pub brackets: Vec<String>,
}

/// The step lines of every fenced code block: a line starting with a label opens a step, which
/// runs until the next step line or the end of the block.
pub fn steps(text: &str) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::new();
    let mut in_block = false;
    let mut open = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            open = false;
            continue;
        }
        if !in_block {
            continue;
        }
        let first = line.split_whitespace().next().unwrap_or("");
        if is_label(first) && line.trim_start().len() > first.len() {
            out.push(Step {
                label: first.to_string(),
                line: i + 1,
                brackets: vec![],
            });
            open = true;
        }
        if open {
            let step = out.last_mut().expect("a step is open");
            step.brackets.extend(brackets(line));
        }
    }
    out
}

/// The ordering brackets of a line: `[Acquire]`, `[AcqRel/Acquire]`.
fn brackets(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find('[') {
        let Some(len) = rest[start..].find(']') else {
            break;
        };
        let inner = &rest[start + 1..start + len];
        if !inner.is_empty() && inner.split('/').all(|o| ORDERINGS.contains(&o)) {
            out.push(inner.to_string());
        }
        rest = &rest[start + len + 1..];
    }
    out
}

/// Every problem between the table and ALGORITHM.md, each naming a line.
pub fn check(rows: &[Row], text: &str, path: &str) -> Vec<String> {
    let steps = steps(text);
    let mut problems = Vec::new();
    for s in &steps {
        if steps.iter().filter(|o| o.label == s.label).count() > 1 {
            problems.push(format!(
                "{path}:{}: step {} is written twice",
                s.line, s.label
            ));
            continue;
        }
        let Some(row) = rows.iter().find(|r| r.label == s.label) else {
            problems.push(format!(
                "{path}:{}: step {} is not in the step table",
                s.line, s.label
            ));
            continue;
        };
        let want: Vec<String> = row.ops.iter().map(|o| o.ord.join("/")).collect();
        if s.brackets != want {
            problems.push(format!(
                "{path}:{}: step {} writes orderings [{}], the table (and the kernel) [{}]",
                s.line,
                s.label,
                s.brackets.join(", "),
                want.join(", ")
            ));
        }
    }
    for r in rows {
        if !steps.iter().any(|s| s.label == r.label) {
            problems.push(format!(
                "{path}: step {} of the table (line {}) is not written",
                r.label, r.line
            ));
        }
    }
    problems
}
