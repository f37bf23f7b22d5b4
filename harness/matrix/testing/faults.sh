#!/usr/bin/env bash
# CTest `matrix.faults`: hostile input and faults thrown at `gpcbench matrix` (issue 15 items
# 2, 3, 4, 6, 10, 11, 13, 14, 15, 16) and the environment checks of --merge (issue 17), with
# the fake runner standing in for `gpcbench run`. Everything lives in a mktemp -d directory;
# nothing under /dev, /proc or /sys is written.   Usage: faults.sh GPCBENCH FAKE_RUNNER
set -uo pipefail
bin="$1"; fake="$2"
work="$(mktemp -d /tmp/gpc-matrix-faults-XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
export GPCBENCH_RUNNER="$fake"
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "ok - $1"; }
bad() { fail=$((fail+1)); echo "not ok - $1"; sed 's/^/#   /' "$work/out" | tail -20; }
# expect "what" rc pattern command...: exit code and a message (stdout+stderr) matching pattern.
expect() {
  local what="$1" want="$2" pattern="$3"; shift 3
  "$@" >"$work/out" 2>&1; local rc=$?
  if [ "$rc" != "$want" ]; then echo "# exit $rc, wanted $want" >>"$work/out"; bad "$what"; return; fi
  if ! grep -Eq -- "$pattern" "$work/out"; then echo "# no /$pattern/ in the output" >>"$work/out"; bad "$what"; return; fi
  if grep -q 'filesystem error\|type_error\|terminate called\|Traceback' "$work/out"; then bad "$what (raw error)"; return; fi
  ok "$what"
}
no_leftovers() {  # no temporary file or tmp/ directory under $1
  local left; left="$(find "$1" \( -name '*.tmp*' -o -name tmp \) 2>/dev/null)"
  if [ -z "$left" ]; then ok "$2: nothing left behind"; else echo "$left" >"$work/out"; bad "$2: leftovers"; fi
}
matrix_file() {  # matrix_file NAME REPETITIONS STRATEGIES [extra [matrix] lines]
  printf '[matrix]\nname = "%s"\nrepetitions = %s\nduration = "50ms"\nwarmup = "0s"\ngrace = "30s"\nseed = 3\n%s\n[[scenario]]\nname = "cache"\n[scenario.axes]\nstrategy = [%s]\nhook = "start"\n' \
    "$1" "$2" "${4:-}" "$3" >"$work/$1.toml"
  echo "$work/$1.toml"
}
m2="$(matrix_file two 1 '"busy", "spin"')"

echo "# item 14: --out"
touch "$work/afile"
expect "--out a regular file" 2 "is not a directory; choose a new directory" "$bin" matrix --preset "$m2" --out "$work/afile"
ln -s "$work/loop" "$work/loop"
expect "--out a symlink loop" 2 "symlink loop.*point --out at a real directory" "$bin" matrix --preset "$m2" --out "$work/loop"
mkdir -p "$work/runsfile"; "$bin" matrix --preset "$m2" --out "$work/runsfile" --no-report >/dev/null 2>&1
rm -rf "$work/runsfile/runs"; touch "$work/runsfile/runs"
expect "--out whose runs is a file" 2 "runs in it is not a directory; remove or rename" "$bin" matrix --preset "$m2" --out "$work/runsfile"
expect "--out under a file (cannot be created)" 2 "afile is not a directory; choose a path under a directory" \
  "$bin" matrix --preset "$m2" --out "$work/afile/sub"
mkdir -p "$work/logdir"; "$bin" matrix --preset "$m2" --out "$work/logdir" --no-report >/dev/null 2>&1
rm -f "$work/logdir/runs/"* "$work/logdir/logs/"*; mkdir -p "$work/logdir/logs/cache.strategy-busy.hook-start.rep0.log/x"
expect "a directory where a run's log goes" 2 "rep0.log is not a regular file; remove it" \
  "$bin" matrix --preset "$m2" --out "$work/logdir" --no-report
mkdir "$work/ro"; chmod 555 "$work/ro"
if [ "$(id -u)" != 0 ]; then
  expect "--out in an unwritable directory" 2 "choose a directory you can write to" "$bin" matrix --preset "$m2" --out "$work/ro/x"
else
  echo "ok - # SKIP unwritable --out: root writes anywhere (the 'under a file' case covers the error path)"
