//! The mutation harness's registry, `models/mutants/REGISTRY`, and `cargo xtask mutants-check`:
//! the lint-tier check that the registry, the mutant patches, `models/MANIFEST.txt` and the
//! proofs' own mutants agree (the harness itself, `models/run-mutants.sh`, runs in tier 7).
//!
//! The registry is one stanza per mutant, one `key value...` per line (see its header):
//! `mutant`, `invariants`, `description`, the checkers in kill order (`loom`, `shuttle`, `miri`
//! with their models or `n/a`; `tests`), and the counterparts `stateright`, `promela`, `iris`
//! (a name or `-`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;

/// The registry, relative to the workspace root.
pub const REGISTRY: &str = "models/mutants/REGISTRY";
/// Where the mutant patches live, relative to the workspace root.
pub const PATCHES: &str = "models/mutants";

/// The checkers a registry entry may list.
const CHECKERS: [&str; 4] = ["loom", "shuttle", "miri", "tests"];

/// One checker run of a mutant's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// `loom`, `shuttle`, `miri` or `tests`.
    pub checker: String,
    /// The models it runs; `None` when the checker is blind to the bug (`n/a`).
    pub models: Option<Vec<String>>,
}

/// One registry entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mutant {
    /// Name (the patch is `models/mutants/<name>.patch`).
    pub name: String,
    /// Line of its `mutant` line in the registry (1-based).
    pub line: usize,
    /// Invariant ids and protocol steps it breaks.
    pub invariants: Vec<String>,
    /// One-line description.
    pub description: String,
    /// Checkers in kill order.
    pub steps: Vec<Step>,
    /// `Mutation::<variant>` of `proofs/src/model.rs`, if one plants the same bug.
    pub stateright: Option<String>,
    /// `MUTANT_…` of `proofs/futuretask.pml`, if one plants the same bug.
    pub promela: Option<String>,
    /// `proofs/iris/mutants/<name>.patch`, if one plants the same bug.
    pub iris: Option<String>,
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.starts_with(|c: char| c.is_ascii_lowercase())
}

/// Parse the registry text. Errors name the line.
pub fn parse(text: &str) -> Result<Vec<Mutant>, Vec<String>> {
    let (out, errors) = parse_all(text);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Parse what can be parsed, and every error (so that one check reports every problem at once).
fn parse_all(text: &str) -> (Vec<Mutant>, Vec<String>) {
    let mut out: Vec<Mutant> = Vec::new();
    let mut errors = Vec::new();
    // Keys given, per entry (a key given twice is an error).
    let mut given: Vec<BTreeSet<String>> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let (key, rest) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
        let rest = rest.trim();
        let err = |msg: String| format!("{REGISTRY}:{line}: {msg}");
        if key == "mutant" {
            if !is_ident(rest) {
                errors.push(err(format!(
                    "mutant name `{rest}` is not a lower-case identifier"
                )));
            } else if out.iter().any(|m| m.name == rest) {
                errors.push(err(format!("mutant `{rest}` is listed twice")));
            }
            out.push(Mutant {
                name: rest.to_string(),
                line,
                ..Mutant::default()
            });
            given.push(BTreeSet::new());
            continue;
        }
        let (Some(m), Some(seen)) = (out.last_mut(), given.last_mut()) else {
            errors.push(err(format!("`{key}` before the first `mutant` line")));
            continue;
        };
        if !seen.insert(key.to_string()) {
            errors.push(err(format!("mutant {}: `{key}` given twice", m.name)));
            continue;
        }
        let name_or_dash = |v: &str| (v != "-").then(|| v.to_string());
        match key {
            "invariants" => {
                m.invariants = rest
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            }
            "description" => m.description = rest.to_string(),
            "stateright" => m.stateright = name_or_dash(rest),
            "promela" => m.promela = name_or_dash(rest),
            "iris" => m.iris = name_or_dash(rest),
            c if CHECKERS.contains(&c) => {
                let words: Vec<String> = rest.split_whitespace().map(String::from).collect();
                let models = if words == ["n/a"] {
                    None
                } else {
                    if c == "tests" && !words.is_empty() {
                        errors.push(err(format!(
                            "mutant {}: `tests` takes no models (it runs cargo test -p futuretask -p futuretask-executor)",
                            m.name
                        )));
                    }
                    if c != "tests" && words.is_empty() {
                        errors.push(err(format!(
                            "mutant {}: `{c}` lists no models (name them, or write n/a)",
                            m.name
                        )));
                    }
                    if words.iter().any(|w| w == "n/a" || w == "-") {
                        errors.push(err(format!(
                            "mutant {}: `{c}` mixes n/a with models",
                            m.name
                        )));
                    }
                    Some(words)
                };
                m.steps.push(Step {
                    checker: c.to_string(),
                    models,
                });
            }
            other => errors.push(err(format!(
                "mutant {}: unknown key `{other}` (mutant, invariants, description, loom, \
                 shuttle, miri, tests, stateright, promela, iris)",
                m.name
            ))),
        }
    }
    for (m, seen) in out.iter().zip(&given) {
        let at = format!("{REGISTRY}:{}: mutant {}", m.line, m.name);
        if m.invariants.is_empty() {
            errors.push(format!("{at}: no `invariants`"));
        }
        if m.description.is_empty() {
            errors.push(format!("{at}: no `description`"));
        }
        if !m.steps.iter().any(|s| s.models.is_some()) {
            errors.push(format!("{at}: no checker is expected to kill it"));
        }
        for key in ["stateright", "promela", "iris"] {
            // Explicit `-` required: a counterpart is mapped, or known to be missing.
            if !seen.contains(key) {
                errors.push(format!(
                    "{at}: no `{key}` line (a counterpart's name, or -)"
                ));
            }
        }
    }
    if out.is_empty() {
        errors.push(format!("{REGISTRY}: no mutant"));
    }
    (out, errors)
}

