//! The gate's final table (terminal, markdown, JSON).

use crate::run::{CheckResult, Status};
use std::fs;
use std::path::Path;
use std::time::Duration;

/// The report of one gate run.
pub struct Report<'a> {
    mode: &'a str,
    strict: bool,
    results: &'a [CheckResult],
    wall: Duration,
    parallel: String,
    /// What part of the plan ran, when not all of it (`shard 2/4`, `--only loom`).
    part: String,
    /// A merged report's shards: one line each with its wall time.
    shards: Vec<String>,
    /// A merged report's commits (the shards', which may differ), instead of this tree's.
    commits: Option<String>,
}

fn status_text(s: &Status) -> String {
    match s {
        Status::Pass => "PASS".into(),
        Status::Fail(_) => "FAIL".into(),
        Status::Skipped(why) => format!("SKIPPED({why})"),
        Status::NotRun => "NOT RUN".into(),
    }
}

/// The output of a git command in the current directory (empty if git is unavailable).
fn git(args: &[&str]) -> String {
    std::process::Command::new("git")
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// The commit the tree is at, as the report prints it: `` `abc1234` ``, followed by ` (with
/// uncommitted changes)` when tracked files differ from it.
pub fn commit() -> String {
    let head = git(&["rev-parse", "--short", "HEAD"]);
    if git(&["status", "--porcelain", "--untracked-files=no"]).is_empty() {
        format!("`{head}`")
    } else {
        format!("`{head}` (with uncommitted changes)")
    }
}

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl<'a> Report<'a> {
    /// A report over these results. `wall` is the gate's elapsed time; `parallel` says what ran
    /// in parallel, making it shorter than the sum of the checks' times (empty: nothing).
    pub fn new(
        mode: &'a str,
        strict: bool,
        results: &'a [CheckResult],
        wall: Duration,
        parallel: String,
    ) -> Self {
        Report {
            mode,
            strict,
            results,
            wall,
            parallel,
            part: String::new(),
            shards: Vec::new(),
            commits: None,
        }
    }

    /// Mark the report as covering only `part` of the plan (`shard 2/4`, `--only loom`): its
    /// times are not the gate's, and `cargo xtask docs` refuses it.
    pub fn part(mut self, part: String) -> Self {
        self.part = part;
        self
    }

    /// Mark the report as the merge of these shards (one line each, with its wall time) run at
    /// `commits`, the sentence that names them (see `shard::commits`).
    pub fn merged(mut self, shards: Vec<String>, commits: String) -> Self {
        self.shards = shards;
        self.commits = Some(commits);
        self
    }

    /// The title's scope: `` (the whole gate), `, on 4 shards`, `, part: shard 2/4`.
    fn scope(&self) -> String {
        if !self.part.is_empty() {
            format!(", part: {}", self.part)
        } else if !self.shards.is_empty() {
            let n = self.shards.len();
            format!(", on {n} shard{}", if n == 1 { "" } else { "s" })
        } else {
            String::new()
        }
    }

    /// The sum of the checks' own times, in seconds.
    fn checks_secs(&self) -> f64 {
        self.results.iter().map(|r| r.secs).sum()
    }

    /// `Wall time: W s (checks: C s, <parallel>)`.
    fn times(&self) -> String {
        let parallel = if self.parallel.is_empty() {
            String::new()
        } else {
            format!(", {}", self.parallel)
        };
        format!(
            "Wall time: {:.0} s (checks: {:.0} s{parallel})",
            self.wall.as_secs_f64(),
            self.checks_secs()
        )
    }

    /// Whether the gate passed: every check passed, or was skipped without `--strict`.
    pub fn passed(&self) -> bool {
        self.results.iter().all(|r| match r.status {
            Status::Pass => true,
            Status::Skipped(_) => !self.strict,
            Status::Fail(_) | Status::NotRun => false,
        })
    }

    fn markdown(&self) -> String {
        let mut s = String::new();
        s.push_str(&format!(
            "# futuretask verify — {} gate{}{}\n\n{}. {}. Result: **{}**.\n\n",
            self.mode,
            if self.strict { " (strict)" } else { "" },
            self.scope(),
            self.commits
                .clone()
                .unwrap_or_else(|| format!("Commit {}", commit())),
            self.times(),
            if self.passed() { "PASS" } else { "FAIL" }
        ));
        for line in &self.shards {
            s.push_str(&format!("- {line}\n"));
        }
        if !self.shards.is_empty() {
            s.push('\n');
        }
        s.push_str(
            "| tier | check | covers | count | time | status |\n|---|---|---|---|---|---|\n",
        );
        for r in self.results {
            s.push_str(&format!(
                "| {} {} | {} | {} | {} | {:.1} s | {} |\n",
                r.check.tier,
                r.check.tier_name,
                r.check.name,
                r.check.covers,
                r.count,
                r.secs,
                status_text(&r.status)
            ));
        }
        let models: Vec<_> = self.results.iter().flat_map(|r| r.models.iter()).collect();
        if !models.is_empty() {
            s.push_str("\n## Models\n\n| checker | model | invariants | interleavings / iterations / states | bound | time (s) |\n|---|---|---|---|---|---|\n");
            for m in models {
                s.push_str(&format!(
                    "| {} | {} | {} | {} | {} | {} |\n",
                    m.checker, m.name, m.invariants, m.iterations, m.bound, m.secs
                ));
            }
        }
        let failures: Vec<_> = self
            .results
            .iter()
            .filter(|r| matches!(r.status, Status::Fail(_)))
            .collect();
        if !failures.is_empty() {
            s.push_str("\n## Failures and how to reproduce them\n");
            for r in failures {
                if let Status::Fail(why) = &r.status {
                    s.push_str(&format!(
                        "\n### {} — {}\n\n{why}\n\nlog: `{}`\n\n",
                        r.check.tier_name,
                        r.check.name,
                        r.log.display()
                    ));
                    for h in &r.hints {
                        s.push_str(&format!("    {h}\n"));
                    }
                }
            }
        }
        s
    }

    fn json(&self) -> String {
        let rows: Vec<String> = self
            .results
            .iter()
            .map(|r| {
                let models: Vec<String> = r
                    .models
                    .iter()
                    .map(|m| {
                        format!(
                            "{{\"checker\":{},\"name\":{},\"invariants\":{},\"iterations\":{},\"bound\":{},\"secs\":{}}}",
                            json_str(&m.checker),
                            json_str(&m.name),
                            json_str(&m.invariants),
                            m.iterations,
                            json_str(&m.bound),
                            json_str(&m.secs)
                        )
                    })
                    .collect();
                let hints: Vec<String> = r.hints.iter().map(|h| json_str(h)).collect();
                let (status, reason) = match &r.status {
                    Status::Pass => ("PASS", String::new()),
                    Status::Fail(w) => ("FAIL", w.clone()),
                    Status::Skipped(w) => ("SKIPPED", w.clone()),
                    Status::NotRun => ("NOT_RUN", String::new()),
                };
                format!(
                    "{{\"tier\":{},\"tier_name\":{},\"lane\":{},\"check\":{},\"covers\":{},\"count\":{},\"secs\":{:.2},\"status\":{},\"reason\":{},\"command\":{},\"log\":{},\"models\":[{}],\"hints\":[{}]}}",
                    r.check.tier,
                    json_str(r.check.tier_name),
                    json_str(if r.check.side { "side" } else { "main" }),
                    json_str(&r.check.name),
                    json_str(&r.check.covers),
                    json_str(&r.count),
                    r.secs,
                    json_str(status),
                    json_str(&reason),
                    json_str(&r.check.display_cmd()),
                    json_str(&r.log.display().to_string()),
                    models.join(","),
                    hints.join(",")
                )
            })
            .collect();
        format!(
            "{{\"mode\":{},\"strict\":{},\"passed\":{},\"wall_secs\":{:.1},\"checks_secs\":{:.1},\"parallel\":{},\"part\":{},\"shards\":[{}],\"checks\":[\n{}\n]}}\n",
            json_str(self.mode),
            self.strict,
            self.passed(),
            self.wall.as_secs_f64(),
            self.checks_secs(),
            json_str(&self.parallel),
            json_str(&self.part),
            self.shards
                .iter()
                .map(|l| json_str(l))
                .collect::<Vec<_>>()
                .join(","),
            rows.join(",\n")
        )
    }

    /// Print the table (and the reproduction hints of failures) to the terminal.
    pub fn print(&self) {
        println!("\n{}", self.markdown());
    }

    /// Write `report.md` and `report.json` under `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<Vec<String>> {
        fs::create_dir_all(dir)?;
        let md = dir.join("report.md");
        let js = dir.join("report.json");
        fs::write(&md, self.markdown())?;
        fs::write(&js, self.json())?;
        Ok(vec![md.display().to_string(), js.display().to_string()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes() {
        assert_eq!(json_str("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }
}
