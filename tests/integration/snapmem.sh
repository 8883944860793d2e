#!/bin/bash
# Memory snapshots (snapshot create --memory) with the tiny guest under TCG:
# a guest process counting on the console goes on after revert from the
# count at snapshot time (same boot id, no new boot); a file written before
# the snapshot is there and one written after it is gone; list/--json show
# the memory; --fresh reverts the disks only; a create killed midway leaves
# no snapshot and a running VM (or, once the disks switched, a finished one); a tampered state file (symlink, other size,
# other owner) is refused with nothing changed; a stopped VM is refused; rm
# removes the state file.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64

img="$SCRATCH/root.img"
cp "$GUEST_ROOT" "$img"
qc create m1 --disk-image "$img" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
	--append "$GUEST_APPEND_ROOT" --memory 256M --cpus 1 >/dev/null
vm="$ROOT/vms/m1"
log="$vm/console.log"

# ---- a stopped VM: refused, nothing recorded
expect_fail 1 "VM 'm1' is stopped: a memory snapshot needs a running or paused VM" \
	qc snapshot create m1 cold --memory
assert_eq "$(qc snapshot list m1 | tail -n +2)" "" "no snapshot after the refused create"
assert_no_file "$vm/snap-cold.state"
expect_fail 2 "snapshot revert: --memory is for create only" qc snapshot revert m1 x --memory
expect_fail 2 "snapshot create: --fresh is for revert only" qc snapshot create m1 x --fresh

boot_id() {
	guest_say "echo BOOTID$1 \$(cat /proc/sys/kernel/random/boot_id)"
	wait_for_text "$SCRATCH/con$con_n.out" "^BOOTID$1 [0-9a-f-]{36}" 30
	sed -n "s/^BOOTID$1 \([0-9a-f-]*\).*/\1/p" "$SCRATCH/con$con_n.out" | tr -d '\r' | head -n1
}
ticks() { grep -aoE 'TICK [0-9]+' "$log" | awk '{print $2}'; }
last_tick() { ticks | sort -n | tail -n1; }

guest_boot m1
id1=$(boot_id 1)
[ -n "$id1" ] || fail "no boot id"
guest_say 'echo BEFORE >/before; sync; echo WROTE-BEFORE'
wait_for_text "$SCRATCH/con$con_n.out" '^WROTE-BEFORE' 30
guest_say 'i=0; while :; do i=$((i+1)); echo "TICK $i"; sleep 1; done &'
wait_for_text "$log" 'TICK 3[^0-9]' 30

# ---- create killed after the state was written, before the disks switched:
# the next snapshot command rolls it back and lets the CPUs run on
QEMUCTL_FAULT_AT=snapshot-create:memory-written expect_fail 137 "" \
	qc snapshot create m1 killed --memory
assert_match "$(qc info m1)" 'State: +paused' "the killed create left the CPUs stopped"
assert_eq "$(qc snapshot list m1 | tail -n +2)" "" "the killed create is rolled back"
assert_no_file "$vm/snap-killed.state"
assert_no_temps "$vm" "after the rolled back create"
assert_match "$(qc info m1)" 'State: +running' "the rollback let the CPUs run on"
t=$(last_tick)
wait_for_text "$log" "TICK $((t + 2))[^0-9]" 30
ok "the guest counts on after the rolled back create"

# ---- create killed once the disks switched: the next command finishes it,
# memory included, and lets the CPUs run on
QEMUCTL_TEST_HOLD=snapshot-switched "$QC" --root "$ROOT" snapshot create m1 sw --memory \
	>/dev/null 2>&1 &
kpid=$!
wait_until 30 test -e "$vm/.hold-snapshot-switched"
kill -9 "$kpid"
wait "$kpid" 2>/dev/null || true
rm -f "$vm/.hold-snapshot-switched"
assert_match "$(qc info m1)" 'State: +paused' "the killed create left the CPUs stopped"
json=$(qc --json snapshot list m1)
assert_match "$json" "\"memory_size\": $(stat -c %s "$vm/snap-sw.state")" \
	"the killed create is finished with its memory"
assert_match "$(qc info m1)" 'State: +running' "finishing it let the CPUs run on"
qc snapshot rm m1 sw >/dev/null
assert_no_file "$vm/snap-sw.state"

# ---- create
t0=$(date +%s%N)
out=$(qc snapshot create m1 mem1 --memory)
ok "snapshot create --memory took $((($(date +%s%N) - t0) / 1000000)) ms"
tick=$(last_tick)
assert_match "$out" "Snapshot 'mem1' of VM 'm1' created \(live, with memory\)" "create --memory"
assert_file "$vm/snap-mem1.state"
assert_no_temps "$vm" "after create --memory"
size=$(stat -c %s "$vm/snap-mem1.state")
assert_eq "$(stat -c '%a %u' "$vm/snap-mem1.state")" "600 $(id -u)" "state file mode and owner"
assert_match "$(grep -o '<qcsnap:snapshot [^>]*>' "$vm/domain.xml")" \
	"memory=\"snap-mem1.state\" memory-format=\"qemu-migration\" memory-size=\"$size\"" \
	"the record names the state file, its format and size"
assert_match "$(qc info m1)" 'State: +running' "the VM runs on after create --memory"
wait_for_text "$log" "TICK $((tick + 3))[^0-9]" 30
ok "the counter went on past TICK $tick after the snapshot"
assert_match "$(qc snapshot list m1)" '^mem1 +.* disk0 +[0-9.]+ [KMG]?i?B +[0-9.]+ [KMG]iB$' \
	"list shows the memory's size"
