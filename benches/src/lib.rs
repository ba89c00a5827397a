//! # futuretask-benches
//!
//! Criterion benchmarks of `futuretask` against its peers live in `benches/`; this
//! library holds the part that is not a benchmark: the scenario targets and the code that turns
//! criterion's `estimates.json` files into a markdown ratio table with a pass/fail verdict per
//! target (used by the `ratios` binary, see `BENCHMARKS.md` at the repository root).

#![warn(missing_docs)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How a target compares the kernel's time with the reference's time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bound {
    /// `kernel / reference ≤ x` (lower is better: the kernel must take at most `x` times as long).
    AtMost(f64),
    /// `reference / kernel ≥ x` (a speed-up: the kernel must be at least `x` times as fast).
    SpeedupAtLeast(f64),
    /// No bound: the time ratio is reported beside a target it explains (P6's floor).
    Report,
}

/// Which number of a contender a target compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stat {
    /// Criterion's median of this run.
    Median,
    /// The largest of the medians over the repeated runs of the group (`benches/run.sh
    /// --p5-runs N`, kept under [`runs_dir`]): "the worst run", with each contender's own worst.
    WorstRun,
}

/// One checked target: a scenario's kernel contender against one reference contender.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// Scenario id (`P1` …).
    pub id: &'static str,
    /// Criterion group name (directory under `criterion/`).
    pub group: &'static str,
    /// The kernel's function ids in the group: the forms of one target (P1-shared: an `Arc`
    /// clone or a promise). The best measured one is compared; each is listed in the table.
    pub kernels: &'static [&'static str],
    /// The reference function id in the group.
    pub reference: &'static str,
    /// The bound the ratio must meet.
    pub bound: Bound,
    /// The number compared.
    pub stat: Stat,
    /// What the target is, in words.
    pub what: &'static str,
}

/// The forms of the shared P1 target: two handles to one task, both dropped per iteration.
const P1_SHARED: &[&str] = &[
    "futuretask_shared",
    "futuretask_shared_pending",
    "futuretask_promise",
];

/// The forms of the P7 round trip: each cell an `Arc`'d task and a handle, or a promise and its
/// reader (which takes the request by value).
const P7_FORMS: &[&str] = &["futuretask", "futuretask_promise"];