/// Read and parse the registry under `root`.
pub fn load(root: &Path) -> Result<Vec<Mutant>, Vec<String>> {
    let text = fs::read_to_string(root.join(REGISTRY))
        .map_err(|e| vec![format!("cannot read {REGISTRY}: {e}")])?;
    parse(&text)
}

/// `models/MANIFEST.txt`: checker (`loom`, `shuttle-pct`, …) → model names.
fn manifest(root: &Path) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    let text = fs::read_to_string(root.join("models/MANIFEST.txt"))
        .map_err(|e| format!("cannot read models/MANIFEST.txt: {e}"))?;
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for l in text.lines() {
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let mut w = l.split_whitespace();
        if let (Some(c), Some(n)) = (w.next(), w.next()) {
            out.entry(c.to_string()).or_default().insert(n.to_string());
        }
    }
    Ok(out)
}

/// The variants of `pub enum Mutation` in `proofs/src/model.rs`.
fn stateright_variants(root: &Path) -> Result<BTreeSet<String>, String> {
    let text = fs::read_to_string(root.join("proofs/src/model.rs"))
        .map_err(|e| format!("cannot read proofs/src/model.rs: {e}"))?;
    let start = text
        .find("pub enum Mutation {")
        .ok_or("proofs/src/model.rs has no `pub enum Mutation {`")?;
    let body = &text[start + "pub enum Mutation {".len()..];
    let body = &body[..body.find("\n}").unwrap_or(body.len())];
    Ok(body
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//") && !l.starts_with('#'))
        .filter_map(|l| {
            let id: String = l
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            (!id.is_empty()).then_some(id)
        })
        .collect())
}

/// Whether `word` occurs in `line` as a whole identifier.
fn has_word(line: &str, word: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    line.match_indices(word)
        .any(|(i, _)| !line[..i].ends_with(ident) && !line[i + word.len()..].starts_with(ident))
}

/// `git apply --check` of one patch against the working tree.
fn applies(root: &Path, patch: &Path) -> Result<(), String> {
    let out = Command::new("git")
        .args(["apply", "--check", "--"])
        .arg(patch)
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let why = String::from_utf8_lossy(&out.stderr);
        Err(why.lines().take(4).collect::<Vec<_>>().join("; "))
    }
}

