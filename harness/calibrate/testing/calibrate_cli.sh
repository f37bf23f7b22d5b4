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
exit $fail
