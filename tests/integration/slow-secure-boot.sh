#!/bin/bash
# slow-secure-boot: a signed boot path under --secure-boot, Debian's own:
# the disk (tests/guest/build-disk-image --signed) holds shim signed by
# Microsoft, GRUB and the kernel signed by Debian; the firmware (OVMF's
# Secure Boot code, Microsoft's keys in the VM's varstore) starts shim, shim
# checks GRUB, GRUB has shim check the kernel, and the guest reaches
# GUEST-READY with Secure Boot on (its kernel says "secureboot: Secure boot
# enabled" and locks itself down) and, with --tpm, a TPM 2.0 that the
# firmware measured the boot into (the kernel finds its TPM event log).
# Not in TESTS: `make check-slow` (tests/slow.mk); fetches shim-signed and
# grub-efi-amd64-signed with apt-get download once (cached).
. "$(dirname "$0")/lib.sh"
command -v swtpm >/dev/null || fail "swtpm is not installed (apt-get install swtpm swtpm-tools)"
"$QC_SRCDIR/tests/guest/build-disk-image" --arch x86_64 --signed >"$SCRATCH/build.log" 2>&1 ||
	fail "build-disk-image --signed failed: $(tail -5 "$SCRATCH/build.log")"
# shellcheck disable=SC1091
. "$QC_GUEST_CACHE/x86_64-efi-signed/env"
cp "$DISK_IMAGE" "$SCRATCH/disk.img"

vm="$ROOT/vms/ss"
# the EFI stub decompresses the kernel into firmware-allocated memory: 256M is too little
qc create ss --disk-image "$SCRATCH/disk.img" --memory 1G --secure-boot --tpm --hostname ss >/dev/null
t0=$SECONDS
qc start ss
wait_for_text "$vm/console.log" '^GUEST-READY' 300
ok "the signed path booted under Secure Boot in $((SECONDS - t0)) s"
log=$(tr -d '\033' <"$vm/console.log")
assert_match "$log" 'BdsDxe: starting Boot[0-9A-F]{4} ' "the firmware started the disk's shim"
assert_match "$log" 'Welcome to GRUB!' "shim started the signed GRUB"
guest_console ss
guest_say 'echo "SB-$(dmesg | grep -c "secureboot: Secure boot enabled")-$(dmesg | grep -c "Kernel is locked down from EFI Secure Boot")-$(cat /sys/class/tpm/tpm0/tpm_version_major)-$(dmesg | grep -c "TPMEventLog=")"'
wait_for_text "$SCRATCH/con$con_n.out" '^SB-1-1-2-1' 30
ok "the guest's kernel: Secure Boot enabled, locked down; a TPM 2.0 with the firmware's event log"
exec 7>&-
qc stop ss --timeout 120
qc delete ss
assert_no_file "$vm"
