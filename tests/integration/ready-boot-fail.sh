#!/bin/bash
# Waiting where it is hopeless, and Ctrl-C while waiting, under TCG:
#   - a disk that is not bootable (an empty qcow2) through SeaBIOS (x86_64
#     without a <loader>): SeaBIOS's messages reach the serial console
#     (-machine graphics=off), and `start --wait` ends at once on its "No
#     bootable device." with that reason, the console tail and exit 1, not
#     at the timeout; the VM keeps running; `wait` then says the same at once
#   - the same disk through UEFI (OVMF, when installed): the firmware falls
#     back to its UEFI shell (or finds no boot option at all), and the wait
#     ends with that reason
#   - Ctrl-C on a terminal during `start --wait` on a guest that never gets
#     ready (its user-data blocks the marker): the spinner line is erased,
#     the message says the VM keeps running and how to wait again, exit 130;
#     the VM runs on, and a later `wait` with a short timeout still waits
# The three guests boot in parallel.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64

qemu-img create -q -f qcow2 "$SCRATCH/empty.qcow2" 64M
ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd
ovmf_vars=/usr/share/OVMF/OVMF_VARS_4M.fd

# ---- bios: the empty disk through SeaBIOS (the <loader> and <nvram> taken out)
qc create bios --disk-image "$SCRATCH/empty.qcow2" --memory 256M --net none >/dev/null
qc dumpxml bios | grep -v -e '<loader' -e '<nvram' >"$SCRATCH/bios.xml"
qc define "$SCRATCH/bios.xml" >/dev/null
assert_eq "$(qc dumpxml bios | grep -c -e '<loader' -e '<nvram')" 0 "bios: no UEFI loader (SeaBIOS)"
t0=$SECONDS
qc start bios --wait --timeout 600 >"$SCRATCH/bios.out" 2>"$SCRATCH/bios.err" &
bios_pid=$!

# ---- uefi: the same disk through OVMF
have_ovmf=0
if [ -r "$ovmf_code" ] && [ -r "$ovmf_vars" ]; then
	have_ovmf=1
	qc create uefi --disk-image "$SCRATCH/empty.qcow2" --memory 256M --net none >/dev/null
	assert_match "$(qc dumpxml uefi)" "<loader readonly='yes' type='pflash'>$ovmf_code</loader>" \
		"uefi: the loader is OVMF"
	qc start uefi --wait --timeout 600 >"$SCRATCH/uefi.out" 2>"$SCRATCH/uefi.err" &
	uefi_pid=$!
else
	log "no OVMF ($ovmf_code): the UEFI case is left out"
fi

# ---- never: the tiny guest whose user-data blocks before the ready marker
img="$SCRATCH/root.img"
cp "$GUEST_ROOT" "$img"
printf '#!/bin/sh\necho BLOCKING-NOW\nsleep 100000\n' >"$SCRATCH/block.sh"
qc create never --disk-image "$img" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
	--append "$GUEST_APPEND_ROOT" --memory 256M --net none --user-data "$SCRATCH/block.sh" >/dev/null
# On a terminal (it echoes "^C"): Ctrl-C once the spinner shows the guest's
# last line, so the wait has begun and the guest is past its user-data.
QC_PTY_CTRL_C="BLOCKING-NOW" on_pty "$SCRATCH/int.out" "$QC" --root "$ROOT" start never --wait --timeout 300 &
int_pid=$!

# cannot_boot NAME PID REASON TAIL: the start --wait PID of VM NAME exited 1
# with "cannot boot: REASON" (EREs) and a console tail line matching TAIL;
# the VM keeps running.
cannot_boot() {
	local rc=0
	wait "$2" || rc=$?
	assert_eq "$rc" 1 "$1: start --wait exits 1"
	assert_match "$(head -n1 "$SCRATCH/$1.err")" "^qemuctl: error: VM '$1' cannot boot: $3; it is still running: end it with 'qemuctl destroy $1' and give it a bootable --disk-image \(or a --kernel\) \(console log: $ROOT/vms/$1/console\.log\)$" \
		"$1: the reason"
	grep -Eq "^  \| .*($4)" "$SCRATCH/$1.err" ||
		fail "$1: the console tail lacks /$4/: $(cat "$SCRATCH/$1.err")"
	ok "$1: the console tail shows the firmware's message"
	assert_match "$(qc info "$1")" 'State: +running$' "$1: the VM keeps running"
}

# ---- bios: ends at once on "No bootable device."
cannot_boot bios "$bios_pid" "its BIOS \(SeaBIOS\) found no bootable disk: 'No bootable device\.'" \
	'No bootable device\.$'
t_bios=$((SECONDS - t0))
# SeaBIOS tries again after 60 s; the wait must not have needed that long
[ "$t_bios" -lt 60 ] || fail "bios: start --wait took $t_bios s"
ok "bios: start --wait ended after $t_bios s (timeout 600 s)"
assert_match "$(cat "$ROOT/vms/bios/state.json")" '"boot_failure": "no-bootable-device"' \
	"bios: state.json records the failure"
assert_match "$(grep QEMUCTL_BOOT_FAILURE "$ROOT/vms/bios/events.jsonl")" 'no-bootable-device' \
	"bios: an event records the failure"
t0=$SECONDS
expect_fail 1 "^qemuctl: error: VM 'bios' cannot boot: its BIOS \(SeaBIOS\) found no bootable disk" \
	qc wait bios --timeout 600
[ $((SECONDS - t0)) -le 5 ] || fail "bios: wait took $((SECONDS - t0)) s"
qc destroy bios >/dev/null
# the next run starts clean (paused: its SeaBIOS has not run yet)
qc start bios --paused
grep -q boot_failure "$ROOT/vms/bios/state.json" &&
	fail "bios: a new run starts with the old boot_failure: $(cat "$ROOT/vms/bios/state.json")"
ok "bios: a new run does not inherit the recorded failure"
expect_fail 1 "VM 'bios' is running but not ready after 1 s" qc wait bios --timeout 1
qc destroy bios >/dev/null

# ---- uefi: ends at once on the UEFI shell, or (seen under heavy load: the
# shell failed to start with a Device Error) the firmware's "no bootable option"
if [ "$have_ovmf" = 1 ]; then
	cannot_boot uefi "$uefi_pid" \
		"its UEFI firmware found (nothing to boot and started the UEFI shell|no bootable option or device)" \
		'UEFI Interactive Shell v|BdsDxe: No bootable option or device was found\.'
	qc destroy uefi >/dev/null
fi

# ---- never: Ctrl-C on a terminal during start --wait
wait "$int_pid" || fail "the pty driver failed: $(cat "$SCRATCH/int.out")"
mapfile -t res <"$SCRATCH/int.out"
assert_eq "${res[1]-}" 130 "never: exit code 130 after Ctrl-C"
assert_match "${res[0]}" "[|/\\-] waiting for VM 'never' to be ready: [0-9]+\\.[0-9] s .*<CR><ESC>\\[Kqemuctl: interrupted: VM 'never' is not ready yet and keeps running; wait for it again with 'qemuctl wait never'<NL>$" \
	"never: the spinner erased, then the message on a line of its own"
assert_match "$(qc info never)" 'State: +running$' "never: the VM keeps running after Ctrl-C"
expect_fail 1 "VM 'never' is running but not ready after 1 s" qc wait never --timeout 1
qc destroy never >/dev/null
qc delete bios
[ "$have_ovmf" = 0 ] || qc delete uefi
qc delete never