/// Every speed target (BENCHMARKS.md) that a criterion run can check (P9, allocations, is an exact test in
/// `tests/`, not a measurement).
pub const TARGETS: &[Target] = &[
    Target {
        id: "P1",
        group: "P1_create_complete_get",
        kernels: &["futuretask"],
        reference: "oneshot",
        bound: Bound::AtMost(1.0),
        stat: Stat::Median,
        what: "create, complete, get on one thread, one owner (local)",
    },
    Target {
        id: "P1-shared",
        group: "P1_create_complete_get",
        kernels: P1_SHARED,
        reference: "oneshot",
        bound: Bound::AtMost(1.0),
        stat: Stat::Median,
        what: "two handles to one task (`Arc` + `TaskHandle`, or promise + reader): create, complete, get, both dropped",
    },
    Target {
        id: "P2",
        group: "P2_get_done",
        kernels: &["futuretask"],
        reference: "oncelock",
        bound: Bound::AtMost(1.0),
        stat: Stat::Median,
        what: "repeated get of a finished task",
    },
    Target {
        id: "P3",
        group: "P3_timed_get_done",
        kernels: &["futuretask"],
        reference: "futuretask_untimed",
        bound: Bound::AtMost(1.1),
        stat: Stat::Median,
        what: "timed get of a finished task costs what get costs (P2)",
    },
    Target {
        id: "P4",
        group: "P4_roundtrip_pinned",
        kernels: &["futuretask"],
        reference: "oneshot",
        bound: Bound::AtMost(1.05),
        stat: Stat::Median,
        what: "cross-thread round trip, both threads on one CPU",
    },
    Target {
        id: "P5",
        group: "P5_roundtrip_unpinned",
        kernels: &["futuretask"],
        reference: "oneshot",
        bound: Bound::AtMost(0.5),
        stat: Stat::Median,
        what: "cross-thread round trip, unpinned",
    },
    Target {
        id: "P5",
        group: "P5_roundtrip_unpinned",
        kernels: &["futuretask"],
        reference: "tokio_oneshot",
        bound: Bound::AtMost(0.5),
        stat: Stat::Median,
        what: "cross-thread round trip, unpinned",
    },
    Target {
        id: "P5-worst",
        group: "P5_roundtrip_unpinned",
        kernels: &["futuretask"],
        reference: "oneshot",
        bound: Bound::AtMost(1.0),
        stat: Stat::WorstRun,
        what: "no cliff: the unpinned round trip's worst run against `oneshot`'s worst run",
    },
    Target {
        id: "P6",
        group: "P6_wake_all",
        kernels: &["futuretask"],
        reference: "mutex_condvar",
        bound: Bound::AtMost(0.8),
        stat: Stat::Median,
        what: "complete one task, 8 blocked waiters woken",
    },
    Target {
        id: "P6-floor",
        group: "P6_wake_all",
        kernels: &["futuretask"],
        reference: "raw_futex_floor",
        bound: Bound::Report,
        stat: Stat::Median,
        what: "the same against a bare futex broadcast (no cell): the kernel above the floor",
    },
    Target {
        id: "P6-floor",
        group: "P6_wake_all",
        kernels: &["raw_futex_floor"],
        reference: "mutex_condvar",
        bound: Bound::Report,
        stat: Stat::Median,
        what: "the floor against Mutex+Condvar: above 0.8×, no design that sleeps in the kernel meets P6",
    },
    Target {
        id: "P7",
        group: "P7_async_roundtrip",
        kernels: P7_FORMS,
        reference: "oneshot",
        bound: Bound::AtMost(1.0),
        stat: Stat::Median,
        what: "async round trip, current-thread runtime, two handles per cell (`Arc` + handle, or promise + reader)",
    },
    Target {
        id: "P7",
        group: "P7_async_roundtrip",
        kernels: P7_FORMS,
        reference: "tokio_oneshot",
        bound: Bound::AtMost(1.0),
        stat: Stat::Median,
        what: "async round trip, current-thread runtime, two handles per cell (`Arc` + handle, or promise + reader)",
    },
    Target {
        id: "P7-await",
        group: "P7_create_set_await",
        kernels: &["futuretask_promise", "futuretask_shared"],
        reference: "oneshot",
        bound: Bound::AtMost(1.0),
        stat: Stat::Median,
        what: "async create + set + await one task, two handles, both dropped",
    },
    Target {
        id: "P8",
        group: "P8_pool_100k",
        kernels: &["futuretask_executor"],
        reference: "crossbeam_pool_oneshot",
        bound: Bound::SpeedupAtLeast(1.5),
        stat: Stat::Median,
        what: "executor: 100k tiny tasks submitted and collected",
    },
];

/// One contender's estimate: criterion's median time per iteration with its 95% interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Median, nanoseconds per iteration.
    pub median_ns: f64,
    /// Lower bound of the median's confidence interval.
    pub lower_ns: f64,
    /// Upper bound of the median's confidence interval.
    pub upper_ns: f64,
}

/// Parse one `estimates.json` (criterion 0.5's format: `{"median": {"point_estimate": …,
/// "confidence_interval": {"lower_bound": …, "upper_bound": …}}, …}`).
pub fn parse_estimates(json: &str) -> Result<Estimate, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let m = &v["median"];
    let num = |x: &serde_json::Value| x.as_f64().ok_or_else(|| format!("not a number: {x}"));
    Ok(Estimate {
        median_ns: num(&m["point_estimate"])?,
        lower_ns: num(&m["confidence_interval"]["lower_bound"])?,
        upper_ns: num(&m["confidence_interval"]["upper_bound"])?,
    })
}

/// Estimates of one run: group → function → estimate.
pub type Results = BTreeMap<String, BTreeMap<String, Estimate>>;

/// Estimates written this long before the newest one of their group are left out as stale (a
/// contender renamed or removed since, or a run of only part of a group long ago).
pub const STALE_AFTER: Duration = Duration::from_secs(30 * 60);

