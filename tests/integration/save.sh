#!/bin/bash
# qemuctl save and the start that resumes it, with the tiny guest under TCG:
# a guest process counting on the console keeps counting after save+start
# (same boot id, no new boot), info/list/--json show the saved state, start
# --fresh boots anew and discards it; a damaged state file, a changed
# definition and a state file that is not qemuctl's fail the start clearly and
# lose nothing; save of a stopped VM is refused; delete removes the state;
# saves killed midway recover; a confined QEMU saves and resumes through fds.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64

img="$SCRATCH/root.img"
cp "$GUEST_ROOT" "$img"
qc create s1 --disk-image "$img" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
	--append "$GUEST_APPEND_ROOT" --memory 256M --cpus 1 >/dev/null
vm="$ROOT/vms/s1"
log="$vm/console.log"

expect_fail 1 "VM 's1' is not running" qc save s1
assert_no_file "$vm/saved.state"

# boot_id NAME N: the guest's boot id, asked on the console (answer N).
boot_id() {
	guest_say "echo BOOTID$2 \$(cat /proc/sys/kernel/random/boot_id)"
	wait_for_text "$SCRATCH/con$con_n.out" "^BOOTID$2 [0-9a-f-]{36}" 30
	sed -n "s/^BOOTID$2 \([0-9a-f-]*\).*/\1/p" "$SCRATCH/con$con_n.out" | tr -d '\r' | head -n1
}
# last_tick: the highest TICK the guest's counter printed so far.
# (a shell prompt may stand before it on the line).
ticks() { cat "$log" | grep -aoE 'TICK [0-9]+' | awk '{print $2}'; }
last_tick() { ticks | sort -n | tail -n1; }

guest_boot s1
id1=$(boot_id s1 1)
[ -n "$id1" ] || fail "no boot id"
# A process of the guest that counts; it must go on counting after a resume.
guest_say 'i=0; while :; do i=$((i+1)); echo "TICK $i"; sleep 1; done &'
wait_for_text "$log" 'TICK 3[^0-9]' 30
exec 7>&-

t0=$(date +%s%N)
qc save s1
ok "save s1 ($((($(date +%s%N) - t0) / 1000000)) ms, $(stat -c %s "$vm/saved.state") bytes)"
tick=$(last_tick)
assert_file "$vm/saved.state"
assert_no_temps "$vm" "after save"
assert_eq "$(stat -c '%a %u' "$vm/saved.state")" "600 $(id -u)" "state file mode and owner"
assert_match "$(qc info s1)" 'State: +stopped \(saved' "info: stopped, exit reason saved"
assert_match "$(qc info s1)" "Saved state: +$vm/saved.state" "info: saved state"
# list's STATE is the state word alone: the reason and the saved state are info's
assert_match "$(qc list)" '^s1 .* stopped$' "list: saved, the state word alone"
assert_match "$(qc --json info s1)" '"saved_state": true' "info --json: saved_state"
assert_match "$(qc --json info s1)" '"reason": "saved"' "info --json: last_exit saved"
for def in vm-info vm-list; do
	[ $def = vm-info ] && out=$(qc --json info s1) || out=$(qc --json list)
	printf '%s' "$out" | python3 "$QC_SRCDIR/tests/integration/json_schema.py" \
		"$QC_SRCDIR/docs/schema/qemuctl-v2.json" $def || fail "$def does not follow the schema: $out"
	ok "$def with a saved state follows the schema"
done
expect_fail 1 "VM 's1' is not running" qc save s1

# Resume: no new boot, the counter goes on from where it was.
boots=$(grep -ac '^GUEST-READY' "$log"* | awk -F: '{s+=$NF} END {print s}')
t0=$(date +%s%N)
qc start s1
ok "start s1 resumed ($((($(date +%s%N) - t0) / 1000000)) ms)"
assert_no_file "$vm/saved.state"
assert_match "$(qc info s1)" 'State: +running' "info: running after resume"
assert_match "$(qc --json info s1)" '"saved_state": false' "info --json: no saved state"
# The guest had finished first boot when saved: ready at once, no marker awaited.
qc wait s1 --timeout 5 >/dev/null
ok "wait: a resumed guest is ready"
wait_for_text "$log" "TICK $((tick + 2))[^0-9]" 30
ok "the guest's counter went on past TICK $tick"
guest_console s1
assert_eq "$(boot_id s1 2)" "$id1" "same boot after resume"
assert_eq "$(grep -ac '^GUEST-READY' "$log"* | awk -F: '{s+=$NF} END {print s}')" "$boots" \
	"no new boot"
