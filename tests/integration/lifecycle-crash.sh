#!/bin/bash
# Failures of the processes under a VM, and concurrency:
# - SIGKILL of QEMU: list/info say crashed (signal 9); start works again.
# - SIGKILL of qemuctl-monitor: the rule is that QEMU dies with it
#   (PR_SET_PDEATHSIG=SIGKILL); list/info say crashed (monitor-died), no
#   process of the VM is left, start works again.
# - two concurrent starts: exactly one QEMU, the other start fails clearly.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64

vm="$ROOT/vms/c1"
qc create c1 --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" \
	--memory 256M >/dev/null

json_field() { sed -n "s/.*\"$1\": *\([0-9]*\).*/\1/p"; }
# (the seed's path: as root, QEMU gets the kernel as /dev/fd/8, not by its path)
# QEMUs of the VM: argv names no file of it (QEMU gets fds); its stdout is $vm/qemu.log
qemu_count() {
	local n=0 p
	for p in $(pgrep -f '^qemu-system-x86_64 ' || true); do
		[ "$(readlink "/proc/$p/fd/1" 2>/dev/null)" != "$vm/qemu.log" ] || n=$((n + 1))
	done
	echo "$n"
}

# c1_pids: qpid and mpid, the pids of c1's QEMU and monitor
c1_pids() {
	qpid=$(qc --json info c1 | json_field qemu_pid)
	mpid=$(qc --json info c1 | json_field monitor_pid)
}
# kill_then_wait_gone VICTIM OTHER SECONDS: SIGKILL VICTIM, wait for OTHER to exit
kill_then_wait_gone() {
	kill -9 "$1"
	wait_until "$3" sh -c "! kill -0 $2 2>/dev/null"
}

# --- SIGKILL of QEMU
qc start c1
wait_for_text "$vm/console.log" '^GUEST-READY' 120
c1_pids
kill_then_wait_gone "$qpid" "$mpid" 10
ok "monitor exits when QEMU is killed"
assert_match "$(qc list)" '^c1 .* crashed$' "list: crashed, the reason left to info"
assert_match "$(qc info c1)" 'Last exit: +crashed: signal 9' "info: crashed: signal 9"
assert_match "$(qc --json info c1)" '"state": "crashed"' "info --json: crashed"
assert_match "$(qc events c1 | tail -1)" 'QEMUCTL_EXIT .*"reason":"crashed"' "events record the crash"

qc start c1
assert_match "$(qc info c1)" 'State: +running' "start works after a crash"
wait_for_text "$vm/console.log" '^GUEST-READY' 120

# --- SIGKILL of the monitor
c1_pids
kill_then_wait_gone "$mpid" "$qpid" 5
ok "QEMU $qpid died with its monitor $mpid"
assert_eq "$(qemu_count)" 0 "no QEMU of the VM left running"
assert_match "$(qc list)" '^c1 .* crashed$' "list: crashed (monitor-died: in info)"
assert_match "$(qc info c1)" 'Last exit: +monitor-died' "info: monitor-died"
expect_fail 1 "VM 'c1' is not running" qc stop c1
qc start c1
assert_match "$(qc info c1)" 'State: +running' "start works after the monitor died"
qc destroy c1

# --- SIGTERM to the monitor: forwarded to QEMU, which shuts down cleanly
qc start --paused c1
mpid=$(qc --json info c1 | json_field monitor_pid)
kill -TERM "$mpid"
wait_until 10 sh -c "! kill -0 $mpid 2>/dev/null"
assert_match "$(qc info c1)" 'Last exit: +host-signal' "SIGTERM to the monitor: QEMU shut down (host-signal)"
assert_eq "$(qemu_count)" 0 "no QEMU after SIGTERM to the monitor"

# --- stop escalates: a paused guest never sees the power button -> quit after --timeout
qc start --paused c1
assert_match "$(qc info c1)" 'State: +paused' "start --paused leaves the CPUs stopped"
t0=$SECONDS
qc stop c1 --timeout 4
[ $((SECONDS - t0)) -ge 3 ] || fail "stop returned before its --timeout (4 s)"
assert_match "$(qc info c1)" 'Last exit: +quit' "stop escalated to quit after --timeout"
assert_match "$(qc events c1)" 'POWERDOWN' "the power button was pressed"
[ "$(qc events c1 | grep -c POWERDOWN)" -ge 2 ] || fail "power button pressed only once in 4 s"
ok "power button pressed again while waiting"

# --- two concurrent starts
rc1=0 rc2=0
qc start c1 >"$SCRATCH/s1.out" 2>&1 &
p1=$!
qc start c1 >"$SCRATCH/s2.out" 2>&1 &
p2=$!
wait "$p1" || rc1=$?
wait "$p2" || rc2=$?
log "concurrent starts: rc $rc1 / $rc2: $(cat "$SCRATCH/s1.out" "$SCRATCH/s2.out" | tr '\n' ' ')"
[ $((rc1 + rc2)) -eq 1 ] || fail "expected exactly one start to fail, got rc $rc1 and $rc2"
cat "$SCRATCH/s1.out" "$SCRATCH/s2.out" | grep -q "VM 'c1' is already running" ||
	fail "the losing start does not say the VM is already running"
ok "one start won, the other says 'already running'"
assert_eq "$(qemu_count)" 1 "exactly one QEMU"
qc destroy c1
assert_eq "$(qemu_count)" 0 "no QEMU after destroy"
expect_fail 1 "VM 'c1' is not running" qc destroy c1

# --- stop --force skips the power button; delete refuses a running VM unless --force
qc start --paused c1
t0=$SECONDS
qc stop --force c1
[ $((SECONDS - t0)) -lt 4 ] || fail "stop --force waited for the guest (timeout is 60 s)"
assert_match "$(qc info c1)" 'Last exit: +quit' "stop --force: quit at once"
! qc events c1 | tail -3 | grep -q POWERDOWN || fail "stop --force pressed the power button"
ok "stop --force did not press the power button"
qc start --paused c1
expect_fail 1 "VM 'c1' is running; stop it first or use --force" qc delete c1
qc delete --force c1
assert_no_file "$vm"
assert_eq "$(qemu_count)" 0 "delete --force left no QEMU"