fi
mkdir "$work/notmatrix"; echo keep >"$work/notmatrix/notes.txt"
expect "--out a non-empty non-matrix directory" 2 "not a matrix directory; choose a new or empty directory" \
  "$bin" matrix --preset "$m2" --out "$work/notmatrix"
[ "$(ls "$work/notmatrix")" = notes.txt ] && ok "the foreign directory is untouched" || bad "the foreign directory is untouched"
mkdir "$work/empty"
expect "--out an empty directory is fine" 0 "2 ok" "$bin" matrix --preset "$m2" --out "$work/empty" --no-report

echo "# item 15: --preset and matrix.json"
expect "--preset a directory" 2 "is a directory; give a matrix file" "$bin" matrix --preset "$work" --out "$work/p1"
cp -r "$work/empty" "$work/badfp"
sed -i 's/"fingerprint": "[0-9a-f]*"/"fingerprint": 12/' "$work/badfp/matrix.json"
expect "matrix.json fingerprint of the wrong type" 2 "'fingerprint' must be a string" \
  "$bin" matrix --preset "$m2" --out "$work/badfp"
expect "merging a shard with a malformed matrix.json" 2 "'fingerprint' must be a string" \
  "$bin" matrix --merge "$work/badfp" --out "$work/m-badfp" --no-report
[ ! -e "$work/m-badfp" ] && ok "the refused merge created nothing" || bad "the refused merge created nothing"

echo "# item 13: integer ranges"
for reps in 4294967297 1000000000000 -1 0; do
  f="$(matrix_file "reps$reps" "$reps" '"busy"')"
  expect "repetitions = $reps" 2 "repetitions: expected an integer in 1\.\.10000, found $reps" "$bin" matrix --preset "$f" --dry-run
done
f="$(matrix_file seedneg 1 '"busy"')"; sed -i 's/^seed = 3/seed = -1/' "$f"
expect "seed = -1" 2 "seed: expected an integer in 0\.\.9223372036854775807, found -1" "$bin" matrix --preset "$f" --dry-run

echo "# item 11: planning size"
big="$(matrix_file big 1 '"busy"')"
python3 -c 'print("hold = [" + ", ".join(f"\"{i}us\"" for i in range(1, 200001)) + "]")' >>"$big"
start=$(date +%s)
timeout -k 5 120 "$bin" matrix --preset "$big" --dry-run >"$work/out" 2>&1; rc=$?
secs=$(( $(date +%s) - start ))
[ "$rc" = 0 ] && [ "$(grep -c '^  rep 0' "$work/out")" = 200000 ] && ok "200000-value axis planned (${secs} s, linear)" \
  || bad "200000-value axis planned (exit $rc after ${secs} s)"
huge="$(matrix_file huge 1 '"busy", "spin", "haltpoll", "block"')"
python3 -c 'print("hold = [" + ", ".join(f"\"{i}us\"" for i in range(1, 300001)) + "]")' >>"$huge"
expect "more cells than the limit" 2 "more than 1000000 cells \(the limit\)" "$bin" matrix --preset "$huge" --dry-run
f="$(matrix_file manyruns 10000 '"busy", "spin"')"
python3 -c 'print("hold = [" + ", ".join(f"\"{i}us\"" for i in range(1, 1001)) + "]")' >>"$f"
expect "more runs than the limit" 2 "more than 10000000 runs \(the limit\)" "$bin" matrix --preset "$f" --dry-run

echo "# item 16: conflicting flags, --merge without shards, an empty shard"
expect "--merge with --preset" 2 "excludes" "$bin" matrix --merge "$work/empty" --preset quick --out "$work/m16a"
expect "--merge with --dry-run" 2 "excludes" "$bin" matrix --merge "$work/empty" --dry-run --out "$work/m16b"
[ ! -e "$work/m16b" ] && ok "--merge --dry-run wrote nothing" || bad "--merge --dry-run wrote nothing"
expect "--merge --out X" 2 "--merge needs the shard directories" "$bin" matrix --merge --out "$work/m16c"
expect "--merge without --out" 2 "--merge needs --out DIR" "$bin" matrix --merge "$work/empty"
expect "--allow-mixed without --merge" 2 "--allow-mixed only applies to --merge" \
  "$bin" matrix --preset "$m2" --out "$work/m16d" --allow-mixed
