#!/bin/bash
# Readiness and the seed bus with the tiny guest under TCG: `run --wait` returns
# when the guest printed "QEMUCTL-READY <instance-id>" (info: ready after N s,
# state.json ready), the seed found on both buses (--seed-bus virtio and the
# x86_64 default cdrom), ready again on later boots (a start paused is not
# ready by the last run's marker; stop + start --wait), `wait` timing out
# (last 20 console lines + the log's path), `wait` on a VM killed while
# waiting, a seedless VM ready by its
# <qemuctl:ready-marker>, and bad input (exact exit codes and messages, state
# root unchanged).  Three guests boot in parallel.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64

img="$SCRATCH/root.img"
cp "$GUEST_ROOT" "$img"
guest=(--disk-image "$img" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD"
	--append "$GUEST_APPEND_ROOT" --memory 256M --net none)

# ---- bad input: nothing changes under the state root
qc create quiet "${guest[@]}" --no-seed >/dev/null
before=$(tree_digest "$ROOT" | sha256sum)
expect_fail 2 'wait: missing NAME' qc wait
expect_fail 2 '^qemuctl: error: --timeout: 0 is out of range: use a whole number from 1 to 86400' qc wait quiet --timeout 0
expect_fail 2 "^qemuctl: error: --timeout: invalid number 'soon'" qc wait quiet --timeout soon
expect_fail 2 "wait: unknown option '--forever'" qc wait quiet --forever
expect_fail 2 'start: --timeout needs --wait' qc start quiet --timeout 5
expect_fail 2 'start: --wait and --paused exclude each other' qc start quiet --wait --paused
expect_fail 2 'run: --wait and --console exclude each other' qc run x "${guest[@]}" --wait --console
expect_fail 2 "--seed-bus 'usb': use cdrom or virtio" qc create x "${guest[@]}" --seed-bus usb
expect_fail 2 '--seed-bus has no effect with --no-seed' qc create x "${guest[@]}" --no-seed --seed-bus virtio
expect_fail 1 "VM 'nope'" qc wait nope
expect_fail 1 "VM 'quiet' has no ready marker: it has no seed \(--no-seed\)" qc wait quiet
expect_fail 1 "VM 'quiet' has no ready marker" qc start quiet --wait
expect_fail 2 "run: --wait needs the seed's ready marker; a VM made with --no-seed has none" \
	qc run x "${guest[@]}" --no-seed --wait
assert_eq "$(tree_digest "$ROOT" | sha256sum)" "$before" "state root unchanged by refused commands"

# ---- r2: default seed bus (x86_64: ide-cd); user-data prints 25 lines and
# then blocks, so the ready marker never comes
printf '#!/bin/sh\nfor i in $(seq 1 25); do printf "LINE-%%02d\\n" $i; done\nsleep 1000\n' \
	>"$SCRATCH/ud.sh"
qc create r2 "${guest[@]}" --user-data "$SCRATCH/ud.sh" >/dev/null
expect_fail 1 "VM 'r2' is not running \(state: stopped\); start it with 'qemuctl start r2 --wait'" \
	qc wait r2
qc start r2
qpid2=$(sed -n 's/.*"qemu_pid": *\([0-9]*\).*/\1/p' "$ROOT/vms/r2/state.json")
tr '\0' ' ' <"/proc/$qpid2/cmdline" | grep -Eq 'ide-cd,[^ ]*drive=drive-seed' ||
	fail "r2: seed is not an ide-cd: $(tr '\0' ' ' <"/proc/$qpid2/cmdline")"
ok "r2: default seed bus on x86_64 is ide-cd"

# ---- quiet: no seed, but a <qemuctl:ready-marker> in its definition
qc dumpxml quiet | sed 's|\(<qemuctl:domain [^>]*>\)|\1<qemuctl:ready-marker>GUEST-READY</qemuctl:ready-marker>|' \
	>"$SCRATCH/quiet.xml"
grep -q 'ready-marker>GUEST-READY<' "$SCRATCH/quiet.xml" || fail "no ready-marker in $(cat "$SCRATCH/quiet.xml")"
qc define "$SCRATCH/quiet.xml" >/dev/null
qc start quiet

