//! Splitting the gate across CI runners: `--shard k/n` runs one part of the plan, and
//! `cargo xtask merge` joins the parts' results into one report that says whether every check of
//! the plan ran exactly once.
//!
//! A shard's results are written, besides its own report, as `target/verify/results.tsv`: a
//! header line of `key value` pairs (`mode`, `strict`, `shard`; then `wall`: the shard's elapsed
//! time, `only` and `bench`: what the plan was cut from, all three absent in files written before
//! the side lane; then `commit`: the commit it ran at, which the merged report names for each
//! shard) and one line per check (and per model row), tab separated, so the merge needs no JSON
//! parser.

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

/// The results of one run as `results.tsv`; `wall` is the run's elapsed time.
pub fn tsv(
    o: &Options,
    shard: Option<(usize, usize)>,
    wall: Duration,
    commit: &str,
    results: &[CheckResult],
) -> String {
    let mut s = format!(
        "mode\t{}\tstrict\t{}\tshard\t{}\twall\t{:.1}\tonly\t{}\tbench\t{}\tcommit\t{}\n",
        if o.quick { "quick" } else { "full" },
        o.strict,
        shard
            .map(|(k, n)| format!("{k}/{n}"))
            .unwrap_or_else(|| "-".into()),
        wall.as_secs_f64(),
        if o.only.is_empty() {
            "-".to_string()
        } else {
            o.only.join(",")
        },
        o.bench,
        clean(commit)
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
        side: false,
    }
}

/// One shard's `results.tsv`.
struct Shard {
    /// `quick` or `full`.
    mode: &'static str,
    strict: bool,
    /// `k/n`, or `-` for a run without `--shard`.
    name: String,
    /// Its elapsed time; `None` in a file written before the header recorded it.
    wall: Option<f64>,
    /// The `--only` and `--bench` the plan was cut from (its checks must all have run).
    only: Vec<String>,
    bench: bool,
    /// The commit it ran at, as the report prints it; `None` in a file written before the header
    /// recorded it.
    commit: Option<String>,
    results: Vec<CheckResult>,
}

/// The value after `key` in a header line of `key value` pairs.
fn header<'a>(c: &[&'a str], key: &str) -> Option<&'a str> {
    c.chunks(2)
        .find(|kv| kv[0] == key)
        .and_then(|kv| kv.get(1))
        .copied()
}