/// Every check of the registry against the tree. `Ok` carries the summary line.
pub fn check(root: &Path) -> Result<String, Vec<String>> {
    let text = fs::read_to_string(root.join(REGISTRY))
        .map_err(|e| vec![format!("cannot read {REGISTRY}: {e}")])?;
    let (mutants, mut errors) = parse_all(&text);
    let at = |m: &Mutant| format!("mutant {} ({REGISTRY}:{})", m.name, m.line);

    // Registry <-> patches, and each patch applies to the current tree.
    let dir = root.join(PATCHES);
    let mut patches = BTreeSet::new();
    match fs::read_dir(&dir) {
        Ok(rd) => {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if let Some(stem) = n.strip_suffix(".patch") {
                    patches.insert(stem.to_string());
                }
            }
        }
        Err(e) => errors.push(format!("cannot read {PATCHES}: {e}")),
    }
    for p in &patches {
        if !mutants.iter().any(|m| &m.name == p) {
            errors.push(format!(
                "{PATCHES}/{p}.patch has no entry in {REGISTRY} (add a `mutant {p}` stanza)"
            ));
        }
    }
    for m in &mutants {
        let rel = format!("{PATCHES}/{}.patch", m.name);
        if !patches.contains(&m.name) {
            errors.push(format!("{}: no patch {rel}", at(m)));
            continue;
        }
        let path = root.join(&rel);
        let text = fs::read_to_string(&path).unwrap_or_default();
        if !text.lines().any(|l| l.starts_with("@@ ")) {
            errors.push(format!("{}: {rel} has no hunk", at(m)));
            continue;
        }
        if let Err(why) = applies(root, &path) {
            errors.push(format!(
                "{}: {rel} does not apply to the current tree (git apply --check: {why}); \
                 re-plant it on the current source and regenerate it with git diff",
                at(m)
            ));
        }
    }

    // Models: each is listed in models/MANIFEST.txt under its checker.
    let mut model_refs = 0;
    match manifest(root) {
        Ok(man) => {
            let listed = |prefix: &str, name: &str| {
                man.iter()
                    .filter(|(c, _)| *c == prefix || c.starts_with(&format!("{prefix}-")))
                    .any(|(_, names)| names.contains(name))
            };
            for m in &mutants {
                for s in &m.steps {
                    for model in s.models.iter().flatten() {
                        model_refs += 1;
                        // loom models are test paths (`executor::submit_drop`).
                        let name = model.rsplit("::").next().unwrap_or(model);
                        if !listed(&s.checker, name) {
                            errors.push(format!(
                                "{}: {} model `{model}` is not in models/MANIFEST.txt",
                                at(m),
                                s.checker
                            ));
                        }
                    }
                }
            }
        }
        Err(e) => errors.push(e),
    }

    // Counterparts in the protocol models.
    let (mut sr, mut pml, mut iris) = (0, 0, 0);
    match stateright_variants(root) {
        Ok(variants) => {
            for m in &mutants {
                if let Some(v) = &m.stateright {
                    sr += 1;
                    if v == "None" || !variants.contains(v) {
                        errors.push(format!(
                            "{}: stateright counterpart `Mutation::{v}` is not a variant of \
                             `enum Mutation` in proofs/src/model.rs",
                            at(m)
                        ));
                    }
                }
            }
        }
        Err(e) => errors.push(e),
    }
    let promela = fs::read_to_string(root.join("proofs/futuretask.pml")).unwrap_or_default();
    let spin = fs::read_to_string(root.join("proofs/run-spin.sh")).unwrap_or_default();
    for m in &mutants {
        if let Some(name) = &m.promela {
            pml += 1;
            let defined = promela
                .lines()
                .any(|l| l.trim_start().starts_with("#if") && has_word(l, name));
            if !name.starts_with("MUTANT_") || !defined {
                errors.push(format!(
                    "{}: Promela counterpart `{name}` is not a MUTANT_ macro tested by an #if in \
                     proofs/futuretask.pml",
                    at(m)
                ));
            } else if !spin.lines().any(|l| has_word(l, name)) {
                errors.push(format!(
                    "{}: Promela counterpart `{name}` is not run by proofs/run-spin.sh --mutants",
                    at(m)
                ));
            }
        }
        if let Some(name) = &m.iris {
            iris += 1;
            let rel = format!("proofs/iris/mutants/{name}.patch");
            if !root.join(&rel).is_file() {
                errors.push(format!("{}: Iris counterpart `{name}`: no {rel}", at(m)));
            }
        }
    }

    // The shipped source plants nothing.
    let mut planted = Vec::new();
    for src in ["kernel/src", "executor/src"] {
        scan_kernel(&root.join(src), root, &mut planted);
    }
    for p in planted {
        errors.push(format!(
            "{p}: a planted-bug switch in the shipped source (mutants are patches in {PATCHES})"
        ));
    }

    if errors.is_empty() {
        let mut s = String::new();
        let _ = write!(
            s,
            "mutants-check: {} mutants in {REGISTRY}, each with a patch that applies to the \
             current tree; {model_refs} model references found in models/MANIFEST.txt; \
             counterparts: {sr} stateright, {pml} Promela, {iris} Iris",
            mutants.len()
        );
        Ok(s)
    } else {
        Err(errors)
    }
}

