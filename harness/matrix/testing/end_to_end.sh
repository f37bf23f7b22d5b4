#!/usr/bin/env bash
# End-to-end test of matrix -> report -> compare through the gpcbench binary, with the fake
# runner standing in for `gpcbench run`. Usage: end_to_end.sh GPCBENCH FAKE_RUNNER
set -uo pipefail
bin="$1"; fake="$2"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d /tmp/gpc-matrix-e2e-XXXXXX)"
trap 'rm -rf "$work"' EXIT
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "ok - $1"; }
bad() { fail=$((fail+1)); echo "not ok - $1"; sed 's/^/#   /' "$work/out" | head -30; }
expect_rc() {  # expect_rc "what" rc command...
  local what="$1" want="$2"; shift 2
  "$@" >"$work/out" 2>&1; local rc=$?
  if [ "$rc" = "$want" ]; then ok "$what"; else echo "# exit $rc, wanted $want" >>"$work/out"; bad "$what"; fi
}
expect_out() {  # expect_out "what" pattern: the last command's output contains pattern
  if grep -q -- "$2" "$work/out"; then ok "$1"; else bad "$1 (no '$2' in the output)"; fi
}

cat >"$work/m.toml" <<'TOML'
[matrix]
name = "e2e"
repetitions = 5
duration = "10ms"
warmup = "10ms"
grace = "10s"
seed = 4
[[scenario]]
name = "cache"
[scenario.axes]
strategy = ["busy", "spin", "haltpoll", "block"]
hook = ["start", "end"]
invalidator = "mremap"
co-runner = true
[[scenario]]
name = "pvclock"
[scenario.axes]
invalidator = [false, "mremap"]
TOML

expect_rc "matrix runs all cells and writes the report" 0 "$bin" matrix --preset "$work/m.toml" --out "$work/a" --runner "$fake"
[ "$(ls "$work/a/runs" | wc -l)" = 50 ] && ok "50 result files" || bad "50 result files"
[ -s "$work/a/report.md" ] && [ -s "$work/a/report.html" ] && ok "report.md and report.html exist" || bad "report files"
grep -q 'data:image/png;base64,' "$work/a/report.html" && ok "HTML embeds its plots" || bad "HTML embeds its plots"
grep -q 'Unsafe by design' "$work/a/report.md" && ok "report shows unsafe-by-design findings" || bad "unsafe findings"

expect_rc "rerun resumes and runs nothing" 0 "$bin" matrix --preset "$work/m.toml" --out "$work/a" --runner "$fake" --no-report
expect_out "rerun says all runs were done" "50 of 50 runs already done"

expect_rc "report on the directory" 0 "$bin" report "$work/a"
expect_rc "report on a missing directory is a usage error" 2 "$bin" report "$work/nope"

expect_rc "compare a directory with itself" 0 "$bin" compare "$work/a" "$work/a"
expect_out "says no regression" "no regression"

/usr/bin/python3 "$here/scale_latencies.py" "$work/a" "$work/slow" "strategy:block" 2
expect_rc "doubled latencies are a regression" 1 "$bin" compare "$work/a" "$work/slow" --junit "$work/junit.xml"
expect_out "names the regressed cell" "cache/strategy:block/hook:end/invalidator:mremap/co-runner:on"
expect_out "names the regressed metric" "| p50_ns |"
if grep -q 'strategy:busy.*p50_ns' "$work/out"; then bad "unchanged cells are not flagged"; else ok "unchanged cells are not flagged"; fi
grep -q '<failure' "$work/junit.xml" && ok "JUnit XML has the failures" || bad "JUnit XML"
expect_rc "a 2x change under a 150% threshold passes" 0 "$bin" compare "$work/a" "$work/slow" --threshold 150

cp -r "$work/a" "$work/trunc"
f="$(ls "$work/trunc/runs" | head -1)"
head -c 200 "$work/a/runs/$f" >"$work/trunc/runs/$f"
expect_rc "a truncated file is unusable input" 2 "$bin" compare "$work/a" "$work/trunc"
expect_out "names the truncated file and why" "$f: invalid or truncated JSON"

expect_rc "a missing BASE is unusable input" 2 "$bin" compare "$work/nope" "$work/a"

GPC_FAKE_VIOLATION="pvclock/invalidator:mremap" "$bin" matrix --preset "$work/m.toml" --out "$work/viol" --runner "$fake" --no-report >"$work/out" 2>&1
[ $? = 1 ] && ok "a matrix with a violation exits 1" || bad "a matrix with a violation exits 1"
expect_rc "a violation in NEW fails compare" 1 "$bin" compare "$work/a" "$work/viol"
expect_out "names the violating cell" "pvclock/invalidator:mremap"

sed 's/repetitions = 5/repetitions = 3/' "$work/m.toml" >"$work/m3.toml"
"$bin" matrix --preset "$work/m3.toml" --out "$work/three" --runner "$fake" --no-report >/dev/null 2>&1
expect_rc "three repetitions cannot be tested" 2 "$bin" compare "$work/three" "$work/three"
expect_out "says how many are needed" "need at least 5 per side"

# Sharding and merge through the command line.
GPCBENCH_SHARD_INDEX=0 GPCBENCH_TOTAL_SHARDS=2 "$bin" matrix --preset "$work/m.toml" --out "$work/s0" --runner "$fake" --no-report >/dev/null 2>&1
GTEST_SHARD_INDEX=1 GTEST_TOTAL_SHARDS=2 "$bin" matrix --preset "$work/m.toml" --out "$work/s1" --runner "$fake" --no-report >/dev/null 2>&1
expect_rc "merge two shards" 0 "$bin" matrix --merge "$work/s0" "$work/s1" --out "$work/merged" --no-report
[ "$(ls "$work/merged/runs" | wc -l)" = 50 ] && ok "merged shards hold all 50 results" || bad "merged count"
expect_rc "merged shards equal the unsharded run (same seeds)" 0 "$bin" compare "$work/a" "$work/merged"

# Google Benchmark's own compare.py reads the result files unchanged.
gb=/usr/share/benchmark/compare.py
if [ -f "$gb" ]; then
  f1="$(ls "$work/a/runs" | head -1)"
  expect_rc "Google Benchmark compare.py reads the files" 0 /usr/bin/python3 "$gb" benchmarks "$work/a/runs/$f1" "$work/slow/runs/$f1"
  expect_out "compare.py shows the cell" "${f1%%.*}"
else
  echo "ok - # SKIP $gb missing (Debian package libbenchmark-tools)"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
