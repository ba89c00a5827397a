//! The Promela model's protocol macros against protocol.rs, over every input: both are run
//! (spin evaluates the macros in a generated `init`, Rust calls the functions) and compared.

use super::protocol as p;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// One macro and the protocol function it transcribes. `rust` returns `None` on inputs where
/// the macro is not used (its guard is false), which are not compared.
struct Spec {
    name: &'static str,
    params: &'static [&'static str],
    rust: fn(&[usize]) -> Option<usize>,
}

fn b(x: bool) -> Option<usize> {
    Some(x as usize)
}

/// `try_publish` on the words W1 can see: the promise holds a reference, so a counted word
/// without one (on which giving it up would underflow the count) is not compared.
fn publish(s: usize, ok: bool) -> Option<Option<usize>> {
    (!p::is_counted(s) || p::refs(s) >= 1).then(|| p::try_publish(s, ok))
}

const SPECS: &[Spec] = &[
    Spec {
        name: "PHASE",
        params: &["s"],
        rust: |v| Some(p::phase(v[0])),
    },
    Spec {
        name: "IS_DONE",
        params: &["s"],
        rust: |v| b(p::is_done(v[0])),
    },
    Spec {
        name: "IS_SETTLED",
        params: &["s"],
        rust: |v| b(p::is_settled(v[0])),
    },
    Spec {
        name: "IS_INTERRUPTED",
        params: &["s"],
        rust: |v| b(p::is_interrupted(v[0])),
    },
    Spec {
        name: "CAN_START",
        params: &["s"],
        rust: |v| b(p::try_start(v[0]).is_some()),
    },
    Spec {
        name: "CAN_DECIDE",
        params: &["s"],
        rust: |v| b(p::try_begin_complete(v[0]).is_some()),
    },
    Spec {
        name: "CAN_CANCEL",
        params: &["s"],
        rust: |v| {
            let c = p::try_cancel(v[0], true).is_some();
            // One guard for both cancels: they must agree on every input.
            (c == p::try_cancel(v[0], false).is_some()).then_some(c as usize)
        },
    },
    Spec {
        name: "CAN_PUBLISH",
        params: &["s"],
        rust: |v| {
            let c = publish(v[0], true)?.is_some();
            // One guard for both outcomes: they must agree on every input.
            (c == publish(v[0], false)?.is_some()).then_some(c as usize)
        },
    },
    Spec {
        name: "PUBLISH_TO",
        params: &["s", "ok"],
        rust: |v| publish(v[0], v[1] == 1)?,
    },
    Spec {
        name: "PUBLISH_RELEASES",
        params: &["s"],
        rust: |v| b(p::publish_releases(v[0])),
    },
    Spec {
        name: "MUST_DRAIN",
        params: &["s"],
        rust: |v| b(p::must_drain(v[0])),
    },
    Spec {
        name: "ANNOUNCE_PUSH",
        params: &["s"],
        rust: |v| b(p::announce_step(v[0]) == p::Announce::Push),
    },
    Spec {
        name: "ANNOUNCE_SETTLED",
        params: &["s"],
        rust: |v| b(p::announce_step(v[0]) == p::Announce::Settled),
    },
    Spec {
        name: "ANNOUNCE_TO",
        params: &["s"],
        rust: |v| match p::announce_step(v[0]) {
            p::Announce::Set(n) => Some(n),
            _ => None,
        },
    },
    Spec {
        name: "OWNS_OUTCOME",
        params: &["s"],
        rust: |v| b(p::owns_outcome(v[0])),
    },
    Spec {
        name: "TAKE_PENDING",
        params: &["s"],
        rust: |v| b(p::take_step(v[0]) == p::Take::Pending),
    },
    Spec {
        name: "TAKE_NO_OUTCOME",
        params: &["s"],
        rust: |v| b(p::take_step(v[0]) == p::Take::NoOutcome),
    },
    Spec {
        name: "TAKE_LAST",
        params: &["s"],
        rust: |v| b(matches!(p::take_step(v[0]), p::Take::Last(_))),
    },
    Spec {
        name: "TAKE_LAST_TO",
        params: &["s"],
        rust: |v| match p::take_step(v[0]) {
            p::Take::Last(n) => Some(n),
            _ => None,
        },
    },
    Spec {
        name: "TAKE_AFTER_DRAIN",
        params: &["s"],
        rust: |v| b(matches!(p::take_step(v[0]), p::Take::AfterDrain(_))),
    },
    Spec {
        name: "TAKE_AFTER_DRAIN_BY",
        params: &["s"],
        rust: |v| match p::take_step(v[0]) {
            p::Take::AfterDrain(d) => Some(d),
            _ => None,
        },
    },
    Spec {
        name: "TAKE_HEAD_GO",
        params: &["h"],
        rust: |v| b(p::take_head_step(v[0]) == p::TakeHead::Take),
    },
    Spec {
        name: "TAKE_HEAD_GIVE_UP",
        params: &["h"],
        rust: |v| b(p::take_head_step(v[0]) == p::TakeHead::Callbacks),
    },
    Spec {
        name: "IS_COUNTED",
        params: &["s"],
        rust: |v| b(p::is_counted(v[0])),
    },
    Spec {
        name: "REFS",
        params: &["s"],
        rust: |v| Some(p::refs(v[0])),
    },
    Spec {
        name: "COUNTED_NEW",
        params: &["r"],
        rust: |v| Some(p::counted_new(v[0])),
    },
    Spec {
        name: "BEGIN_COMPLETE",
        params: &["s"],
        rust: |v| p::try_begin_complete(v[0]),
    },
    Spec {
        name: "CANCEL_TO",
        params: &["s", "i"],
        rust: |v| p::try_cancel(v[0], v[1] == 1),
    },
    Spec {
        name: "FINISH_COMPLETE",
        params: &["s", "ok"],
        rust: |v| (p::phase(v[0]) == p::COMPLETING).then(|| p::finish_complete(v[0], v[1] == 1)),
    },
    Spec {
        name: "FINISH_INTERRUPT",
        params: &["s"],
        rust: |v| (p::phase(v[0]) == p::INTERRUPTING).then(|| p::finish_interrupt(v[0])),
    },
    Spec {
        name: "HEAD_PTR",
        params: &["h"],
        rust: |v| Some(p::head_ptr(v[0])),
    },
    Spec {
        name: "PUSH_CLOSED",
        params: &["h"],
        rust: |v| b(p::try_push(v[0], p::NODE_ALIGN, false).is_none()),
    },
    Spec {
        name: "PUSH_TO",
        params: &["h", "a", "cb"],
        rust: |v| p::try_push(v[0], v[1], v[2] != 0),
    },
    Spec {
        name: "DRAIN_WAIT",
        params: &["h"],
        rust: |v| b(p::drain_step(v[0]) == p::DrainStep::WaitForRemover),
    },
    Spec {
        name: "DRAIN_CLOSE",
        params: &["h"],
        rust: |v| match p::drain_step(v[0]) {
            p::DrainStep::WaitForRemover => None,
            s => b(matches!(s, p::DrainStep::Close(_))),
        },
    },
    Spec {
        name: "DRAIN_CLOSE_TO",
        params: &["h"],
        rust: |v| match p::drain_step(v[0]) {
            p::DrainStep::Close(w) => Some(w),
            _ => None,
        },
    },
    Spec {
        name: "DRAIN_DETACH_CLOSE",
        params: &["h"],
        rust: |v| match p::drain_step(v[0]) {
            p::DrainStep::WaitForRemover | p::DrainStep::Close(_) => None,
            s => b(matches!(s, p::DrainStep::DetachClose(_))),
        },
    },
    Spec {
        name: "DRAIN_DETACH_CLOSE_TO",
        params: &["h"],
        rust: |v| match p::drain_step(v[0]) {
            p::DrainStep::DetachClose(w) => Some(w),
            _ => None,
        },
    },
    Spec {
        name: "DRAIN_DETACH_TO",
        params: &["h"],
        rust: |v| match p::drain_step(v[0]) {
            p::DrainStep::Detach(w) => Some(w),
            _ => None,
        },
    },
    Spec {
        name: "REMOVE_AWAIT",
        params: &["h"],
        rust: |v| b(p::remove_step(v[0]) == p::RemoveStep::AwaitHandOff),
    },
    Spec {
        name: "REMOVE_DIRTY",
        params: &["h"],
        rust: |v| match p::remove_step(v[0]) {
            p::RemoveStep::AwaitHandOff => None,
            s => b(matches!(s, p::RemoveStep::MarkDirty(_))),
        },
    },
    Spec {
        name: "REMOVE_DIRTY_TO",
        params: &["h"],
        rust: |v| match p::remove_step(v[0]) {
            p::RemoveStep::MarkDirty(w) => Some(w),
            _ => None,
        },
    },
    Spec {
        name: "REMOVE_LOCK_TO",
        params: &["h"],
        rust: |v| match p::remove_step(v[0]) {
            p::RemoveStep::Lock(w) => Some(w),
            _ => None,
        },
    },
    Spec {
        name: "UNLOCK_AGAIN",
        params: &["h"],
        rust: |v| {
            // Only a lock holder decides: LOCKED is set, CLOSED is not.
            (v[0] & p::LOCKED != 0 && v[0] & p::CLOSED == 0)
                .then(|| matches!(p::unlock_step(v[0]), p::UnlockStep::SweepAgain(_)) as usize)
        },
    },
    Spec {
        name: "UNLOCK_TO",
        params: &["h"],
        rust: |v| {
            (v[0] & p::LOCKED != 0 && v[0] & p::CLOSED == 0).then(|| match p::unlock_step(v[0]) {
                p::UnlockStep::SweepAgain(w) | p::UnlockStep::Release(w) => w,
            })
        },
    },
    Spec {
        name: "UNLINK_OK",
        params: &["h", "a"],
        rust: |v| b(p::unlink_head(v[0], v[1], 0).is_some()),
    },
    Spec {
        name: "UNLINK_TO",
        params: &["h", "nx"],
        rust: |v| p::unlink_head(v[0], p::head_ptr(v[0]), v[1]),
    },
    Spec {
        name: "CAN_NOTIFY",
        params: &["n"],
        rust: |v| b(p::node_try_notify(v[0]).is_some()),
    },
];

