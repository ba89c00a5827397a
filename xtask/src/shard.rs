//! Splitting the gate across CI runners: `--shard k/n` runs one part of the plan, and
//! `cargo xtask merge` joins the parts' results into one report that says whether every check of
//! the plan ran exactly once.
//!
//! A shard's results are written, besides its own report, as `target/verify/results.tsv`: a
//! header line (`mode`, `strict`, `shard`) and one line per check (and per model row), tab
//! separated, so the merge needs no JSON parser.

use crate::plan::{self, Check, Count};
use crate::report::Report;
use crate::run::{CheckResult, ModelRow, Status};
use crate::Options;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Parse `k/n` (1 ≤ k ≤ n).
pub fn parse(s: &str) -> Result<(usize, usize), String> {
    let (k, n) = s
        .split_once('/')
        .and_then(|(k, n)| Some((k.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
        .ok_or_else(|| format!("--shard takes k/n (e.g. 1/2), not `{s}`"))?;
    if n == 0 || k == 0 || k > n {
        return Err(format!("--shard {k}/{n}: need 1 <= k <= n"));
    }
    Ok((k, n))
}

/// Which shard (0-based) each check of `checks` goes to: the longest budgets first, each to the
/// shard with the least budget so far (ties to the lower shard), so the shards take about the same
/// time. Depends only on the plan, so every shard computes the same split.
pub fn assign(checks: &[Check], n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..checks.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(checks[i].budget_s), i));
    let mut load = vec![0u64; n];
    let mut bin = vec![0; checks.len()];
    for i in order {
        let (b, _) = load
            .iter()
            .enumerate()
            .min_by_key(|(b, l)| (**l, *b))
            .expect("n >= 1");
        bin[i] = b;
        load[b] += checks[i].budget_s;
    }
    bin
}

/// The checks of shard `k` of `n`, in plan order.
pub fn select(checks: Vec<Check>, k: usize, n: usize) -> Vec<Check> {
    let bin = assign(&checks, n);
    checks
        .into_iter()
        .zip(bin)
        .filter(|(_, b)| *b == k - 1)
        .map(|(c, _)| c)
        .collect()
}

fn clean(s: &str) -> String {
    s.replace(['\t', '\n'], " ")
}

/// The results of one run as `results.tsv`.
pub fn tsv(o: &Options, shard: Option<(usize, usize)>, results: &[CheckResult]) -> String {
    let mut s = format!(
        "mode\t{}\tstrict\t{}\tshard\t{}\n",
        if o.quick { "quick" } else { "full" },
        o.strict,
        shard
            .map(|(k, n)| format!("{k}/{n}"))
            .unwrap_or_else(|| "-".into())
    );
    for r in results {
        let (status, why) = match &r.status {
            Status::Pass => ("PASS", String::new()),
            Status::Fail(w) => ("FAIL", w.clone()),
            Status::Skipped(w) => ("SKIPPED", w.clone()),
            Status::NotRun => ("NOTRUN", String::new()),
        };
        s.push_str(&format!(
            "C\t{}\t{}\t{}\t{}\t{}\t{:.1}\t{status}\t{}\n",
            r.check.tier,
            r.check.tier_name,
            clean(&r.check.name),
            clean(&r.check.covers),
            clean(&r.count),
            r.secs,
            clean(&why)
        ));
        for m in &r.models {
            s.push_str(&format!(
                "M\t{}\t{}\t{}\t{}\t{}\t{}\n",
                m.checker, m.name, m.invariants, m.iterations, m.bound, m.secs
            ));
        }
    }
    s
}

/// A check rebuilt from a results line (what the report prints of it).
fn check_from(tier: u8, tier_name: &str, name: &str, covers: &str) -> Check {
    let tier_name = plan::TIERS
        .iter()
        .find(|t| **t == tier_name)
        .copied()
        .unwrap_or("?");
    Check {
        tier,
        tier_name,
        name: name.into(),
        covers: covers.into(),
        cmd: vec![],
        env: vec![],
        count: Count::None,
        skip: None,
        budget_s: 0,
    }
}

/// `cargo xtask merge <results.tsv>...`: one report from the shards' results. Fails unless every
/// check of the plan (for the shards' mode) appears exactly once and passed.
pub fn merge(root: &Path, files: &[PathBuf]) -> ExitCode {
    let mut results: Vec<CheckResult> = Vec::new();
    let mut mode = None;
    let mut strict = false;
    let mut shards = Vec::new();
    for f in files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{}: {e}", f.display());
                return ExitCode::FAILURE;
            }
        };
        for line in text.lines() {
            let c: Vec<&str> = line.split('\t').collect();
            match c.first().copied() {
                Some("mode") if c.len() >= 6 => {
                    if mode.is_some_and(|m: &str| m != c[1]) {
                        eprintln!(
                            "{}: a {} shard among {} ones",
                            f.display(),
                            c[1],
                            mode.unwrap_or("?")
                        );
                        return ExitCode::FAILURE;
                    }
                    mode = Some(if c[1] == "quick" { "quick" } else { "full" });
                    strict |= c[3] == "true";
                    shards.push(c[5].to_string());
                }
                Some("C") if c.len() >= 9 => results.push(CheckResult {
                    check: check_from(c[1].parse().unwrap_or(0), c[2], c[3], c[4]),
                    status: match c[7] {
                        "PASS" => Status::Pass,
                        "FAIL" => Status::Fail(c[8].to_string()),
                        "SKIPPED" => Status::Skipped(c[8].to_string()),
                        _ => Status::NotRun,
                    },
                    count: c[5].to_string(),
                    secs: c[6].parse().unwrap_or(0.0),
                    models: vec![],
                    hints: vec![],
                    log: f.clone(),
                }),
                Some("M") if c.len() >= 7 => {
                    if let Some(r) = results.last_mut() {
                        r.models.push(ModelRow {
                            checker: c[1].into(),
                            name: c[2].into(),
                            invariants: c[3].into(),
                            iterations: c[4].parse().unwrap_or(0),
                            bound: c[5].into(),
                            secs: c[6].into(),
                        });
                    }
                }
                _ => {}
            }
        }
    }
    let Some(mode) = mode else {
        eprintln!("no results to merge");
        return ExitCode::FAILURE;
    };
    // Exactly once: against the plan the shards were cut from.
    let o = Options {
        quick: mode == "quick",
        ..Options::default()
    };
    let planned: Vec<String> = plan::plan(root, &o)
        .into_iter()
        .map(|c| clean(&c.name))
        .collect();
    let mut problems = Vec::new();
    for p in &planned {
        match results.iter().filter(|r| &r.check.name == p).count() {
            1 => {}
            0 => problems.push(format!("check `{p}` ran in no shard")),
            k => problems.push(format!("check `{p}` ran in {k} shards")),
        }
    }
    for r in &results {
        if !planned.contains(&r.check.name) {
            problems.push(format!("check `{}` is not in the plan", r.check.name));
        }
    }
    results.sort_by_key(|r| {
        planned
            .iter()
            .position(|p| *p == r.check.name)
            .unwrap_or(usize::MAX)
    });
    let total: f64 = results.iter().map(|r| r.secs).sum();
    let rep = Report::new(mode, strict, &results, Duration::from_secs_f64(total));
    rep.print();
    match rep.write(&root.join("target/verify")) {
        Ok(paths) => println!("merged report written to {}", paths.join(" and ")),
        Err(e) => eprintln!("could not write the report: {e}"),
    }
    for p in &problems {
        println!("MERGE: {p}");
    }
    println!(
        "FT-MERGE shards={} checks={} planned={} every_check_exactly_once={}",
        shards.join(","),
        results.len(),
        planned.len(),
        problems.is_empty()
    );
    if problems.is_empty() && rep.passed() {
        println!("GATE: PASS");
        ExitCode::SUCCESS
    } else {
        println!("GATE: FAIL");
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_the_plan_exactly_once() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        for quick in [true, false] {
            let o = Options {
                quick,
                ..Options::default()
            };
            let all: Vec<String> = plan::plan(&root, &o).into_iter().map(|c| c.name).collect();
            for n in 1..=4 {
                let mut seen: Vec<String> = (1..=n)
                    .flat_map(|k| select(plan::plan(&root, &o), k, n))
                    .map(|c| c.name)
                    .collect();
                assert_eq!(seen.len(), all.len(), "{n} shards");
                seen.sort();
                let mut want = all.clone();
                want.sort();
                assert_eq!(seen, want, "{n} shards");
            }
        }
    }

    #[test]
    fn parses_shards() {
        assert_eq!(parse("2/4"), Ok((2, 4)));
        assert!(parse("0/2").is_err() && parse("3/2").is_err() && parse("x").is_err());
    }
}
