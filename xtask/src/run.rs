//! Running checks: stream output to a log and to the terminal (progress lines only), enforce a
//! watchdog, and turn the output into counts, per-model rows and reproduction hints.

use crate::plan::{Check, Count};
use crate::Options;
use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
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

/// The two lanes of a run, as indices into the plan: the main lane runs in the calling thread,
/// the side lane in a background thread that starts just before the main lane's check
/// `main[side_start]` (its first check of tier 3, so the timing-sensitive tests of tiers 1-2 run
/// on a quiet machine), or after the main lane's last check when it has none.
#[derive(Debug, PartialEq, Eq)]
pub struct Lanes {
    /// The main lane's checks, in plan order.
    pub main: Vec<usize>,
    /// The side lane's checks (`Check::side`), in plan order.
    pub side: Vec<usize>,
    /// The position in `main` at which the side lane starts.
    pub side_start: usize,
}

/// Split the checks into the two lanes.
pub fn lanes(checks: &[Check]) -> Lanes {
    let (side, main): (Vec<usize>, Vec<usize>) = (0..checks.len()).partition(|&i| checks[i].side);
    let side_start = main
        .iter()
        .position(|&i| checks[i].tier >= 3)
        .unwrap_or(main.len());
    Lanes {
        main,
        side,
        side_start,
    }
}

/// The ETA (budget seconds) before the main lane's check `main[pos]`: the main checks before the
/// side lane starts, then the longer of the rest of the main lane and what the side lane has left.
fn eta(checks: &[Check], lanes: &Lanes, pos: usize, side_left: u64) -> u64 {
    let budget = |from: usize, to: usize| -> u64 {
        lanes.main[from.min(to)..to]
            .iter()
            .map(|&i| checks[i].budget_s)
            .sum()
    };
    let before = budget(pos, lanes.side_start);
    let after = budget(pos.max(lanes.side_start), lanes.main.len());
    before + after.max(side_left)
}

/// Set by Ctrl-C: every running check is killed and the rest are reported as not run.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Catch Ctrl-C. The checks run in process groups of their own (so the watchdog can kill a whole
/// group), which the terminal's SIGINT does not reach: without this, Ctrl-C would end the gate
/// and leave its checks running. With it, each lane kills its running check, the report is
/// written, and the gate fails. A second Ctrl-C ends the gate at once (the default action).
#[cfg(unix)]
pub fn catch_ctrl_c() {
    const SIGINT: i32 = 2;
    const SIG_DFL: usize = 0;
    extern "C" {
        fn signal(signum: i32, handler: usize) -> usize;
    }
    extern "C" fn on_sigint(_: i32) {
        INTERRUPTED.store(true, Ordering::SeqCst);
        // SAFETY: signal(2) is async-signal-safe; it restores the default action.
        unsafe { signal(SIGINT, SIG_DFL) };
    }
    // SAFETY: `on_sigint` only stores to an atomic and calls an async-signal-safe function.
    unsafe { signal(SIGINT, on_sigint as *const () as usize) };
}

/// Without `--keep-going`, a failure stops the gate as it did when every check ran in one line:
/// the checks after the failed one (in plan order) are not run, and a lane's running check that
/// comes after it is killed. Checks before it still run; one after it that already finished on
/// the other lane keeps its result.
struct Stop {
    keep_going: bool,
    first_failure: AtomicUsize,
}

impl Stop {
    fn failed(&self, i: usize) {
        if !self.keep_going {
            self.first_failure.fetch_min(i, Ordering::SeqCst);
        }
    }

    /// Whether check `i` must not run, or must be killed if it is running.
    fn stops(&self, i: usize) -> bool {
        INTERRUPTED.load(Ordering::SeqCst) || self.first_failure.load(Ordering::SeqCst) < i
    }
}

/// What both lanes share.
struct Gate<'a> {
    root: &'a Path,
    checks: &'a [Check],
    strict: bool,
    started: Instant,
    stop: Stop,
    /// The side lane's budget not yet spent (for the main lane's ETA).
    side_left: AtomicU64,
}

/// Prefix of the side lane's lines.
const SIDE: &str = "[side] ";

