#!/bin/bash
# Bad input: each a clear error, exit 1, and the state root unchanged
# (a listing with modes, sizes and checksums compared before and after).
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

kernel="$SCRATCH/vmlinuz"
head -c 4096 /dev/urandom >"$kernel"
printf 'raw disk\n' >"$SCRATCH/disk.raw"
truncate -s 1M "$SCRATCH/disk.raw"
qc create ok1 --kernel "$kernel" >/dev/null
ok "a VM to keep the state root populated"
before=$(tree_digest "$ROOT")

long=$(printf 'a%.0s' $(seq 200))
for bad in '../x' '' "$long" 'a b' '.hidden' 'x/y'; do
	expect_fail 1 "VM name|unknown option" qc create "$bad" --kernel "$kernel"
done
expect_fail 1 "VM 'ok1' already exists" qc create ok1 --kernel "$kernel"
for cmd in start stop destroy pause resume reboot info delete console log events dumpxml undefine; do
	expect_fail 1 "VM 'nope' does not exist" qc "$cmd" nope
done
expect_fail 1 "VM 'nope' does not exist" qc qmp nope '{"execute":"query-status"}'
expect_fail 1 "VM 'ok1' is not running" qc stop ok1
expect_fail 1 "VM 'ok1' is not running" qc destroy ok1
expect_fail 1 "VM 'ok1' is not running" qc pause ok1
expect_fail 1 "VM 'ok1' is not running" qc console ok1
expect_fail 1 "VM 'ok1' is not running" qc qmp ok1 '{"execute":"query-status"}'
expect_fail 1 "disk-image '$SCRATCH/missing.img': cannot read: No such file" \
	qc create d1 --disk-image "$SCRATCH/missing.img"
expect_fail 1 "kernel '$SCRATCH/nokernel': cannot read: No such file" \
	qc create k1 --kernel "$SCRATCH/nokernel"
expect_fail 1 "kernel '$SCRATCH': not a regular file" qc create k2 --kernel "$SCRATCH"
expect_fail 1 "initrd '$SCRATCH/noinitrd': cannot read" \
	qc create k3 --kernel "$kernel" --initrd "$SCRATCH/noinitrd"
expect_fail 1 "nothing to boot" qc create k4
expect_fail 1 "arch 'sparc'" qc create k5 --kernel "$kernel" --arch sparc
expect_fail 1 "accel 'fast'" qc create k6 --kernel "$kernel" --accel fast
expect_fail 2 "memory" qc create k7 --kernel "$kernel" --memory -5
expect_fail 2 "cpus" qc create k8 --kernel "$kernel" --cpus 0
expect_fail 2 "unknown option '--bogus'" qc create k9 --kernel "$kernel" --bogus
expect_fail 2 "missing NAME" qc start
expect_fail 2 "unknown command 'frobnicate'" qc frobnicate
expect_fail 2 "unexpected argument" qc info ok1 extra
after=$(tree_digest "$ROOT")
[ "$before" = "$after" ] || fail "state root changed: $(diff <(echo "$before") <(echo "$after"))"
ok "state root unchanged by every refused command"

# undefine of a VM without disks works; delete of a VM with a disk leaves the backing.
qc undefine ok1
assert_no_file "$ROOT/vms/ok1"
qc create d2 --disk-image "$SCRATCH/disk.raw" >/dev/null
sum=$(sha256sum <"$SCRATCH/disk.raw")
expect_fail 1 "owns disk 'disk0'" qc undefine d2
qc delete d2
assert_no_file "$ROOT/vms/d2"
assert_eq "$(sha256sum <"$SCRATCH/disk.raw")" "$sum" "backing file unchanged by delete"
assert_file "$SCRATCH/disk.raw"
# define/dumpxml round trip
qc create x1 --kernel "$kernel" >/dev/null
qc dumpxml x1 >"$SCRATCH/x1.xml"
qc delete x1
qc define "$SCRATCH/x1.xml" >/dev/null
qc dumpxml x1 >"$SCRATCH/x1b.xml"
assert_eq "$(cat "$SCRATCH/x1b.xml")" "$(cat "$SCRATCH/x1.xml")" "define(dumpxml) round trip"

# QEMU failing at start says why (its own message), leaves nothing running.
cp "$kernel" "$SCRATCH/k2"
qc create f1 --kernel "$SCRATCH/k2" --net none >/dev/null
rm "$SCRATCH/k2"
# (unconfined: a confined QEMU gets the kernel as an fd the CLI opens, so the
# CLI would say it first; tests/integration/confine.sh checks that message)
expect_fail 1 "VM 'f1': start failed: QEMU exited during start \(exit 1\): .*could not open kernel file" \
	env QEMUCTL_USER=root "$QC" --root "$ROOT" start f1
if [ "$(id -u)" -eq 0 ]; then
	expect_fail 1 "^qemuctl: error: VM 'f1': kernel '$SCRATCH/k2': No such file or directory$" qc start f1
fi
assert_match "$(qc list)" '^f1 .* stopped$' "list: stopped, the reason left to info"
assert_match "$(qc info f1)" 'State: +stopped \(start-failed: ' "info: start-failed"
[ -z "$(procs_using "$ROOT/vms/f1")" ] || fail "processes left after a failed start"
ok "nothing left running after a failed start"
qc delete f1

# --disk SIZE on a kernel-boot VM (no root disk) makes the data disk too.
qc create kd1 --kernel "$kernel" --disk 16M --net none --no-seed >/dev/null
assert_file "$ROOT/vms/kd1/disk1.qcow2"
assert_match "$(qemu-img info --output=json "$ROOT/vms/kd1/disk1.qcow2")" '"virtual-size": 16777216' "data disk of a kernel-boot VM has its size"
qc delete kd1

# A VM without disks: info --json says [] (no placeholder text), info says (none).
qc create nd1 --kernel "$kernel" --net none --no-seed >/dev/null
assert_eq "$(qc --json info nd1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["disks"])')" "[]" "info --json: no disks is []"
assert_match "$(qc info nd1)" 'Disks: +\(none\)' "info: no disks is (none)"
qc delete nd1
