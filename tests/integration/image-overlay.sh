#!/usr/bin/env bash
# Backing images and overlays through the CLI: import (.xz/.gz, raw -> qcow2),
# two VMs on one image whose writes stay in their own overlay, image rm
# refused while used, bad inputs.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

[ -x "$QC" ] || fail "qemuctl not built at $QC"

# a raw disk with a known pattern, compressed both ways
qemu-img create -q -f raw "$SCRATCH/disk.raw" 16M
qemu-io -f raw -c "write -P 0x11 0 1M" "$SCRATCH/disk.raw" >/dev/null
xz -k -T1 "$SCRATCH/disk.raw"
qemu-img convert -f raw -O qcow2 "$SCRATCH/disk.raw" "$SCRATCH/disk.qcow2"
gzip -k "$SCRATCH/disk.qcow2"

sha="$(sha256sum "$SCRATCH/disk.raw.xz" | cut -d' ' -f1)"
out="$(qc image import base "$SCRATCH/disk.raw.xz" --sha256 "$sha" --arch amd64)"
assert_match "$out" "image 'base' imported: x86_64: 16 MiB virtual" "import .xz of raw"
assert_eq "$(qemu-img info --output=json "$ROOT/images/base.qcow2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["format"])')" qcow2 "stored as qcow2"
assert_eq "$(stat -c %a "$ROOT/images/base.qcow2")" 400 "read-only"
out="$(qc --json image import gz "$SCRATCH/disk.qcow2.gz")"
assert_match "$out" '"virtual_size":16777216' "import .gz of qcow2"
qc image rm gz >/dev/null

base_sum="$(sha256sum "$ROOT/images/base.qcow2")"

# two VMs on one backing image
qc create vm1 --image base --arch x86_64 >/dev/null
qc create vm2 --image base --arch x86_64 --disk-size 64M >/dev/null
ov1="$ROOT/vms/vm1/disk0.qcow2"
ov2="$ROOT/vms/vm2/disk0.qcow2"
assert_file "$ov1"
assert_match "$(qemu-img info --output=json "$ov1")" "\"full-backing-filename\": \"$ROOT/images/base.qcow2\"" "vm1 backs on the image"
assert_match "$(qemu-img info --output=json "$ov2")" '"virtual-size": 67108864' "vm2 grown to --disk-size"
# a cloud image's defaults: 1 GiB of RAM, a 10 GiB boot disk; explicit values win
assert_match "$(qemu-img info --output=json "$ov1")" '"virtual-size": 10737418240' "vm1 grown to 10 GiB by default"
assert_match "$(qc --json info vm1)" '"memory": 1073741824' "vm1 has 1 GiB of RAM by default"
assert_match "$(qc --json info vm2)" '"memory": 1073741824' "--disk-size alone keeps the RAM default"
qc create vm5 --image base --arch x86_64 --memory 768M --disk-size 2G >/dev/null
assert_match "$(qc --json info vm5)" '"memory": 805306368' "explicit --memory wins"
assert_match "$(qemu-img info --output=json "$ROOT/vms/vm5/disk0.qcow2")" '"virtual-size": 2147483648' "explicit --disk-size below the default wins"
qc delete vm5 >/dev/null
# --disk-image is the user's own disk: its size and the plain 512 MiB stay
qc create vm6 --disk-image "$SCRATCH/disk.qcow2" --arch x86_64 >/dev/null
assert_match "$(qemu-img info --output=json "$ROOT/vms/vm6/disk0.qcow2")" '"virtual-size": 16777216' "--disk-image keeps its size"
assert_match "$(qc --json info vm6)" '"memory": 536870912' "--disk-image keeps 512 MiB"
qc delete vm6 >/dev/null
# an image larger than the default keeps its own size
qemu-img create -q -f qcow2 "$SCRATCH/big.qcow2" 12G
qc image import big "$SCRATCH/big.qcow2" --arch amd64 >/dev/null
qc create vm7 --image big --arch x86_64 >/dev/null
assert_match "$(qemu-img info --output=json "$ROOT/vms/vm7/disk0.qcow2")" '"virtual-size": 12884901888' "a 12 GiB image stays 12 GiB"
qc delete vm7 >/dev/null
qc image rm big >/dev/null