/// Run every check: the main lane in order in this thread, the side lane beside it (`lanes`).
/// Results come back in plan order. After a failing check the later ones are reported as not run
/// unless `--keep-going` was given (`Stop`).
pub fn run_all(root: &Path, checks: &[Check], o: &Options, started: Instant) -> Vec<CheckResult> {
    let _ = fs::create_dir_all(root.join("target/verify/logs"));
    let lanes = lanes(checks);
    let gate = Gate {
        root,
        checks,
        strict: o.strict,
        started,
        stop: Stop {
            keep_going: o.keep_going,
            first_failure: AtomicUsize::new(usize::MAX),
        },
        side_left: AtomicU64::new(lanes.side.iter().map(|&i| checks[i].budget_s).sum()),
    };
    let mut results: Vec<Option<CheckResult>> = vec![None; checks.len()];
    thread::scope(|s| {
        let mut side = None;
        for (pos, &i) in lanes.main.iter().enumerate() {
            if pos == lanes.side_start && !lanes.side.is_empty() {
                println!("\n{SIDE}lane started: {} checks", lanes.side.len());
                side = Some(s.spawn(|| gate.run_side(&lanes.side)));
            }
            let eta = eta(checks, &lanes, pos, gate.side_left.load(Ordering::SeqCst));
            results[i] = Some(gate.run_check(i, "", eta));
        }
        let side = match side {
            Some(lane) => lane.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
            None => gate.run_side(&lanes.side),
        };
        for (&i, r) in lanes.side.iter().zip(side) {
            results[i] = Some(r);
        }
    });
    results.into_iter().flatten().collect()
}

impl Gate<'_> {
    fn run_side(&self, side: &[usize]) -> Vec<CheckResult> {
        let mut out = Vec::new();
        for &i in side {
            let left = self.side_left.load(Ordering::SeqCst);
            out.push(self.run_check(i, SIDE, left));
            self.side_left
                .fetch_sub(self.checks[i].budget_s, Ordering::SeqCst);
        }
        out
    }

    /// Check `i` on the lane whose lines start with `prefix`: its start line, then its result.
    fn run_check(&self, i: usize, prefix: &str, eta: u64) -> CheckResult {
        let c = &self.checks[i];
        let log = self.root.join(format!(
            "target/verify/logs/{}-{}-{}.log",
            c.tier, c.tier_name, i
        ));
        if prefix.is_empty() {
            println!();
        }
        println!(
            "{prefix}[{}/{}] tier {} {} · {} · elapsed {} · {}ETA ≤ {} (budget)",
            i + 1,
            self.checks.len(),
            c.tier,
            c.tier_name,
            c.name,
            fmt_dur(self.started.elapsed()),
            if prefix.is_empty() { "" } else { "side lane " },
            fmt_dur(Duration::from_secs(eta))
        );
        let not_run = |status: Status| CheckResult {
            check: c.clone(),
            status,
            count: "-".into(),
            secs: 0.0,
            models: vec![],
            hints: vec![],
            log: log.clone(),
        };
        if self.stop.stops(i) {
            println!("{prefix}    not run: {}", stop_reason());
            return not_run(Status::NotRun);
        }
        if let Some(reason) = &c.skip {
            println!("{prefix}    SKIPPED: {reason}");
            if self.strict {
                self.stop.failed(i);
            }
            return not_run(Status::Skipped(reason.clone()));
        }
        println!("{prefix}    $ {}", c.display_cmd());
        let r = run_one(self.root, c, &log, self.started, prefix, || {
            self.stop.stops(i)
        });
        match &r.status {
            Status::Pass => println!("{prefix}    PASS · {} · {:.1}s", r.count, r.secs),
            Status::Fail(why) => {
                println!(
                    "{prefix}    FAIL · {why} · {:.1}s · log: {}",
                    r.secs,
                    r.log.display()
                );
                self.stop.failed(i);
            }
            Status::NotRun => println!(
                "{prefix}    stopped after {:.1}s: {}",
                r.secs,
                stop_reason()
            ),
            Status::Skipped(_) => {}
        }
        r
    }
}

fn stop_reason() -> &'static str {
    if INTERRUPTED.load(Ordering::SeqCst) {
        "interrupted (Ctrl-C)"
    } else {
        "an earlier check failed (use --keep-going to run everything)"
    }
}

/// Why the watchdog killed a check.
enum Killed {
    /// It ran four times past its budget.
    Watchdog,
    /// The gate stopped (`Stop`, Ctrl-C).
    Stopped,
}

