#!/bin/bash
# Disk boot through UEFI firmware, no --kernel: a GPT disk whose
# EFI system partition holds systemd-boot and the tiny guest (made by
# tests/guest/build-disk-image with sfdisk + mtools, no root or mounts) is
# the VM's --disk-image.  create gives the VM the arch's firmware code as
# <loader> and its own varstore copy vms/<name>/nvram.fd; the firmware finds
# \EFI\BOOT\BOOTX64.EFI (BOOTAA64.EFI), systemd-boot starts the EFI-stub
# kernel with the initrd, the console reaches GUEST-READY with the cidata
# hostname; the firmware wrote its boot variables into the VM's varstore
# (the template is untouched); stop powers off; delete removes the varstore.
#
# The arch comes from QC_TEST_ARCH (firmware-disk-boot-<arch>.sh) or $1.
arch="${QC_TEST_ARCH:-${1:-}}"
case "$arch" in
x86_64) vars=/usr/share/OVMF/OVMF_VARS_4M.fd code=/usr/share/OVMF/OVMF_CODE_4M.fd ;;
aarch64) vars=/usr/share/AAVMF/AAVMF_VARS.fd code=/usr/share/AAVMF/AAVMF_CODE.fd ;;
*)
	echo "usage: QC_TEST_ARCH=x86_64|aarch64 $0 (or $0 ARCH)" >&2
	exit 99
	;;
esac
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
"$QC_SRCDIR/tests/guest/build-disk-image" --arch "$arch" >"$SCRATCH/build.log" 2>&1 ||
	fail "build-disk-image --arch $arch failed: $(tail -5 "$SCRATCH/build.log")"
# shellcheck disable=SC1091
. "$QC_GUEST_CACHE/$arch-efi/env"
ok "UEFI disk image: $DISK_IMAGE"
# A copy in $SCRATCH, like the other tests' images: as root, QEMU runs as the
# qemuctl user, which cannot reach a guest cache under e.g. /root (0700).
cp "$DISK_IMAGE" "$SCRATCH/disk.img"
DISK_IMAGE="$SCRATCH/disk.img"
vars_sum=$(sha256sum <"$vars")

name="fw-$arch"
host="fw-${arch//_/-}"
vm="$ROOT/vms/$name"
qc create "$name" --arch "$arch" --disk-image "$DISK_IMAGE" --memory 256M --hostname "$host" >/dev/null
ok "create $name --disk-image (no --kernel)"
assert_match "$(qc dumpxml "$name")" "<loader readonly='yes' type='pflash'>$code</loader>" "loader is the arch's UEFI code"
assert_match "$(qc dumpxml "$name")" "<nvram>$vm/nvram.fd</nvram>" "nvram is the VM's own varstore"
cmp -s "$vm/nvram.fd" "$vars" || fail "$vm/nvram.fd is not a copy of $vars"
ok "nvram.fd is a fresh copy of $vars"

t0=$(date +%s%N)
qc start "$name"
wait_for_text "$vm/console.log" '^GUEST-READY' 240
ok "GUEST-READY through the firmware ($((($(date +%s%N) - t0) / 1000000)) ms after start)"
log=$(tr -d '\033' <"$vm/console.log")
assert_match "$log" 'BdsDxe: starting Boot[0-9A-F]{4} ' "the firmware booted an entry from the disk"
assert_match "$log" "CIDATA hostname=$host " "cidata hostname applied"

qc stop "$name" --timeout 60
assert_match "$(qc info "$name")" 'Last exit: +poweroff: guest-shutdown' "stop: poweroff recorded"
cmp -s "$vm/nvram.fd" "$vars" && fail "the firmware did not write the VM's varstore"
ok "the firmware wrote its variables into the VM's nvram.fd"
assert_eq "$(sha256sum <"$vars")" "$vars_sum" "the varstore template is unchanged"

qc delete "$name"
assert_no_file "$vm"
