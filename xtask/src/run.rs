//! Running checks: stream output to a log and to the terminal (progress lines only), enforce a
//! watchdog, and turn the output into counts, per-model rows and reproduction hints.

use crate::plan::{Check, Count};
use crate::Options;
use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

/// Outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Passed.
    Pass,
    /// Failed, with the reason.
    Fail(String),
    /// Could not run, with the reason.
    Skipped(String),
    /// Not run because an earlier tier failed.
    NotRun,
}

/// One model's line (`FT-MODEL …`).
#[derive(Debug, Clone)]
pub struct ModelRow {
    /// loom / shuttle-pct / shuttle-random / miri.
    pub checker: String,
    /// Model name.
    pub name: String,
    /// Invariant ids.
    pub invariants: String,
    /// Interleavings / iterations.
    pub iterations: u64,
    /// Bound.
    pub bound: String,
    /// Seconds.
    pub secs: String,
}

/// Result of one check.
#[derive(Debug, Clone)]
pub struct CheckResult {
    /// The check.
    pub check: Check,
    /// Its status.
    pub status: Status,
    /// Count, as text (`123 tests`, `4,567 interleavings`, …).
    pub count: String,
    /// Wall time.
    pub secs: f64,
    /// Per-model rows, for model tiers.
    pub models: Vec<ModelRow>,
    /// How to reproduce a failure.
    pub hints: Vec<String>,
    /// Full output log.
    pub log: PathBuf,
}

fn fmt_dur(d: Duration) -> String {
    let s = d.as_secs();
    format!("{:02}:{:02}", s / 60, s % 60)
}

/// Run every check in order. After a failing tier the later tiers are reported as not run unless
/// `--keep-going` was given.
pub fn run_all(root: &Path, checks: &[Check], o: &Options, started: Instant) -> Vec<CheckResult> {
    let logs = root.join("target/verify/logs");
    let _ = fs::create_dir_all(&logs);
    let mut out = Vec::new();
    let mut failed = false;
    let total: u64 = checks.iter().map(|c| c.budget_s).sum();
    let mut spent_budget = 0;
    for (i, c) in checks.iter().enumerate() {
        let log = logs.join(format!("{}-{}-{}.log", c.tier, c.tier_name, i));
        let eta = total.saturating_sub(spent_budget);
        spent_budget += c.budget_s;
        println!(
            "\n[{}/{}] tier {} {} · {} · elapsed {} · ETA ≤ {} (budget)",
            i + 1,
            checks.len(),
            c.tier,
            c.tier_name,
            c.name,
            fmt_dur(started.elapsed()),
            fmt_dur(Duration::from_secs(eta))
        );
        if failed && !o.keep_going {
            println!("    not run: an earlier check failed (use --keep-going to run everything)");
            out.push(CheckResult {
                check: c.clone(),
                status: Status::NotRun,
                count: "-".into(),
                secs: 0.0,
                models: vec![],
                hints: vec![],
                log,
            });
            continue;
        }
        if let Some(reason) = &c.skip {
            println!("    SKIPPED: {reason}");
            out.push(CheckResult {
                check: c.clone(),
                status: Status::Skipped(reason.clone()),
                count: "-".into(),
                secs: 0.0,
                models: vec![],
                hints: vec![],
                log,
            });
            if o.strict {
                failed = true;
            }
            continue;
        }
        println!("    $ {}", c.display_cmd());
        let r = run_one(root, c, &log, started);
        match &r.status {
            Status::Pass => println!("    PASS · {} · {:.1}s", r.count, r.secs),
            Status::Fail(why) => {
                println!(
                    "    FAIL · {why} · {:.1}s · log: {}",
                    r.secs,
                    r.log.display()
                );
                failed = true;
            }
            _ => {}
        }
        out.push(r);
    }
    out
}