/// Run one check's command, streaming its progress lines (prefixed by `prefix`) and its full
/// output to `log_path`. Its process group is killed when it runs far past its budget, or as soon
/// as `stop()` says so (the check is then reported as not run).
fn run_one(
    root: &Path,
    c: &Check,
    log_path: &Path,
    started: Instant,
    prefix: &str,
    stop: impl Fn() -> bool + Sync,
) -> CheckResult {
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
    let limit = Duration::from_secs((c.budget_s * 4).max(900));
    let done = AtomicBool::new(false);
    let (lines, status, killed) = thread::scope(|s| {
        let (tx, rx) = mpsc::channel::<String>();
        if let Some(out) = child.stdout.take() {
            let tx = tx.clone();
            s.spawn(move || forward(out, tx));
        }
        if let Some(err) = child.stderr.take() {
            let tx = tx.clone();
            s.spawn(move || forward(err, tx));
        }
        drop(tx);
        let (pid, done, stop) = (child.id(), &done, &stop);
        let watchdog = s.spawn(move || watch(pid, limit, done, stop));
        let lines = stream(rx, log_path, prefix, t0, started);
        let status = child.wait();
        done.store(true, Ordering::Release);
        (lines, status, watchdog.join().ok().flatten())
    });
    result.secs = t0.elapsed().as_secs_f64();
    let mut problems = Vec::new();
    match (killed, status) {
        (Some(Killed::Stopped), _) => {
            result.status = Status::NotRun;
            return result;
        }
        (Some(Killed::Watchdog), _) => {
            problems.push(format!("killed by the watchdog after {}s", limit.as_secs()))
        }
        (None, Ok(s)) if s.success() => {}
        (None, Ok(s)) => problems.push(format!("exit status {s}")),
        (None, Err(e)) => problems.push(format!("wait failed: {e}")),
    }
    count(c, &lines, &mut result, &mut problems);
    if !problems.is_empty() {
        result.status = Status::Fail(problems.join("; "));
        result.hints = hints(c, &lines);
    }
    result
}

/// Send each line read from `from` to `to`, until the pipe closes.
fn forward(from: impl std::io::Read, to: mpsc::Sender<String>) {
    for line in BufReader::new(from).lines().map_while(Result::ok) {
        let _ = to.send(line);
    }
}

/// The watchdog: kill the process group `pid` when it runs past `limit` (a hang must not hang the
/// gate) or when `stop()` says so. `None` when the check ended first (`done`).
fn watch(pid: u32, limit: Duration, done: &AtomicBool, stop: &dyn Fn() -> bool) -> Option<Killed> {
    let start = Instant::now();
    while !done.load(Ordering::Acquire) {
        let why = if start.elapsed() > limit {
            Killed::Watchdog
        } else if stop() {
            Killed::Stopped
        } else {
            thread::sleep(Duration::from_millis(200));
            continue;
        };
        // `--`: procps-ng 4's kill takes a bare `-<pid>` for an option and kills nothing.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .status();
        return Some(why);
    }
    None
}