# console.log holds this run only: it goes on from the saved count, by one.
first=$(ticks | head -n1)
[ "$first" -gt "$tick" ] && [ "$first" -le $((tick + 2)) ] ||
	fail "the counter did not go on from TICK $tick: $(ticks | tr '\n' ' ')"
ticks | awk 'NR > 1 && $1 != prev + 1 { bad = 1 } { prev = $1 } END { exit bad }' ||
	fail "the counter did not go on by one: $(ticks | tr '\n' ' ')"
ok "the counter went on from TICK $tick: $first..$(ticks | tail -n1)"

# A paused resume stays paused.
exec 7>&-
qc save s1
qc start s1 --paused
assert_match "$(qc info s1)" 'State: +paused' "start --paused resumes paused"
assert_no_file "$vm/saved.state"
qc resume s1
assert_match "$(qc info s1)" 'State: +running' "resume runs it"

# A damaged state file: a clear error, nothing lost, --fresh still boots.
qc save s1
size=$(stat -c %s "$vm/saved.state")
truncate -s $((size / 2)) "$vm/saved.state"
expect_fail 1 "resuming from its saved state .*failed.*'qemuctl start --fresh s1' discards it" \
	qc start s1
assert_eq "$(stat -c %s "$vm/saved.state")" $((size / 2)) "the damaged state is kept"
assert_match "$(qc info s1)" 'State: +(stopped|crashed)' "not running after the failed resume"
assert_match "$(qc info s1)" "Saved state: +$vm/saved.state" "info still shows the state"

# Not qemuctl's: a state file that is a link or not a regular file is refused
# before QEMU runs (a start settles the VM directory's files to 0600 itself).
mv "$vm/saved.state" "$SCRATCH/damaged.state"
ln -s "$SCRATCH/damaged.state" "$vm/saved.state"
expect_fail 1 "saved.state' is a symbolic link" qc start s1
rm "$vm/saved.state"
mkfifo -m 600 "$vm/saved.state"
expect_fail 1 "saved state $vm/saved.state is not a regular file of uid" qc start s1
assert_match "$(qc info s1)" 'State: +(stopped|crashed)' "not running after a refused state"
rm "$vm/saved.state"
mv "$SCRATCH/damaged.state" "$vm/saved.state"

qc start s1 --fresh
assert_no_file "$vm/saved.state"
wait_for_text "$log" '^GUEST-READY' 90
guest_console s1
id2=$(boot_id s1 3)
[ "$id2" != "$id1" ] || fail "start --fresh did not boot anew"
ok "start --fresh booted anew ($id2)"
exec 7>&-

# A definition that changed under the state: QEMU refuses it, nothing is lost,
# and with the definition back the same state resumes.
qc save s1
qc dumpxml s1 >"$SCRATCH/s1.xml"
sed "s/<memory unit='KiB'>262144</<memory unit='KiB'>393216</" "$SCRATCH/s1.xml" >"$SCRATCH/s1-big.xml"
grep -q 393216 "$SCRATCH/s1-big.xml" || fail "memory not changed in $(grep -i memory "$SCRATCH/s1.xml")"
qc define "$SCRATCH/s1-big.xml" >/dev/null
sum=$(sha256sum <"$vm/saved.state")
expect_fail 1 "resuming from its saved state .*failed.*--fresh s1" qc start s1
assert_eq "$(sha256sum <"$vm/saved.state")" "$sum" "the state is kept unchanged"
qc define "$SCRATCH/s1.xml" >/dev/null
qc start s1 --wait --timeout 10 >/dev/null
ok "start --wait of a resumed guest"
assert_no_file "$vm/saved.state"
guest_console s1
assert_eq "$(boot_id s1 4)" "$id2" "the kept state resumed with the old definition"
exec 7>&-