/// Read every `<criterion>/<group>/<function>/new/estimates.json` below `criterion_dir`,
/// leaving out those older than [`STALE_AFTER`] relative to the newest of their group.
pub fn load(criterion_dir: &Path) -> Results {
    let mut stamped: BTreeMap<String, BTreeMap<String, (Estimate, SystemTime)>> = BTreeMap::new();
    let Ok(groups) = std::fs::read_dir(criterion_dir) else {
        return Results::new();
    };
    for group in groups.flatten() {
        let Ok(functions) = std::fs::read_dir(group.path()) else {
            continue;
        };
        for function in functions.flatten() {
            let file = function.path().join("new").join("estimates.json");
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let mtime = std::fs::metadata(&file)
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            // Criterion keeps the display names in benchmark.json; the directory names are the
            // same for the plain ASCII ids used here.
            if let Ok(e) = parse_estimates(&text) {
                stamped
                    .entry(group.file_name().to_string_lossy().into_owned())
                    .or_default()
                    .insert(
                        function.file_name().to_string_lossy().into_owned(),
                        (e, mtime),
                    );
            }
        }
    }
    drop_stale(stamped)
}

/// Keep, per group, the estimates written within [`STALE_AFTER`] of the group's newest.
pub fn drop_stale(stamped: BTreeMap<String, BTreeMap<String, (Estimate, SystemTime)>>) -> Results {
    stamped
        .into_iter()
        .map(|(group, fns)| {
            let newest = fns
                .values()
                .map(|(_, t)| *t)
                .max()
                .unwrap_or(SystemTime::UNIX_EPOCH);
            let fresh = fns
                .into_iter()
                .filter(|(_, (_, t))| {
                    newest.duration_since(*t).unwrap_or(Duration::ZERO) <= STALE_AFTER
                })
                .map(|(f, (e, _))| (f, e))
                .collect();
            (group, fresh)
        })
        .collect()
}

/// Repeated runs of a group: group → its runs, oldest first, each one function → estimate.
pub type Runs = BTreeMap<String, Vec<BTreeMap<String, Estimate>>>;

/// Runs of a series older than this before the series' newest run are left out (a series an
/// earlier session left behind; `benches/run.sh` also clears a series when it starts a new one).
pub const RUNS_WINDOW: Duration = Duration::from_secs(2 * 60 * 60);

/// Where `benches/run.sh` keeps the repeated runs: `bench-runs/` next to `criterion_dir`, one
/// directory per group, one per run below it, holding `<function>/estimates.json` (copies of
/// criterion's `new/estimates.json` taken right after that run).
pub fn runs_dir(criterion_dir: &Path) -> PathBuf {
    criterion_dir
        .parent()
        .map_or_else(|| PathBuf::from("bench-runs"), |p| p.join("bench-runs"))
}

/// Read every `<runs_dir>/<group>/<run>/<function>/estimates.json`, each run dated by its newest
/// file, oldest first, leaving out runs older than [`RUNS_WINDOW`] before their series' newest.
pub fn load_runs(runs_dir: &Path) -> Runs {
    let mut out = Runs::new();
    let Ok(groups) = std::fs::read_dir(runs_dir) else {
        return out;
    };
    for group in groups.flatten() {
        let Ok(runs) = std::fs::read_dir(group.path()) else {
            continue;
        };
        let mut dated: Vec<(SystemTime, BTreeMap<String, Estimate>)> = Vec::new();
        for run in runs.flatten() {
            let Ok(functions) = std::fs::read_dir(run.path()) else {
                continue;
            };
            let mut newest = SystemTime::UNIX_EPOCH;
            let mut fns = BTreeMap::new();
            for function in functions.flatten() {
                let file = function.path().join("estimates.json");
                let Ok(text) = std::fs::read_to_string(&file) else {
                    continue;
                };
                if let Ok(e) = parse_estimates(&text) {
                    let mtime = std::fs::metadata(&file)
                        .and_then(|m| m.modified())
                        .unwrap_or(SystemTime::UNIX_EPOCH);
                    newest = newest.max(mtime);
                    fns.insert(function.file_name().to_string_lossy().into_owned(), e);
                }
            }
            if !fns.is_empty() {
                dated.push((newest, fns));
            }
        }
        dated.sort_by_key(|(t, _)| *t);
        let Some(last) = dated.last().map(|(t, _)| *t) else {
            continue;
        };
        let kept = dated
            .into_iter()
            .filter(|(t, _)| last.duration_since(*t).unwrap_or(Duration::ZERO) <= RUNS_WINDOW)
            .map(|(_, fns)| fns)
            .collect();
        out.insert(group.file_name().to_string_lossy().into_owned(), kept);
    }
    out
}

