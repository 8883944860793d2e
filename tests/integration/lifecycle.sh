#!/bin/bash
# The VM lifecycle end to end with the tiny guest under TCG, booting its ext4
# root from a qcow2 overlay on root.img (--disk-image):
# create -> start -> GUEST-READY -> info/list running -> pause/resume ->
# console (output and input) while log --follow runs -> stop (ACPI poweroff,
# reason recorded) -> start again -> destroy -> delete (backing intact).
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64

img="$SCRATCH/root.img"
cp "$GUEST_ROOT" "$img"
sum_before=$(sha256sum <"$img")

qc create t1 --disk-image "$img" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
	--append "$GUEST_APPEND_ROOT" --memory 256M --cpus 1 >/dev/null
ok "create t1"
vm="$ROOT/vms/t1"
assert_file "$vm/domain.xml"
assert_file "$vm/disk0.qcow2"
info_json=$(qemu-img info --output=json -U "$vm/disk0.qcow2")
assert_match "$info_json" "\"backing-filename\": \"$img\"" "overlay backs onto the image"
assert_match "$info_json" '"backing-filename-format": "raw"' "overlay names the backing format"
assert_eq "$(stat -c %a "$vm")" 700 "VM dir mode"
assert_eq "$(stat -c %a "$ROOT/vms")" 700 "vms dir mode"

list=$(qc list)
assert_match "$list" '^t1 .* stopped' "list shows t1 stopped"

t0=$(date +%s%N)
qc start t1
ok "start t1 ($((($(date +%s%N) - t0) / 1000000)) ms)"
# cont's RESUME comes with cont's reply: recorded then, not at QEMU's next message
wait_until 5 grep -q '"event":"RESUME"' "$vm/events.jsonl"
ok "the RESUME of start's cont is in events.jsonl"
info=$(qc info t1)
assert_match "$info" 'State: +running' "info: running"
assert_match "$info" 'Accel: +tcg \(requested auto\): .*' "info: accel tcg with a reason"
assert_match "$info" 'NICs: +net0 user 52:54:00:[0-9a-f:]+ tcp 127\.0\.0\.1:[0-9]+->22' "info: default NIC with its ssh forward port"
qemu_pid=$(qc --json info t1 | sed -n 's/.*"qemu_pid": *\([0-9]*\).*/\1/p')
[ -n "$qemu_pid" ] && [ -d "/proc/$qemu_pid" ] || fail "qemu pid '$qemu_pid' not running"
ok "qemu pid $qemu_pid runs"
rundir=$(sed -n 's/.*"run_dir": *"\([^"]*\)".*/\1/p' "$vm/state.json")
assert_eq "$(stat -c %a "$rundir")" 700 "runtime dir mode"
assert_eq "$(stat -c %a "$rundir/qmp.sock")" 600 "QMP socket mode"
assert_eq "$(stat -c %a "$rundir/console.sock")" 600 "console socket mode"

qc log t1 --follow >"$SCRATCH/follow.out" 2>&1 &
follow_pid=$!
wait_for_text "$vm/console.log" '^GUEST-READY' 120
ok "console.log shows GUEST-READY"

qc pause t1
assert_match "$(qc info t1)" 'State: +paused' "info: paused"
assert_match "$(qc --json list)" '"state": "paused"' "list --json: paused"
qc resume t1
assert_match "$(qc info t1)" 'State: +running' "info: running after resume"

# console: output fan-out and input forwarding, while log --follow runs.
mkfifo "$SCRATCH/in"
qc console t1 <"$SCRATCH/in" >"$SCRATCH/console.out" 2>&1 &
con_pid=$!
exec 7>"$SCRATCH/in"
sleep 0.5
printf 'echo CONSOLE-$((6*7))\n' >&7
wait_for_text "$SCRATCH/console.out" 'CONSOLE-42' 30
ok "console forwards input and shows the guest's answer"
wait_for_text "$SCRATCH/follow.out" 'CONSOLE-42' 10
ok "log --follow sees the same output"

# On a terminal: raw mode, input forwarded, Ctrl-] detaches, the VM keeps running.
(sleep 1; printf 'echo TTY-$((2*21))\r'; sleep 3; printf '\035') |
	script -qfc "$QC --root $ROOT console t1" "$SCRATCH/tty.out" >/dev/null 2>&1 ||
	fail "console on a pty exited non-zero"
grep -q 'TTY-42' "$SCRATCH/tty.out" || fail "console on a pty: no answer: $(cat -v "$SCRATCH/tty.out")"
grep -q "Detached from VM 't1'" "$SCRATCH/tty.out" || fail "console on a pty: Ctrl-] did not detach"
ok "console on a pty: answer seen, Ctrl-] detached"
assert_match "$(qc info t1)" 'State: +running' "VM still running after detach"