# A save killed while QEMU writes the state: the VM stays (paused), the next
# save cancels that migration (or finds it completed), and the killed save's
# temp is swept as its pid is gone.  Killed once the state is in place: the
# VM is still there (QEMU refuses a second migration until cont: the next
# save does that), and resuming its CPUs drops the state it would run away
# from.
exec 7>&-
QEMUCTL_FAULT_AT=save:migrating expect_fail 137 "" qc save s1
# the killed save's temp, named by its dead pid, is swept by the next save
tmps=$(find "$vm" -maxdepth 1 -name '.saved.state.tmp-*' -printf '%f\n')
assert_match "$tmps" '^\.saved\.state\.tmp-[0-9]+\.[A-Za-z0-9]{6}$' "the killed save left its temp"
assert_eq "$(wc -l <<<"$tmps")" 1 "one temp"
qc save s1
assert_no_temps "$vm" "after the save that followed a killed one"
# and by a start: the same dead writer's name, put back while the VM is saved
touch "$vm/$tmps"
qc start s1
assert_no_temps "$vm" "after the start that followed a killed save"
assert_no_file "$vm/saved.state"
QEMUCTL_FAULT_AT=save:written expect_fail 137 "" qc save s1
qc save s1
qc start s1
QEMUCTL_FAULT_AT=save:written expect_fail 137 "" qc save s1
assert_file "$vm/saved.state"
assert_no_temps "$vm" "after a save killed once the state was in place"
assert_match "$(qc info s1)" 'State: +paused' "a save killed after the write leaves the VM paused"
qc resume s1
assert_no_file "$vm/saved.state"
assert_match "$(qc info s1)" 'State: +running' "resume runs it on without the state"
guest_console s1
assert_eq "$(boot_id s1 6)" "$id2" "the same boot ran on"
exec 7>&-

# Disks snapshotted while saved still resume; a revert under the state is refused.
qc save s1
qc snapshot create s1 snap1 >/dev/null
sum=$(sha256sum <"$vm/saved.state")
expect_fail 1 "VM 's1' has a saved memory state .*'qemuctl start --fresh s1' discards it" \
	qc snapshot revert s1 snap1
assert_eq "$(sha256sum <"$vm/saved.state")" "$sum" "revert left the state alone"
qc start s1
guest_console s1
assert_eq "$(boot_id s1 5)" "$id2" "resumed on top of a snapshot taken while saved"
exec 7>&-

# delete removes the state with the VM.
qc save s1
assert_file "$vm/saved.state"
qc delete s1
assert_no_file "$vm"

# QEMU confined to another user: it writes and reads the state only through
# the descriptors qemuctl opened; the file stays root's, 0600.
if [ "$(id -u)" -eq 0 ]; then
	confine_to_test_user "qcsave$$"
	cp "$GUEST_ROOT" "$SCRATCH/root2.img"
	qc create c1 --disk-image "$SCRATCH/root2.img" --kernel "$GUEST_KERNEL" \
		--initrd "$GUEST_INITRD" --append "$GUEST_APPEND_ROOT" --memory 256M --cpus 1 >/dev/null
	guest_boot c1
	id_c=$(boot_id c1 7)
	exec 7>&-
	qpid=$(qc --json info c1 | sed -n 's/.*"qemu_pid": *\([0-9]*\).*/\1/p')
	assert_eq "$(stat -c %U "/proc/$qpid")" "$tu" "QEMU runs as $tu"
	qc save c1
	assert_eq "$(stat -c '%U %a' "$ROOT/vms/c1/saved.state")" "root 600" "state file root's"
	qc start c1
	assert_no_file "$ROOT/vms/c1/saved.state"
	guest_console c1
	assert_eq "$(boot_id c1 8)" "$id_c" "confined QEMU resumed the same boot"
	exec 7>&-
	qc destroy c1
fi