/// The runs of `group`: the stored series, plus this run's estimates when the series does not
/// already hold them (a group measured without `run.sh` counts as one run).
pub fn series<'a>(
    group: &str,
    results: &'a Results,
    runs: &'a Runs,
) -> Vec<&'a BTreeMap<String, Estimate>> {
    let mut v: Vec<_> = runs
        .get(group)
        .map_or_else(Vec::new, |r| r.iter().collect());
    if let Some(current) = results.get(group) {
        if !v.contains(&current) {
            v.push(current);
        }
    }
    v
}

/// The worst run of `function` in `group`: the run with the largest median, and how many runs
/// measured the function.
pub fn worst_run(
    group: &str,
    function: &str,
    results: &Results,
    runs: &Runs,
) -> Option<(Estimate, usize)> {
    let all: Vec<Estimate> = series(group, results, runs)
        .into_iter()
        .filter_map(|r| r.get(function).copied())
        .collect();
    let n = all.len();
    all.into_iter()
        .max_by(|a, b| a.median_ns.total_cmp(&b.median_ns))
        .map(|e| (e, n))
}

/// The criterion output directory: `$CARGO_TARGET_DIR/criterion`, else `target/criterion` of
/// the workspace (found from the current directory upwards).
pub fn criterion_dir() -> PathBuf {
    target_dir().join("criterion")
}

/// `$CARGO_TARGET_DIR`, else the nearest `target/` from the current directory upwards, else
/// `./target`.
pub fn target_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(d);
    }
    let mut dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    loop {
        let t = dir.join("target");
        if t.join("criterion").is_dir() {
            return t;
        }
        if !dir.pop() {
            return PathBuf::from("target");
        }
    }
}

/// Verdict of one target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The median ratio meets the bound.
    Pass,
    /// The median ratio misses the bound, but the confidence intervals still reach it.
    WithinNoise,
    /// Missed even at the favourable end of the intervals.
    Fail,
    /// One of the two contenders was not measured.
    Missing,
    /// A reported ratio with no bound ([`Bound::Report`]).
    Reported,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::WithinNoise => "MISS (within noise)",
            Verdict::Fail => "**MISS**",
            Verdict::Missing => "not measured",
            Verdict::Reported => "reported",
        }
    }
}

/// A target evaluated against one run (and, for [`Stat::WorstRun`], its series of runs).
#[derive(Clone, Copy, Debug)]
pub struct Checked {
    /// The target.
    pub target: Target,
    /// The kernel form compared: the best measured of `target.kernels` (the first if none is).
    pub kernel_name: &'static str,
    /// Kernel estimate, if measured (for `WorstRun`: its worst run).
    pub kernel: Option<Estimate>,
    /// Reference estimate, if measured (for `WorstRun`: its worst run).
    pub reference: Option<Estimate>,
    /// Runs behind the numbers: 1 for `Median`, the runs that measured both for `WorstRun`.
    pub runs: usize,
    /// The ratio in the bound's sense (time ratio for `AtMost` and `Report`, speed-up for
    /// `SpeedupAtLeast`).
    pub ratio: Option<f64>,
    /// The verdict.
    pub verdict: Verdict,
}

/// The number `stat` of `function` in `group`, and the runs behind it.
fn value(
    stat: Stat,
    group: &str,
    function: &str,
    results: &Results,
    runs: &Runs,
) -> Option<(Estimate, usize)> {
    match stat {
        Stat::Median => results
            .get(group)
            .and_then(|g| g.get(function))
            .map(|e| (*e, 1)),
        Stat::WorstRun => worst_run(group, function, results, runs),
    }
}

