#!/bin/bash
# Every --json output validated against docs/schema/qemuctl-v2.json (the
# contract docs/json.md describes): list, info (stopped, running, after a
# poweroff), events (array and --follow lines), doctor, image import/list/
# sync/rm and their progress lines, net create/list/rm (in a private netns),
# seed build, wait, resize, snapshot, clone, hot-plug, port (autostart:
# autostart.sh); info's disk and NIC objects, the ssh endpoint, errors and
# log lines on stderr.  A field the schema does not know fails the test.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64
shopt -s lastpipe # check counts in the shell, not a pipeline subshell

schema="$QC_SRCDIR/docs/schema/qemuctl-v2.json"
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
# a user-mode NIC (its ssh forward picked at start) and a data disk: info's objects
qc create a --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" \
	--memory 256M --no-seed --disk 8M --accel tcg --user tester >/dev/null
# a ready marker, so `wait` knows when the seedless guest has booted
qc dumpxml a | sed 's|</qemuctl:domain>|<qemuctl:ready-marker>GUEST-READY</qemuctl:ready-marker></qemuctl:domain>|' \
	>"$SCRATCH/a.xml"
qc define "$SCRATCH/a.xml" >/dev/null
qc --json list | check vm-list
qc --json info a | check vm-info
qc info a --json | check vm-info
jq_py() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
info=$(qc --json info a)
assert_eq "$(jq_py 'd["disks"][0]["name"], d["disks"][0]["virtual_size"], d["disks"][0]["bus"], d["disks"][0]["read_only"]' <<<"$info")" \
	"disk1 8388608 virtio False" "info: the disk as an object"
assert_eq "$(jq_py 'd["nics"][0]["mode"], d["nics"][0]["model"], d["nics"][0]["forwards"][0]["guest_port"], d["nics"][0]["forwards"][0]["host_port"]' <<<"$info")" \
	"user virtio-net-pci 22 None" "info: the NIC as an object, its forward's port unknown while stopped"
assert_eq "$(jq_py 'd["ssh"], d["addresses"]' <<<"$info")" "None []" "info: no ssh endpoint while stopped"
assert_eq "$(qc --json list | jq_py 'd[0]["ssh"], d[0]["addresses"]')" "None None" "list: nothing known of a stopped VM"

# errors: one {"error": ...} line on stderr, nothing on stdout, the exit code kept
rc=0
qc --json info nope >"$SCRATCH/err.out" 2>"$SCRATCH/err.json" || rc=$?
assert_eq "$rc" 1 "a failing --json command exits 1"
[ -s "$SCRATCH/err.out" ] && fail "a failing --json command printed on stdout"
check error <"$SCRATCH/err.json"
assert_eq "$(jq_py 'd["error"]["code"]' <"$SCRATCH/err.json")" not-found "error code not-found"
rc=0
qc info a --jsno --json 2>"$SCRATCH/usage.json" || rc=$?
assert_eq "$rc" 2 "a --json usage error exits 2"
check error <"$SCRATCH/usage.json"
assert_match "$(cat "$SCRATCH/usage.json")" "did you mean '--json'" "the usage error's message"
rc=0
"$QC" --json --root "$SCRATCH/no-such-root" list 2>"$SCRATCH/root.json" || rc=$?
assert_eq "$rc" 1 "a missing --root exits 1"
check error <"$SCRATCH/root.json"
assert_eq "$(jq_py 'd["error"]["code"]' <"$SCRATCH/root.json")" "ENOENT" "a system error by its errno name"
# warnings under --json are log lines (define warns about a device it does not support)
sed 's|</devices>|<sound model="ich9"/></devices>|' "$SCRATCH/a.xml" >"$SCRATCH/warn.xml"
qc --json define "$SCRATCH/warn.xml" >/dev/null 2>"$SCRATCH/warn.err"
[ -s "$SCRATCH/warn.err" ] || fail "define printed no warning for an unknown element"
check log --lines <"$SCRATCH/warn.err"
qc define "$SCRATCH/a.xml" >/dev/null

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
qc --json port add u 18080:80 --persist | check port-change
qc --json port list u | check port-list
qc --json port list u | grep -q '"host_port":18080,"guest_port":80,"persistent":true,"live":false' ||
	fail "port list shows no persisted 18080"
qc --json port rm u 18080 | check port-change
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
# while it runs: the ssh endpoint is the forward of guest port 22, in list and info
info=$(qc --json info a)
port=$(jq_py 'd["nics"][0]["forwards"][0]["host_port"]' <<<"$info")
[ "$port" -ge 1 ] 2>/dev/null || fail "no forwarded port while running: $port"
assert_eq "$(jq_py 'd["ssh"]["host"], d["ssh"]["port"], d["ssh"]["user"]' <<<"$info")" "127.0.0.1 $port tester" "info: ssh endpoint: the --user"
assert_eq "$(qc --json list | jq_py 'd[0]["ssh"]["host"], d[0]["ssh"]["port"], d[0]["addresses"]')" "127.0.0.1 $port []" "list: ssh endpoint"

qc --json events a | check events
timeout 2 "$QC" --root "$ROOT" --json events a --follow >"$SCRATCH/follow.jsonl" || true
check event --lines <"$SCRATCH/follow.jsonl"
qc stop a --timeout 60
info=$(qc --json info a)
printf '%s' "$info" | check vm-info
assert_match "$info" '"reason": "poweroff"' "last_exit after stop"
qc --json events a | check events
