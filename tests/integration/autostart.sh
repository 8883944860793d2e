#!/bin/bash
# Autostart with the tiny guest: the flag in domain.xml; `autostart --run`
# starts the marked VMs in parallel, each in a session of its own, and
# reports (without starting) a VM that ran when the host went down unless it
# is marked; `autostart --shutdown`
# powers every running VM off gracefully (exit reason poweroff) in parallel;
# JSON output against the schema; -q prints nothing; bad usage.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64
shopt -s lastpipe

schema="$QC_SRCDIR/docs/schema/qemuctl-v2.json"
check() {
	python3 "$QC_SRCDIR/tests/integration/json_schema.py" "$schema" "$1" ||
		fail "'$1' output does not follow the schema"
	ok "$1 JSON valid"
}
mk() {
	qc create "$1" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" \
		--memory 256M --no-seed --net none --accel tcg >/dev/null
}
# fake_host_reboot VM: state.json says running in another boot of the host.
fake_host_reboot() {
	python3 - "$ROOT/vms/$1/state.json" <<'EOP'
import json, sys
p = sys.argv[1]
try:
    s = json.load(open(p))
except FileNotFoundError:
    s = {}
s.update(running=True, boot_id="00000000-0000-0000-0000-000000000000", monitor_pid=0, qemu_pid=0)
json.dump(s, open(p, "w"))
EOP
}
on_exit "for v in a b c d; do '$QC' --root '$ROOT' destroy \$v >/dev/null 2>&1; done"

for v in a b c d; do mk "$v"; done
qc autostart a >"$SCRATCH/out"
assert_eq "$(cat "$SCRATCH/out")" "VM 'a' starts at boot" "autostart a"
grep -q '<qemuctl:autostart>yes</qemuctl:autostart>' "$ROOT/vms/a/domain.xml" ||
	fail "domain.xml has no autostart flag"
ok "flag stored in domain.xml metadata"
qc --json autostart d | check autostart
qc autostart b
qc autostart b --disable >"$SCRATCH/out"
assert_eq "$(cat "$SCRATCH/out")" "VM 'b' no longer starts at boot" "--disable"
grep -q 'qemuctl:autostart' "$ROOT/vms/b/domain.xml" && fail "flag left after --disable"
assert_match "$(qc dumpxml a)" 'qemuctl:autostart' "dumpxml shows the flag"
assert_match "$(qc info a)" 'Autostart: +yes' "info shows the flag"
assert_match "$(qc info b)" 'Autostart: +no' "info shows the flag cleared"
assert_match "$(qc --json info a | tr -d " \n")" '"autostart":true' "info --json shows the flag"
assert_match "$(qc --json info b | tr -d " \n")" '"autostart":false' "info --json shows the flag cleared"
qc list | grep -q '^a ' || fail "list after the flag change"
ok "list still reads the VM"

expect_fail 1 "VM 'nosuch'" qc autostart nosuch
expect_fail 2 "give one VM NAME" qc autostart
expect_fail 2 "give one VM NAME" qc autostart --run --shutdown
expect_fail 2 "give one VM NAME" qc autostart a --run
expect_fail 2 "--timeout goes with --shutdown" qc autostart --run --timeout 5
expect_fail 2 "bad option" qc autostart --bogus

# c ran when the host went down, not marked: reported only; d likewise but marked.
fake_host_reboot c
fake_host_reboot d
assert_match "$(qc info c)" 'host-reboot' "c shows exit reason host-reboot"
# Each VM's start runs in a session of its own, as from a shell of its own
# (under autogroup scheduling each gets its own CPU share): with a's and d's
# locks held here, both workers wait in their start, where their sessions
# are read.  Between the fork and the exec the child is still the shell with
# the shell's fds 8 and 9 on the locks: a worker is a child of qemuctl that
# has a lock open itself.
sid() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $4}'; }
workers_wait() {
	local c n=0
	for c in $(pgrep -P "$apid"); do
		ls -l "/proc/$c/fd" 2>/dev/null | grep -Eq 'vms/[ad]/lock' && n=$((n + 1))
	done
	[ "$n" = 2 ]
}
exec 8<"$ROOT/vms/a/lock" 9<"$ROOT/vms/d/lock"
flock 8
flock 9
t0=$SECONDS
"$QC" --root "$ROOT" autostart --run >"$SCRATCH/run.out" 2>"$SCRATCH/run.err" 8<&- 9<&- &
apid=$!
wait_until 20 workers_wait
asid=$(sid "$apid")
for c in $(pgrep -P "$apid"); do
	assert_eq "$(sid "$c")" "$c" "worker $c leads a session of its own (autostart's is $asid)"