/// Evaluate one target against `results` (and `runs`, for the worst-run targets) with the kernel
/// form `kernel` (one of `target.kernels`).
pub fn check_form(target: Target, kernel: &'static str, results: &Results, runs: &Runs) -> Checked {
    let k = value(target.stat, target.group, kernel, results, runs);
    let r = value(target.stat, target.group, target.reference, results, runs);
    let n = match (k, r) {
        (Some((_, a)), Some((_, b))) => a.min(b),
        _ => 0,
    };
    let (k, r) = (k.map(|(e, _)| e), r.map(|(e, _)| e));
    let (ratio, verdict) = match (k, r) {
        (Some(k), Some(r)) => match target.bound {
            Bound::AtMost(x) => {
                let ratio = k.median_ns / r.median_ns;
                let best = k.lower_ns / r.upper_ns;
                (Some(ratio), verdict(ratio <= x, best <= x))
            }
            Bound::SpeedupAtLeast(x) => {
                let ratio = r.median_ns / k.median_ns;
                let best = r.upper_ns / k.lower_ns;
                (Some(ratio), verdict(ratio >= x, best >= x))
            }
            Bound::Report => (Some(k.median_ns / r.median_ns), Verdict::Reported),
        },
        _ => (None, Verdict::Missing),
    };
    Checked {
        target,
        kernel_name: kernel,
        kernel: k,
        reference: r,
        runs: n,
        ratio,
        verdict,
    }
}

/// Evaluate one target: its best measured kernel form (lowest time in the target's sense)
/// against the reference.
pub fn check(target: Target, results: &Results, runs: &Runs) -> Checked {
    target
        .kernels
        .iter()
        .map(|k| check_form(target, k, results, runs))
        .filter(|c| c.kernel.is_some())
        .min_by(|a, b| {
            let (a, b) = (a.kernel.unwrap(), b.kernel.unwrap());
            a.median_ns.total_cmp(&b.median_ns)
        })
        .unwrap_or_else(|| check_form(target, target.kernels[0], results, runs))
}

fn verdict(median_ok: bool, best_ok: bool) -> Verdict {
    match (median_ok, best_ok) {
        (true, _) => Verdict::Pass,
        (false, true) => Verdict::WithinNoise,
        (false, false) => Verdict::Fail,
    }
}

