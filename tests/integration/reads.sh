#!/bin/bash
# Reads never wait on writers: info, list and snapshot list answer at once while another
# qemuctl holds the VM's lock and a client holds QEMU's QMP socket, and show
# the operation in progress (ignored once its process is gone).  The run
# state they show is QEMU's: a reboot of a paused VM leaves it paused, in
# QEMU's "prelaunch", and a stop/cont sent as a raw QMP command is seen too.
# A start whose monitor (the CLI's own child, no detaching fork) is
# SIGKILLed before its report says so, and one racing a read's probe of
# the liveness lock waits it out.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64

# ms_of CMD...: run CMD (output to $SCRATCH/out), print its wall time in ms
ms_of() {
	local t0
	t0=$(date +%s%N)
	"$@" >"$SCRATCH/out" 2>&1 || fail "$* failed: $(cat "$SCRATCH/out")"
	echo $((($(date +%s%N) - t0) / 1000000))
}
jfield() { python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = None if v is None else v[int(k)] if isinstance(v, list) else v[k]
print("null" if v is None else v)' "$1"; }

qc create r1 --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" \
	--memory 128M --cpus 1 --disk 16M >/dev/null
vm="$ROOT/vms/r1"
qc start r1
qc wait r1 >/dev/null # ready: list and info show it beside what this test looks for
ok "r1 started and booted"
assert_eq "$(qc --json info r1 | jfield qemu_status)" running "QEMU's run state published: running"
assert_eq "$(qc --json info r1 | jfield operation)" null "no operation in progress"

# ---- a writer holds the lock, a client holds QEMU's (single-client) QMP socket.
# Paused: info of a running VM also asks its guest agent (up to 200 ms
# without one), which is not what is measured here.
qc pause r1
rundir=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["run_dir"])' "$vm/state.json")
python3 - "$rundir/qmp.sock" "$SCRATCH/qmp-held" <<'EOP' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.recv(4096)  # the greeting: QEMU serves this client now
open(sys.argv[2], "w").close()
time.sleep(60)
EOP
qmp_pid=$!
on_exit "kill $qmp_pid 2>/dev/null"
QEMUCTL_TEST_HOLD=snapshot-create "$QC" --root "$ROOT" snapshot create r1 s1 >/dev/null 2>&1 &
hold_pid=$!
on_exit "kill -9 $hold_pid 2>/dev/null"
wait_until 30 test -e "$SCRATCH/qmp-held"
wait_until 30 test -e "$vm/.hold-snapshot-create"
ok "snapshot create holds r1's lock (pid $hold_pid); a client holds its QMP socket"

# A read that waited on the writer would take seconds (reads used to wait
# 2 s for a busy VM's lock, and QEMU's QMP socket is held); one that does
# not wait takes a few ms, ~100 ms in a sanitizer build on a loaded 2-core
# machine.  1 s tells the two apart at any load; bench/reads times them.
max_ms=1000
ms=$(ms_of qc info r1)
info=$(cat "$SCRATCH/out")
[ "$ms" -lt "$max_ms" ] || fail "info took $ms ms while r1 was busy (want < $max_ms)"
ok "info answered in $ms ms while r1 was busy"
assert_match "$info" "State: +paused( \(ready[^)]*\))?, snapshot create in progress \(pid $hold_pid\)" \
	"info shows the operation in progress"
ms=$(ms_of qc list)
[ "$ms" -lt "$max_ms" ] || fail "list took $ms ms while r1 was busy (want < $max_ms)"
ok "list answered in $ms ms while r1 was busy"
assert_match "$(cat "$SCRATCH/out")" "^r1 .* paused( \(ready\))?, snapshot create in progress \(pid $hold_pid\)" \
	"list shows the operation in progress"
ms=$(ms_of qc --json list)
[ "$ms" -lt "$max_ms" ] || fail "list --json took $ms ms while r1 was busy (want < $max_ms)"
json=$(cat "$SCRATCH/out")
assert_eq "$(jfield 0.operation.name <<<"$json")" "snapshot create" "list --json: operation name"
assert_eq "$(jfield 0.operation.pid <<<"$json")" "$hold_pid" "list --json: operation pid"
assert_eq "$(jfield 0.state <<<"$json")" paused "list --json: state"
# snapshot list reads the chain domain.xml publishes: s1, recorded pending before the switch
ms=$(ms_of qc snapshot list r1)
[ "$ms" -lt "$max_ms" ] || fail "snapshot list took $ms ms while r1 was busy (want < $max_ms)"
ok "snapshot list answered in $ms ms while r1 was busy"
assert_match "$(cat "$SCRATCH/out")" "^s1 .* disk1 .* \(pending\)$" "snapshot list shows s1 pending"
assert_match "$(tail -n 1 "$SCRATCH/out")" "^snapshot create in progress \(pid $hold_pid\)$" \
	"and the create in progress"