m1="$(matrix_file one 1 '"busy"')"
GPCBENCH_SHARD_INDEX=1 GPCBENCH_TOTAL_SHARDS=2 expect "an empty shard" 2 "shard 1/2 .* has no cells: the matrix has 1 cell\(s\); use at most 1 shards" \
  "$bin" matrix --preset "$m1" --out "$work/emptyshard"
[ ! -e "$work/emptyshard" ] && ok "the empty shard created nothing" || bad "the empty shard created nothing"

echo "# item 3: --merge A A; failure records"
GPC_FAKE_VIOLATION="strategy:busy" GPCBENCH_SHARD_INDEX=0 GPCBENCH_TOTAL_SHARDS=2 \
  "$bin" matrix --preset "$m2" --out "$work/s0" --no-report >/dev/null 2>&1
GPCBENCH_SHARD_INDEX=1 GPCBENCH_TOTAL_SHARDS=2 "$bin" matrix --preset "$m2" --out "$work/s1" --no-report >/dev/null 2>&1
expect "--merge A A" 2 "lists .*s0 twice" "$bin" matrix --merge "$work/s0" "$work/s0" --out "$work/mAA" --no-report
cp -r "$work/s0" "$work/s0copy"
expect "--merge A copy-of-A" 2 "are both shard 0/2" "$bin" matrix --merge "$work/s0" "$work/s0copy" --out "$work/mAc" --no-report
expect "merge keeps the violation and exits 1" 1 "1 failure records" \
  "$bin" matrix --merge "$work/s0" "$work/s1" --out "$work/m01" --no-report
[ "$(ls "$work/m01/failures" 2>/dev/null | wc -l)" = 1 ] && [ "$(ls "$work/m01/runs" | wc -l)" = 2 ] \
  && ok "the violation's failure record and result are both merged" || bad "the violation's failure record is merged"
expect "--out of a merge must be new" 2 "--merge writes a new directory" \
  "$bin" matrix --merge "$work/s0" "$work/s1" --out "$work/m01" --no-report

echo "# item 4: a rerun reflects everything the directory holds"
GPC_FAKE_VIOLATION="strategy:busy" "$bin" matrix --preset "$m2" --out "$work/viol" --no-report >/dev/null 2>&1
expect "rerun of a finished matrix with a violation exits 1" 1 "2 done before" \
  "$bin" matrix --preset "$m2" --out "$work/viol" --no-report

echo "# issue 17: shards from different environments"
for k in kernel.release cpu.model thp.enabled suite.commit topology.pus; do
  rm -rf "$work/s1x" "$work/mx"; cp -r "$work/s1" "$work/s1x"
  python3 - "$work/s1x/environment.json" "$k" <<'PY'
import json, sys
p, key = sys.argv[1], sys.argv[2].split(".")
d = json.load(open(p)); node = d
for k in key[:-1]: node = node.setdefault(k, {})
node[key[-1]] = 12345 if key[-1] == "pus" else "other-" + str(node.get(key[-1]))
json.dump(d, open(p, "w"))
PY
  expect "merge refuses a different $k" 2 "different environments: $k is .*--allow-mixed" \
    "$bin" matrix --merge "$work/s0" "$work/s1x" --out "$work/mx" --no-report
done
rm -rf "$work/s1x"; cp -r "$work/s1" "$work/s1x"
python3 - "$work/s1x/environment.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d.setdefault("kvm", {}).setdefault("params", {})["kvm.halt_poll_ns"] = "999"
json.dump(d, open(sys.argv[1], "w"))
PY
rm -rf "$work/mx"
expect "merge names the KVM module parameter" 2 "kvm\.params\.kvm\.halt_poll_ns is" \
  "$bin" matrix --merge "$work/s0" "$work/s1x" --out "$work/mx" --no-report
rm -rf "$work/s0ok"; GPCBENCH_SHARD_INDEX=0 GPCBENCH_TOTAL_SHARDS=2 "$bin" matrix --preset "$m2" --out "$work/s0ok" --no-report >/dev/null 2>&1
expect "--allow-mixed merges and says so" 0 "--allow-mixed: .* differs" \
  "$bin" matrix --merge "$work/s0ok" "$work/s1x" --out "$work/mixed" --allow-mixed
