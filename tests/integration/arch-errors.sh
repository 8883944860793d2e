#!/bin/bash
# Architecture, accelerator and firmware errors, no guest boot:
# unknown arch, image/VM arch mismatch, --accel kvm without usable KVM,
# a <loader> pointing at a missing file; each refused with a message naming
# the cause and the state root left byte-identical.  Also the UEFI varstore:
# a disk-boot VM on x86_64/aarch64 gets its own nvram.fd copied from the
# arch's template at create (removed by delete), a kernel boot and ppc64le
# none; a deleted varstore is made again at start.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

disk="$SCRATCH/disk.raw"
truncate -s 4M "$disk"
kernel="$SCRATCH/kernel"
echo not-really-a-kernel >"$kernel"
host_arch=$(uname -m)

# ---- refused before anything is written
qc image import arm1 "$disk" --arch arm64 >/dev/null
ok "image import arm1 --arch arm64"
before=$(tree_digest "$ROOT")
expect_fail 1 "^qemuctl: error: --arch 'sparc': unknown architecture; use x86_64, aarch64 or ppc64le$" \
	qc create v1 --arch sparc --kernel "$kernel"
expect_fail 1 "^qemuctl: error: image 'i2': unknown arch 'mips'; use x86_64, aarch64 or ppc64le$" \
	qc image import i2 "$disk" --arch mips
expect_fail 1 "image 'arm1' is arm64 \(aarch64\) but the VM is $host_arch; .*create the VM with --arch aarch64" \
	qc create v2 --image arm1
expect_fail 1 "image 'arm1' is arm64 \(aarch64\) but the VM is ppc64le" \
	qc create v3 --image arm1 --arch ppc64le
expect_fail 1 "^qemuctl: error: VM 'v4': accel kvm: KVM unusable: guest arch aarch64 differs from host arch $host_arch \(TCG emulates it\); use tcg or auto \(create --accel, or <qemuctl:accel> in the domain XML\)$" \
	qc create v4 --arch aarch64 --accel kvm --kernel "$kernel"
expect_fail 1 "VM 'v5': accel kvm: KVM unusable: guest arch ppc64le differs from host arch" \
	qc create v5 --arch ppc64le --accel kvm --kernel "$kernel"
if [ "$host_arch" = x86_64 ] && ! grep -Eqw 'vmx|svm' /proc/cpuinfo; then
	expect_fail 1 "^qemuctl: error: VM 'v6': accel kvm: KVM unusable: CPU advertises neither vmx nor svm \(nested virtualisation off\?\); use tcg or auto \(create --accel, or <qemuctl:accel> in the domain XML\)$" \
		qc create v6 --accel kvm --kernel "$kernel"
else
	log "NOTE: this host has vmx/svm: --accel kvm for the host arch not tested as an error here"
fi
expect_fail 1 "^qemuctl: error: --accel 'hvf': use auto, kvm or tcg$" qc create v7 --accel hvf --kernel "$kernel"
after=$(tree_digest "$ROOT")
[ "$before" = "$after" ] || fail "state root changed: $(diff <(echo "$before") <(echo "$after"))"
ok "state root unchanged by every refused create/import"
assert_no_file "$ROOT/vms/v1"