json=$(qc --json snapshot list m1)
assert_match "$json" '"memory": true' "list --json: memory"
assert_match "$json" "\"memory_size\": $size" "list --json: memory_size"
printf '%s' "$json" | python3 "$QC_SRCDIR/tests/integration/json_schema.py" \
	"$QC_SRCDIR/docs/schema/qemuctl-v2.json" snapshot-list || fail "snapshot-list schema: $json"
ok "snapshot list --json with memory follows the schema"

guest_say 'echo AFTER >/after; sync; ls /after && echo HAVE-AFTER'
wait_for_text "$SCRATCH/con$con_n.out" '^HAVE-AFTER' 30
exec 7>&-

# ---- a tampered state file: refused before anything changes
vm_meta() { (cd "$vm" && ls -1 && sha256sum domain.xml) | sha256sum; }
qc destroy m1 >/dev/null
before=$(vm_meta)
mv "$vm/snap-mem1.state" "$SCRATCH/mem1.state"
ln -s "$SCRATCH/mem1.state" "$vm/snap-mem1.state"
expect_fail 1 "'$vm/snap-mem1.state' is a symbolic link" qc snapshot revert m1 mem1
rm "$vm/snap-mem1.state"
cp "$SCRATCH/mem1.state" "$vm/snap-mem1.state"
truncate -s $((size - 1)) "$vm/snap-mem1.state"
expect_fail 1 "memory state $vm/snap-mem1.state has $((size - 1)) bytes, not the $size recorded" \
	qc snapshot revert m1 mem1
cp "$SCRATCH/mem1.state" "$vm/snap-mem1.state"
chown 1:1 "$vm/snap-mem1.state"
expect_fail 1 "memory state $vm/snap-mem1.state is not a regular file of uid $(id -u) writable only by it" \
	qc snapshot revert m1 mem1
chown 0:0 "$vm/snap-mem1.state"
chmod 666 "$vm/snap-mem1.state"
expect_fail 1 "is not a regular file of uid $(id -u) writable only by it" qc snapshot revert m1 mem1
chmod 600 "$vm/snap-mem1.state"
assert_eq "$(vm_meta)" "$before" "refused reverts changed neither the definition nor the files"
assert_no_file "$vm/saved.state"
assert_match "$(qc info m1)" 'State: +stopped' "still stopped after the refused reverts"

# ---- revert: the guest goes on from the snapshot's instant
t0=$(date +%s%N)
out=$(qc snapshot revert m1 mem1)
ok "snapshot revert with memory took $((($(date +%s%N) - t0) / 1000000)) ms"
assert_match "$out" "VM 'm1' reverted to snapshot 'mem1' and resumed from its memory state" \
	"revert resumes"
assert_match "$(qc info m1)" 'State: +running' "running after revert"
assert_no_file "$vm/saved.state"
assert_file "$vm/snap-mem1.state"
wait_for_text "$log" "TICK $((tick + 2))[^0-9]" 30
first=$(ticks | head -n1)
[ "$first" -gt "$tick" ] && [ "$first" -le $((tick + 2)) ] ||
	fail "the counter did not go on from TICK $tick: $(ticks | tr '\n' ' ')"
ok "the counter went on from the snapshot's TICK $tick (first $first)"
# console.log holds this run only: a resumed guest prints no boot marker
assert_eq "$(grep -ac '^GUEST-READY' "$log" || true)" "0" "no new boot"
guest_console m1
assert_eq "$(boot_id 2)" "$id1" "the same boot after revert"
guest_say 'cat /before; ls /after 2>/dev/null || echo NO-AFTER'
wait_for_text "$SCRATCH/con$con_n.out" '^NO-AFTER' 30
grep -aq '^BEFORE' "$SCRATCH/con$con_n.out" || fail "/before is gone: $(cat "$SCRATCH/con$con_n.out")"
ok "the file written before the snapshot is there, the one after it gone"

# ---- revert --force --fresh: disks only, the VM left stopped, it boots anew
guest_say 'echo AFTER2 >/after; sync; echo HAVE-AFTER2'
wait_for_text "$SCRATCH/con$con_n.out" '^HAVE-AFTER2' 30
exec 7>&-
out=$(qc snapshot revert m1 mem1 --force --fresh)
assert_match "$out" "reverted to snapshot 'mem1' \(the running VM was stopped first" "revert --fresh"
assert_match "$(qc info m1)" 'State: +stopped' "stopped after revert --fresh"
assert_no_file "$vm/saved.state"
guest_boot m1
[ "$(boot_id 3)" != "$id1" ] || fail "revert --fresh did not boot anew"
guest_say 'cat /before; ls /after 2>/dev/null || echo NO-AFTER'
wait_for_text "$SCRATCH/con$con_n.out" '^NO-AFTER' 30
ok "revert --fresh: the snapshot's disks, booted anew"
exec 7>&-

# ---- a paused VM: the snapshot leaves it paused
qc pause m1 >/dev/null
qc snapshot create m1 paused1 --memory >/dev/null
assert_match "$(qc info m1)" 'State: +paused' "a paused VM stays paused"
assert_file "$vm/snap-paused1.state"
qc resume m1 >/dev/null
assert_match "$(qc info m1)" 'State: +running' "resume runs it"

# ---- rm removes the state file; list shows disk-only snapshots without memory
qc snapshot create m1 disk1 >/dev/null
assert_match "$(qc snapshot list m1)" '^disk1 .* -$' "a disk snapshot shows no memory"
assert_match "$(qc --json snapshot list m1)" '"memory": false' "list --json: memory false"
qc destroy m1 >/dev/null
qc snapshot rm m1 paused1 >/dev/null
assert_no_file "$vm/snap-paused1.state"
qc snapshot rm m1 mem1 >/dev/null
assert_no_file "$vm/snap-mem1.state"
assert_eq "$(ls "$vm" | grep -c '\.state' || true)" "0" "no state file left"