/// The values a parameter ranges over: every state word with a count below 8 (every phase, flag
/// and unused low bit, counted or not), every head byte, the model's node addresses, node states,
/// reference counts and flags.
fn domain(param: &str) -> Vec<usize> {
    match param {
        "s" => (0..8 * p::REF).collect(),
        "r" => (0..8).collect(),
        "h" => (0..256).collect(),
        "a" => (1..=4).map(|i| i * p::NODE_ALIGN).collect(),
        "nx" => (0..=4).map(|i| i * p::NODE_ALIGN).collect(),
        "n" => (0..=4).collect(),
        "pa" | "pb" => (0..=6).collect(),
        "ok" | "i" | "cb" => vec![0, 1],
        other => unreachable!("no domain for {other}"),
    }
}

fn inputs(params: &[&str]) -> Vec<Vec<usize>> {
    let mut out = vec![vec![]];
    for p in params {
        out = out
            .into_iter()
            .flat_map(|v| {
                domain(p).into_iter().map(move |x| {
                    let mut w = v.clone();
                    w.push(x);
                    w
                })
            })
            .collect();
    }
    out
}

/// The model's block of constants and protocol macros.
pub fn macro_block(pml: &str) -> Option<&str> {
    let start = pml.find("/* ---- protocol.rs constants")?;
    let end = start + pml[start..].find("/* ---- configuration")?;
    Some(&pml[start..end])
}