/// Write every line of a check's output to its log and print its progress lines (`prefix`
/// first); the lines come back for counting.
fn stream(
    rx: mpsc::Receiver<String>,
    log_path: &Path,
    prefix: &str,
    t0: Instant,
    started: Instant,
) -> Vec<String> {
    let mut log = File::create(log_path).ok();
    let mut lines = Vec::new();
    let mut last_progress = Instant::now();
    for line in rx {
        if let Some(f) = log.as_mut() {
            let _ = writeln!(f, "{line}");
        }
        if is_progress(&line) {
            println!("{prefix}    | {}", line.trim());
            last_progress = Instant::now();
        } else if last_progress.elapsed() > Duration::from_secs(60) {
            println!(
                "{prefix}    | … still running ({} elapsed in check, {} total)",
                fmt_dur(t0.elapsed()),
                fmt_dur(started.elapsed())
            );
            last_progress = Instant::now();
        }
        lines.push(line);
    }
    lines
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
        Count::Harness { registry, part } => {
            let killed = lines.iter().filter(|l| l.contains("KILLED")).count();
            r.count = format!("{killed} kill marks");
            if killed == 0 {
                problems.push("no mutant reported killed".into());
            }
            // "mutation harness passed: N mutants …": N is the registry's share for this part.
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
                (Some(n), Some(Ok(all))) if n != part_share(all.len(), *part) => {
                    problems.push(format!(
                        "part {}/{} of the harness ran {n} mutants; {} lists {}, so it owns {}",
                        part.0,
                        part.1,
                        crate::mutants::REGISTRY,
                        all.len(),
                        part_share(all.len(), *part)
                    ))
                }
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

/// How many of `total` mutants `models/run-mutants.sh --part k/n` runs: the positions p < total
/// with p mod n = k-1.
fn part_share(total: usize, (k, n): (usize, usize)) -> usize {
    (0..total).filter(|p| p % n == k - 1).count()
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
    fn harness_parts_cover_the_registry_once() {
        for total in [0, 1, 2, 35, 36, 37] {
            for n in 1..=5 {
                let sum: usize = (1..=n).map(|k| part_share(total, (k, n))).sum();
                assert_eq!(sum, total, "{total} mutants in {n} parts");
            }
        }
        assert_eq!(part_share(36, (1, 3)), 12);
        assert_eq!(part_share(37, (1, 3)), 13);
        assert_eq!(part_share(37, (3, 3)), 12);
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
            side: false,
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

    fn check(tier: u8, budget_s: u64, side: bool) -> Check {
        Check {
            tier,
            tier_name: crate::plan::TIERS[usize::from(tier) - 1],
            name: format!("t{tier}"),
            covers: "-".into(),
            cmd: vec!["true".into()],
            env: vec![],
            count: Count::None,
            skip: None,
            budget_s,
            side,
        }
    }

    #[test]
    fn side_lane_starts_at_tier_3() {
        let checks = [
            check(1, 10, false),
            check(2, 20, false),
            check(3, 100, false),
            check(6, 300, true),
            check(6, 50, false),
            check(6, 200, true),
            check(7, 40, false),
        ];
        let l = lanes(&checks);
        assert_eq!(
            l,
            Lanes {
                main: vec![0, 1, 2, 4, 6],
                side: vec![3, 5],
                side_start: 2,
            }
        );
        // Before the side lane starts: tiers 1-2, then the longer lane (the side's 500 s).
        assert_eq!(eta(&checks, &l, 0, 500), 30 + 500);
        assert_eq!(eta(&checks, &l, 1, 500), 20 + 500);
        // Then the longer of what each lane has left.
        assert_eq!(eta(&checks, &l, 2, 500), 500);
        assert_eq!(eta(&checks, &l, 3, 200), 200);
        assert_eq!(eta(&checks, &l, 4, 0), 40);
        // A shard whose main lane has no check of tier 3 on: the side lane runs after it.
        let l = lanes(&[check(2, 20, false), check(6, 300, true)]);
        assert_eq!((l.main.len(), l.side_start), (1, 1));
        assert_eq!(
            eta(&[check(2, 20, false), check(6, 300, true)], &l, 0, 300),
            320
        );
        let l = lanes(&[check(6, 300, true)]);
        assert_eq!((l.main.len(), l.side_start), (0, 0));
    }

    #[test]
    fn a_failure_stops_the_checks_after_it() {
        let stop = Stop {
            keep_going: false,
            first_failure: AtomicUsize::new(usize::MAX),
        };
        assert!(!stop.stops(5));
        stop.failed(7);
        stop.failed(9);
        assert!(!stop.stops(3) && !stop.stops(7) && stop.stops(8) && stop.stops(10));
        // An earlier failure on the other lane moves the line back.
        stop.failed(4);
        assert!(!stop.stops(4) && stop.stops(5));
        let keep_going = Stop {
            keep_going: true,
            first_failure: AtomicUsize::new(usize::MAX),
        };
        keep_going.failed(0);
        assert!(!keep_going.stops(1));
    }

    #[test]
    fn watchdog_kills_a_stopped_check() {
        let c = Check {
            cmd: vec!["sleep".into(), "30".into()],
            ..check(6, 1, true)
        };
        let dir = std::env::temp_dir();
        let log = dir.join(format!("xtask-stop-{}.log", std::process::id()));
        let t0 = Instant::now();
        let r = run_one(&dir, &c, &log, t0, SIDE, || {
            t0.elapsed() > Duration::from_millis(300)
        });
        assert_eq!(r.status, Status::NotRun);
        assert!(t0.elapsed() < Duration::from_secs(10));
        let _ = fs::remove_file(log);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