grep -q '"mixed_environment"' "$work/mixed/matrix.json" && ok "matrix.json lists the differences" || bad "mixed_environment in matrix.json"
grep -q 'Mixed environments' "$work/mixed/report.md" && ok "the report says so" || bad "report banner"
[ "$(grep -n 'Mixed environments' "$work/mixed/report.md" | cut -d: -f1)" -le 5 ] 2>/dev/null \
  && ok "the banner is at the top" || bad "the banner is at the top"

echo "# issue 17: a Slurm array task"
SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=2 SLURM_ARRAY_TASK_COUNT=2 \
  "$bin" matrix --preset "$m2" --out "$work/slurm2" --no-report >"$work/out" 2>&1
grep -q '"source": "SLURM_ARRAY_TASK_ID=2 (min 1' "$work/slurm2/matrix.json" && grep -q '"index": 1' "$work/slurm2/matrix.json" \
  && ok "task 2 of --array=1-2 is shard 1 and says so" || bad "Slurm shard source in matrix.json"
SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=3 SLURM_ARRAY_TASK_COUNT=3 \
  expect "a Slurm task beyond the cells" 2 "has no cells" "$bin" matrix --preset "$m2" --out "$work/slurm3"

echo "# item 2: a full disk (RLIMIT_FSIZE) leaves no partial file"
( ulimit -f 2; trap '' XFSZ; exec "$bin" matrix --preset "$m2" --out "$work/full" --no-report ) >"$work/out" 2>&1; rc=$?
[ "$rc" = 2 ] && grep -q 'failed: File too large' "$work/out" && ok "write failure: exit 2 naming the file" \
  || { echo "# exit $rc" >>"$work/out"; bad "write failure: exit 2 naming the file"; }
no_leftovers "$work/full" "write failure"

echo "# item 10: signals"
# The fake runner sleeps for an hour with GPC_FAKE_HANG; grace 30 s keeps the matrix waiting.
slow="$(matrix_file slow 1 '"busy", "spin", "block"')"
for sig in INT TERM; do
  GPC_FAKE_HANG='*' "$bin" matrix --preset "$slow" --out "$work/sig$sig" --no-report >"$work/out" 2>&1 &
  mp=$!; pids+=("$mp")
  sleep 1.5; kill -"$sig" "$mp"; wait "$mp"; rc=$?
  want=$([ "$sig" = INT ] && echo 130 || echo 143)
  [ "$rc" = "$want" ] && ok "SIG$sig to matrix exits $want" || { echo "# exit $rc" >>"$work/out"; bad "SIG$sig to matrix exits $want"; }
  no_leftovers "$work/sig$sig" "SIG$sig"
done
for sig in INT TERM; do
  GPC_FAKE_HANG='*' "$bin" stress --runner "$fake" --duration 60s --grace 60s --filter cache >"$work/out" 2>&1 &
  sp=$!; pids+=("$sp")
  sleep 2; kill -"$sig" "$sp"; wait "$sp"; rc=$?
  want=$([ "$sig" = INT ] && echo 130 || echo 143)
  [ "$rc" = "$want" ] && ok "SIG$sig to stress exits $want" || { echo "# exit $rc" >>"$work/out"; bad "SIG$sig to stress exits $want"; }
done

echo "# item 6: SIGKILL of the matrix takes its child along"
GPC_FAKE_HANG='*' "$bin" matrix --preset "$slow" --out "$work/killed" --no-report >/dev/null 2>&1 &
mp=$!; pids+=("$mp")
child=""
for _ in $(seq 100); do child="$(pgrep -P "$mp" | head -1)"; [ -n "$child" ] && break; sleep 0.05; done
if [ -z "$child" ]; then
  echo "no child of $mp" >"$work/out"; bad "found the matrix's child"
else
  pids+=("$child")
  kill -KILL "$mp"; wait "$mp" 2>/dev/null
  gone=0
  # Gone, or a zombie waiting for whoever adopted it to reap it (read-only look at /proc).
  for _ in $(seq 200); do
    state="$(awk '{print $3}' "/proc/$child/stat" 2>/dev/null)"
    [ -z "$state" ] || [ "$state" = Z ] && { gone=1; break; }
    sleep 0.05
  done
  [ "$gone" = 1 ] && ok "the child ended with its parent" || { echo "child $child still runs" >"$work/out"; bad "the child ended with its parent"; }
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