assert_eq "$(qc --json snapshot list r1 | python3 -c 'import json, sys
j = json.load(sys.stdin); s = j["snapshots"]
print(len(s), s[0]["name"], s[0]["pending"], j["operation"]["name"], j["operation"]["pid"])')" \
	"1 s1 True snapshot create $hold_pid" "snapshot list --json: s1 pending, the create in progress"

# the holder is SIGKILLed: its record stays on disk but is no longer shown
kill -9 "$hold_pid"
wait "$hold_pid" 2>/dev/null || true
rm -f "$vm/.hold-snapshot-create"
assert_file "$vm/op.json"
assert_eq "$(qc --json info r1 | jfield operation)" null "a killed holder's record is ignored"
kill "$qmp_pid"
wait "$qmp_pid" 2>/dev/null || true
# with the lock free, a list first undoes the killed create (its overlay was never made)
assert_eq "$(qc snapshot list r1 | tail -n +2)" "" "snapshot list after the kill: the create undone"
! grep -q 'pending=' "$vm/domain.xml" || fail "domain.xml still records a pending snapshot"
ok "domain.xml records no pending snapshot"
qc resume r1

# a forged record naming a live process that did not write it: ignored
printf '{"op": "stop", "pid": %d, "start_time": 1, "since_ms": 0}' $$ >"$vm/op.json"
assert_eq "$(qc --json info r1 | jfield operation)" null "a record whose start time does not match is ignored"
rm -f "$vm/op.json"

# ---- two truths: reboot of a paused VM
qc pause r1
assert_match "$(qc list)" '^r1 .* paused( \(ready\))?$' "list: paused"
assert_eq "$(qc --json info r1 | jfield qemu_status)" paused "QEMU says paused"
qc reboot r1
assert_match "$(qc list)" '^r1 .* paused \(QEMU: prelaunch\)( \(ready\))?$' "list after reboot of a paused VM: paused, QEMU in prelaunch"
assert_match "$(qc info r1)" 'State: +paused \(QEMU: prelaunch\)' "info says what QEMU says"
reply=$(qc qmp r1 '{"execute": "query-status"}')
assert_match "$reply" '"status": *"prelaunch"' "QEMU itself says prelaunch"
qc resume r1
assert_eq "$(qc --json info r1 | jfield state)/$(qc --json info r1 | jfield qemu_status)" \
	running/running "resume runs it again"

# a stop sent as a raw QMP command: the monitor publishes it from QEMU's STOP event
qc qmp r1 '{"execute": "stop"}' >/dev/null
is_paused() { [ "$(qc --json info r1 | jfield state)" = paused ]; }
wait_until 10 is_paused
ok "a raw QMP stop shows as paused (published by the monitor on STOP)"
qc qmp r1 '{"execute": "cont"}' >/dev/null
is_running() { [ "$(qc --json info r1 | jfield qemu_status)" = running ]; }
wait_until 10 is_running
ok "a raw QMP cont shows as running again"
qc destroy r1 >/dev/null

# ---- a start whose monitor is SIGKILLed before its report
QEMUCTL_TEST_HOLD=monitor-report "$QC" --root "$ROOT" start r1 >"$SCRATCH/start.out" 2>&1 &
start_pid=$!
wait_until 30 test -e "$vm/.hold-monitor-report"
mpid=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["monitor_pid"])' "$vm/state.json")
# the CLI spares the monitor its detaching fork: the monitor is the CLI's own child
assert_eq "$(ps -o ppid= -p "$mpid" | tr -d ' ')" "$start_pid" "the monitor is the child of the qemuctl that started it"
assert_eq "$(ps -o sid= -p "$mpid" | tr -d ' ')" "$mpid" "the monitor leads a session of its own"
kill -9 "$mpid"
rc=0
wait "$start_pid" || rc=$?
rm -f "$vm/.hold-monitor-report"
[ "$rc" -ne 0 ] || fail "start succeeded although its monitor was killed"
assert_match "$(cat "$SCRATCH/start.out")" \
	"VM 'r1': start failed: qemuctl-monitor ended before it reported: signal 9 \(Killed\)" \
	"start says the monitor died by signal 9"
assert_match "$(qc list)" '^r1 .* crashed$' "list: crashed"
assert_match "$(qc info r1)" 'State: +crashed \(monitor-died' "info: the monitor died"
qc start r1
assert_match "$(qc list)" '^r1 .* running( \(ready\))?$' "r1 starts again"
qc destroy r1 >/dev/null

# A read probes the liveness lock with a shared flock for microseconds: a
# start whose monitor comes along then waits it out instead of failing.
# Held here for 300 ms, as a burst of reads on a loaded host might.
flock -s "$vm/monitor.lock" -c "touch '$SCRATCH/probe-held'; sleep 0.3" &
probe_pid=$!
wait_until 10 test -e "$SCRATCH/probe-held"
qc start --paused r1 || fail "start failed while a read probed monitor.lock"
wait "$probe_pid"
assert_match "$(qc list)" '^r1 .* paused' "start waited out a read's probe of the liveness lock"
qc destroy r1 >/dev/null
