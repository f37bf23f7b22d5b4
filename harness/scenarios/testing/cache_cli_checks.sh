#!/usr/bin/env bash
# `run cache` command-line checks of issue 14 (placement) and issue 15 items 8-9 (holds that
# cannot fit, Ctrl-C during setup). Usage: cache_cli_checks.sh GPCBENCH. Prints TAP-like lines
# and exits non-zero on any failure. Runs are short (about 1 s each) and use the host reader
# so they need no /dev/kvm.
set -uo pipefail
bin="$1"
py=/usr/bin/python3
pass=0; fail=0
tmp="$(mktemp -d /tmp/gpc-cache-cli-XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
out="$tmp/out"
ok() { pass=$((pass+1)); echo "ok - $1"; }
not_ok() { fail=$((fail+1)); echo "not ok - $1"; sed 's/^/#   /' "$out" | head -20; }
check() {  # check "description" expected_rc command...
  local what="$1" want="$2"; shift 2
  "$@" >"$out" 2>&1; local rc=$?
  if [ "$rc" = "$want" ]; then ok "$what"; else not_ok "$what (exit $rc, wanted $want)"; fi
}
says() {  # says "description" regex: the last check's output matches
  if grep -Eq -- "$2" "$out"; then ok "$1"; else not_ok "$1 (no /$2/ in the output)"; fi
}

# Issue 15 item 8: a hold that cannot fit in the run is refused before anything runs.
check "--hold 3s in a 1s run is refused" 2 timeout 20 "$bin" run cache --reader host --duration 1s --hold 3s
says "the refusal names --hold and --duration" "--hold .*--duration"
check "--hold 1500ms in a 1s run (within a refresh's bound) is refused" 2 \
  timeout 20 "$bin" run cache --reader host --duration 1s --hold 1500ms
says "that refusal names --duration" "does not fit in a run"
check "--hold 10m in a 1s run is refused at once" 2 timeout 20 "$bin" run cache --reader host --duration 1s --hold 10m
check "--hold 3s in a 10s run (beyond a refresh's 2s bound) is refused" 2 \
  timeout 20 "$bin" run cache --reader host --duration 10s --hold 3s
says "the refusal names the bound" "bound"

# Issue 14 item 1: named placements; a placement this machine cannot give is refused.
check "--placement with an unknown name is a usage error" 2 "$bin" run cache --reader host --placement lonely
says "the error lists the placements" "alone.*shared.*overcommit"
check "--placement with the legacy --co-runner is a usage error" 2 \
  "$bin" run cache --reader host --placement shared --co-runner
pus=$(nproc --all)
check "--placement alone with as many writers as PUs is refused" 2 \
  "$bin" run cache --reader host --placement alone --writers "$pus" --duration 1s
says "the refusal gives the reason" "needs $((pus + 1)) PUs"

placed_run() {  # placed_run PLACEMENT: a short run's record carries the placement evidence
  "$bin" run cache --reader host --placement "$1" --rate 1000 --hold 100us --duration 1s --quiet \
    --json "$tmp/$1.json" || return 1
  "$py" - "$tmp/$1.json" "$1" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1])); want = sys.argv[2]
rec = doc["benchmarks"][0]; run = doc["context"]["run"]
assert rec["name"].endswith("/placement:" + want + "/reader:host"), rec["name"]
for k in ("collided_refreshes", "uncollided_refreshes", "starved_refreshes", "waiter_runqueue_wait_share",
          "waiter_nonvoluntary_switches_per_s", "placement_held"):
    assert k in rec, "missing counter " + k
assert rec["collided_refreshes"] + rec["uncollided_refreshes"] > 0, "no refresh at all"
if rec["collided_refreshes"] > 0:
    assert "collided_p50_ns" in rec and "cpu_ns_per_collision" in rec
else:  # overcommit: the invalidator shares the waiter's PU and usually ends its bracket first
    assert want == "overcommit", "no collided refresh at 1000 Hz with a 100us hold"
assert run["placement_kind"] == want and run["reader_pu"] >= 0, run
if want == "alone":
    assert "corunner_progress_during_waits" not in rec and run["co_runner_pus"] == []
else:
    assert run["co_runner_pus"] == run["writer_pus"], run
    assert "corunner_progress_during_waits" in rec or rec["collided_refreshes"] == 0, rec
PY
}
for placement in alone shared overcommit; do
  check "run cache --placement $placement records its placement evidence" 0 placed_run "$placement"
done

# Issue 15 item 9: Ctrl-C at any moment of the setup (co-runner baselines, cache
# activation, the first waits) exits 130, never 1 or 2.
interrupt_at() {  # interrupt_at SECONDS: SIGINT that far into the legacy overcommit run
  "$bin" run cache --reader host --strategy block --writers 2 --overcommit --co-runner --duration 5s --quiet &
  local pid=$!
  sleep "$1"
  kill -INT "$pid"
  wait "$pid"
}
for at in 0.1 0.3 0.5 0.7 1.0; do
  check "SIGINT ${at}s into run cache --strategy block --writers 2 --overcommit --co-runner exits 130" 130 \
    interrupt_at "$at"
done

# The same with the default reader (the reader guest where /dev/kvm is usable): Ctrl-C while
# its VM starts must end the run as interrupted too.
interrupt_auto_at() {
  "$bin" run cache --placement shared --rate 1000 --hold 10us --duration 5s --quiet &
  local pid=$!
  sleep "$1"
  kill -INT "$pid"
  wait "$pid"
}
for at in 0.2 0.6 1.2; do
  check "SIGINT ${at}s into run cache --placement shared (default reader) exits 130" 130 interrupt_auto_at "$at"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
