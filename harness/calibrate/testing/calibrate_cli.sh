#!/usr/bin/env bash
# `gpcbench calibrate` from the command line: --help works, bad flags and a machine without
# /dev/kvm (GPC_KVM_DEVICE pointing at nothing) end with exit 2 and a reason, no traceback.
set -u
gpcbench=$1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail=0
expect() {  # expect CODE PATTERN -- ARGS...
  local code=$1 pattern=$2; shift 3
  local text rc
  text=$("$gpcbench" "$@" 2>&1); rc=$?
  if [ "$rc" -ne "$code" ] || ! grep -q -- "$pattern" <<<"$text"; then
    echo "FAIL: gpcbench $* -> exit $rc (want $code, /$pattern/):"; echo "$text" | head -5; fail=1
  else
    echo "ok: gpcbench $* -> exit $rc"
  fi
}
expect 0 "--repetitions" -- calibrate --help
expect 2 "one type for a calibration" -- calibrate --out "$out" --invalidator mremap,zap
expect 2 "--out DIR is required" -- calibrate
GPC_KVM_DEVICE=/dev/nonexistent-kvm expect 2 "needs /dev/kvm" -- calibrate --out "$out"
[ -z "$(ls -A "$out")" ] || { echo "FAIL: a refused calibration wrote files"; fail=1; }

# Where /dev/kvm works: one short calibration end to end, through the report step (the
# verb's own call of gpc_calibration.py on DIR, and `gpcbench report DIR`'s Model fidelity
# section). Elsewhere it is refused with the reason (checked above) and skipped here.
text=$("$gpcbench" calibrate --out "$out/cal" --repetitions 1 --duration 300ms --rate 1000 2>&1); rc=$?
if [ "$rc" -eq 2 ] && grep -q "needs /dev/kvm" <<<"$text"; then
  echo "skip: a real calibration needs /dev/kvm: $(tail -1 <<<"$text")"
elif [ "$rc" -ne 0 ] || ! grep -q "the model's busy is within .*% of the kernel's at p50 on this machine" <<<"$text"; then
  echo "FAIL: gpcbench calibrate (1 repetition) -> exit $rc, no fidelity line:"; echo "$text" | tail -5; fail=1
else
  echo "ok: gpcbench calibrate -> exit 0 with the fidelity line"
  if "$gpcbench" report "$out/cal" >/dev/null 2>&1 &&
     grep -q "the model's busy is within" "$out/cal/report.md"; then
    echo "ok: gpcbench report on the calibration renders the Model fidelity line"
  else
    echo "FAIL: gpcbench report on the calibration has no fidelity line"; fail=1
  fi
fi
exit $fail
