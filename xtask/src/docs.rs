//! `cargo xtask docs`: the measured numbers in the docs come from the gate's report.
//!
//! `cargo xtask docs` copies the summary table of the last report (`target/verify/report.md`)
//! into `CI.md`, between `<!-- gate-report:quick -->` (or `:full`) and `<!-- /gate-report -->`,
//! stamped with the commit and date. `cargo xtask docs --check` (lint tier) fails when a doc
//! states a measured number (a count of models, interleavings, states, tests, mutants, … or a
//! time) outside such a block: a number typed by hand drifts from the next run. It also fails
//! when a public item of the kernel or the executor has no doc example (`examples.rs`).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;

/// The docs whose numbers must be generated.
pub const DOCS: [&str; 4] = ["README.md", "CI.md", "models/README.md", "proofs/README.md"];

/// Units that make a number a measurement.
const UNITS: [&str; 16] = [
    "s",
    "min",
    "ms",
    "interleavings",
    "models",
    "races",
    "mutants",
    "states",
    "tests",
    "iterations",
    "kill",
    "lemmas",
    "seeds",
    "histories",
    "cases",
    "runs",
];

const END: &str = "<!-- /gate-report -->";

/// Lines of `text` outside generated blocks that state a measured number: `(line, text)`.
pub fn hand_typed(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut generated = false;
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("<!-- gate-report:") {
            generated = true;
            continue;
        }
        if line.starts_with(END) {
            generated = false;
            continue;
        }
        let header = line.starts_with('|') && (i == 0 || !lines[i - 1].starts_with('|'));
        if !generated && (has_measurement(line) || (header && measured_columns(line))) {
            out.push((i + 1, line.trim().to_string()));
        }
    }
    out
}

/// A table header with a column of measurements (its rows are numbers typed by hand).
fn measured_columns(header: &str) -> bool {
    header.split('|').any(|cell| {
        let c = cell.trim().to_lowercase();
        [
            "interleavings",
            "iterations",
            "states",
            "secs",
            "time",
            "seconds",
            "stored",
        ]
        .iter()
        .any(|w| c.split(|ch: char| !ch.is_alphanumeric()).any(|x| x == *w))
    })
}

/// A number followed by a unit: `250 s`, `3,696,969 interleavings`, `6.56 M states`.
fn has_measurement(line: &str) -> bool {
    let words: Vec<&str> = line
        .split(|c: char| c.is_whitespace() || "()|;:".contains(c))
        .filter(|w| !w.is_empty())
        // A table row's first cell names a tier (`| 2 tests |`), not a measurement.
        .skip(usize::from(line.starts_with('|')))
        .collect();
    words.windows(2).chain(words.windows(3)).any(|w| {
        let num = w[0].trim_start_matches(['~', '≈']);
        let is_num = num.chars().next().is_some_and(|c| c.is_ascii_digit())
            && num
                .chars()
                .all(|c| c.is_ascii_digit() || ",.–-".contains(c));
        let unit_at = if w.len() == 3 && matches!(w[1], "k" | "M") {
            2
        } else {
            1
        };
        let unit = w[unit_at].trim_end_matches([',', '.']);
        is_num && (w.len() == 2 || unit_at == 2) && UNITS.contains(&unit)
    })
}

/// The `FT_*` variables the code reads, and those CI.md's knob table lists.
fn knobs(root: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut read = BTreeSet::new();
    for dir in [
        "kernel", "executor", "models", "tests", "proofs", "xtask", "benches", "examples",
    ] {
        walk(&root.join(dir), &mut |path, text| {
            let rs = path.extension().is_some_and(|e| e == "rs");
            let pats: &[&str] = if rs {
                &[
                    "var(\"FT_",
                    "var_os(\"FT_",
                    "env!(\"FT_",
                    "count(\"FT_",
                    "seed_from_env(\"FT_",
                ]
            } else {
                &["${FT_", "$FT_"]
            };
            for pat in pats {
                for (at, _) in text.match_indices(pat) {
                    let start = at + pat.len() - 3;
                    let name: String = text[start..]
                        .chars()
                        .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                        .collect();
                    read.insert(name.trim_end_matches('_').to_string());
                }
            }
        });
    }
    let ci = std::fs::read_to_string(root.join("CI.md")).unwrap_or_default();
    let mut listed = BTreeSet::new();
    if let Some(start) = ci.find("## Knobs") {
        let section = &ci[start..];
        let end = section[3..].find("\n## ").map_or(section.len(), |e| e + 3);
        for line in section[..end].lines().filter(|l| l.starts_with('|')) {
            let first = line.split('|').nth(1).unwrap_or("");
            for word in first.split(|c: char| !(c.is_ascii_uppercase() || c == '_')) {
                if word.starts_with("FT_") {
                    listed.insert(word.to_string());
                }
            }
        }
    }
    (read, listed)
}

/// Call `f` on every `.rs` and `.sh` file under `dir` (no `target` directories).
fn walk(dir: &Path, f: &mut dyn FnMut(&Path, &str)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "target") {
                walk(&p, f);
            }
        } else if p.extension().is_some_and(|x| x == "rs" || x == "sh") {
            if let Ok(text) = std::fs::read_to_string(&p) {
                f(&p, &text);
            }
        }
    }
}