reply=$(qc qmp t1 '{"execute":"query-status"}')
assert_match "$reply" '"status": ?"running"' "qmp passthrough"
rc=0
reply=$(qc qmp t1 '{"execute":"no-such-command","id":"u1"}' 2>/dev/null) || rc=$?
assert_eq "$rc" 1 "qmp: QEMU's error reply exits 1"
assert_match "$reply" 'CommandNotFound' "qmp: QEMU's error reply printed"
assert_match "$reply" '"id": ?"u1"' "qmp: the user's id comes back"
expect_fail 2 "execute" qc qmp t1 '{"no":"execute"}'

# reboot: the guest boots a second time (console shows the marker twice).
qc reboot t1
wait_until 120 sh -c "[ \$(grep -c '^GUEST-READY' '$vm/console.log') -ge 2 ]"
ok "reboot: GUEST-READY a second time"
assert_match "$(qc info t1)" 'State: +running' "info: running after reboot"

qc stop t1 --timeout 60
ok "stop t1"
exec 7>&-
wait "$con_pid" || fail "console exited non-zero"
ok "console ended when the VM stopped"
wait "$follow_pid" || fail "log --follow exited non-zero"
ok "log --follow ended when the VM stopped"
grep -q 'Power down' "$SCRATCH/console.out" || fail "console did not show the poweroff"
info=$(qc info t1)
assert_match "$info" 'State: +stopped' "info: stopped"
assert_match "$info" 'Last exit: +poweroff' "exit reason: poweroff"
assert_match "$(qc events t1)" 'SHUTDOWN .*"reason":"guest-shutdown"' "events: SHUTDOWN guest-shutdown"
qc --json events t1 | python3 -c 'import json,sys; e=json.load(sys.stdin); assert any(x["event"]=="SHUTDOWN" for x in e)' ||
	fail "events --json is not a JSON array with SHUTDOWN"
ok "events --json parses"
[ ! -d "/proc/$qemu_pid" ] || fail "QEMU $qemu_pid still runs after stop"
ok "QEMU gone after stop"
[ ! -e "$rundir" ] || fail "runtime dir $rundir left behind"
ok "runtime dir removed"

grep -q 'Power down' "$vm/console.log" || fail "first run's console.log lacks the poweroff"
# Second boot with a 2 KiB console log bound: the log rotates by rename.
QEMUCTL_CONSOLE_LOG_MAX=2048 qc start t1
grep -q 'Power down' "$vm/console.log.1" || fail "first run's console not moved to console.log.1"
ok "previous run's console kept in console.log.1"
# (console.log.1 holds the first run until this run's output rotates into it)
second_ready() {
	grep -q '^GUEST-READY' "$vm/console.log" ||
		{ grep -q '^GUEST-READY' "$vm/console.log.1" && ! grep -q 'Power down' "$vm/console.log.1"; }
}
wait_until 120 second_ready
ok "second boot reaches GUEST-READY"
printf 'seq 1 3000; echo SEQ-DONE\n' | qc console t1 >/dev/null 2>&1 &
seq_pid=$!
wait_for_text "$vm/console.log" '^SEQ-DONE' 30
kill "$seq_pid" 2>/dev/null || true
wait "$seq_pid" 2>/dev/null || true
size=$(stat -c %s "$vm/console.log")
[ "$size" -le $((2048 + 16384)) ] || fail "console.log is $size bytes, bound 2048 (+ one read)"
! grep -q 'Power down' "$vm/console.log.1" ||
	fail "console.log did not rotate within the second run: $(ls -l "$vm")"
ok "console.log rotated at its bound ($size bytes now)"
# destroy has the monitor quit QEMU on the QMP connection it holds: a client
# holding QEMU's command socket (served one client at a time) cannot delay it
rundir=$(sed -n 's/.*"run_dir": *"\([^"]*\)".*/\1/p' "$vm/state.json")
exec {held}< <(python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.recv(4096)
print("held", flush=True)
while s.recv(4096): pass' "$rundir/qmp.sock")
holder=$!
on_exit "kill $holder 2>/dev/null"
read -r -t 10 -u "$held" held_line && [ "$held_line" = held ] || fail "no client holds $rundir/qmp.sock"
t0=$(date +%s%N)
qc destroy t1
wait "$holder"
exec {held}<&-
ok "destroy t1 ($((($(date +%s%N) - t0) / 1000000)) ms)"
assert_match "$(qc info t1)" 'Last exit: +quit' "exit reason after destroy: quit"

qc delete t1
assert_no_file "$vm"
assert_eq "$(sha256sum <"$img")" "$sum_before" "backing image unchanged"
assert_match "$(qc list)" '^NAME' "list still works"
[ "$(qc list | wc -l)" -eq 1 ] || fail "list not empty after delete"
ok "list empty"