fn run_one(root: &Path, c: &Check, log_path: &Path, started: Instant) -> CheckResult {
    let t0 = Instant::now();
    let mut cmd = Command::new(&c.cmd[0]);
    cmd.args(&c.cmd[1..])
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in &c.env {
        cmd.env(k, v);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let mut result = CheckResult {
        check: c.clone(),
        status: Status::Pass,
        count: "-".into(),
        secs: 0.0,
        models: vec![],
        hints: vec![],
        log: log_path.to_path_buf(),
    };
    let mut child = match cmd.spawn() {
        Ok(ch) => ch,
        Err(e) => {
            result.status = Status::Fail(format!("could not start `{}`: {e}", c.cmd[0]));
            return result;
        }
    };
    let pid = child.id();
    let (tx, rx) = mpsc::channel::<String>();
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        let tx = tx.clone();
        readers.push(thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        }));
    }
    if let Some(err) = child.stderr.take() {
        let tx = tx.clone();
        readers.push(thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        }));
    }
    drop(tx);
    // Watchdog: a check that runs far past its budget is killed (a hang must not hang the gate).
    let limit = Duration::from_secs((c.budget_s * 4).max(900));
    let killed = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let (killed, done) = (Arc::clone(&killed), Arc::clone(&done));
        thread::spawn(move || {
            let start = Instant::now();
            while !done.load(Ordering::Acquire) {
                if start.elapsed() > limit {
                    killed.store(true, Ordering::Release);
                    let _ = Command::new("kill")
                        .args(["-KILL", &format!("-{pid}")])
                        .status();
                    return;
                }
                thread::sleep(Duration::from_millis(200));
            }
        })
    };
    let mut log = File::create(log_path).ok();
    let mut lines = Vec::new();
    let mut last_progress = Instant::now();
    for line in rx {
        if let Some(f) = log.as_mut() {
            let _ = writeln!(f, "{line}");
        }
        if is_progress(&line) {
            println!("    | {}", line.trim());
            last_progress = Instant::now();
        } else if last_progress.elapsed() > Duration::from_secs(60) {
            println!(
                "    | … still running ({} elapsed in check, {} total)",
                fmt_dur(t0.elapsed()),
                fmt_dur(started.elapsed())
            );
            last_progress = Instant::now();
        }
        lines.push(line);
    }
    for r in readers {
        let _ = r.join();
    }
    let status = child.wait();
    done.store(true, Ordering::Release);
    let _ = watchdog.join();
    result.secs = t0.elapsed().as_secs_f64();
    let ok = matches!(status, Ok(s) if s.success());
    let mut problems = Vec::new();
    if killed.load(Ordering::Acquire) {
        problems.push(format!("killed by the watchdog after {}s", limit.as_secs()));
    } else if !ok {
        problems.push(match status {
            Ok(s) => format!("exit status {s}"),
            Err(e) => format!("wait failed: {e}"),
        });
    }
    count(c, &lines, &mut result, &mut problems);
    if !problems.is_empty() {
        result.status = Status::Fail(problems.join("; "));
        result.hints = hints(c, &lines);
    }
    result
}

fn is_progress(line: &str) -> bool {
    let l = line.trim_start();
    l.contains("FT-MODEL")
        || l.contains("FT-PROOF")
        || l.contains("FT-IRIS")
        || l.starts_with("test result:")
        || l.starts_with("Running ")
        || l.starts_with("Doc-tests")
        || l.contains("errors:")
        || l.contains("states, stored")
        || l.contains("KILLED")
        || l.contains("survived")
        || l.starts_with("error")
        || l.contains("panicked at")
        || l.starts_with("|")
        || l.starts_with("==")
}

/// Parse `key=value` fields of a line.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|tok| tok.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

fn cargo_tests(lines: &[String]) -> (u64, u64, u64) {
    let (mut passed, mut failed, mut runs) = (0, 0, 0);
    for l in lines {
        if let Some(rest) = l.trim_start().strip_prefix("test result: ") {
            runs += 1;
            let nums: Vec<u64> = rest
                .split(';')
                .filter_map(|part| {
                    part.split_whitespace()
                        .rev()
                        .nth(1)
                        .and_then(|n| n.parse().ok())
                        .or_else(|| part.split_whitespace().find_map(|w| w.parse().ok()))
                })
                .collect();
            if let Some(p) = nums.first() {
                passed += p;
            }
            if let Some(f) = nums.get(1) {
                failed += f;
            }
        }
    }
    (passed, failed, runs)
}