/// Parse one `results.tsv` (`file` is what the results' log column points to).
fn parse_tsv(text: &str, file: &Path) -> Result<Shard, String> {
    let mut shard: Option<Shard> = None;
    for line in text.lines() {
        let c: Vec<&str> = line.split('\t').collect();
        match (c[0], shard.as_mut()) {
            ("mode", None) => {
                shard = Some(Shard {
                    mode: if header(&c, "mode") == Some("quick") {
                        "quick"
                    } else {
                        "full"
                    },
                    strict: header(&c, "strict") == Some("true"),
                    name: header(&c, "shard").unwrap_or("-").to_string(),
                    wall: header(&c, "wall").and_then(|w| w.parse().ok()),
                    only: match header(&c, "only") {
                        None | Some("-") => vec![],
                        Some(list) => list.split(',').map(String::from).collect(),
                    },
                    bench: header(&c, "bench") == Some("true"),
                    commit: header(&c, "commit").map(String::from),
                    results: vec![],
                })
            }
            ("C", Some(sh)) if c.len() >= 9 => sh.results.push(CheckResult {
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
                log: file.to_path_buf(),
            }),
            ("M", Some(sh)) if c.len() >= 7 => {
                if let Some(r) = sh.results.last_mut() {
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
    shard.ok_or_else(|| format!("{}: no `mode` header line", file.display()))
}

/// The sentence that names the commits the shards ran at: `Commit `a`` when they agree, else
/// each commit with its shards, in the shards' order (`Commits `a` (shards 1/3, 2/3), `b` (shard
/// 3/3)`). A shard whose file predates the commit field counts as "not recorded".
fn commits(shards: &[Shard]) -> String {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for sh in shards {
        let c = sh.commit.as_deref().unwrap_or("not recorded");
        match groups.iter_mut().find(|(g, _)| *g == c) {
            Some((_, names)) => names.push(&sh.name),
            None => groups.push((c, vec![&sh.name])),
        }
    }
    if let [(c, _)] = groups.as_slice() {
        return format!("Commit {c}");
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(c, names)| {
            let s = if names.len() == 1 { "" } else { "s" };
            format!("{c} (shard{s} {})", names.join(", "))
        })
        .collect();
    format!("Commits {}", parts.join(", "))
}

/// One line per shard with its wall time, and the slowest shard's wall time: the gate's time on
/// as many runners. A shard without a recorded wall time counts the sum of its checks' times.
fn wall_times(shards: &[Shard]) -> (Vec<String>, f64) {
    let mut lines = Vec::new();
    let mut max: f64 = 0.0;
    for sh in shards {
        let checks: f64 = sh.results.iter().map(|r| r.secs).sum();
        let wall = sh.wall.unwrap_or(checks);
        max = max.max(wall);
        lines.push(match sh.wall {
            Some(_) => format!(
                "shard {}: wall time {wall:.0} s (checks: {checks:.0} s)",
                sh.name
            ),
            None => format!(
                "shard {}: wall time {wall:.0} s (not recorded: the sum of its checks)",
                sh.name
            ),
        });
    }
    (lines, max)
}

/// `cargo xtask merge <results.tsv>...`: one report from the shards' results. Fails unless every
/// check of the plan (for the shards' mode) appears exactly once and passed.
pub fn merge(root: &Path, files: &[PathBuf]) -> ExitCode {
    let mut shards = Vec::new();
    for f in files {
        let parsed = std::fs::read_to_string(f)
            .map_err(|e| format!("{}: {e}", f.display()))
            .and_then(|text| parse_tsv(&text, f));
        match parsed {
            Ok(sh) => shards.push(sh),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let Some(first) = shards.first() else {
        eprintln!("no results to merge");
        return ExitCode::FAILURE;
    };
    // Exactly once: against the plan the shards were cut from.
    let o = Options {
        quick: first.mode == "quick",
        only: first.only.clone(),
        bench: first.bench,
        ..Options::default()
    };
    let cut = |sh: &Shard| (sh.mode, sh.only.clone(), sh.bench);
    if let Some(other) = shards.iter().find(|sh| cut(sh) != cut(first)) {
        eprintln!(
            "shard {} was cut from another plan (mode, --only, --bench) than shard {}: {:?} vs {:?}",
            other.name,
            first.name,
            cut(other),
            cut(first)
        );
        return ExitCode::FAILURE;
    }
    let mode = first.mode;
    let strict = shards.iter().any(|sh| sh.strict);
    let (walls, wall_max) = wall_times(&shards);
    let commits = commits(&shards);
    let names: Vec<String> = shards.iter().map(|sh| sh.name.clone()).collect();
    let mut results: Vec<CheckResult> = shards.into_iter().flat_map(|sh| sh.results).collect();
    let planned: Vec<String> = plan::plan(root, &o)
        .into_iter()
        .map(|c| clean(&c.name))
        .collect();
    let problems = coverage(&planned, &results);
    results.sort_by_key(|r| {
        planned
            .iter()
            .position(|p| *p == r.check.name)
            .unwrap_or(usize::MAX)
    });
    let parallel = format!("the slowest of {} shards run in parallel", names.len());
    let mut rep = Report::new(
        mode,
        strict,
        &results,
        Duration::from_secs_f64(wall_max),
        parallel,
    )
    .merged(walls.clone(), commits);
    if !o.only.is_empty() {
        let only: Vec<String> = o.only.iter().map(|t| format!("--only {t}")).collect();
        rep = rep.part(only.join(", "));
    }
    rep.print();
    match rep.write(&root.join("target/verify")) {
        Ok(paths) => println!("merged report written to {}", paths.join(" and ")),
        Err(e) => eprintln!("could not write the report: {e}"),
    }
    for w in &walls {
        println!("{w}");
    }
    for p in &problems {
        println!("MERGE: {p}");
    }
    println!(
        "FT-MERGE shards={} checks={} planned={} wall_max={wall_max:.0} every_check_exactly_once={}",
        names.join(","),
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

/// Every planned check must appear exactly once among the results, and nothing else.
fn coverage(planned: &[String], results: &[CheckResult]) -> Vec<String> {
    let mut problems = Vec::new();
    for p in planned {
        match results.iter().filter(|r| &r.check.name == p).count() {
            1 => {}
            0 => problems.push(format!("check `{p}` ran in no shard")),
            k => problems.push(format!("check `{p}` ran in {k} shards")),
        }
    }
    for r in results {
        if !planned.contains(&r.check.name) {
            problems.push(format!("check `{}` is not in the plan", r.check.name));
        }
    }
    problems
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

    fn result(name: &str, secs: f64) -> CheckResult {
        CheckResult {
            check: check_from(6, "proofs", name, "I1"),
            status: Status::Pass,
            count: "3 tests".into(),
            secs,
            models: vec![ModelRow {
                checker: "loom".into(),
                name: "m".into(),
                invariants: "I1".into(),
                iterations: 7,
                bound: "exhaustive".into(),
                secs: "0.1".into(),
            }],
            hints: vec![],
            log: PathBuf::new(),
        }
    }

    #[test]
    fn tsv_round_trip_keeps_the_wall_time() {
        let o = Options {
            quick: true,
            ..Options::default()
        };
        let results = [result("a", 40.0), result("b", 30.0)];
        let text = tsv(
            &o,
            Some((2, 3)),
            Duration::from_secs(45),
            "`abc1234`",
            &results,
        );
        assert!(text.starts_with(
            "mode\tquick\tstrict\tfalse\tshard\t2/3\twall\t45.0\tonly\t-\tbench\tfalse\tcommit\t`abc1234`\n"
        ));
        let sh = parse_tsv(&text, Path::new("r.tsv")).unwrap();
        assert_eq!(
            (sh.mode, sh.strict, sh.name.as_str()),
            ("quick", false, "2/3")
        );
        assert_eq!((sh.wall, sh.only.len(), sh.bench), (Some(45.0), 0, false));
        assert_eq!(sh.commit.as_deref(), Some("`abc1234`"));
        let o = Options {
            only: vec!["shuttle".into(), "6".into()],
            bench: true,
            ..o
        };
        let sh = parse_tsv(
            &tsv(&o, None, Duration::ZERO, "`d`", &results),
            Path::new("r"),
        )
        .unwrap();
        assert_eq!((sh.only, sh.bench, sh.name.as_str()), (o.only, true, "-"));
        assert_eq!(sh.results.len(), 2);
        assert_eq!(sh.results[1].check.name, "b");
        assert_eq!(sh.results[1].secs, 30.0);
        assert_eq!(sh.results[0].models[0].iterations, 7);
    }

    #[test]
    fn reads_results_without_a_wall_time() {
        // The header of a file written before the side lane: no `wall` field.
        let text = "mode\tfull\tstrict\ttrue\tshard\t1/2\nC\t6\tproofs\ta\tI1\t-\t12.5\tPASS\t\n";
        let sh = parse_tsv(text, Path::new("old.tsv")).unwrap();
        assert_eq!((sh.mode, sh.strict, sh.wall), ("full", true, None));
        assert_eq!(sh.commit, None);
        assert!(sh.only.is_empty() && !sh.bench);
        assert_eq!(sh.results[0].secs, 12.5);
        assert!(parse_tsv("C\t6\tproofs\ta\tI1\t-\t1\tPASS\t\n", Path::new("x")).is_err());
    }

    fn shard(name: &str, wall: Option<f64>, commit: Option<&str>) -> Shard {
        Shard {
            mode: "quick",
            strict: false,
            name: name.into(),
            wall,
            only: vec![],
            bench: false,
            commit: commit.map(String::from),
            results: vec![result("a", 40.0), result("b", 30.0)],
        }
    }

    #[test]
    fn merge_names_each_commit_the_shards_ran_at() {
        let at = |c: &str, n: &str| shard(n, None, Some(c));
        assert_eq!(
            commits(&[at("`a1`", "1/2"), at("`a1`", "2/2")]),
            "Commit `a1`"
        );
        assert_eq!(
            commits(&[
                at("`a1`", "1/4"),
                at("`b2`", "2/4"),
                at("`a1`", "3/4"),
                shard("4/4", None, None),
            ]),
            "Commits `a1` (shards 1/4, 3/4), `b2` (shard 2/4), not recorded (shard 4/4)"
        );
    }

    #[test]
    fn merge_reports_each_shard_wall_time_and_the_max() {
        let shard = |name: &str, wall: Option<f64>| shard(name, wall, None);
        let (lines, max) = wall_times(&[
            shard("1/3", Some(50.0)),
            shard("2/3", Some(61.0)),
            shard("3/3", None),
        ]);
        assert_eq!(
            lines,
            [
                "shard 1/3: wall time 50 s (checks: 70 s)",
                "shard 2/3: wall time 61 s (checks: 70 s)",
                "shard 3/3: wall time 70 s (not recorded: the sum of its checks)",
            ]
        );
        assert_eq!(max, 70.0);
    }

    #[test]
    fn coverage_finds_missing_and_repeated_checks() {
        let planned = ["a".to_string(), "b".to_string()];
        assert!(coverage(&planned, &[result("a", 1.0), result("b", 1.0)]).is_empty());
        let problems = coverage(
            &planned,
            &[result("a", 1.0), result("a", 1.0), result("c", 1.0)],
        );
        assert_eq!(
            problems,
            [
                "check `a` ran in 2 shards",
                "check `b` ran in no shard",
                "check `c` is not in the plan",
            ]
        );
    }

    #[test]
    fn parses_shards() {
        assert_eq!(parse("2/4"), Ok((2, 4)));
        assert!(parse("0/2").is_err() && parse("3/2").is_err() && parse("x").is_err());
    }
}
