//! The kernel against the table: `// step <label>` markers, the atomic operations that follow
//! them, where written words come from, and writes that no step accounts for.

use super::table::{is_label, Kind, Op, Row, ORDERINGS};

/// Kernel files whose every atomic write of a protocol word must lie inside a step.
pub const PROTOCOL_FILES: [&str; 5] = [
    "task.rs",
    "counted.rs",
    "waiters.rs",
    "future.rs",
    "reclaim.rs",
];
/// The receivers that are protocol words.
const PROTOCOL_WORDS: [&str; 3] = ["state", "head", "runner"];

/// An atomic operation found in the source.
#[derive(Debug, Clone)]
pub struct Found {
    /// The operation and its orderings.
    pub op: Op,
    /// The field or variable it operates on (`state`, `head`, `next`, …).
    pub receiver: String,
    /// Its arguments, as written.
    pub args: Vec<String>,
    /// 0-based line of the call.
    pub line: usize,
}

/// A `// step <label>…` marker and the lines it covers.
#[derive(Debug)]
pub struct Region {
    /// The labels it names.
    pub labels: Vec<String>,
    /// 0-based line of the marker.
    pub marker: usize,
    /// 0-based lines covered: `start..end`.
    pub start: usize,
    /// End (exclusive).
    pub end: usize,
}

/// The labels a marker line names, if it is one: `// step R2`, `// step U1 U4: …`.
fn marker_labels(line: &str) -> Option<Vec<String>> {
    let rest = line.trim_start().strip_prefix("// step ")?;
    let head = rest.split(':').next().unwrap_or("");
    let labels: Vec<String> = head
        .split([' ', ',', '/'])
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    (!labels.is_empty() && labels.iter().all(|l| is_label(l))).then_some(labels)
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Every marker of a file with its region: the lines after it, up to the next marker or the end
/// of the enclosing block (the first line indented less than the marker).
pub fn regions(lines: &[&str]) -> Vec<Region> {
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(labels) = marker_labels(l) else {
            continue;
        };
        let ind = indent(l);
        let mut end = i + 1;
        while end < lines.len() {
            let t = lines[end];
            if marker_labels(t).is_some() || (!t.trim().is_empty() && indent(t) < ind) {
                break;
            }
            end += 1;
        }
        out.push(Region {
            labels,
            marker: i,
            start: i + 1,
            end,
        });
    }
    out
}

/// A line without its `//` comment.
fn code(line: &str) -> &str {
    match line.find("//") {
        Some(i) => &line[..i],
        None => line,
    }
}

const CALLS: [(&str, Kind); 10] = [
    (".load(", Kind::Load),
    (".store(", Kind::Store),
    (".swap(", Kind::Swap),
    (".compare_exchange(", Kind::Cas),
    (".compare_exchange_weak(", Kind::Cas),
    (".fetch_add(", Kind::Fetch),
    (".fetch_sub(", Kind::FetchSub),
    (".fetch_or(", Kind::Fetch),
    (".fetch_and(", Kind::Fetch),
    ("fence(", Kind::Fence),
];

/// The atomic operations in `lines[start..end]` (comments ignored), in order. An operation whose
/// ordering is not a literal is reported in `problems` (a step's ordering must be readable).
pub fn atomics(
    lines: &[&str],
    start: usize,
    end: usize,
    problems: &mut Vec<(usize, String)>,
) -> Vec<Found> {
    // The text of the range with each byte's line, so multi-line calls parse as one.
    let mut text = String::new();
    let mut line_of = Vec::new();
    for (i, l) in lines.iter().enumerate().take(end).skip(start) {
        let c = code(l);
        text.push_str(c);
        text.push('\n');
        line_of.extend(std::iter::repeat(i).take(c.len() + 1));
    }
    let bytes = text.as_bytes();
    let mut found: Vec<(usize, Found)> = Vec::new();
    for (pat, kind) in CALLS {
        let mut from = 0;
        while let Some(off) = text[from..].find(pat) {
            let at = from + off;
            from = at + pat.len();
            if kind == Kind::Fence && at > 0 {
                let prev = bytes[at - 1];
                if prev == b'.' || prev == b'_' || prev.is_ascii_alphanumeric() {
                    continue;
                }
            }
            let Some(args) = call_args(&text[at + pat.len()..]) else {
                continue;
            };
            let n = kind.arity();
            let ord: Vec<String> = args
                .iter()
                .rev()
                .take(n)
                .rev()
                .map(|a| a.trim().trim_start_matches("Ordering::").to_string())
                .collect();
            let literal = ord.len() == n && ord.iter().all(|o| ORDERINGS.contains(&o.as_str()));
            if !literal {
                if matches!(kind, Kind::Cas | Kind::Fence | Kind::Fetch) {
                    problems.push((
                        line_of[at],
                        format!(
                            "`{}` without a literal ordering",
                            pat.trim_matches(['.', '('])
                        ),
                    ));
                }
                continue; // `SleepWord::load()`, `mem::swap`: not an atomic of this file
            }
            found.push((
                at,
                Found {
                    op: Op { kind, ord },
                    receiver: receiver(&text[..at]),
                    args,
                    line: line_of[at],
                },
            ));
        }
    }
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, f)| f).collect()
}