# ---- the per-VM UEFI varstore
qc create u1 --disk-image "$disk" --net none >/dev/null
assert_match "$(qc dumpxml u1)" "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>" "x86_64 disk boot: OVMF loader"
assert_match "$(qc dumpxml u1)" "<nvram>$ROOT/vms/u1/nvram.fd</nvram>" "x86_64 disk boot: per-VM nvram"
cmp -s "$ROOT/vms/u1/nvram.fd" /usr/share/OVMF/OVMF_VARS_4M.fd || fail "nvram.fd is not a copy of OVMF_VARS_4M.fd"
assert_eq "$(stat -c %a "$ROOT/vms/u1/nvram.fd")" 600 "nvram.fd copied from the template, mode 0600"
qc create a1 --arch aarch64 --disk-image "$disk" --net none >/dev/null
cmp -s "$ROOT/vms/a1/nvram.fd" /usr/share/AAVMF/AAVMF_VARS.fd || fail "a1 nvram.fd is not a copy of AAVMF_VARS.fd"
ok "aarch64 disk boot: nvram.fd is a copy of AAVMF_VARS.fd"
qc create p1 --arch ppc64le --disk-image "$disk" --net none --memory 256M >/dev/null
assert_no_file "$ROOT/vms/p1/nvram.fd"
if qc dumpxml p1 | grep -q '<loader\|<nvram'; then fail "ppc64le disk boot got a loader/nvram"; fi
ok "ppc64le disk boot: SLOF, no loader or nvram"
qc create k1 --disk-image "$disk" --kernel "$kernel" --net none >/dev/null
assert_no_file "$ROOT/vms/k1/nvram.fd"
for v in a1 p1 k1; do qc delete "$v"; done
assert_no_file "$ROOT/vms/a1"

# A missing varstore is made again from the template at start (paused: no guest runs).
rm "$ROOT/vms/u1/nvram.fd"
qc start u1 --paused
assert_file "$ROOT/vms/u1/nvram.fd"
qemu_pid=$(qc --json info u1 | sed -n 's/.*"qemu_pid": *\([0-9]*\).*/\1/p')
cmdline=$(tr '\0' ' ' <"/proc/$qemu_pid/cmdline")
# QEMU gets both as fds (fd sets): argv names the sets, QEMU holds the files
assert_match "$cmdline" "-drive if=pflash,format=raw,unit=0,readonly=on,file=/dev/fdset/[0-9]+ -drive if=pflash,format=raw,unit=1,file=/dev/fdset/[0-9]+ " \
	"QEMU maps the code read-only and the VM's varstore"
held=$(for f in /proc/"$qemu_pid"/fd/*; do readlink "$f"; done)
grep -qxF /usr/share/OVMF/OVMF_CODE_4M.fd <<<"$held" && grep -qxF "$ROOT/vms/u1/nvram.fd" <<<"$held" ||
	fail "QEMU does not hold the UEFI code and the varstore: $held"
ok "QEMU holds the UEFI code and the VM's varstore as fds"
assert_match "$cmdline" "virtio-blk-pci,drive=drive-disk0,id=disk-disk0,bootindex=1" "the boot disk has bootindex 1"
qc destroy u1

# A <loader> pointing at a missing file: a clear error at start, nothing started or written.
qc dumpxml u1 | sed "s|/usr/share/OVMF/OVMF_CODE_4M.fd|$SCRATCH/no/OVMF_CODE.fd|" >"$SCRATCH/u1.xml"
qc define "$SCRATCH/u1.xml" >/dev/null
before=$(tree_digest "$ROOT")
expect_fail 1 "^qemuctl: error: VM 'u1': x86_64 firmware code '$SCRATCH/no/OVMF_CODE.fd': No such file or directory; install ovmf or point <loader> at an existing file$" \
	qc start u1
[ -z "$(procs_using "$ROOT/vms/u1")" ] || fail "processes left after the refused start"
after=$(tree_digest "$ROOT")
[ "$before" = "$after" ] || fail "state root changed: $(diff <(echo "$before") <(echo "$after"))"
ok "state root unchanged by the refused start"
# pseries has its own firmware: a loader is refused when the domain is defined
sed -e "s|<type arch='x86_64'>|<type arch='ppc64le'>|" -e 's|<name>u1</name>|<name>p2</name>|' -e 's|/vms/u1/|/vms/p2/|g' \
	-e '/<uuid>/d' "$SCRATCH/u1.xml" >"$SCRATCH/p2.xml"
expect_fail 1 "pseries boots with its built-in SLOF; a firmware loader or nvram is not supported on ppc64le" \
	qc define "$SCRATCH/p2.xml"
assert_no_file "$ROOT/vms/p2"

qc delete u1
assert_no_file "$ROOT/vms/u1"
[ -f "$disk" ] || fail "backing file removed"
ok "delete removed the VM and its varstore, kept the backing file"
