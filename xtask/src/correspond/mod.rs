//! `cargo xtask correspond`: the reference text, the kernel and the models are one protocol.
//!
//! The step table (`proofs/steps.txt`) is the single statement of every step's atomic operations
//! and orderings. This command checks ALGORITHM.md, the kernel's `// step` markers and the two
//! protocol models against it, runs the Promela model's protocol macros against protocol.rs
//! over every input, and then plants one drift of each kind in memory to show that each check
//! catches it (a check that cannot fail is not a check).

mod algorithm;
mod kernel;
mod promela;
mod table;

#[allow(dead_code, missing_docs, clippy::all)]
#[path = "../../../kernel/src/protocol.rs"]
mod protocol;

use std::path::Path;
use std::process::ExitCode;

/// The texts the checks read, so a drift can be planted in a copy.
#[derive(Clone)]
struct Inputs {
    table: String,
    algorithm: String,
    kernel: Vec<(String, String)>,
    stateright: String,
    promela: String,
    /// The Iris theories, concatenated (their HeapLang steps carry `(* [label] *)` comments).
    iris: String,
}

/// Kernel files that hold step markers.
const KERNEL_FILES: [&str; 6] = [
    "task.rs",
    "counted.rs",
    "waiters.rs",
    "future.rs",
    "reclaim.rs",
    "sync.rs",
];

impl Inputs {
    fn read(root: &Path) -> Result<Inputs, String> {
        let read =
            |rel: &str| std::fs::read_to_string(root.join(rel)).map_err(|e| format!("{rel}: {e}"));
        Ok(Inputs {
            table: read("proofs/steps.txt")?,
            algorithm: read("proofs/ALGORITHM.md")?,
            kernel: KERNEL_FILES
                .iter()
                .map(|f| Ok((f.to_string(), read(&format!("kernel/src/{f}"))?)))
                .collect::<Result<_, String>>()?,
            stateright: read("proofs/src/model.rs")?,
            promela: read("proofs/futuretask.pml")?,
            iris: iris_theories(root)?,
        })
    }

    fn kernel_mut(&mut self, name: &str) -> &mut String {
        &mut self
            .kernel
            .iter_mut()
            .find(|(n, _)| n == name)
            .expect("a kernel file")
            .1
    }
}

/// Every `.v` file of `proofs/iris/theories`, in name order, concatenated.
fn iris_theories(root: &Path) -> Result<String, String> {
    let dir = root.join("proofs/iris/theories");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "v"))
        .collect();
    files.sort();
    let mut text = String::new();
    for f in files {
        text.push_str(&std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?);
        text.push('\n');
    }
    Ok(text)
}

/// What a clean run counted.
struct Counts {
    steps: usize,
    markers: usize,
    macros: usize,
}

/// Every problem; `spin_dir` is where the Promela comparison runs.
fn check_all(inp: &Inputs, spin_dir: &Path) -> Result<Counts, Vec<String>> {
    let rows = table::parse(&inp.table, "proofs/steps.txt")?;
    let mut problems = algorithm::check(&rows, &inp.algorithm, "proofs/ALGORITHM.md");
    let sources: Vec<kernel::Source<'_>> = inp
        .kernel
        .iter()
        .map(|(n, t)| kernel::Source { name: n, text: t })
        .collect();
    problems.extend(kernel::check(&rows, &sources));
    for r in &rows {
        for (model, text, path) in [
            ("sr", &inp.stateright, "proofs/src/model.rs (stateright)"),
            ("pml", &inp.promela, "proofs/futuretask.pml (Promela)"),
            ("iris", &inp.iris, "proofs/iris/theories (Iris)"),
        ] {
            // The Iris HeapLang code tags each step `(* [R2] *)`; prose mentions do not count.
            let named = if model == "iris" {
                text.contains(&format!("[{}]", r.label))
            } else {
                has_label(text, &r.label)
            };
            if r.models.iter().any(|m| m == model) && !named {
                problems.push(format!(
                    "{path}: step {} is not named (proofs/steps.txt:{})",
                    r.label, r.line
                ));
            }
        }
    }
    let macros = match promela::check(&inp.promela, spin_dir) {
        Ok(n) => n,
        Err(p) => {
            problems.extend(p);
            0
        }
    };
    let markers = inp
        .kernel
        .iter()
        .map(|(_, t)| kernel::regions(&t.lines().collect::<Vec<_>>()).len())
        .sum();
    if problems.is_empty() {
        Ok(Counts {
            steps: rows.len(),
            markers,
            macros,
        })
    } else {
        Err(problems)
    }
}

fn has_label(text: &str, label: &str) -> bool {
    text.match_indices(label).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + label.len()..].chars().next();
        let sep = |c: Option<char>| !c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        sep(before) && sep(after)
    })
}

/// A planted drift: a change to one input and the problem it must cause.
struct Drift {
    what: &'static str,
    plant: fn(&mut Inputs) -> bool,
    expect: &'static str,
}

/// Replace the first `from` after the first `anchor` in `text`.
fn replace_after(text: &mut String, anchor: &str, from: &str, to: &str) -> bool {
    let Some(a) = text.find(anchor) else {
        return false;
    };
    let Some(off) = text[a..].find(from) else {
        return false;
    };
    text.replace_range(a + off..a + off + from.len(), to);
    true
}