/// The arguments of a call whose `(` was just consumed, split at top-level commas.
fn call_args(rest: &str) -> Option<Vec<String>> {
    let mut depth = 0usize;
    let mut args = vec![String::new()];
    for c in rest.chars() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' if depth == 0 => {
                // `f()` has no argument; `f(a, b,)` (rustfmt's trailing comma) has two.
                if args.last().is_some_and(|a| a.trim().is_empty()) {
                    args.pop();
                }
                return Some(args.into_iter().map(|a| a.trim().to_string()).collect());
            }
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                args.push(String::new());
                continue;
            }
            _ => {}
        }
        args.last_mut().expect("one argument at least").push(c);
    }
    None
}

/// The identifier right before `.op(`: `self.head\n    .cas(` → `head`.
fn receiver(before: &str) -> String {
    let t = before.trim_end();
    let ident: String = t
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    ident.chars().rev().collect()
}

/// The identifiers of an expression, without the names of called functions and paths.
fn idents(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = expr.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_alphabetic() || b[i] == b'_' {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let called = expr[i..].trim_start().starts_with('(') || expr[i..].starts_with("::");
            if !called {
                out.push(expr[s..i].to_string());
            }
        } else {
            i += 1;
        }
    }
    out
}

fn has_word(hay: &str, word: &str) -> bool {
    idents(hay).iter().any(|w| w == word)
}

fn calls(line: &str, f: &str) -> bool {
    let pat = format!("{f}(");
    line.match_indices(&pat).any(|(at, _)| {
        at == 0 || {
            let p = line.as_bytes()[at - 1];
            !(p.is_ascii_alphanumeric() || p == b'_')
        }
    })
}

/// The first line of the function that holds line `at`.
fn fn_start(lines: &[&str], at: usize) -> usize {
    (0..=at)
        .rev()
        .find(|&l| {
            let t = code(lines[l]).trim_start();
            t.contains("fn ")
                && ["fn ", "pub ", "unsafe ", "const ", "async "]
                    .iter()
                    .any(|p| t.starts_with(p))
        })
        .unwrap_or(0)
}

/// Whether `ident`, as seen at `line`, holds a result of `decision`: bound (at or above `line`,
/// inside the function) by a `let` whose right-hand side calls it or uses such a value, or by a
/// match arm's pattern below a call of it.
fn derived(
    lines: &[&str],
    r: &Region,
    line: usize,
    ident: &str,
    decision: &str,
    depth: u8,
) -> bool {
    if depth == 0 {
        return false;
    }
    let first = fn_start(lines, r.marker);
    for l in (first..=line).rev() {
        let c = code(lines[l]);
        if let Some(arrow) = c.find("=>") {
            let pat = &c[..arrow];
            if pat.contains('(') && has_word(pat, ident) {
                return (first..l).any(|k| calls(code(lines[k]), decision)) || calls(pat, decision);
            }
        }
        if let Some(after_let) = c.find("let ").map(|i| &c[i + 4..]) {
            if let Some(eq) = after_let.find(" = ") {
                if has_word(&after_let[..eq], ident) {
                    let rhs = &after_let[eq + 3..];
                    return calls(rhs, decision)
                        || idents(rhs).iter().any(|i| {
                            l > first && derived(lines, r, l - 1, i, decision, depth - 1)
                        });
                }
            }
        }
    }
    false
}

/// The value an operation writes: a CAS's new value, a store's or swap's argument.
fn written(f: &Found) -> Option<&str> {
    match f.op.kind {
        Kind::Cas => f.args.get(1).map(String::as_str),
        Kind::Store | Kind::Swap => f.args.first().map(String::as_str),
        _ => None,
    }
}

/// A label's operations (with the file each is in) and its markers' places.
type LabelOps<'a> = (String, Vec<(Found, &'a str)>, Vec<String>);

/// One kernel file: its name under kernel/src and its text.
pub struct Source<'a> {
    /// File name under kernel/src.
    pub name: &'a str,
    /// Its text.
    pub text: &'a str,
}

