//! `ratios`: turn criterion's `estimates.json` files into the markdown ratio table (BENCHMARKS.md).
//!
//! ```text
//! cargo run -p futuretask-benches --bin ratios --release [-- [--check] [--java FILE] [CRITERION_DIR]]
//! ```
//!
//! Reads `CRITERION_DIR` (default `$CARGO_TARGET_DIR/criterion`, else `target/criterion`) and the
//! repeated runs `benches/run.sh` keeps in `bench-runs/` next to it (the worst-run target, P5),
//! prints the table and writes it to `bench-ratios.md` next to that `criterion/` directory.
//! Targets with no estimate on disk are shown as "not measured" (with no estimate at all the
//! table is all "not measured"). `--java FILE` appends the Java comparison written by
//! `benches/java/run.sh`. With `--check` the exit status is 1 when a measured target is missed.

#![warn(missing_docs)]

use futuretask_benches::{all_measured_pass, criterion_dir, load, load_runs, render, runs_dir};
use std::path::PathBuf;
use std::process::ExitCode;

/// The value of the first `key : value` line of `/proc/cpuinfo` whose key is exactly `key`.
fn cpuinfo_field(cpuinfo: &str, key: &str) -> Option<String> {
    cpuinfo.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_string())
    })
}

/// `AMD EPYC (family 26, model 2)`: the name alone does not tell CPU generations apart, and
/// ratios between peers move with the generation (the cost of a locked instruction).
fn cpu_line(cpuinfo: &str) -> String {
    let name = cpuinfo_field(cpuinfo, "model name").unwrap_or_else(|| "unknown CPU".to_string());
    match (
        cpuinfo_field(cpuinfo, "cpu family"),
        cpuinfo_field(cpuinfo, "model"),
    ) {
        (Some(family), Some(model)) => format!("{name} (family {family}, model {model})"),
        _ => name,
    }
}

fn machine_lines() -> Vec<String> {
    let model = cpu_line(&std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".to_string());
    vec![
        format!("Machine: {model}, {cpus} CPUs available to this process"),
        format!("Load average when the table was made (1/5/15 min): {load}"),
    ]
}

fn main() -> ExitCode {
    let mut check = false;
    let mut java: Option<PathBuf> = None;
    let mut dir: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--check" => check = true,
            "--java" => java = args.next().map(PathBuf::from),
            "-h" | "--help" => {
                println!("usage: ratios [--check] [--java FILE] [CRITERION_DIR]");
                return ExitCode::SUCCESS;
            }
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let dir = dir.unwrap_or_else(criterion_dir);
    let results = load(&dir);
    let runs = load_runs(&runs_dir(&dir));
    if results.is_empty() {
        eprintln!(
            "no criterion estimates under {} (run `bash benches/run.sh` first): every target is \
             shown as not measured",
            dir.display()
        );
    }
    let mut md = render(&results, &runs, &machine_lines());
    if let Some(j) = java {
        match std::fs::read_to_string(&j) {
            Ok(text) => {
                md.push_str("\n### Java 17 (plain harness, medians; `benches/java/run.sh`)\n\n");
                md.push_str(&text);
            }
            Err(e) => eprintln!("cannot read {}: {e}", j.display()),
        }
    }
    print!("{md}");
    let out = dir.parent().map_or_else(
        || PathBuf::from("bench-ratios.md"),
        |p| p.join("bench-ratios.md"),
    );
    match std::fs::write(&out, &md) {
        Ok(()) => eprintln!("wrote {}", out.display()),
        Err(e) => eprintln!("cannot write {}: {e}", out.display()),
    }
    if check && !all_measured_pass(&results, &runs) {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machine_line_names_the_cpu_generation() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\n";
        assert_eq!(cpu_line(cpuinfo), "AMD EPYC (family 26, model 2)");
        assert_eq!(cpu_line("model name\t: X\n"), "X");
        assert_eq!(cpu_line(""), "unknown CPU");
    }
}