done
exec 8<&- 9<&-
wait "$apid" || fail "autostart --run failed: $(cat "$SCRATCH/run.err")"
cat "$SCRATCH/run.out" "$SCRATCH/run.err"
for v in a d; do
	m=$(qc --json info "$v" | sed -n 's/.*"monitor_pid": *\([0-9]*\).*/\1/p')
	[ -n "$m" ] && [ "$m" != 0 ] || fail "$v: no monitor pid"
	[ "$(sid "$m")" != "$asid" ] || fail "$v's monitor $m is in autostart's session $asid"
	ok "$v's monitor $m is in session $(sid "$m"), not autostart's"
done
assert_eq "$(sort "$SCRATCH/run.out")" $'started VM \'a\'\nstarted VM \'d\'' "--run starts a and d"
assert_match "$(cat "$SCRATCH/run.err")" "VM 'c' was running when the host went down; not restarted: autostart is off" \
	"host-reboot VM reported, not restarted"
assert_match "$(cat "$SCRATCH/run.err")" "VM 'd' was running when the host went down; restarted" \
	"marked host-reboot VM restarted"
state() { qc --json info "$1" | sed -n 's/.*"state": *"\([a-z]*\)".*/\1/p'; }
assert_eq "$(state a)$(state b)$(state c)$(state d)" "runningstoppedstoppedrunning" "states after --run"
ok "--run took $((SECONDS - t0)) s"

# A second --run has nothing to start; JSON and -q.
qc --json autostart --run 2>/dev/null | check autostart-run
qc --json autostart --run 2>/dev/null | grep -q '"started":\[\],"failed":\[\],"host_reboot":\["c"\]' ||
	fail "second --run: $(qc --json autostart --run 2>&1)"
ok "second --run starts nothing, still reports c"
out=$(qc -q autostart --run 2>&1)
assert_eq "$out" "" "-q --run prints nothing"

wait_for_text "$ROOT/vms/a/console.log" '^GUEST-READY' 120
wait_for_text "$ROOT/vms/d/console.log" '^GUEST-READY' 120
qc start b
wait_for_text "$ROOT/vms/b/console.log" '^GUEST-READY' 120
t0=$(date +%s%N)
qc --json autostart --shutdown --timeout 60 >"$SCRATCH/shut.json"
ms=$((($(date +%s%N) - t0) / 1000000))
check autostart-shutdown <"$SCRATCH/shut.json"
for v in a b d; do
	grep -q "\"$v\"" "$SCRATCH/shut.json" || fail "--shutdown did not stop $v: $(cat "$SCRATCH/shut.json")"
	assert_match "$(qc info "$v")" 'Last exit: +poweroff' "$v powered off gracefully"
	grep -q 'Power down' "$ROOT/vms/$v/console.log" || fail "$v: no ACPI power-down on its console"
done
ok "--shutdown stopped a, b, d by ACPI in $ms ms"
assert_eq "$(state a)$(state b)$(state c)$(state d)" "stoppedstoppedstoppedstopped" "all stopped"
out=$(qc -q autostart --shutdown 2>&1)
assert_eq "$out" "" "-q --shutdown with nothing running prints nothing"
grep -q $'\r' "$SCRATCH/run.err" && fail "progress drawn on stderr that is not a terminal"
ok "no spinner when stderr is not a terminal"

# On a terminal: a spinner with a count, erased before the report.
on_pty "$SCRATCH/pty.out" "$QC" --root "$ROOT" autostart --run
assert_match "$(head -n1 "$SCRATCH/pty.out")" '<CR>[|/\\-] starting VMs: 0/2 .*starting VMs: 2/2 <CR><ESC>\[K' \
	"terminal: spinner with a count, then erased"
assert_match "$(head -n1 "$SCRATCH/pty.out")" "started VM 'a'" "terminal: the report follows"
assert_eq "$(tail -n1 "$SCRATCH/pty.out")" 0 "terminal --run exit code"
qc destroy a
qc destroy d