/// Every problem between the table and the kernel, each naming `kernel/src/<file>:<line>`.
pub fn check(rows: &[Row], sources: &[Source<'_>]) -> Vec<String> {
    let mut problems = Vec::new();
    // Per label: its operations (with the file each is in) and its markers' places.
    let mut ops_of: Vec<LabelOps<'_>> = Vec::new();
    for src in sources {
        let lines: Vec<&str> = src.text.lines().collect();
        let place = |l: usize| format!("kernel/src/{}:{}", src.name, l + 1);
        let regs = regions(&lines);
        let mut covered = vec![false; lines.len()];
        for r in &regs {
            covered[r.marker..r.end].iter_mut().for_each(|c| *c = true);
            let mut local = Vec::new();
            let found = atomics(&lines, r.start, r.end, &mut local);
            problems.extend(local.into_iter().map(|(l, m)| format!("{}: {m}", place(l))));
            for label in &r.labels {
                let Some(row) = rows.iter().find(|row| &row.label == label) else {
                    problems.push(format!(
                        "{}: marker names step {label}, which is not in the step table",
                        place(r.marker)
                    ));
                    continue;
                };
                if !row.files.iter().any(|f| f == src.name) {
                    problems.push(format!(
                        "{}: step {label} is marked here, but the table puts it in {}",
                        place(r.marker),
                        row.files.join(" ")
                    ));
                }
                check_values(row, &lines, r, &found, &place, &mut problems);
                let tagged = found.iter().map(|f| (f.clone(), src.name));
                match ops_of.iter_mut().find(|(l, _, _)| l == label) {
                    Some((_, ops, places)) => {
                        ops.extend(tagged);
                        places.push(place(r.marker));
                    }
                    None => ops_of.push((label.clone(), tagged.collect(), vec![place(r.marker)])),
                }
            }
        }
        if PROTOCOL_FILES.contains(&src.name) {
            let mut local = Vec::new();
            for f in atomics(&lines, 0, lines.len(), &mut local) {
                if f.op.kind.writes()
                    && PROTOCOL_WORDS.contains(&f.receiver.as_str())
                    && !covered[f.line]
                {
                    problems.push(format!(
                        "{}: `{}` of the protocol word `{}` is in no step (add a `// step` marker and a table row)",
                        place(f.line),
                        f.op,
                        f.receiver
                    ));
                }
            }
        }
    }
    for row in rows.iter().filter(|r| !r.files.is_empty()) {
        let Some((_, found, places)) = ops_of.iter().find(|(l, _, _)| *l == row.label) else {
            problems.push(format!(
                "step {} (proofs/steps.txt:{}): no `// step {}` marker in kernel/src/{}",
                row.label,
                row.line,
                row.label,
                row.files.join(" ")
            ));
            continue;
        };
        let got: Vec<Op> = found.iter().map(|(f, _)| f.op.clone()).collect();
        if got != row.ops {
            let show = |ops: &[Op]| {
                ops.iter()
                    .map(|o| o.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            // The first operation that differs (or the first extra one) names the place.
            let at = found
                .iter()
                .zip(&row.ops)
                .find(|((f, _), o)| f.op != **o)
                .map(|(f, _)| f)
                .or_else(|| found.get(row.ops.len()));
            let place = match at {
                Some((f, file)) => format!("kernel/src/{file}:{}", f.line + 1),
                None => places.join(", "),
            };
            problems.push(format!(
                "{place}: step {} does `{}`, the table says `{}`",
                row.label,
                show(&got),
                show(&row.ops)
            ));
        }
    }
    problems
}

/// A step that writes a protocol word writes its decision function's result (or, with none, a
/// protocol constant or a null pointer).
fn check_values(
    row: &Row,
    lines: &[&str],
    r: &Region,
    found: &[Found],
    place: &dyn Fn(usize) -> String,
    problems: &mut Vec<String>,
) {
    if !row.writes_protocol_word() {
        return;
    }
    for f in found
        .iter()
        .filter(|f| f.op.kind.writes() && f.receiver != "next")
    {
        let Some(value) = written(f) else { continue };
        let ok = match &row.decision {
            Some(d) => {
                calls(value, d)
                    || idents(value)
                        .iter()
                        .any(|i| derived(lines, r, f.line, i, d, 4))
            }
            None => value.contains("p::") || value.contains("null"),
        };
        if !ok {
            problems.push(format!(
                "{}: step {} writes `{value}`, which is not {}",
                place(f.line),
                row.label,
                match &row.decision {
                    Some(d) => format!("the result of `{d}`"),
                    None => "a protocol constant".to_string(),
                }
            ));
        }
    }
}
