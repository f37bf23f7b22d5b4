#!/usr/bin/env bash
# End-to-end test of `gpcbench stress` through the binary, with the matrix's fake runner
# standing in for `gpcbench run`, and its TAP checked by `prove`.
# Usage: end_to_end.sh GPCBENCH FAKE_RUNNER
set -uo pipefail
bin="$1"; fake="$2"
work="$(mktemp -d /tmp/gpc-stress-e2e-XXXXXX)"
trap 'rm -rf "$work"' EXIT
pass=0; fail=0
ok()  { pass=$((pass+1)); echo "ok - $1"; }
bad() { fail=$((fail+1)); echo "not ok - $1"; sed 's/^/#   /' "$work/out" | head -40; }
expect_rc() {  # expect_rc "what" rc command...
  local what="$1" want="$2"; shift 2
  "$@" >"$work/out" 2>"$work/err"; local rc=$?
  cat "$work/err" >>"$work/out.all" 2>/dev/null
  if [ "$rc" = "$want" ]; then ok "$what"; else { echo "# exit $rc, wanted $want"; cat "$work/err"; } >>"$work/out"; bad "$what"; fi
}
expect_out() {  # the last command's stdout contains pattern
  if grep -q -- "$2" "$work/out"; then ok "$1"; else bad "$1 (no '$2' in the output)"; fi
}
prove_ok() {  # prove accepts the last command's stdout as a passing TAP stream
  cp "$work/out" "$work/t.tap"
  if prove --exec cat "$work/t.tap" >"$work/prove" 2>&1; then ok "$1"; else cp "$work/prove" "$work/out"; bad "$1"; fi
}
prove_fails() {
  cp "$work/out" "$work/t.tap"
  if prove --exec cat "$work/t.tap" >"$work/prove" 2>&1; then cp "$work/prove" "$work/out"; bad "$1"; else ok "$1"; fi
}
plan_matches_points() {  # the plan line equals the number of points
  local plan points
  plan="$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$work/out")"
  points="$(grep -cE '^(not )?ok [0-9]+ ' "$work/out")"
  if [ -n "$plan" ] && [ "$plan" = "$points" ]; then ok "$1 (plan $plan = points)"; else bad "$1 (plan '$plan', $points points)"; fi
}
have_prove=1; command -v prove >/dev/null || have_prove=0
run() { "$bin" stress --runner "$fake" "$@"; }

busy_end='cache/strategy:busy/hook:end/filter:global/check:rwlock'
expect_rc "--list prints the plan" 0 run --list
expect_out "--list names a combination" "cache/strategy:haltpoll/hook:start/filter:global/check:rwlock/invalidator:zap/target:cache"
expect_out "--list says why compact is skipped" "compact writes /proc/sys/vm/compact_memory"
expect_out "--list counts" "combinations,"

expect_rc "hook=end on the cache page is shown, not failing" 0 run --duration 2s --tap --filter "$busy_end"
plan_matches_points "TAP plan of the hook=end subset"
expect_out "unsafe by design is a TODO point" "^not ok [0-9]* - $busy_end/invalidator:mremap/target:cache # TODO unsafe by design: 3 uses"
expect_out "the TODO carries its counters" "  unsafe_violations: '3'"
expect_out "skips carry the probe's reason" "invalidator:compact/target:cache # SKIP compact writes"
[ $have_prove = 1 ] && prove_ok "prove accepts TODO and SKIP points"

GPC_FAKE_VIOLATION="$busy_end/invalidator:zap/target:cache" \
  expect_rc "an unexpected violation exits 1" 1 run --duration 2s --tap --filter "$busy_end"
expect_out "the violating point fails" "^not ok [0-9]* - $busy_end/invalidator:zap/target:cache$"
expect_out "the diagnostics give the reproduction command" "  reproduce: '$fake run cache --strategy busy --hook end --filter global --check rwlock --invalidator zap --target cache --duration"
expect_out "the diagnostics count the violations" "  violations: '1'"
[ $have_prove = 1 ] && prove_fails "prove fails on the violation"

