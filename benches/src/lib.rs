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
}

/// One checked target: a scenario's kernel contender against one reference contender.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// Scenario id (`P1` …).
    pub id: &'static str,
    /// Criterion group name (directory under `criterion/`).
    pub group: &'static str,
    /// The kernel's function id in the group.
    pub kernel: &'static str,
    /// The reference function id in the group.
    pub reference: &'static str,
    /// The bound the ratio must meet.
    pub bound: Bound,
    /// What the target is, in words.
    pub what: &'static str,
}

/// Every speed target (BENCHMARKS.md) that a criterion run can check (P9, allocations, is an exact test in
/// `tests/`, not a measurement).
pub const TARGETS: &[Target] = &[
    Target {
        id: "P1",
        group: "P1_create_complete_get",
        kernel: "futuretask",
        reference: "oneshot",
        bound: Bound::AtMost(1.0),
        what: "create, complete, get on one thread",
    },
    Target {
        id: "P1 (Arc)",
        group: "P1_create_complete_get",
        kernel: "futuretask_arc",
        reference: "oneshot",
        bound: Bound::AtMost(1.0),
        what: "the same through a shared, type-erased `Arc<FutureTask<T>>`",
    },
    Target {
        id: "P2",
        group: "P2_get_done",
        kernel: "futuretask",
        reference: "oncelock",
        bound: Bound::AtMost(1.0),
        what: "repeated get of a finished task",
    },
    Target {
        id: "P3",
        group: "P3_timed_get_done",
        kernel: "futuretask",
        reference: "futuretask_untimed",
        bound: Bound::AtMost(1.1),
        what: "timed get of a finished task costs what get costs (P2)",
    },
    Target {
        id: "P4",
        group: "P4_roundtrip_pinned",
        kernel: "futuretask",
        reference: "oneshot",
        bound: Bound::AtMost(1.05),
        what: "cross-thread round trip, both threads on one CPU",
    },
    Target {
        id: "P5",
        group: "P5_roundtrip_unpinned",
        kernel: "futuretask",
        reference: "oneshot",
        bound: Bound::AtMost(0.5),
        what: "cross-thread round trip, unpinned",
    },
    Target {
        id: "P5",
        group: "P5_roundtrip_unpinned",
        kernel: "futuretask",
        reference: "tokio_oneshot",
        bound: Bound::AtMost(0.5),
        what: "cross-thread round trip, unpinned",
    },
    Target {
        id: "P6",
        group: "P6_wake_all",
        kernel: "futuretask",
        reference: "mutex_condvar",
        bound: Bound::AtMost(0.8),
        what: "complete one task, 8 blocked waiters woken",
    },
    Target {
        id: "P7",
        group: "P7_async_roundtrip",
        kernel: "futuretask",
        reference: "oneshot",
        bound: Bound::AtMost(1.0),
        what: "async round trip, current-thread runtime",
    },
    Target {
        id: "P7",
        group: "P7_async_roundtrip",
        kernel: "futuretask",
        reference: "tokio_oneshot",
        bound: Bound::AtMost(1.0),
        what: "async round trip, current-thread runtime",
    },
    Target {
        id: "P8",
        group: "P8_pool_100k",
        kernel: "futuretask_executor",
        reference: "crossbeam_pool_oneshot",
        bound: Bound::SpeedupAtLeast(1.5),
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
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::WithinNoise => "MISS (within noise)",
            Verdict::Fail => "**MISS**",
            Verdict::Missing => "not measured",
        }
    }
}

/// A target evaluated against one run.
#[derive(Clone, Copy, Debug)]
pub struct Checked {
    /// The target.
    pub target: Target,
    /// Kernel estimate, if measured.
    pub kernel: Option<Estimate>,
    /// Reference estimate, if measured.
    pub reference: Option<Estimate>,
    /// The ratio in the bound's sense (time ratio for `AtMost`, speed-up for `SpeedupAtLeast`).
    pub ratio: Option<f64>,
    /// The verdict.
    pub verdict: Verdict,
}

