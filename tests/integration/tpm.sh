#!/bin/bash
# --tpm and --secure-boot with the x86_64 test guest booting from its UEFI
# disk image (tests/guest/build-disk-image; OVMF, not -kernel: SeaBIOS's TPM
# setup leaves a direct kernel boot with broken ACPI tables):
#   - --tpm: the definition has <tpm model='tpm-tis'> with an emulator
#     backend; start runs one swtpm as QEMU's user in vms/NAME/tpm; the guest
#     sees a TPM 2.0 (/sys/class/tpm/tpm0, /dev/tpm0, tpm_tis in dmesg);
#     stop ends swtpm and keeps its state; a restart goes on from that state
#     (the TPM's persistent resetCount, read with TPM2_ReadClock through
#     /dev/tpmrm0, is one more than before; a damaged state file fails the
#     start, naming swtpm's log, and leaves no QEMU or swtpm); swtpm killed while the VM runs ends the run as crashed
#     with swtpm named, and no QEMU is left; delete removes the state;
#   - --secure-boot: q35 with SMM and OVMF's Secure Boot code, a varstore
#     copied from OVMF_VARS_4M.ms.fd (Microsoft's keys); the firmware runs
#     and refuses the disk's unsigned systemd-boot ("Access Denied"), which
#     the same disk boots without Secure Boot (firmware-disk-boot.sh);
#   - refusals leave nothing: --secure-boot with --kernel or on aarch64,
#     --tpm with --kernel on x86_64 (create and run);
#   - info (and --json) shows both; doctor finds swtpm and the firmware.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
command -v swtpm >/dev/null || fail "swtpm is not installed (apt-get install swtpm swtpm-tools)"
[ -r /usr/share/OVMF/OVMF_CODE_4M.secboot.fd ] || fail "OVMF is not installed (apt-get install ovmf)"
"$QC_SRCDIR/tests/guest/build-disk-image" --arch x86_64 >"$SCRATCH/build.log" 2>&1 ||
	fail "build-disk-image --arch x86_64 failed: $(tail -5 "$SCRATCH/build.log")"
# shellcheck disable=SC1091
. "$QC_GUEST_CACHE/x86_64-efi/env"
cp "$DISK_IMAGE" "$SCRATCH/disk.img"