GPC_FAKE_UNSAFE="hook:start" expect_rc "unsafe_violations outside hook=end fail" 1 \
  run --duration 1s --tap --filter 'cache/strategy:spin/hook:start/filter:global/check:rwlock/invalidator:mremap'
expect_out "says why" "unsafe_violations outside hook=end"

GPC_FAKE_HANG="invalidator:mprotect" expect_rc "a hanging run is caught by its bound" 1 \
  run --duration 1s --grace 1s --filter 'cache/strategy:block/hook:start/filter:global/check:rwlock/invalidator:mprotect'
expect_out "reported as hung" "hung: no result within 2.0 s"

GPC_FAKE_UNAVAILABLE="invalidator:mremap" expect_rc "exit 2 from a run is a skip" 0 \
  run --duration 1s --tap --filter 'cache/strategy:busy/hook:start/filter:global/check:rwlock/invalidator:mremap/'
expect_out "with the run's message" "# SKIP fake runner: cannot run .* /dev/kvm is missing"

GPC_FAKE_NO_SCENARIO=cache expect_rc "a gpcbench without the cache scenario skips it" 0 run --duration 1s --tap --filter cache/strategy:busy/hook:start
expect_out "names the missing scenario" "# SKIP gpc_matrix_fake_runner has no \`run cache\` scenario"
plan_matches_points "TAP plan of the skipped subset"

expect_rc "table output without --tap" 0 run --duration 1s --filter "$busy_end/invalidator:mremap"
expect_out "table row" "unsafe .*$busy_end/invalidator:mremap/target:cache"

expect_rc "a filter matching nothing is a usage error" 2 run --filter no-such-thing
expect_rc "a bad duration is a usage error" 2 run --duration 5parsecs

# Ctrl-C: the running child's process group is killed and the verb stops at once.
GPC_FAKE_HANG='*' "$bin" stress --runner "$fake" --tap --filter "$busy_end" >"$work/out" 2>&1 &
pid=$!
sleep 2; kill -INT $pid
t0=$SECONDS; wait $pid; rc=$?
if [ $rc -eq 130 ] && [ $((SECONDS - t0)) -le 5 ]; then ok "Ctrl-C stops within 5 s with exit 130"; else bad "Ctrl-C (exit $rc, wanted 130)"; fi
expect_out "Ctrl-C bails out" "^Bail out! interrupted"

# Self-test: the in-process detectors always; the scenario detector through the runner.
GPC_FAKE_NO_SCENARIO=cache expect_rc "self-test without the cache scenario passes the races" 0 "$bin" stress --self-test --tap --runner "$fake"
expect_out "says the scenario detector was skipped" "# SKIP this gpcbench has no \`run cache\` scenario"
expect_out "names the race detector" "race count-after-invalidate: broken variant caught by"
plan_matches_points "self-test TAP plan"
[ $have_prove = 1 ] && prove_ok "prove accepts the self-test"

GPC_FAKE_VIOLATION="bug:" expect_rc "self-test through a scenario that catches every bug" 0 "$bin" stress --self-test --tap --runner "$fake"
expect_out "subprocess detector caught a bug" "cache scenario --bug speculative-valid: caught, 1 violations"
expect_out "faithful subprocess run passes" "^ok [0-9]* - cache scenario: faithful model not flagged"

expect_rc "bugs the scenario misses are reported, not failed" 0 "$bin" stress --self-test --tap --runner "$fake"
expect_out "a miss is a SKIP with the reason" "not caught in 1s .*# SKIP the random scenario does not reach this race"

GPC_FAKE_VIOLATION="*" expect_rc "self-test fails when a faithful run is flagged" 1 "$bin" stress --self-test --tap --runner "$fake"
expect_out "the flagged faithful run fails" "^not ok [0-9]* - cache scenario: faithful model not flagged"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
