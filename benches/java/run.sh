#!/usr/bin/env bash
# Java 17 comparison (FutureTask, ThreadPoolExecutor), the Java rows of BENCHMARKS.md.
# usage: bash benches/java/run.sh [--quick] [OUT_FILE]
# Compiles into $TMPDIR, runs the unpinned scenarios, then P4 with the whole JVM pinned to one CPU
# (taskset -c 0), and writes a markdown table to OUT_FILE (default: stdout only).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
quick=""
if [[ "${1:-}" == "--quick" ]]; then quick="quick"; shift; fi
out="${1:-}"
if ! command -v javac >/dev/null || ! command -v java >/dev/null; then
    echo "javac/java not found: skipping the Java comparison" >&2
    exit 0
fi
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
javac -d "$build" "$here/FutureTaskBench.java"
opts=(-Xms512m -Xmx512m -XX:+UseParallelGC -cp "$build")
{
    java "${opts[@]}" FutureTaskBench $quick
    taskset -c 0 java "${opts[@]}" FutureTaskBench $quick only=P4 | tail -n +3
} | tee "${out:-/dev/null}"