/// The Promela program that prints every macro on every input.
fn program(block: &str, specs: &[&Spec]) -> String {
    let mut s = String::from(block);
    s.push_str("\nbit drained = 0;\ninit {\n");
    for spec in specs {
        let vars: Vec<String> = spec.params.iter().map(|p| format!("v_{p}")).collect();
        for v in &vars {
            s.push_str(&format!("  int {}_{v};\n", spec.name));
        }
        // Nested loops over the domains, innermost printing.
        let mut open = String::new();
        for (p, v) in spec.params.iter().zip(&vars) {
            let d = domain(p);
            let (lo, hi) = (d[0], d[d.len() - 1]);
            let var = format!("{}_{v}", spec.name);
            open.push_str(&format!("  {var} = {lo};\n  do :: {var} <= {hi} ->\n"));
        }
        let fmt: Vec<&str> = spec.params.iter().map(|_| "%d").collect();
        let args: Vec<String> = vars.iter().map(|v| format!("{}_{v}", spec.name)).collect();
        s.push_str(&open);
        s.push_str(&format!(
            "    printf(\"FTM {} {} = %d\\n\", {}, {}({}));\n",
            spec.name,
            fmt.join(" "),
            args.join(", "),
            spec.name,
            args.join(", ")
        ));
        for (p, v) in spec.params.iter().zip(&vars).rev() {
            let d = domain(p);
            let step = if d.len() > 1 { d[1] - d[0] } else { 1 };
            let var = format!("{}_{v}", spec.name);
            s.push_str(&format!(
                "    {var} = {var} + {step}\n  :: else -> break\n  od;\n"
            ));
        }
    }
    s.push_str("  skip\n}\n");
    s
}