# ---- r1: --seed-bus virtio, run --wait (boots while r2 boots)
t0=$(date +%s%3N)
qc run r1 "${guest[@]}" --seed-bus virtio --wait --timeout 120 >"$SCRATCH/r1.out"
t1=$(date +%s%3N)
assert_match "$(cat "$SCRATCH/r1.out")" "^VM 'r1' is ready \(after [0-9]+\.[0-9] s\)$" "run --wait says ready"
grep -a "QEMUCTL-READY iid-" "$ROOT/vms/r1/console.log" >/dev/null || fail "r1: no marker on the console"
assert_match "$(grep -a '^CIDATA' "$ROOT/vms/r1/console.log")" "CIDATA hostname=r1 instance-id=iid-" \
	"r1: the guest found the seed on virtio"
assert_match "$(grep -o "bus='[a-z]*'" "$ROOT/vms/r1/domain.xml" | tr '\n' ' ')" "bus='virtio' bus='virtio'" \
	"r1: seed bus stored in domain.xml"
qpid1=$(sed -n 's/.*"qemu_pid": *\([0-9]*\).*/\1/p' "$ROOT/vms/r1/state.json")
tr '\0' ' ' <"/proc/$qpid1/cmdline" | grep -Eq 'virtio-blk-pci,[^ ]*drive=drive-seed' || fail "r1: seed not on virtio-blk"
ok "r1: seed on virtio-blk-pci"
assert_match "$(qc info r1)" 'State: +running \(ready after [0-9]+\.[0-9] s\)' "info: running (ready after N s)"
assert_match "$(qc --json info r1)" '"ready": true' "info --json: ready"
at=$(sed -n 's/.*"at_ms": *\([0-9]*\).*/\1/p' "$ROOT/vms/r1/state.json")
[ -n "$at" ] || fail "state.json has no ready.at_ms: $(cat "$ROOT/vms/r1/state.json")"
ok "state.json: ready at $at (run --wait took $((t1 - t0)) ms, returned $((t1 - at)) ms after the marker)"
[ $((t1 - at)) -lt 1000 ] || fail "run --wait returned $((t1 - at)) ms after the marker"
# already ready: at once
t0=$(date +%s%3N)
assert_match "$(qc --json wait r1)" '"ready_after_ms": [0-9]+' "wait --json on a ready VM"
ok "wait on a ready VM took $(($(date +%s%3N) - t0)) ms"

assert_match "$(qc wait quiet --timeout 120)" "^VM 'quiet' is ready \(after [0-9]+\.[0-9] s\)$" \
	"a seedless VM is ready by its <qemuctl:ready-marker>"
grep -a -q 'QEMUCTL-READY' "$ROOT/vms/quiet/console.log" && fail "quiet: a marker without a seed"
ok "quiet: the test guest prints no QEMUCTL-READY without a seed"
qc destroy quiet

# ---- r2: the seed on the cdrom ran the user-data; wait times out with the tail
wait_for_text "$ROOT/vms/r2/console.log" 'LINE-25' 120
ok "r2: the guest found the seed on the cdrom (user-data ran)"
expect_fail 1 "VM 'r2' is running but not ready after 2 s: its console did not show 'QEMUCTL-READY iid-.*' \(full console log: $ROOT/vms/r2/console.log\)" \
	qc wait r2 --timeout 2
grep -q 'last 20 console lines' "$SCRATCH/err" || fail "no tail header: $(cat "$SCRATCH/err")"
grep -q '| LINE-25$' "$SCRATCH/err" || fail "tail lacks LINE-25: $(cat "$SCRATCH/err")"
grep -q 'LINE-0[1-5]' "$SCRATCH/err" && fail "tail has more than 20 lines: $(cat "$SCRATCH/err")"
assert_eq "$(grep -c '^  | ' "$SCRATCH/err")" 20 "timeout prints exactly the last 20 console lines"
assert_match "$(qc info r2)" 'State: +running$' "info: running, not ready"
grep -q 'waiting for VM' "$SCRATCH/err" && fail "spinner without a terminal: $(cat "$SCRATCH/err")"
ok "no spinner when stderr is not a terminal"
# on a terminal: a spinner with the elapsed time and the last console line, erased at the end
on_pty "$SCRATCH/pty.out" "$QC" --root "$ROOT" wait r2 --timeout 1
assert_match "$(head -n1 "$SCRATCH/pty.out")" "<CR><ESC>\\[K[|/\\-] waiting for VM 'r2' to be ready: 0\\.[0-9] s  LINE-25.*<CR><ESC>\\[Kqemuctl: error: VM 'r2' is running but not ready after 1 s" \
	"terminal: spinner with elapsed time and the last console line, erased before the error"
