#!/bin/bash
# qemuctl doctor: reports the host truthfully, exit status follows can_run.
. "$QC_SRCDIR/tests/integration/lib.sh"

out="$(qc --json doctor)" || fail "doctor failed on a host that can run x86_64 VMs: $out"
printf '%s\n' "$out" >"$SCRATCH/doctor.json"
python3 - "$SCRATCH/doctor.json" <<'PY' || fail "doctor --json is not what it should be"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["arch"] == "x86_64", r
assert r["can_run"] is True, r
names = {c["name"]: c for c in r["checks"]}
for n in ("qemu-x86_64", "accel-x86_64", "qemu-img", "tun", "state-root", "free-space", "9p", "qemu-user"):
    assert n in names, n
assert names["qemu-x86_64"]["status"] == "ok"
assert names["qemu-img"]["status"] == "ok"
for c in r["checks"]:
    assert c["status"] in ("ok", "warn", "fail"), c
PY
ok "doctor --json lists the checks and can_run"

# KVM: this host's /dev/kvm answers but the CPU has no vmx/svm: doctor must say TCG and why.
if grep -qwE 'vmx|svm' /proc/cpuinfo && [ -w /dev/kvm ]; then
	log "host has vmx/svm: not checking the no-KVM report"
else
	line="$(qc doctor | grep -E '^\S+ +accel-x86_64 ')"
	assert_match "$line" '^warn +accel-x86_64 +TCG .*(vmx|svm|/dev/kvm)' "no-KVM host reported as TCG with the reason"
	expect_fail 1 'error: accel-x86_64: --accel kvm: KVM unusable' qc doctor --accel kvm
fi

expect_fail 1 "unknown architecture 'sparc'" qc doctor --arch sparc
expect_fail 2 "unexpected argument 'x'" qc doctor x

# A state root writable by others is refused with the fix.
bad="$SCRATCH/open-root"
mkdir -m 0777 "$bad"
chmod 0777 "$bad"
rc=0
"$QC" --root "$bad" doctor >"$SCRATCH/out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "doctor accepted a world-writable state root"
grep -Eq "writable by (group or )?others.*chmod 0?700" "$SCRATCH/out" ||
	fail "no chmod hint for a world-writable root: $(cat "$SCRATCH/out")"
ok "world-writable root refused with the fix"
expect_fail 1 "state root '$bad' is writable by group or others \(mode 0777\); run chmod 0700 $bad" \
	"$QC" --root "$bad" list
expect_fail 1 "state root '$bad' is writable by group or others" "$QC" --root "$bad" create x --kernel /etc/hostname
assert_eq "$(ls -A "$bad")" "" "nothing written into a world-writable root"
touch "$SCRATCH/afile"
expect_fail 1 "state root '$SCRATCH/afile' is not a directory" "$QC" --root "$SCRATCH/afile" list
