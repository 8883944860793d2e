#!/bin/bash
# One guest architecture through the VM lifecycle under TCG:
# create --arch A (root disk overlay on the guest's root.img, its kernel and
# initrd, --hostname) -> start -> console GUEST-ROOT, CIDATA hostname=<h>,
# GUEST-READY -> info: arch, machine, accel tcg and why -> QEMU runs the
# arch's binary with its machine/cpu options -> stop (ACPI power button on
# x86_64, PL061 GPIO key on aarch64 virt, EPOW on pseries) -> exit reason
# poweroff recorded -> delete (backing image untouched).
#
# The arch comes from QC_TEST_ARCH (set by the arch-lifecycle-<arch>.sh
# wrappers, so a failure names the arch) or the first argument.
arch="${QC_TEST_ARCH:-${1:-}}"
case "$arch" in
x86_64 | aarch64 | ppc64le) ;;
*)
	echo "usage: QC_TEST_ARCH=x86_64|aarch64|ppc64le $0 (or $0 ARCH)" >&2
	exit 99
	;;
esac
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest "$arch"

case "$arch" in
x86_64) binary=qemu-system-x86_64 machine=q35 argv_pat='-machine q35 -accel tcg,thread=multi -cpu max ' ;;
aarch64)
	binary=qemu-system-aarch64 machine=virt
	argv_pat='-machine virt,gic-version=3 -accel tcg,thread=multi -cpu cortex-a57 '
	;;
ppc64le)
	binary=qemu-system-ppc64 machine=pseries
	argv_pat='-machine pseries,x-vof=on,cap-cfpc=broken,[^ ]* -accel tcg,thread=multi -cpu POWER9 '
	;;
esac
host="qc-${arch//_/-}"
name="a-$arch"
vm="$ROOT/vms/$name"

img="$SCRATCH/root.img"
cp "$GUEST_ROOT" "$img"
sum_before=$(sha256sum <"$img")

qc create "$name" --arch "$arch" --disk-image "$img" --kernel "$GUEST_KERNEL" \
	--initrd "$GUEST_INITRD" --append "$GUEST_APPEND_ROOT" --memory 256M --cpus 1 \
	--hostname "$host" >/dev/null
ok "create $name --arch $arch"
assert_match "$(cat "$vm/domain.xml")" "<type arch='$arch'>hvm</type>" "domain.xml records the arch"
# direct kernel boot needs no UEFI varstore
assert_no_file "$vm/nvram.fd"

t0=$(date +%s%N)
qc start "$name"
ok "start ($((($(date +%s%N) - t0) / 1000000)) ms)"
qemu_pid=$(qc --json info "$name" | sed -n 's/.*"qemu_pid": *\([0-9]*\).*/\1/p')
[ -n "$qemu_pid" ] && [ -d "/proc/$qemu_pid" ] || fail "qemu pid '$qemu_pid' not running"
cmdline=$(tr '\0' ' ' <"/proc/$qemu_pid/cmdline")
assert_match "$cmdline" "^[^ ]*$binary " "QEMU binary is $binary"
assert_match "$cmdline" "$argv_pat" "QEMU machine/cpu options for $arch under TCG"
assert_match "$cmdline" "console=$GUEST_CONSOLE" "kernel console is $GUEST_CONSOLE"

info=$(qc info "$name")
assert_match "$info" "Arch: +$arch \(machine $machine\)" "info: arch and machine"
if [ "$arch" = "$(uname -m)" ]; then
	assert_match "$info" 'Accel: +tcg \(requested auto\): TCG: KVM unusable: .+' "info: tcg and why"
else
	assert_match "$info" "Accel: +tcg \(requested auto\): TCG: KVM unusable: guest arch $arch differs from host arch $(uname -m)" \
		"info: tcg because the arch differs"
fi

wait_for_text "$vm/console.log" '^GUEST-READY' 180
ok "console: GUEST-READY ($((($(date +%s%N) - t0) / 1000000)) ms after start)"
assert_match "$(cat "$vm/console.log")" "GUEST-ROOT dev=/dev/vda" "guest switched to the overlay root disk"
assert_match "$(cat "$vm/console.log")" "CIDATA hostname=$host " "cidata seed applied the hostname"

t0=$(date +%s%N)
qc stop "$name" --timeout 60
ok "stop ($((($(date +%s%N) - t0) / 1000000)) ms)"
info=$(qc info "$name")
assert_match "$info" 'State: +stopped' "info: stopped"
assert_match "$info" 'Last exit: +poweroff: guest-shutdown' "exit reason poweroff recorded"
assert_match "$(qc --json info "$name")" '"reason": "poweroff"' "info --json: last_exit poweroff"
assert_match "$(qc events "$name")" 'SHUTDOWN .*"reason":"guest-shutdown"' "events: SHUTDOWN guest-shutdown"
assert_match "$(cat "$vm/console.log")" 'GUEST-POWEROFF' "the guest ran its power-off path"
[ ! -d "/proc/$qemu_pid" ] || fail "QEMU $qemu_pid still runs after stop"
ok "QEMU gone after stop"

qc delete "$name"
assert_no_file "$vm"
assert_eq "$(sha256sum <"$img")" "$sum_before" "backing image unchanged"