/// Format nanoseconds with a unit that keeps three significant digits.
pub fn fmt_time(ns: f64) -> String {
    if ns < 10.0 {
        format!("{ns:.2} ns")
    } else if ns < 1_000.0 {
        format!("{ns:.1} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1_000_000_000.0 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

fn fmt_bound(b: Bound) -> String {
    match b {
        Bound::AtMost(x) => format!("≤ {x:.2}×"),
        Bound::SpeedupAtLeast(x) => format!("speed-up ≥ {x:.2}×"),
        Bound::Report => "–".to_string(),
    }
}

/// One row of the targets table.
fn target_row(s: &mut String, id: &str, what: &str, c: &Checked, verdict: &str) {
    let t = c.target;
    let time = |e: Option<Estimate>| e.map_or("–".to_string(), |e| fmt_time(e.median_ns));
    let ratio = c.ratio.map_or("–".to_string(), |r| match t.bound {
        Bound::AtMost(_) | Bound::Report => format!("{r:.3}×"),
        Bound::SpeedupAtLeast(_) => format!("{r:.2}× faster"),
    });
    let _ = writeln!(
        s,
        "| {id} | {what} | {} (`{}`) | {} (`{}`) | {ratio} | {} | {verdict} |",
        time(c.kernel),
        c.kernel_name,
        time(c.reference),
        t.reference,
        fmt_bound(t.bound),
    );
}

/// The markdown report: the targets table (a target with several kernel forms is followed by one
/// row per form; a worst-run target says over how many runs), then every measured contender per
/// scenario with its time relative to the scenario's kernel contender, and for a group measured
/// in several runs each contender's best and worst run. `header` lines (machine, load) go on top.
pub fn render(results: &Results, runs: &Runs, header: &[String]) -> String {
    let mut s = String::new();
    for h in header {
        let _ = writeln!(s, "{h}  ");
    }
    if !header.is_empty() {
        s.push('\n');
    }
    s.push_str("| id | scenario | futuretask | reference | ratio | target | verdict |\n");
    s.push_str("|---|---|---|---|---|---|---|\n");
    for t in TARGETS {
        let c = check(*t, results, runs);
        let what = match t.stat {
            Stat::Median => t.what.to_string(),
            Stat::WorstRun => match c.runs {
                0 => format!("{} (worst of the runs)", t.what),
                1 => format!("{} (worst of 1 run)", t.what),
                n => format!("{} (worst of {n} runs)", t.what),
            },
        };
        let what = if t.kernels.len() > 1 {
            format!("{what}; best form")
        } else {
            what
        };
        target_row(&mut s, t.id, &what, &c, c.verdict.label());
        if t.kernels.len() > 1 {
            for k in t.kernels {
                let f = check_form(*t, k, results, runs);
                let verdict = match f.verdict {
                    Verdict::Missing => "not measured",
                    _ => "(form)",
                };
                target_row(&mut s, "↳", &format!("form `{k}`"), &f, verdict);
            }
        }
    }
    s.push_str(
        "\nVerdicts compare criterion's medians; \"within noise\" means the 95% confidence ",
    );
    s.push_str("intervals of the two medians still allow the target. A target with several ");
    s.push_str("kernel forms is judged on its best form; a worst-run target compares each ");
    s.push_str(
        "contender's largest median over the repeated runs (`benches/run.sh --p5-runs N`).\n",
    );

    for (group, fns) in results {
        let kernel = TARGETS
            .iter()
            .find(|t| t.group == group)
            .map_or("futuretask", |t| t.kernels[0]);
        let base = fns.get(kernel).or_else(|| fns.get("futuretask"));
        let _ = writeln!(s, "\n### {group}\n");
        s.push_str("| contender | median | 95% CI of median | vs futuretask |\n");
        s.push_str("|---|---|---|---|\n");
        let mut rows: Vec<_> = fns.iter().collect();
        rows.sort_by(|a, b| a.1.median_ns.total_cmp(&b.1.median_ns));
        for (name, e) in rows {
            let rel = base.map_or("–".to_string(), |b| {
                format!("{:.2}×", e.median_ns / b.median_ns)
            });
            let _ = writeln!(
                s,
                "| `{name}` | {} | {} – {} | {rel} |",
                fmt_time(e.median_ns),
                fmt_time(e.lower_ns),
                fmt_time(e.upper_ns)
            );
        }
        let runs_of = series(group, results, runs);
        if runs_of.len() > 1 {
            render_runs(&mut s, group, kernel, &runs_of);
        }
    }
    s
}

/// Each contender's medians over the runs of a series: best, worst, and the worst against the
/// kernel's worst.
fn render_runs(s: &mut String, group: &str, kernel: &str, runs: &[&BTreeMap<String, Estimate>]) {
    let _ = writeln!(s, "\n#### {group}: {} runs\n", runs.len());
    s.push_str("| contender | runs | best run | worst run | worst vs futuretask's worst |\n");
    s.push_str("|---|---|---|---|---|\n");
    let mut names: Vec<&String> = runs.iter().flat_map(|r| r.keys()).collect();
    names.sort();
    names.dedup();
    let medians = |f: &str| -> Vec<f64> {
        runs.iter()
            .filter_map(|r| r.get(f).map(|e| e.median_ns))
            .collect()
    };
    let worst = |f: &str| medians(f).into_iter().reduce(f64::max);
    let base = worst(kernel);
    let mut rows: Vec<(&String, Vec<f64>)> = names.into_iter().map(|n| (n, medians(n))).collect();
    rows.sort_by(|a, b| {
        let w = |v: &[f64]| v.iter().copied().fold(f64::MIN, f64::max);
        w(&a.1).total_cmp(&w(&b.1))
    });
    for (name, m) in rows {
        let best = m.iter().copied().fold(f64::MAX, f64::min);
        let worst = m.iter().copied().fold(f64::MIN, f64::max);
        let rel = base.map_or("–".to_string(), |b| format!("{:.2}×", worst / b));
        let _ = writeln!(
            s,
            "| `{name}` | {} | {} | {} | {rel} |",
            m.len(),
            fmt_time(best),
            fmt_time(worst)
        );
    }
}

/// Whether every target that was measured passed (targets not measured and reported ratios are
/// not failures; a "within noise" miss is).
pub fn all_measured_pass(results: &Results, runs: &Runs) -> bool {
    TARGETS.iter().all(|t| {
        matches!(
            check(*t, results, runs).verdict,
            Verdict::Pass | Verdict::Missing | Verdict::Reported
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":10.0,"upper_bound":12.0},"point_estimate":11.0,"standard_error":0.5},
        "median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":9.5,"upper_bound":10.5},"point_estimate":10.0,"standard_error":0.2},
        "median_abs_dev":null,"slope":null,"std_dev":null}"#;

    const NO_RUNS: Runs = Runs::new();

    fn est(m: f64, spread: f64) -> Estimate {
        Estimate {
            median_ns: m,
            lower_ns: m - spread,
            upper_ns: m + spread,
        }
    }

    fn results(group: &str, pairs: &[(&str, Estimate)]) -> Results {
        let mut r = Results::new();
        for (f, e) in pairs {
            r.entry(group.to_string())
                .or_default()
                .insert(f.to_string(), *e);
        }
        r
    }

    #[test]
    fn parses_criterion_estimates() {
        let e = parse_estimates(SAMPLE).unwrap();
        assert_eq!(e, est(10.0, 0.5));
        assert!(parse_estimates("{}").is_err());
    }

    #[test]
    fn at_most_pass_noise_fail() {
        let t = TARGETS[0];
        let r = results(
            t.group,
            &[("futuretask", est(10.0, 0.1)), ("oneshot", est(11.0, 0.1))],
        );
        assert_eq!(check(t, &r, &NO_RUNS).verdict, Verdict::Pass);
        let r = results(
            t.group,
            &[("futuretask", est(10.2, 0.5)), ("oneshot", est(10.0, 0.5))],
        );
        assert_eq!(check(t, &r, &NO_RUNS).verdict, Verdict::WithinNoise);
        let r = results(
            t.group,
            &[("futuretask", est(20.0, 0.5)), ("oneshot", est(10.0, 0.5))],
        );
        assert_eq!(check(t, &r, &NO_RUNS).verdict, Verdict::Fail);
        assert!(!all_measured_pass(&r, &NO_RUNS));
        assert_eq!(
            check(t, &Results::new(), &NO_RUNS).verdict,
            Verdict::Missing
        );
        assert!(all_measured_pass(&Results::new(), &NO_RUNS));
    }

    #[test]
    fn speedup_bound() {
        let t = *TARGETS.iter().find(|t| t.id == "P8").unwrap();
        let r = results(
            t.group,
            &[
                ("futuretask_executor", est(10.0, 0.1)),
                ("crossbeam_pool_oneshot", est(20.0, 0.1)),
            ],
        );
        let c = check(t, &r, &NO_RUNS);
        assert_eq!(c.verdict, Verdict::Pass);
        assert!((c.ratio.unwrap() - 2.0).abs() < 1e-9);
    }

    #[test]
    fn renders_every_target_and_group() {
        let r = results(
            "P1_create_complete_get",
            &[("futuretask", est(15.0, 0.1)), ("oneshot", est(16.0, 0.1))],
        );
        let md = render(&r, &NO_RUNS, &["machine: test".to_string()]);
        assert!(md.starts_with("machine: test"));
        for t in TARGETS {
            assert!(md.contains(t.what));
        }
        assert!(md.contains("### P1_create_complete_get"));
        assert!(md.contains("| `oneshot` | 16.0 ns"));
        assert!(md.contains("0.938×"));
    }

    #[test]
    fn best_form_is_judged_and_every_form_listed() {
        let t = *TARGETS.iter().find(|t| t.id == "P1-shared").unwrap();
        let r = results(
            t.group,
            &[
                ("futuretask_shared", est(30.0, 0.1)),
                ("futuretask_promise", est(15.0, 0.1)),
                ("oneshot", est(20.0, 0.1)),
            ],
        );
        let c = check(t, &r, &NO_RUNS);
        assert_eq!(c.kernel_name, "futuretask_promise");
        assert_eq!(c.verdict, Verdict::Pass);
        assert!((c.ratio.unwrap() - 0.75).abs() < 1e-9);
        let md = render(&r, &NO_RUNS, &[]);
        assert!(md.contains("| ↳ | form `futuretask_shared` | 30.0 ns"));
        assert!(md.contains("| ↳ | form `futuretask_shared_pending` | – "));
        // Nothing measured: the first form is named, not measured.
        let c = check(t, &Results::new(), &NO_RUNS);
        assert_eq!(
            (c.kernel_name, c.verdict),
            ("futuretask_shared", Verdict::Missing)
        );
    }

    #[test]
    fn worst_run_compares_each_contenders_worst() {
        let t = *TARGETS.iter().find(|t| t.id == "P5-worst").unwrap();
        let run = |k: f64, o: f64| {
            results(
                t.group,
                &[("futuretask", est(k, 0.1)), ("oneshot", est(o, 0.1))],
            )
            .remove(t.group)
            .unwrap()
        };
        let mut runs = Runs::new();
        runs.insert(
            t.group.to_string(),
            vec![run(1.0, 3.0), run(12.0, 3.5), run(0.5, 2.0)],
        );
        // The current estimates are the last run of the series: not counted twice.
        let current: Results = [(t.group.to_string(), run(0.5, 2.0))].into();
        let c = check(t, &current, &runs);
        assert_eq!(c.runs, 3);
        assert_eq!(c.verdict, Verdict::Fail);
        assert!((c.ratio.unwrap() - 12.0 / 3.5).abs() < 1e-9);
        // Its median target sees only this run.
        let median = *TARGETS.iter().find(|t| t.id == "P5").unwrap();
        assert_eq!(check(median, &current, &runs).verdict, Verdict::Pass);
        let md = render(&current, &runs, &[]);
        assert!(md.contains("(worst of 3 runs)"));
        assert!(md.contains("#### P5_roundtrip_unpinned: 3 runs"));
        // No series: this run is the only one.
        assert_eq!(check(t, &current, &NO_RUNS).runs, 1);
    }

    #[test]
    fn reported_ratios_have_no_verdict() {
        let t = *TARGETS
            .iter()
            .find(|t| t.id == "P6-floor" && t.kernels == ["raw_futex_floor"])
            .unwrap();
        let r = results(
            t.group,
            &[
                ("futuretask", est(30.0, 0.1)),
                ("raw_futex_floor", est(29.0, 0.1)),
                ("mutex_condvar", est(30.0, 0.1)),
            ],
        );
        assert_eq!(check(t, &r, &NO_RUNS).verdict, Verdict::Reported);
        // P6 itself misses; the floor rows do not count either way.
        let p6 = *TARGETS.iter().find(|t| t.id == "P6").unwrap();
        assert_eq!(check(p6, &r, &NO_RUNS).verdict, Verdict::Fail);
        let floor_only = results(
            t.group,
            &[
                ("raw_futex_floor", est(29.0, 0.1)),
                ("mutex_condvar", est(10.0, 0.1)),
            ],
        );
        assert!(all_measured_pass(&floor_only, &NO_RUNS));
    }

    #[test]
    fn loads_a_series_of_runs() {
        let dir = std::env::temp_dir().join(format!("ft-runs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (run, median) in [("1", "10.0"), ("2", "30.0")] {
            let f = dir.join("G").join(run).join("futuretask");
            std::fs::create_dir_all(&f).unwrap();
            std::fs::write(f.join("estimates.json"), SAMPLE.replace("10.0", median)).unwrap();
        }
        let runs = load_runs(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(runs["G"].len(), 2);
        let (worst, n) = worst_run("G", "futuretask", &Results::new(), &runs).unwrap();
        assert_eq!((worst.median_ns, n), (30.0, 2));
        assert!(load_runs(Path::new("/nonexistent/bench-runs")).is_empty());
        assert_eq!(
            runs_dir(Path::new("/t/criterion")),
            Path::new("/t/bench-runs")
        );
    }

    #[test]
    fn stale_estimates_are_left_out() {
        let now = SystemTime::now();
        let mut g = BTreeMap::new();
        g.insert("fresh".to_string(), (est(1.0, 0.1), now));
        g.insert(
            "recent".to_string(),
            (est(2.0, 0.1), now - Duration::from_secs(60)),
        );
        g.insert("old".to_string(), (est(3.0, 0.1), now - 2 * STALE_AFTER));
        let mut all = BTreeMap::new();
        all.insert("G".to_string(), g);
        let r = drop_stale(all);
        let names: Vec<_> = r["G"].keys().cloned().collect();
        assert_eq!(names, ["fresh", "recent"]);
    }

    #[test]
    fn time_units() {
        assert_eq!(fmt_time(1.234), "1.23 ns");
        assert_eq!(fmt_time(15.0), "15.0 ns");
        assert_eq!(fmt_time(1500.0), "1.50 µs");
        assert_eq!(fmt_time(2.5e7), "25.00 ms");
    }
}
