//! `cargo xtask verify`: the one command that runs every check of the project in tiers and ends
//! with a report (also written to `target/verify/report.md` and `report.json`).
//!
//! ```text
//! cargo xtask verify                 # full release gate
//! cargo xtask verify --quick         # the CI tier (its measured wall time: CI.md, "gate-report:quick")
//! cargo xtask verify --only loom     # one tier (repeatable)
//! cargo xtask verify --strict        # a skipped check fails the gate
//! cargo xtask verify --bench         # add the optional benchmark tier
//! cargo xtask verify --list          # print the plan (with each check's lane) and exit
//! cargo xtask mutants-check          # the mutant registry against the patches, models, proofs
//! ```
//!
//! Nothing passes silently: a check whose command fails, or whose count is zero, or (for the
//! model tiers) whose output misses a model listed in `models/MANIFEST.txt`, fails; a check that
//! cannot run is SKIPPED with its reason, loudly, and `--strict` turns that into a failure.

#![warn(missing_docs)]

mod correspond;
mod docs;
mod examples;
mod mutants;
mod plan;
mod report;
mod run;
mod shard;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Parsed command line.
#[derive(Debug, Default)]
pub struct Options {
    /// Run the quick tier instead of the full gate.
    pub quick: bool,
    /// Turn skips into failures.
    pub strict: bool,
    /// Include the benchmark tier.
    pub bench: bool,
    /// Only these tiers (by name or number).
    pub only: Vec<String>,
    /// Print the plan (with each check's lane) and exit.
    pub list: bool,
    /// Run only part `k` of `n` of the plan (`--shard k/n`), for CI runners in parallel.
    pub shard: Option<(usize, usize)>,
    /// Keep going after a failing check (default: stop after the tier that failed, report the rest
    /// as not run).
    pub keep_going: bool,
}

fn usage() -> &'static str {
    "usage: cargo xtask verify [--quick] [--strict] [--bench] [--keep-going] [--only <tier>]... [--shard k/n] [--list]\n\
            cargo xtask merge <results.tsv>...   (one report from the shards' results)\n\
            cargo xtask correspond   (the step table against ALGORITHM.md, the kernel and the models)\n\
            cargo xtask docs [--check]   (the docs' measured numbers from the gate's report)\n\
            cargo xtask mutants-check   (the mutant registry against its patches, the tree and the models)\n\
     tiers: 1 lint, 2 tests, 3 loom, 4 shuttle, 5 miri, 6 proofs, 7 mutants, 8 bench"
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let mut it = args.iter();
    match it.next().map(String::as_str) {
        Some("verify") => {}
        Some("help" | "--help" | "-h") | None => return Err(usage().into()),
        Some(other) => return Err(format!("unknown command `{other}`\n{}", usage())),
    }
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--strict" => o.strict = true,
            "--bench" => o.bench = true,
            "--list" => o.list = true,
            "--keep-going" => o.keep_going = true,
            "--only" => o.only.push(it.next().ok_or("--only needs a tier")?.clone()),
            "--shard" => o.shard = Some(shard::parse(it.next().ok_or("--shard needs k/n")?)?),
            s if s.starts_with("--shard=") => o.shard = Some(shard::parse(&s["--shard=".len()..])?),
            s if s.starts_with("--only=") => o.only.push(s["--only=".len()..].to_string()),
            other => return Err(format!("unknown flag `{other}`\n{}", usage())),
        }
    }
    for sel in &o.only {
        let known = plan::TIERS.contains(&sel.as_str())
            || sel
                .parse::<usize>()
                .is_ok_and(|n| (1..=plan::TIERS.len()).contains(&n));
        if !known {
            return Err(format!("unknown tier `{sel}`\n{}", usage()));
        }
    }
    Ok(o)
}

fn workspace_root() -> PathBuf {
    // xtask/ sits directly under the workspace root.
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match (
        args.first().map(String::as_str),
        args.get(1).map(String::as_str),
    ) {
        (Some("correspond"), None) => return correspond::run(&workspace_root()),
        (Some("mutants-check"), None) => {
            return if mutants::main(&workspace_root()) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            };
        }
        (Some("docs"), None) => return docs::update(&workspace_root()),
        (Some("docs"), Some("--check")) => return docs::check(&workspace_root()),
        (Some("merge"), Some(_)) => {
            let files: Vec<PathBuf> = args[1..].iter().map(PathBuf::from).collect();
            return shard::merge(&workspace_root(), &files);
        }
        _ => {}
    }
    let opts = match parse(&args) {
        Ok(o) => o,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let root = workspace_root();
    let mut checks = plan::plan(&root, &opts);
    if let Some((k, n)) = opts.shard {
        checks = shard::select(checks, k, n);
    }
    if checks.is_empty() {
        eprintln!("no check matches --only {:?}\n{}", opts.only, usage());
        return ExitCode::from(2);
    }
    if opts.list {
        for c in &checks {
            println!(
                "tier {} {:<8} {:<4} {:<28} covers {:<22} $ {}",
                c.tier,
                c.tier_name,
                if c.side { "side" } else { "main" },
                c.name,
                c.covers,
                c.display_cmd()
            );
        }
        return ExitCode::SUCCESS;
    }
    let mode = if opts.quick { "quick" } else { "full" };
    println!(
        "== futuretask verify ({mode}{}{}{}): {} checks ==",
        if opts.strict { ", strict" } else { "" },
        opts.shard
            .map(|(k, n)| format!(", shard {k}/{n}"))
            .unwrap_or_default(),
        if opts.bench { ", with benchmarks" } else { "" },
        checks.len()
    );
    let side = checks.iter().filter(|c| c.side).count();
    if side > 0 {
        println!(
            "   {side} of them on the side lane, beside the main lane from its first check of tier 3 on (`--list`: lane)"
        );
    }
    #[cfg(unix)]
    run::catch_ctrl_c();
    let started = Instant::now();
    let results = run::run_all(&root, &checks, &opts, started);
    let wall = started.elapsed();
    let parallel = if side > 0 {
        "side lane in parallel".to_string()
    } else {
        String::new()
    };
    let mut part: Vec<String> = opts.only.iter().map(|t| format!("--only {t}")).collect();
    if let Some((k, n)) = opts.shard {
        part.push(format!("shard {k}/{n}"));
    }
    let rep =
        report::Report::new(mode, opts.strict, &results, wall, parallel).part(part.join(", "));
    rep.print();
    match rep.write(&root.join("target/verify")) {
        Ok(paths) => println!("report written to {}", paths.join(" and ")),
        Err(e) => eprintln!("could not write the report: {e}"),
    }
    let tsv = root.join("target/verify/results.tsv");
    match std::fs::write(
        &tsv,
        shard::tsv(&opts, opts.shard, wall, &report::commit(), &results),
    ) {
        Ok(()) => println!(
            "results (for `cargo xtask merge`) written to {}",
            tsv.display()
        ),
        Err(e) => eprintln!("could not write {}: {e}", tsv.display()),
    }
    if rep.passed() {
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

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_flags() {
        let o = parse(&args("verify --quick --strict --only loom --only=6")).unwrap();
        assert!(o.quick && o.strict && !o.bench);
        assert_eq!(o.only, vec!["loom", "6"]);
        assert!(parse(&args("verify --nope")).is_err());
        assert!(parse(&args("frobnicate")).is_err());
        assert!(parse(&args("verify --only")).is_err());
        assert!(parse(&args("verify --only nine")).is_err());
        assert!(parse(&args("verify --only 9")).is_err());
    }
}