fn manifest_entries(path: &Path, prefix: &str) -> Result<BTreeSet<(String, String)>, String> {
    let text =
        fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut set = BTreeSet::new();
    for line in text.lines() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let (checker, name) = if l.contains("checker=") {
            (
                field(l, "checker").unwrap_or("").to_string(),
                field(l, "name").unwrap_or("").to_string(),
            )
        } else {
            let mut it = l
                .split(|c: char| c.is_whitespace() || c == ',' || c == '|')
                .filter(|s| !s.is_empty());
            (
                it.next().unwrap_or("").to_string(),
                it.next().unwrap_or("").to_string(),
            )
        };
        if checker.starts_with(prefix) && !name.is_empty() {
            set.insert((checker, name));
        }
    }
    Ok(set)
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn count(c: &Check, lines: &[String], r: &mut CheckResult, problems: &mut Vec<String>) {
    match &c.count {
        Count::None => r.count = "-".into(),
        Count::CargoTests => {
            let (passed, failed, runs) = cargo_tests(lines);
            r.count = format!("{} tests in {runs} binaries", thousands(passed));
            if failed > 0 {
                problems.push(format!("{failed} tests failed"));
            }
            if passed == 0 {
                problems.push("no test ran".into());
            }
        }
        Count::Models { prefix, manifest } => {
            // libtest may print `test <name> ... ` on the same line before the model's report.
            for l in lines
                .iter()
                .filter_map(|l| l.find("FT-MODEL").map(|i| &l[i..]))
            {
                let checker = field(l, "checker").unwrap_or("?");
                if !checker.starts_with(prefix) {
                    continue;
                }
                r.models.push(ModelRow {
                    checker: checker.into(),
                    name: field(l, "name").unwrap_or("?").into(),
                    invariants: field(l, "invariants").unwrap_or("?").into(),
                    iterations: field(l, "iterations")
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0),
                    bound: field(l, "bound").unwrap_or("?").into(),
                    secs: field(l, "secs").unwrap_or("?").into(),
                });
            }
            let total: u64 = r.models.iter().map(|m| m.iterations).sum();
            let unit = if *prefix == "loom" {
                "interleavings"
            } else {
                "iterations"
            };
            r.count = format!("{} {unit}, {} models", thousands(total), r.models.len());
            if r.models.is_empty() {
                problems.push("no model reported (a model binary that did not run passes silently: failing instead)".into());
            }
            for m in r.models.iter().filter(|m| m.iterations == 0) {
                problems.push(format!("model {} explored 0 {unit}", m.name));
            }
            for m in r.models.iter().filter(|m| m.bound.contains("truncated")) {
                problems.push(format!("model {} was truncated ({})", m.name, m.bound));
            }
            match manifest_entries(manifest, prefix) {
                Ok(expected) => {
                    let seen: BTreeSet<(String, String)> = r
                        .models
                        .iter()
                        .map(|m| (m.checker.clone(), m.name.clone()))
                        .collect();
                    let missing: Vec<String> = expected
                        .difference(&seen)
                        .map(|(c, n)| format!("{c}/{n}"))
                        .collect();
                    if !missing.is_empty() {
                        problems.push(format!(
                            "models in the manifest did not report: {}",
                            missing.join(", ")
                        ));
                    }
                    if expected.is_empty() {
                        problems.push(format!("manifest lists no {prefix} model"));
                    }
                }
                Err(e) => problems.push(e),
            }
        }
        Count::Stateright => {
            let (passed, failed, _) = cargo_tests(lines);
            // One row per configuration, so the report (and the docs generated from it) has
            // every configuration's state count and time.
            for l in lines
                .iter()
                .filter_map(|l| l.find("FT-PROOF").map(|i| &l[i..]))
            {
                r.models.push(ModelRow {
                    checker: field(l, "checker").unwrap_or("stateright").into(),
                    name: field(l, "name").unwrap_or("?").into(),
                    invariants: "-".into(),
                    iterations: field(l, "unique_states")
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0),
                    bound: format!("depth {}", field(l, "max_depth").unwrap_or("?")),
                    secs: field(l, "secs").unwrap_or("?").into(),
                });
            }
            let states: u64 = lines
                .iter()
                .filter_map(|l| {
                    field(l, "unique_states")
                        .or_else(|| field(l, "states"))
                        .and_then(|n| n.trim_end_matches(',').parse::<u64>().ok())
                })
                .sum();
            r.count = format!("{} states, {} tests", thousands(states), passed);
            if failed > 0 {
                problems.push(format!("{failed} tests failed"));
            }
            if passed == 0 {
                problems.push("no test ran".into());
            }
        }
        Count::Spin => {
            let mut stored = 0u64;
            let mut runs = 0;
            for l in lines {
                let t = l.trim();
                if let Some(n) = t.strip_suffix("states, stored").or_else(|| {
                    t.split("states, stored")
                        .next()
                        .filter(|_| t.contains("states, stored"))
                }) {
                    if let Some(v) = n
                        .split_whitespace()
                        .last()
                        .and_then(|x| x.parse::<f64>().ok())
                    {
                        stored += v as u64;
                        runs += 1;
                    }
                }
            }
            r.count = format!("{} states stored over {runs} pan runs", thousands(stored));
            if runs == 0 {
                problems.push("no SPIN run reported states".into());
            }
        }
        Count::Mutants => {
            let killed = lines.iter().filter(|l| l.contains("KILLED")).count();
            r.count = format!("{killed} kill marks");
            if killed == 0 {
                problems.push("no mutant reported killed".into());
            }
        }
        Count::Correspond => match lines
            .iter()
            .rev()
            .find_map(|l| l.find("FT-CORRESPOND ").map(|i| &l[i..]))
        {
            Some(l) if field(l, "steps").is_some() => {
                r.count = format!(
                    "{} steps, {} kernel markers, {} macro evaluations, drifts caught {}",
                    field(l, "steps").unwrap_or("?"),
                    field(l, "markers").unwrap_or("?"),
                    field(l, "macros").unwrap_or("?"),
                    field(l, "drifts_caught").unwrap_or("?")
                );
            }
            _ => problems.push("no FT-CORRESPOND summary (the checks found drift)".into()),
        },
        Count::Harness { registry } => {
            let killed = lines.iter().filter(|l| l.contains("KILLED")).count();
            r.count = format!("{killed} kill marks");
            if killed == 0 {
                problems.push("no mutant reported killed".into());
            }
            // "mutation harness passed: N mutants, every one killed": N is the whole registry.
            let ran = lines.iter().find_map(|l| {
                l.split("mutation harness passed: ")
                    .nth(1)?
                    .split_whitespace()
                    .next()?
                    .parse::<usize>()
                    .ok()
            });
            let root = registry
                .parent()
                .and_then(Path::parent)
                .and_then(Path::parent);
            match (ran, root.map(crate::mutants::load)) {
                (Some(n), Some(Ok(all))) if n != all.len() => problems.push(format!(
                    "the harness ran {n} mutants; {} lists {}",
                    crate::mutants::REGISTRY,
                    all.len()
                )),
                (_, Some(Err(e))) => problems.extend(e),
                _ => r.count = format!("{killed} kill marks, {} mutants", ran.unwrap_or(0)),
            }
        }
        Count::Iris => {
            match lines
                .iter()
                .rev()
                .find_map(|l| l.find("FT-IRIS ").map(|i| &l[i..]))
            {
                Some(l) => {
                    let lemmas: u64 = field(l, "lemmas").and_then(|n| n.parse().ok()).unwrap_or(0);
                    r.count = format!(
                        "{lemmas} lemmas in {} files, coqc {} s",
                        field(l, "files").unwrap_or("?"),
                        field(l, "seconds").unwrap_or("?")
                    );
                    if lemmas == 0 {
                        problems.push("the Iris build reported 0 lemmas".into());
                    }
                }
                None => problems.push("no FT-IRIS line: the Iris build did not finish".into()),
            }
        }
        Count::Bench => {
            let rows = lines
                .iter()
                .filter(|l| l.trim_start().starts_with("| P"))
                .count();
            r.count = format!("{rows} ratio rows");
        }
    }
}