/// Run the comparison. `work` is a scratch directory. Problems name the macro and an input.
pub fn check(pml: &str, work: &Path) -> Result<usize, Vec<String>> {
    let Some(block) = macro_block(pml) else {
        return Err(vec!["proofs/futuretask.pml: no `/* ---- protocol.rs constants` … `/* ---- configuration` block".into()]);
    };
    let mut problems = Vec::new();
    let defined = |s: &&Spec| block.contains(&format!("#define {}(", s.name));
    for spec in SPECS.iter().filter(|s| !defined(s)) {
        problems.push(format!(
            "proofs/futuretask.pml: macro {} (protocol.rs) is not defined",
            spec.name
        ));
    }
    let specs: Vec<&Spec> = SPECS.iter().filter(defined).collect();
    let _ = std::fs::create_dir_all(work);
    let file = work.join("macros.pml");
    if let Err(e) = std::fs::write(&file, program(block, &specs)) {
        return Err(vec![format!("cannot write {}: {e}", file.display())]);
    }
    let out = match Command::new("spin")
        .arg("macros.pml")
        .current_dir(work)
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            return Err(vec![format!(
                "cannot run spin ({e}): install it (apt-get install spin)"
            )])
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || stdout.contains("error") {
        return Err(vec![format!(
            "spin failed on the generated program {}: {}{}",
            file.display(),
            stdout.lines().take(5).collect::<Vec<_>>().join(" | "),
            String::from_utf8_lossy(&out.stderr)
        )]);
    }
    let got: BTreeMap<String, String> = stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("FTM "))
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut compared = 0;
    for spec in &specs {
        let mut bad = 0;
        for input in inputs(spec.params) {
            let Some(want) = (spec.rust)(&input) else {
                continue;
            };
            let key = format!(
                "{} {}",
                spec.name,
                input
                    .iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            compared += 1;
            match got.get(&key) {
                Some(v) if *v == want.to_string() => {}
                other => {
                    bad += 1;
                    if bad <= 3 {
                        problems.push(format!(
                            "proofs/futuretask.pml: {}({}) = {}, protocol.rs gives {want}",
                            spec.name,
                            input
                                .iter()
                                .map(|x| x.to_string())
                                .collect::<Vec<_>>()
                                .join(", "),
                            other.map(String::as_str).unwrap_or("(not printed)")
                        ));
                    }
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(compared)
    } else {
        Err(problems)
    }
}