/// `cargo xtask docs --check`.
pub fn check(root: &Path) -> ExitCode {
    let mut bad = 0;
    for doc in DOCS {
        let Ok(text) = std::fs::read_to_string(root.join(doc)) else {
            continue;
        };
        for (line, t) in hand_typed(&text) {
            println!("HAND-TYPED {doc}:{line}: {t}");
            bad += 1;
        }
    }
    let (read, listed) = knobs(root);
    for v in read.difference(&listed) {
        println!("KNOB {v}: read by the code, missing from CI.md's table of environment variables");
        bad += 1;
    }
    for v in listed.difference(&read) {
        println!("KNOB {v}: listed in CI.md, read nowhere (remove it from the table)");
        bad += 1;
    }
    // Every public item of the kernel and the executor has a doc example (`examples.rs`).
    let (examples, missing, examples_self_test) = crate::examples::check(root);
    for m in &missing {
        println!("NO-EXAMPLE {m}: a public item whose doc comment has no example (no ``` block)");
    }
    // The check must be able to fail: a planted measurement is found, and so are the planted
    // items without an example.
    let planted = hand_typed("loom took 250 s over 3,696,969 interleavings\n");
    let self_test = planted.len() + usize::from(examples_self_test);
    println!(
        "FT-DOCS docs={} hand_typed={bad} examples={examples} missing={} self_test={self_test}",
        DOCS.len(),
        missing.len()
    );
    if bad == 0 && missing.is_empty() && self_test == 2 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The CI.md block a report fills, from its title: `quick` or `full` for a run of the whole gate,
/// `full-shards` for the merge of a sharded run. A report of part of the gate (one shard, `--only`)
/// states no gate time and fills no block.
fn block_name(title: &str) -> Result<String, String> {
    if let Some((_, part)) = title.split_once(", part: ") {
        return Err(format!(
            "the last report covers part of the gate ({part}): run the whole gate, or `cargo xtask merge` every shard's results, before `cargo xtask docs`"
        ));
    }
    let mode = if title.contains("quick gate") {
        "quick"
    } else {
        "full"
    };
    Ok(if title.contains(" shard") {
        format!("{mode}-shards")
    } else {
        mode.to_string()
    })
}

/// `cargo xtask docs`: copy the last report's summary into CI.md.
pub fn update(root: &Path) -> ExitCode {
    let report = match std::fs::read_to_string(root.join("target/verify/report.md")) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("no report (run `cargo xtask verify` first): {e}");
            return ExitCode::FAILURE;
        }
    };
    let mode = match block_name(report.lines().next().unwrap_or("")) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    // Everything but the title and the failures: the summary table and the per-model rows.
    let block: Vec<String> = report
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("## Failures"))
        .map(|l| match l.strip_prefix("## ") {
            Some(h) => format!("**{h}**"),
            None => l.to_string(),
        })
        .collect();
    let source = match mode.strip_suffix("-shards") {
        Some(m) => format!("the merged report of the {m} gate's shards (`cargo xtask merge`)"),
        None => format!("the {mode} gate's report"),
    };
    let stamp =
        format!("Generated by `cargo xtask docs` from {source} (`target/verify/report.md`).");
    let begin = format!("<!-- gate-report:{mode} -->");
    let new = format!("{begin}\n{stamp}\n\n{}\n{END}", block.join("\n").trim());
    let path = root.join("CI.md");
    let Ok(ci) = std::fs::read_to_string(&path) else {
        eprintln!("CI.md not found");
        return ExitCode::FAILURE;
    };
    let updated = match (
        ci.find(&begin),
        ci.find(&begin)
            .and_then(|b| ci[b..].find(END).map(|e| b + e)),
    ) {
        (Some(b), Some(e)) => format!("{}{new}{}", &ci[..b], &ci[e + END.len()..]),
        _ => {
            eprintln!("CI.md has no `{begin}` … `{END}` block to fill");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = std::fs::write(&path, updated) {
        eprintln!("cannot write CI.md: {e}");
        return ExitCode::FAILURE;
    }
    println!("CI.md: {mode} block updated from target/verify/report.md");
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_measurements_outside_blocks() {
        let doc = "loom 250 s\n<!-- gate-report:quick -->\n| loom | 3,686,754 interleavings |\n<!-- /gate-report -->\nthe I6 invariant\n6.56 M states\n\n| model | secs |\n|---|---|\n| a | 1.9 |\n";
        let found: Vec<usize> = hand_typed(doc).into_iter().map(|(l, _)| l).collect();
        assert_eq!(found, vec![1, 6, 8]);
        assert!(!has_measurement("invariants I1-I12, tiers 1 to 8"));
    }

    #[test]
    fn a_report_fills_the_block_of_its_scope() {
        let t = "# futuretask verify — ";
        assert_eq!(
            block_name(&format!("{t}quick gate (strict)")).unwrap(),
            "quick"
        );
        assert_eq!(
            block_name(&format!("{t}full gate (strict)")).unwrap(),
            "full"
        );
        assert_eq!(
            block_name(&format!("{t}full gate (strict), on 4 shards")).unwrap(),
            "full-shards"
        );
        assert!(block_name(&format!("{t}full gate (strict), part: shard 2/4")).is_err());
        assert!(block_name(&format!("{t}quick gate, part: --only loom")).is_err());
    }
}