assert_eq "$(tail -n1 "$SCRATCH/pty.out")" 1 "terminal: exit code 1 on timeout"
# the tail is the guest's text: C1 controls (raw and in UTF-8) and DEL shown, not sent
printf 'C1 \302\2332J raw \2332J del \177 end\n' >>"$ROOT/vms/r2/console.log"
expect_fail 1 "VM 'r2' is running but not ready" qc wait r2 --timeout 1
grep -qF '| C1 \u009b2J raw \x9b2J del ^? end' "$SCRATCH/err" || fail "tail not escaped: $(tail -n2 "$SCRATCH/err" | od -c | head)"
LC_ALL=C grep -q $'[\x7f-\x9f]' "$SCRATCH/err" && fail "a raw C1 or DEL byte in the tail: $(tail -n2 "$SCRATCH/err" | od -c | head)"
ok "the console tail shows C1 controls and DEL"

# ---- r2 killed while waiting: an immediate, clear error
qc wait r2 --timeout 60 >"$SCRATCH/w.out" 2>"$SCRATCH/w.err" &
wpid=$!
sleep 0.5
kill -9 "$qpid2"
t0=$SECONDS
rc=0
wait "$wpid" || rc=$?
assert_eq "$rc" 1 "wait on a VM killed meanwhile exits 1"
[ $((SECONDS - t0)) -le 3 ] || fail "wait took $((SECONDS - t0)) s to notice"
assert_match "$(head -n1 "$SCRATCH/w.err")" "^qemuctl: error: VM 'r2' stopped before it was ready: crashed: signal 9 \(Killed\) \(console log: $ROOT/vms/r2/console.log\)$" \
	"wait names the exit reason"

# stop on a terminal: a spinner while the guest powers off, erased at the end
on_pty "$SCRATCH/pty-stop.out" "$QC" --root "$ROOT" stop r1 --timeout 30
assert_match "$(head -n1 "$SCRATCH/pty-stop.out")" "^<CR><ESC>\\[K[|/\\-] waiting for VM 'r1' to power off: [0-9]+\\.[0-9] s .*<CR><ESC>\\[K" \
	"terminal: stop shows a spinner, erased at the end"
assert_eq "$(tail -n1 "$SCRATCH/pty-stop.out")" 0 "terminal: stop exits 0"
assert_match "$(qc info r1)" 'State: +stopped \(poweroff' "stop on a terminal powered the guest off"
# ---- r1 again: ready on every boot, and only by this run's marker
# (paused: the CPUs have not run, while the last run's marker is in console.log.1)
qc start r1 --paused
grep -aq "QEMUCTL-READY iid-" "$ROOT/vms/r1/console.log.1" || fail "r1: the first run's marker is not in console.log.1"
assert_match "$(cat "$ROOT/vms/r1/state.json")" '"ready": null' "r1 restarted: not ready before its guest ran"
expect_fail 1 "VM 'r1' is running but not ready after 1 s" qc wait r1 --timeout 1
qc resume r1
assert_match "$(qc wait r1 --timeout 120)" "^VM 'r1' is ready \(after [0-9]+\.[0-9] s\)$" "r1: ready again after a restart"
grep -a -q "QEMUCTL-READY iid-" "$ROOT/vms/r1/console.log" || fail "r1: no marker on the second boot's console"
qc stop r1 --timeout 30
assert_match "$(qc start r1 --wait --timeout 120)" "^VM 'r1' is ready \(after [0-9]+\.[0-9] s\)$" \
	"r1: start --wait on a third boot"
qc destroy r1
qc delete r1
qc delete r2
qc delete quiet