qemu-io -f qcow2 -c "write -P 0xab 0 64k" "$ov1" >/dev/null
qemu-io -f qcow2 -c "read -P 0xab 0 64k" "$ov1" | grep -q "read 65536" || fail "vm1 lost its write"
qemu-io -f qcow2 -c "read -P 0x11 0 64k" "$ov2" >"$SCRATCH/r2" 2>&1 || fail "vm2 sees vm1's write: $(cat "$SCRATCH/r2")"
! grep -q "Pattern verification failed" "$SCRATCH/r2" || fail "vm2 sees vm1's write"
ok "vm1's write is not visible in vm2"
assert_eq "$(sha256sum "$ROOT/images/base.qcow2")" "$base_sum" "backing image unchanged"

# extra disks: --disk SIZE is the VM's own, --disk FILE is attached and never removed
qemu-img create -q -f raw "$SCRATCH/data.raw" 4M
data_sum="$(sha256sum <"$SCRATCH/data.raw")"
qc create vm3 --image base --arch x86_64 --disk 64M --disk "$SCRATCH/data.raw" >/dev/null
assert_match "$(qemu-img info --output=json "$ROOT/vms/vm3/disk1.qcow2")" '"virtual-size": 67108864' "--disk SIZE: a fresh qcow2"
assert_match "$(qc info vm3)" "disk2 $SCRATCH/data.raw \(raw\)" "--disk FILE attached in place"
expect_fail 1 "is a catalog image, which must stay unmodified" \
	qc create vm4 --image base --arch x86_64 --disk "$ROOT/images/base.qcow2"
expect_fail 1 "disk.raw.xz' is xz-compressed; import it with 'qemuctl image import NAME" \
	qc create vm4 --image base --arch x86_64 --disk "$SCRATCH/disk.raw.xz"
qc delete vm3 >/dev/null
assert_no_file "$ROOT/vms/vm3"
assert_eq "$(sha256sum <"$SCRATCH/data.raw")" "$data_sum" "delete leaves the user's --disk FILE alone"

assert_match "$(qc image list)" "base +x86_64 .* 2  $SCRATCH/disk.raw.xz" "list counts 2 users"
expect_fail 1 "image 'base' is used by 2 VMs: vm1, vm2; delete them first" qc image rm base
qc delete vm1 >/dev/null
expect_fail 1 "image 'base' is used by 1 VM: vm2; delete it first" qc image rm base
qc delete vm2 >/dev/null
assert_match "$(qc image rm base)" "image 'base' removed" "rm after the VMs are gone"
assert_no_file "$ROOT/images/base.qcow2"
assert_no_file "$ROOT/images/base.json"

# bad input: nothing half-written
printf 'hello\n' >"$SCRATCH/notes.txt"
expect_fail 1 "image 'x': .*notes.txt is not a disk image \(6 bytes of raw data" qc image import x "$SCRATCH/notes.txt"
expect_fail 1 "SHA-256 mismatch" qc image import x "$SCRATCH/disk.raw" --sha256 "$(printf '0%.0s' {1..64})"
cp "$SCRATCH/disk.qcow2" "$SCRATCH/bad.qcow2"
l1="$(od -An -t u8 --endian=big -j 40 -N 8 "$SCRATCH/bad.qcow2" | tr -d ' ')"
printf '\x80\x00\x00\x00\x00\x7f\x00\x00' | dd of="$SCRATCH/bad.qcow2" bs=1 seek="$l1" conv=notrunc status=none
expect_fail 1 "image 'x': '$SCRATCH/bad.qcow2' is corrupt: qemu-img check found" qc image import x "$SCRATCH/bad.qcow2"
expect_fail 1 "image 'nope' not found" qc image rm nope
expect_fail 2 "expected NAME and FILE\|URL" qc image import x
[ -z "$(ls "$ROOT/images" | grep -v '^\.x\.lock$' | grep -v '^\.gz\.lock$' | grep -v '^\.base\.lock$' | grep -v '^\.big\.lock$')" ] ||
	fail "leftovers in images/: $(ls -a "$ROOT/images")"
ok "images/ holds nothing but lock files"
[ "$(qc image list | wc -l)" = 1 ] || fail "list not empty: $(qc image list)"
ok "list is empty"
