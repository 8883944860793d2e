#!/bin/bash
# Every --json output validated against docs/schema/qemuctl-v1.json (the
# contract docs/json.md describes): list, info (stopped, running, after a
# poweroff), events (array and --follow lines), doctor, image import/list/
# sync/rm and their progress lines, net create/list/rm (in a private netns),
# seed build, wait, resize, snapshot, clone, hot-plug (autostart: autostart.sh).  A field the schema does not know fails the test.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64
shopt -s lastpipe # check counts in the shell, not a pipeline subshell

schema="$QC_SRCDIR/docs/schema/qemuctl-v1.json"
check() { # check DEF [--lines] < json
	local def="$1" out
	shift
	out=$(cat)
	printf '%s' "$out" | python3 "$QC_SRCDIR/tests/integration/json_schema.py" "$schema" "$def" "$@" ||
		fail "'$def' does not follow the schema: $(printf '%s' "$out" | head -c 600)"
	ok "$def valid"
}

# The validator itself refuses what it must.
echo '{"removed":"x","extra":1}' | python3 "$QC_SRCDIR/tests/integration/json_schema.py" \
	"$schema" removed 2>/dev/null && fail "validator accepted an undocumented field"
echo '[{"name":"a"}]' | python3 "$QC_SRCDIR/tests/integration/json_schema.py" \
	"$schema" vm-list 2>/dev/null && fail "validator accepted a VM without required fields"
ok "validator refuses unknown fields and missing required ones"

rc=0
qc --json doctor --accel tcg >"$SCRATCH/doctor.json" 2>/dev/null || rc=$?
[ "$rc" -le 1 ] || fail "doctor --json exited $rc"
check doctor <"$SCRATCH/doctor.json"

qc --json list | check vm-list
qc create a --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" \
	--memory 256M --no-seed --net none --accel tcg >/dev/null
# a ready marker, so `wait` knows when the seedless guest has booted
qc dumpxml a | sed 's|</qemuctl:domain>|<qemuctl:ready-marker>GUEST-READY</qemuctl:ready-marker></qemuctl:domain>|' \
	>"$SCRATCH/a.xml"
qc define "$SCRATCH/a.xml" >/dev/null
qc --json list | check vm-list
qc --json info a | check vm-info
qc info a --json | check vm-info

# images: import (progress lines on stderr), a user, list, sync from a file:// stream, rm
qemu-img create -q -f raw "$SCRATCH/disk.raw" 2M
qc --json image import base "$SCRATCH/disk.raw" >"$SCRATCH/import.json" 2>"$SCRATCH/import.err"
check image <"$SCRATCH/import.json"
if [ -s "$SCRATCH/import.err" ]; then
	check progress --lines <"$SCRATCH/import.err"
fi
qc create u --image base --arch x86_64 --no-seed --net none --accel tcg >/dev/null
qc --json image list | check image-list
qc --json image list | grep -q '"users":\["u"\]' || fail "image list shows no user"
qemu-img create -q -f qcow2 "$SCRATCH/old.qcow2" 1M
qemu-img create -q -f qcow2 "$SCRATCH/new.qcow2" 1M
python3 "$QC_SRCDIR/tests/integration/mkstream.py" --out "$SCRATCH/tree" \
	--old "$SCRATCH/old.qcow2" --new "$SCRATCH/new.qcow2"
qc --json image sync ubuntu:24.04 --arch amd64 --stream "file://$SCRATCH/tree/" \
	>"$SCRATCH/sync.json" 2>"$SCRATCH/sync.err"
check image-sync <"$SCRATCH/sync.json"
check progress --lines <"$SCRATCH/sync.err"
qc --json resize u disk0 +1M | check resize
qc --json snapshot create u s1 | check snapshot
qc --json snapshot list u | check snapshot-list
qc --json clone u uc --snapshot s1 | check clone
qc delete uc >/dev/null
qc --json snapshot list u | grep -q '"name": "s1"' || fail "snapshot list shows no s1"
qc --json snapshot revert u s1 | check snapshot
qc --json snapshot rm u s1 | check snapshot
qc --json attach-disk u 1M | check hotplug
qc --json detach-disk u disk1 | check hotplug
qc --json attach-net u user | check hotplug
qc --json detach-net u net0 | check hotplug
qc delete u >/dev/null
qc --json image rm base | check removed

qc --json seed build "$SCRATCH/seed.iso" --hostname h --no-default-keys | check seed-build

qc --json net list | check net-list
if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
	# the bridge lives in a throwaway netns; the definition stays in $ROOT
	unshare -n "$QC" --root "$ROOT" --json net create lan --subnet 10.231.0.0/24 | check net-create
	qc create n --kernel "$GUEST_KERNEL" --no-seed --net network=lan --accel tcg >/dev/null
	qc --json net list | check net-list
	qc --json net list | grep -q '"leases":\[{"vm":"n","nic":"net0","ip":"10.231.0.2' ||
		fail "net list shows no lease"
	qc delete n >/dev/null
	unshare -n "$QC" --root "$ROOT" --json net rm lan | check removed
else
	fail "net create/rm JSON not checked: needs root and unshare -n"
fi

# A running VM, its events, and the record of a poweroff.
qc start a
on_exit "'$QC' --root '$ROOT' destroy a >/dev/null 2>&1"
qc --json wait a --timeout 120 | check wait
qc --json info a | check vm-info
qc --json list | check vm-list
qc --json events a | check events
timeout 2 "$QC" --root "$ROOT" --json events a --follow >"$SCRATCH/follow.jsonl" || true
check event --lines <"$SCRATCH/follow.jsonl"
qc stop a --timeout 60
info=$(qc --json info a)
printf '%s' "$info" | check vm-info
assert_match "$info" '"reason": "poweroff"' "last_exit after stop"
qc --json events a | check events