/// Lines of the output that tell how to reproduce exactly this failure, plus the command.
fn hints(c: &Check, lines: &[String]) -> Vec<String> {
    const KEYS: [&str; 14] = [
        "LOOM_CHECKPOINT",
        "checkpoint",
        "schedule",
        "replay",
        "minimal failing",
        "proptest",
        "seed",
        "MIRIFLAGS",
        ".trail",
        "models/mutants/",
        "panicked at",
        "survived",
        "errors: ",
        "error[",
    ];
    let mut out = vec![format!("re-run: {}", c.display_cmd())];
    let mut seen = BTreeSet::new();
    let mut failed_tests = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim();
        // Backtrace frames ("12: loom::rt::..." and their "at /path" lines) are noise here.
        let frame = t.starts_with("at ")
            || t.split_once(':')
                .is_some_and(|(n, _)| n.chars().all(|ch| ch.is_ascii_digit()));
        if frame {
            continue;
        }
        if let Some(rest) = t.strip_prefix("thread '") {
            if let Some((name, _)) = rest.split_once('\'') {
                if t.contains("panicked at") && name != "main" {
                    failed_tests.push(name.to_string());
                }
            }
        }
        if KEYS.iter().any(|k| t.contains(k)) && t.len() < 400 && seen.insert(t.to_string()) {
            out.push(t.to_string());
            // The panic message is on the line after "panicked at".
            if t.contains("panicked at") {
                if let Some(msg) = lines.get(i + 1) {
                    let msg = msg.trim();
                    if !msg.is_empty() && msg.len() < 400 {
                        out.push(format!("  {msg}"));
                    }
                }
            }
            if out.len() > 25 {
                break;
            }
        }
    }
    if let Count::Models { prefix, .. } = c.count {
        failed_tests.sort();
        failed_tests.dedup();
        for name in &failed_tests {
            match prefix {
                "loom" => {
                    out.push(format!(
                        "this model only: RUSTFLAGS='--cfg loom' cargo test -p futuretask-models --release -- --exact {name} --nocapture"
                    ));
                    out.push(format!(
                        "its failing execution, step by step: run twice with FT_LOOM_CHECKPOINT=target/{}.loom added (the first run records it; the second replays only that execution, with the source location where each thread is blocked and the loom log)",
                        name.replace("::", "-")
                    ));
                }
                "shuttle" => out.push(format!(
                    "this model only: cargo test -p futuretask-models --features shuttle --release -- {name} --nocapture (replay the printed schedule with the replay_schedule test, see models/README.md)"
                )),
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cargo_summaries() {
        let lines = vec![
            "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.1s".to_string(),
            "test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out".to_string(),
        ];
        assert_eq!(cargo_tests(&lines), (15, 2, 2));
    }

    #[test]
    fn parses_fields() {
        let l = "FT-MODEL checker=loom name=run_x_cancel invariants=I1,I4 iterations=1234 bound=exhaustive secs=0.5";
        assert_eq!(field(l, "name"), Some("run_x_cancel"));
        assert_eq!(field(l, "iterations"), Some("1234"));
        assert_eq!(field(l, "nope"), None);
    }

    #[test]
    fn model_lines_after_libtest_prefix() {
        let c = crate::plan::Check {
            tier: 3,
            tier_name: "loom",
            name: "m".into(),
            covers: "I1".into(),
            cmd: vec!["true".into()],
            env: vec![],
            count: Count::Models {
                prefix: "loom",
                manifest: PathBuf::from("/nonexistent"),
            },
            skip: None,
            budget_s: 1,
        };
        let mut r = CheckResult {
            check: c.clone(),
            status: Status::Pass,
            count: String::new(),
            secs: 0.0,
            models: vec![],
            hints: vec![],
            log: PathBuf::new(),
        };
        let lines = vec![
            "test a ... FT-MODEL checker=loom name=a invariants=I1 iterations=5 bound=exhaustive secs=0.1".to_string(),
            "FT-MODEL checker=shuttle-pct name=b invariants=I2 iterations=7 bound=x secs=0.1".to_string(),
        ];
        let mut problems = vec![];
        count(&c, &lines, &mut r, &mut problems);
        assert_eq!(r.models.len(), 1);
        assert_eq!(r.models[0].iterations, 5);
        // An unreadable manifest is a failure, never a silent pass.
        assert!(problems.iter().any(|p| p.contains("cannot read")));
    }

    #[test]
    fn iris_line() {
        let l = "FT-IRIS lemmas=35 files=2 seconds=287";
        assert_eq!(field(l, "lemmas"), Some("35"));
        assert_eq!(field(l, "seconds"), Some("287"));
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