/// Evaluate one target against `results`.
pub fn check(target: Target, results: &Results) -> Checked {
    let get = |f: &str| results.get(target.group).and_then(|g| g.get(f)).copied();
    let (k, r) = (get(target.kernel), get(target.reference));
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
        },
        _ => (None, Verdict::Missing),
    };
    Checked {
        target,
        kernel: k,
        reference: r,
        ratio,
        verdict,
    }
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
    }
}

/// The markdown report: the targets table, then every measured contender per scenario with its
/// time relative to the scenario's kernel contender. `header` lines (machine, load) go on top.
pub fn render(results: &Results, header: &[String]) -> String {
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
        let c = check(*t, results);
        let time = |e: Option<Estimate>| e.map_or("–".to_string(), |e| fmt_time(e.median_ns));
        let ratio = c.ratio.map_or("–".to_string(), |r| match t.bound {
            Bound::AtMost(_) => format!("{r:.3}×"),
            Bound::SpeedupAtLeast(_) => format!("{r:.2}× faster"),
        });
        let _ = writeln!(
            s,
            "| {} | {} | {} (`{}`) | {} (`{}`) | {} | {} | {} |",
            t.id,
            t.what,
            time(c.kernel),
            t.kernel,
            time(c.reference),
            t.reference,
            ratio,
            fmt_bound(t.bound),
            c.verdict.label()
        );
    }
    s.push_str(
        "\nVerdicts compare criterion's medians; \"within noise\" means the 95% confidence ",
    );
    s.push_str("intervals of the two medians still allow the target.\n");

    for (group, fns) in results {
        let kernel = TARGETS
            .iter()
            .find(|t| t.group == group)
            .map_or("futuretask", |t| t.kernel);
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
    }
    s
}

/// Whether every target that was measured passed (targets not measured are not failures; a
/// "within noise" miss is).
pub fn all_measured_pass(results: &Results) -> bool {
    TARGETS
        .iter()
        .all(|t| matches!(check(*t, results).verdict, Verdict::Pass | Verdict::Missing))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":10.0,"upper_bound":12.0},"point_estimate":11.0,"standard_error":0.5},
        "median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":9.5,"upper_bound":10.5},"point_estimate":10.0,"standard_error":0.2},
        "median_abs_dev":null,"slope":null,"std_dev":null}"#;

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
        assert_eq!(check(t, &r).verdict, Verdict::Pass);
        let r = results(
            t.group,
            &[("futuretask", est(10.2, 0.5)), ("oneshot", est(10.0, 0.5))],
        );
        assert_eq!(check(t, &r).verdict, Verdict::WithinNoise);
        let r = results(
            t.group,
            &[("futuretask", est(20.0, 0.5)), ("oneshot", est(10.0, 0.5))],
        );
        assert_eq!(check(t, &r).verdict, Verdict::Fail);
        assert!(!all_measured_pass(&r));
        assert_eq!(check(t, &Results::new()).verdict, Verdict::Missing);
        assert!(all_measured_pass(&Results::new()));
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
        let c = check(t, &r);
        assert_eq!(c.verdict, Verdict::Pass);
        assert!((c.ratio.unwrap() - 2.0).abs() < 1e-9);
    }

    #[test]
    fn renders_every_target_and_group() {
        let r = results(
            "P1_create_complete_get",
            &[("futuretask", est(15.0, 0.1)), ("oneshot", est(16.0, 0.1))],
        );
        let md = render(&r, &["machine: test".to_string()]);
        assert!(md.starts_with("machine: test"));
        for t in TARGETS {
            assert!(md.contains(t.what));
        }
        assert!(md.contains("### P1_create_complete_get"));
        assert!(md.contains("| `oneshot` | 16.0 ns"));
        assert!(md.contains("0.938×"));
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