/// Replace every `from` in `text`; whether there was one.
fn replace_all(text: &mut String, from: &str, to: &str) -> bool {
    let found = text.contains(from);
    *text = text.replace(from, to);
    found
}

const DRIFTS: &[Drift] = &[
    Drift {
        what: "an ordering drift in the kernel (R2's CAS AcqRel -> Acquire)",
        plant: |i| {
            replace_after(
                i.kernel_mut("task.rs"),
                "// step R2",
                "AcqRel, Acquire",
                "Acquire, Acquire",
            )
        },
        expect: "step R2 does",
    },
    Drift {
        what: "a step marker removed from the kernel (K3)",
        plant: |i| replace_after(i.kernel_mut("task.rs"), "// step K3", "// step K3", "// K3"),
        expect: "no `// step K3` marker",
    },
    Drift {
        what: "an ordering drift in ALGORITHM.md (H2 written [Acquire])",
        plant: |i| replace_after(&mut i.algorithm, "\nH2 ", "[AcqRel/Acquire]", "[Acquire]"),
        expect: "step H2 writes orderings",
    },
    Drift {
        what: "a step removed from ALGORITHM.md (S2)",
        plant: |i| replace_after(&mut i.algorithm, "\nS2 ", "S2 ", "   "),
        expect: "step S2 of the table",
    },
    Drift {
        what: "a step label removed from the stateright model (S2)",
        plant: |i| replace_all(&mut i.stateright, "S2", "S_2"),
        expect: "model.rs (stateright): step S2",
    },
    Drift {
        what: "a step label removed from the Promela model (A2)",
        plant: |i| replace_all(&mut i.promela, "A2", "A_2"),
        expect: "futuretask.pml (Promela): step A2",
    },
    Drift {
        what: "a step tag removed from the Iris HeapLang code (U4)",
        plant: |i| replace_all(&mut i.iris, "[U4]", "[U_4]"),
        expect: "(Iris): step U4",
    },
    Drift {
        what: "a Promela protocol macro changed (FINISH_INTERRUPT stores CANCELLED)",
        plant: |i| {
            replace_after(
                &mut i.promela,
                "#define FINISH_INTERRUPT(",
                "INTERRUPTED",
                "CANCELLED",
            )
        },
        expect: "FINISH_INTERRUPT(",
    },
    Drift {
        what: "a Promela protocol macro changed (PUBLISH_TO keeps the promise's reference)",
        plant: |i| {
            replace_after(
                &mut i.promela,
                "#define PUBLISH_TO(",
                "-> REF : 0",
                "-> 0 : 0",
            )
        },
        expect: "PUBLISH_TO(",
    },
    Drift {
        what: "a decision result ignored (S2 recomputes Release's word)",
        plant: |i| {
            let k = i.kernel_mut("waiters.rs");
            replace_after(
                k,
                "// step S2",
                "UnlockStep::Release(w)",
                "UnlockStep::Release(_)",
            ) && replace_after(
                k,
                "UnlockStep::Release(_)",
                "with_addr(h, w)",
                "with_addr(h, addr(h) & !p::LOCKED)",
            )
        },
        expect: "step S2 writes",
    },
    Drift {
        what: "a write of the state word outside every step",
        plant: |i| {
            i.kernel_mut("task.rs").push_str(
                "\nfn planted(t: &AtomicUsize) {\n    t.state.store(p::NEW, Relaxed);\n}\n",
            );
            true
        },
        expect: "is in no step",
    },
];

/// Run the checks, then the planted drifts. Prints one `FT-CORRESPOND` summary line.
pub fn run(root: &Path) -> ExitCode {
    let inp = match Inputs::read(root) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("correspond: {e}");
            return ExitCode::FAILURE;
        }
    };
    let spin_dir = root.join("target/correspond");
    let counts = match check_all(&inp, &spin_dir) {
        Ok(c) => c,
        Err(problems) => {
            for p in &problems {
                println!("DRIFT {p}");
            }
            println!(
                "FT-CORRESPOND problems={} (the reference, the kernel and the models disagree)",
                problems.len()
            );
            return ExitCode::FAILURE;
        }
    };
    println!(
        "== clean: {} steps, {} kernel markers, {} macro evaluations agree",
        counts.steps, counts.markers, counts.macros
    );
    let mut caught = 0;
    for d in DRIFTS {
        let mut planted = inp.clone();
        if !(d.plant)(&mut planted) {
            println!(
                "SELF-TEST could not plant: {} (the text it edits has changed)",
                d.what
            );
            continue;
        }
        match check_all(&planted, &spin_dir) {
            Err(problems) if problems.iter().any(|p| p.contains(d.expect)) => {
                let p = problems
                    .iter()
                    .find(|p| p.contains(d.expect))
                    .expect("found above");
                println!("caught: {} -> {p}", d.what);
                caught += 1;
            }
            Err(problems) => println!(
                "SELF-TEST missed: {} (expected `{}`, got: {})",
                d.what,
                d.expect,
                problems.join(" | ")
            ),
            Ok(_) => println!("SELF-TEST missed: {} (no problem reported)", d.what),
        }
    }
    println!(
        "FT-CORRESPOND steps={} markers={} macros={} drifts_caught={caught}/{}",
        counts.steps,
        counts.markers,
        counts.macros,
        DRIFTS.len()
    );
    if caught == DRIFTS.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
