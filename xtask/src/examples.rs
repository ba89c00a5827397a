//! Part of `cargo xtask docs --check`: every public item of the kernel and executor crates has a
//! doc example.
//!
//! The rule is textual, so that it cannot be argued with: in every `.rs` file under `kernel/src`
//! and `executor/src` except `protocol.rs` (crate-private encodings), every line declaring an item with visibility
//! exactly `pub` (`pub fn`, `pub struct`, `pub enum`, `pub trait`, `pub type`, `pub const`,
//! `pub static`, `pub unsafe fn`, `pub const fn`, `pub async fn`; not `pub(crate)`) must sit under
//! a doc comment block (attributes and plain comments may come in between) with a ```` ``` ````
//! line: an example, run by `cargo test --doc` in the tests tier. Items compiled only under
//! `cfg(loom)` / `feature = "shuttle"` are skipped: doctests cannot build them. There are no
//! exemptions by name: an item that cannot be reached from outside is made `pub(crate)`.

use std::path::{Path, PathBuf};

/// The source trees the rule covers.
const CRATES: [&str; 2] = ["kernel/src", "executor/src"];

/// Files under them that the rule does not cover.
const SKIPPED_FILES: [&str; 1] = ["protocol.rs"];

/// The keywords that, right after `pub `, make a line an item declaration.
const ITEM_KEYWORDS: [&str; 9] = [
    "fn", "struct", "enum", "trait", "type", "const", "static", "unsafe", "async",
];

/// The result of scanning one file: how many public items have an example, and the 1-based
/// lines of those without one.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// Public items with an example.
    pub examples: usize,
    /// Lines of public items without one.
    pub missing: Vec<usize>,
}

/// Whether the (trimmed) line declares an item with visibility exactly `pub`.
fn is_pub_item(trimmed: &str) -> bool {
    let Some(rest) = trimmed.strip_prefix("pub ") else {
        return false;
    };
    let word = rest.split(|c: char| !c.is_ascii_alphanumeric()).next();
    word.is_some_and(|w| ITEM_KEYWORDS.contains(&w))
}

/// An attribute that compiles its item only in the loom or shuttle builds.
fn is_model_only_cfg(trimmed: &str) -> bool {
    trimmed.starts_with("#[cfg(")
        && (trimmed.contains("loom") || trimmed.contains("shuttle"))
        && !trimmed.contains("not(")
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Whether the doc comment above line `at` (attributes and plain comments skipped) holds a
/// ```` ``` ```` line.
fn has_example(lines: &[&str], at: usize) -> bool {
    let mut i = at;
    let mut in_attr = false;
    while i > 0 {
        i -= 1;
        let t = lines[i].trim();
        if in_attr {
            if t.is_empty() || t.starts_with("//") {
                return false;
            }
            in_attr = !t.starts_with("#[");
            continue;
        }
        if let Some(doc) = t.strip_prefix("///") {
            if doc.trim_start().starts_with("```") {
                return true;
            }
        } else if t.starts_with("#[") || (t.starts_with("//") && !t.starts_with("//!")) {
            // an attribute or a plain comment between the docs and the item
        } else if t.ends_with(']') || t.ends_with(',') {
            // the last line of an attribute spread over several lines
            in_attr = true;
        } else {
            return false;
        }
    }
    false
}

/// Scan one file's text.
pub fn scan(text: &str) -> Scan {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Scan::default();
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim();
        if is_model_only_cfg(t) {
            // Skip the attributes and the item they configure, up to its closing brace (rustfmt
            // puts it at the item's indentation) or its `;`.
            let depth = indent(lines[i]);
            while i < lines.len() && lines[i].trim().starts_with("#[") {
                i += 1;
            }
            let header = lines.get(i).map_or("", |l| l.trim());
            if header.ends_with(';') || header.ends_with("{}") {
                i += 1;
                continue;
            }
            while i < lines.len() {
                let l = lines[i];
                i += 1;
                if indent(l) == depth && l.trim().starts_with('}') {
                    break;
                }
            }
            continue;
        }
        if is_pub_item(t) {
            if has_example(&lines, i) {
                out.examples += 1;
            } else {
                out.missing.push(i + 1);
            }
        }
        i += 1;
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs")
            && !p
                .file_name()
                .is_some_and(|n| SKIPPED_FILES.iter().any(|s| n == *s))
        {
            out.push(p);
        }
    }
}

/// A planted file: one item with an example, two without, one model-only item without.
pub const PLANTED: &str = "\
/// Has one.
///
/// ```
/// assert!(true);
/// ```
#[inline]
pub fn good() {}

/// Prose only.
pub struct Bad;

pub(crate) fn internal() {}

#[cfg(any(loom, feature = \"shuttle\"))]
pub mod model_only {
    static X: u8 = 0;
    /// No example, but doctests cannot build it.
    pub fn skipped() {}
}

impl Bad {
    #[must_use]
    pub const fn also_bad() -> u8 { 0 }
}
";

/// Scan the crates' sources: `(examples, missing as "file:line", planted self-test passed)`.
pub fn check(root: &Path) -> (usize, Vec<String>, bool) {
    let mut files = Vec::new();
    for src in CRATES {
        rust_files(&root.join(src), &mut files);
    }
    files.sort();
    let mut examples = 0;
    let mut missing = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let s = scan(&text);
        examples += s.examples;
        let rel = f.strip_prefix(root).unwrap_or(&f).display().to_string();
        missing.extend(s.missing.into_iter().map(|l| format!("{rel}:{l}")));
    }
    let planted = scan(PLANTED);
    let self_test = planted
        == Scan {
            examples: 1,
            missing: vec![10, 23],
        };
    (examples, missing, self_test)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_items_without_examples() {
        assert_eq!(
            scan(PLANTED),
            Scan {
                examples: 1,
                missing: vec![10, 23]
            }
        );
        assert!(is_pub_item("pub unsafe fn f()"));
        assert!(is_pub_item("pub const MAX: usize = 1;"));
        assert!(!is_pub_item("pub(crate) fn f()"));
        assert!(!is_pub_item("pub mod m;"));
        assert!(!is_pub_item("pub use a::b;"));
        assert!(!is_model_only_cfg("#[cfg(not(loom))]"));
    }

    #[test]
    fn multi_line_attributes_are_skipped() {
        let text =
            "/// ```\n/// ```\n#[cfg_attr(\n    docsrs,\n    doc(cfg(x))\n)]\npub fn f() {}\n";
        assert_eq!(
            scan(text),
            Scan {
                examples: 1,
                missing: vec![]
            }
        );
    }
}