swtpm_pids() { # swtpm_pids DIR: the swtpm processes whose working directory is DIR
	local p
	for p in $(pgrep -x swtpm || true); do
		[ "$(readlink "/proc/$p/cwd" 2>/dev/null)" = "$1" ] && echo "$p"
	done
	return 0
}
no_swtpm() { [ -z "$(swtpm_pids "$1")" ]; }
# reset_count: TPM2_ReadClock through the guest's /dev/tpmrm0 on the current
# console; prints the TPM's resetCount (hex), kept in its persistent state
# and counted up by every TPM2_Startup(CLEAR), i.e. every boot.
reset_count() {
	guest_say 'printf "\200\001\000\000\000\012\000\000\001\201" >/tmp/rc; exec 4<>/dev/tpmrm0; dd if=/tmp/rc bs=10 count=1 >&4 2>/dev/null; echo "RC-$(dd bs=64 count=1 <&4 2>/dev/null | od -An -tx1 | tr -d " \n")-"; exec 4<&-'
	wait_for_text "$SCRATCH/con$con_n.out" '^RC-[0-9a-f]+-' 30
	# response: tag 8001, size 00000023, rc 00000000, time, clock, resetCount (bytes 26..29)
	sed -n 's/^RC-\(8001000000230000000[0-9a-f]*\)-.*/\1/p' "$SCRATCH/con$con_n.out" | tail -n 1 | cut -c53-60
}
qemu_of() { qc --json info "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin).get("qemu_pid") or "")'; }

# ---- doctor: swtpm and the Secure Boot firmware
doc=$(qc doctor 2>&1 || true)
assert_match "$doc" "swtpm.*$(command -v swtpm) \(--tpm works\)" "doctor finds swtpm"
assert_match "$doc" "secure-boot.*OVMF_CODE_4M.secboot.fd, /usr/share/OVMF/OVMF_VARS_4M.ms.fd" "doctor finds the Secure Boot firmware"

# ---- refusals: nothing on disk
. "$QC_GUEST_CACHE/x86_64/env"
expect_fail 1 "VM 'k': --secure-boot checks what UEFI firmware boots from a disk; --kernel bypasses the firmware" \
	qc create k --kernel "$GUEST_KERNEL" --secure-boot --no-seed
expect_fail 1 "VM 'a': Secure Boot is not available on aarch64: qemuctl has Secure Boot firmware \(OVMF with SMM\) for x86_64 only; drop --secure-boot" \
	qc create a --arch aarch64 --disk-image "$SCRATCH/disk.img" --secure-boot --no-seed
tpm_kernel="VM 'kt': a TPM with a direct kernel boot does not work on x86_64: SeaBIOS runs before the kernel and its TPM setup corrupts the ACPI tables the kernel reads \(the guest runs without ACPI and sees no TPM\); boot from a disk through UEFI firmware instead"
expect_fail 1 "$tpm_kernel" qc create kt --kernel "$GUEST_KERNEL" --tpm --no-seed
expect_fail 1 "$tpm_kernel" qc run kt --kernel "$GUEST_KERNEL" --tpm --no-seed
assert_no_file "$ROOT/vms/k"
assert_no_file "$ROOT/vms/a"
assert_no_file "$ROOT/vms/kt"

# ---- --tpm
vm="$ROOT/vms/tp"
qc create tp --disk-image "$SCRATCH/disk.img" --memory 256M --tpm --hostname tp >/dev/null
xml=$(qc dumpxml tp | tr -d '\n')
assert_match "$xml" "<tpm model='tpm-tis'> *<backend type='emulator' version='2.0'/> *</tpm>" "dumpxml has the TPM"
assert_match "$(qc info tp)" "TPM: +2.0 \(swtpm; state in $vm/tpm\)" "info shows the TPM"
assert_eq "$(qc --json info tp | python3 -c 'import json, sys; print(json.load(sys.stdin)["tpm"])')" True "info --json: tpm"
qc start tp
pids=$(swtpm_pids "$vm/tpm")
[ "$(wc -w <<<"$pids")" = 1 ] || fail "expected one swtpm in $vm/tpm, got '$pids'"
ok "one swtpm runs in $vm/tpm"
qpid=$(qemu_of tp)
assert_eq "$(ps -o user= -p "$pids")" "$(ps -o user= -p "$qpid")" "swtpm runs as QEMU's user"
assert_match "$(grep NoNewPrivs "/proc/$pids/status")" '1$' "swtpm has no new privileges"
tr '\0' ' ' <"/proc/$qpid/cmdline" | grep -q -- "-tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0" ||
	fail "QEMU has no TPM: $(tr '\0' ' ' <"/proc/$qpid/cmdline")"
ok "QEMU has -tpmdev emulator and -device tpm-tis"
wait_for_text "$vm/console.log" '^GUEST-READY' 240
guest_console tp
guest_say 'echo "TPM-v$(cat /sys/class/tpm/tpm0/tpm_version_major)-$(test -c /dev/tpm0 && echo dev)-$(dmesg | grep -c "tpm_tis MSFT0101:00: 2.0 TPM")"'
wait_for_text "$SCRATCH/con$con_n.out" '^TPM-v2-dev-1' 30
ok "the guest sees a TPM 2.0: /sys/class/tpm/tpm0, /dev/tpm0, tpm_tis MSFT0101 in dmesg"
rc1=$(reset_count)
[ -n "$rc1" ] || fail "TPM2_ReadClock gave no answer: $(grep -a '^RC-' "$SCRATCH/con$con_n.out")"
ok "the TPM answers TPM2_ReadClock: resetCount $((16#$rc1))"
exec 7>&-

qc stop tp --timeout 90
no_swtpm "$vm/tpm" || fail "swtpm still runs after stop"
ok "stop ended swtpm"
assert_file "$vm/tpm/tpm2-00.permall"

# A restart reads the kept state: a damaged one fails the start, clearly, and leaves nothing running.
cp "$vm/tpm/tpm2-00.permall" "$SCRATCH/permall"
head -c "$(stat -c %s "$SCRATCH/permall")" /dev/urandom >"$vm/tpm/tpm2-00.permall"
expect_fail 1 "VM 'tp': start failed: QEMU exited during start .*tpm-emulator: TPM result for CMD_INIT.*swtpm \(the VM's TPM\): .*its log $vm/swtpm.log: .*Could not initialize the TPM" \
	qc start tp
no_swtpm "$vm/tpm" || fail "swtpm left running after a failed start"
# by the VM's directory, not by name: the other pass's tpm.sh may run its own tp now
[ -z "$(procs_using "$vm")" ] || fail "processes left after a failed start: $(procs_using "$vm")"
ok "a failed start leaves no QEMU and no swtpm"
cp "$SCRATCH/permall" "$vm/tpm/tpm2-00.permall"
qc start tp
[ -n "$(swtpm_pids "$vm/tpm")" ] || fail "no swtpm after the restart"
wait_for_text "$vm/console.log" '^GUEST-READY' 240
guest_console tp
rc2=$(reset_count)
exec 7>&-
assert_eq "$((16#${rc2:-0}))" "$((16#$rc1 + 1))" "after the restart the TPM's persistent resetCount went on from its kept state"

# swtpm killed while the VM runs: the run ends, named, and QEMU does not stay.
qpid=$(qemu_of tp)
kill -9 "$(swtpm_pids "$vm/tpm")"
wait_until 20 test ! -e "/proc/$qpid"
ok "QEMU stopped after swtpm died"
# the monitor publishes the exit after it reaped QEMU: wait for that, not only for QEMU
wait_until 20 bash -c "! '$QC' --root '$ROOT' info tp | grep -Eq '^State: +(running|paused)'"
assert_match "$(qc info tp)" "Last exit: +crashed: the VM's TPM ended while it ran, so QEMU was stopped: swtpm \(the VM's TPM\): signal 9 \(Killed\); its log $vm/swtpm.log" \
	"info names swtpm's death"

qc delete tp
assert_no_file "$vm"

# ---- --secure-boot
vm="$ROOT/vms/sb"
qc create sb --disk-image "$SCRATCH/disk.img" --memory 256M --secure-boot --hostname sb >/dev/null
assert_match "$(qc dumpxml sb)" "<loader readonly='yes' type='pflash' secure='yes'>/usr/share/OVMF/OVMF_CODE_4M.secboot.fd</loader>" \
	"loader: the Secure Boot code"
cmp -s "$vm/nvram.fd" /usr/share/OVMF/OVMF_VARS_4M.ms.fd || fail "nvram.fd is not a copy of OVMF_VARS_4M.ms.fd"
ok "the varstore is a copy of OVMF_VARS_4M.ms.fd (Microsoft's keys enrolled)"
assert_match "$(qc info sb)" "Secure Boot: +on \(UEFI, Microsoft's keys enrolled\)" "info shows Secure Boot"
assert_eq "$(qc --json info sb | python3 -c 'import json, sys; print(json.load(sys.stdin)["secure_boot"])')" True "info --json: secure_boot"
qc start sb
qpid=$(qemu_of sb)
args=$(tr '\0' ' ' <"/proc/$qpid/cmdline")
assert_match "$args" "-machine q35,smm=on " "q35 with SMM"
assert_match "$args" "-global driver=cfi.pflash01,property=secure,value=on " "the varstore flash is SMM-only"
wait_for_text "$vm/console.log" "BdsDxe: failed to load Boot[0-9A-F]{4} .*: Access Denied" 240
ok "Secure Boot is enforced: the firmware refuses the unsigned boot loader"
grep -q GUEST-READY "$vm/console.log" && fail "the unsigned guest booted under Secure Boot"
qc destroy sb
qc delete sb