/// `file:line` of every `mutant(` call or `FT_MUTANT` under `dir` (`.rs` files).
fn scan_kernel(dir: &Path, root: &Path, out: &mut Vec<String>) {
    let Ok(rd) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            scan_kernel(&p, root, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&p).unwrap_or_default();
            for (i, l) in text.lines().enumerate() {
                if l.contains("mutant(") || l.contains("FT_MUTANT") {
                    let rel = p.strip_prefix(root).unwrap_or(&p);
                    out.push(format!("{}:{}", rel.display(), i + 1));
                }
            }
        }
    }
}

/// `cargo xtask mutants-check`: print the summary, or every problem; the exit status says which.
pub fn main(root: &Path) -> bool {
    match check(root) {
        Ok(summary) => {
            println!("{summary}");
            println!("mutants-check: OK");
            true
        }
        Err(errors) => {
            for e in &errors {
                println!("error: {e}");
            }
            println!("mutants-check: FAILED ({} problem(s))", errors.len());
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = "# comment\nmutant a_b\n  invariants I2,I9\n  description d e\n  \
                       loom x y\n  shuttle n/a\n  tests\n  stateright S\n  promela -\n  iris -\n";

    #[test]
    fn parses_a_stanza() {
        let v = parse(ONE).unwrap();
        assert_eq!(v.len(), 1);
        let m = &v[0];
        assert_eq!((m.name.as_str(), m.line), ("a_b", 2));
        assert_eq!(m.invariants, ["I2", "I9"]);
        assert_eq!(m.description, "d e");
        assert_eq!(m.steps.len(), 3);
        assert_eq!(
            m.steps[0].models.as_deref(),
            Some(&["x".into(), "y".into()][..])
        );
        assert_eq!(m.steps[1].models, None);
        assert_eq!(m.steps[2].models.as_deref(), Some(&[][..]));
        assert_eq!(m.stateright.as_deref(), Some("S"));
        assert_eq!((m.promela.clone(), m.iris.clone()), (None, None));
    }

    #[test]
    fn rejects_drift() {
        let bad = |t: &str| parse(t).unwrap_err().join("\n");
        assert!(bad(&ONE.replace("  iris -\n", "")).contains("no `iris` line"));
        assert!(bad(&ONE.replace("tests", "tests x")).contains("takes no models"));
        assert!(bad(&ONE.replace("loom x y", "lom x y")).contains("unknown key `lom`"));
        assert!(bad(&format!("{ONE}{ONE}")).contains("listed twice"));
        assert!(bad(&ONE.replace("description d e", "")).contains(":2: mutant a_b: no `desc"));
        let dead = ONE.replace("loom x y", "loom n/a").replace("  tests\n", "");
        assert!(bad(&dead).contains("no checker is expected to kill it"));
    }

    #[test]
    fn words() {
        assert!(has_word("#ifdef MUTANT_A", "MUTANT_A"));
        assert!(!has_word("#ifdef MUTANT_AB", "MUTANT_A"));
    }
}
