#!/bin/bash
# Growing disks with the tiny guest under TCG: `resize NAME DISK SIZE|+SIZE`
# grows the boot overlay and a data disk offline (qemu-img) and online (QMP
# block_resize: the guest's /sys/block/vdX/size follows at once); info shows
# virtual and allocated sizes; shrinking, a missing disk, the seed, bad sizes
# and a missing VM are refused with exact messages and nothing changes.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64

img="$SCRATCH/root.img"
cp "$GUEST_ROOT" "$img"
qc create v1 --disk-image "$img" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
	--append "$GUEST_APPEND_ROOT" --memory 256M --net none --disk 64M >/dev/null
vm="$ROOT/vms/v1"
vsize() { qemu-img info -U --output=json "$1" | sed -n 's/.*"virtual-size": *\([0-9]*\).*/\1/p'; }
MiB=1048576

# ---- offline
assert_eq "$(qc resize v1 disk1 +32M)" "disk 'disk1' of VM 'v1': 64 MiB -> 96 MiB (offline)" "offline grow by +32M"
assert_eq "$(vsize "$vm/disk1.qcow2")" $((96 * MiB)) "qemu-img sees 96 MiB"
assert_eq "$(qc resize v1 disk0 128M)" "disk 'disk0' of VM 'v1': 64 MiB -> 128 MiB (offline)" "offline grow of the boot overlay"
assert_eq "$(vsize "$vm/disk0.qcow2")" $((128 * MiB)) "overlay is 128 MiB"
assert_eq "$(qc resize v1 disk0 128M)" "disk 'disk0' of VM 'v1' is 128 MiB already" "same size: no-op"
assert_match "$(qc info v1)" "disk1 $vm/disk1.qcow2 \(qcow2\) virtual 96 MiB, allocated [0-9.]+ [KM]iB" "info: virtual and allocated size"
assert_match "$(qc --json resize v1 disk1 +0)" '"new_size": 100663296' "resize --json"
sha_img=$(sha256sum <"$img")

# ---- refused, nothing changes
before=$(tree_digest "$ROOT" | sha256sum)
expect_fail 1 "^qemuctl: error: VM 'v1': disk 'disk1' is 96 MiB; shrinking to 32 MiB is refused: it would destroy data$" \
	qc resize v1 disk1 32M
expect_fail 1 "^qemuctl: error: VM 'v1' has no disk 'disk7' \(disks: disk0, disk1, seed\)$" qc resize v1 disk7 1G
expect_fail 1 "^qemuctl: error: VM 'v1': disk 'seed' is the NoCloud seed; only boot and data disks grow$" \
	qc resize v1 seed 1G
expect_fail 1 "^qemuctl: error: VM 'nope' does not exist" qc resize nope disk0 1G
expect_fail 2 "^qemuctl: error: resize: missing SIZE" qc resize v1 disk0
expect_fail 2 "^qemuctl: error: resize: missing NAME" qc resize
expect_fail 2 "^qemuctl: error: resize: SIZE" qc resize v1 disk0 lots
expect_fail 2 "^qemuctl: error: resize: SIZE" qc resize v1 disk0 +-5M
expect_fail 2 "^qemuctl: error: resize: unknown option '--shrink'" qc resize v1 disk0 1G --shrink
expect_fail 2 "^qemuctl: error: resize: unexpected argument 'x'" qc resize v1 disk0 1G x
assert_eq "$(tree_digest "$ROOT" | sha256sum)" "$before" "state root unchanged by refused resizes"

# ---- SIGKILL during an offline resize: the lock goes with the process, the
# disk stays consistent, a retry completes
cat >"$SCRATCH/qemu-img" <<EOS
#!/bin/sh
if [ "\$1" = resize ]; then
	qemu-img "\$@" || exit 1
	echo \$\$ >"$SCRATCH/resized"
	exec sleep 30
fi
exec qemu-img "\$@"
EOS
chmod +x "$SCRATCH/qemu-img"
QEMUCTL_QEMU_IMG="$SCRATCH/qemu-img" "$QC" --root "$ROOT" resize v1 disk1 112M >/dev/null 2>&1 &
rpid=$!
wait_until 20 test -s "$SCRATCH/resized"
kill -9 "$rpid"
wait "$rpid" 2>/dev/null || true
# the wrapper (now a sleep) outlives qemuctl: it must not hold the VM lock
on_exit 'kill -9 "$(cat "$SCRATCH/resized")" 2>/dev/null'
qemu-img check -q "$vm/disk1.qcow2" || fail "qemu-img check after SIGKILL"
assert_match "$(qc info v1)" "disk1 .* virtual 112 MiB" "info reads the disk after a killed resize"
assert_eq "$(qc resize v1 disk1 112M)" "disk 'disk1' of VM 'v1' is 112 MiB already" "retry after SIGKILL completes (no stale lock)"
kill -9 "$(cat "$SCRATCH/resized")" 2>/dev/null || true

# ---- online: the guest sees the new sizes at once
qc start v1 --wait --timeout 120 >/dev/null
ok "v1 ready"
guest_sizes() { # types into the console; prints "vda vdb" sizes in sectors
	local tag="SZ$RANDOM"
	(printf 'echo %s $(cat /sys/block/vda/size) $(cat /sys/block/vdb/size) END\n' "$tag"
		sleep 1) | timeout 3 "$QC" --root "$ROOT" console v1 >/dev/null 2>&1 || true
	wait_for_text "$vm/console.log" "^$tag [0-9]+ [0-9]+ END" 20
	grep -a "^$tag [0-9]" "$vm/console.log" | tail -n1 | tr -d '\r' | cut -d' ' -f2,3
}
assert_eq "$(guest_sizes)" "$((128 * 2048)) $((112 * 2048))" "guest sees 128 MiB + 112 MiB"
assert_eq "$(qc resize v1 disk0 +64M)" "disk 'disk0' of VM 'v1': 128 MiB -> 192 MiB (online, the guest sees it now)" "online grow of the boot overlay"
assert_eq "$(qc resize v1 disk1 1G)" "disk 'disk1' of VM 'v1': 112 MiB -> 1 GiB (online, the guest sees it now)" "online grow of the data disk"
assert_eq "$(guest_sizes)" "$((192 * 2048)) $((1024 * 2048))" "guest sees 192 MiB + 1 GiB without a restart"
# resize finds the active node through query-block's qdev path (robust to live snapshots)
qb=$(qc qmp v1 '{"execute": "query-block"}')
assert_match "$qb" '"qdev": ?"/machine/peripheral/disk-disk1/virtio-backend"' "query-block names the device as resize expects"
assert_match "$qb" '"node-name": ?"drive-disk1"' "query-block names the active node"
expect_fail 1 "^qemuctl: error: VM 'v1': disk 'disk1' is 1 GiB; shrinking to 512 MiB is refused: it would destroy data$" \
	qc resize v1 disk1 512M
qc stop v1 --force
assert_eq "$(vsize "$vm/disk0.qcow2")" $((192 * MiB)) "online growth persisted in the overlay"
assert_eq "$(vsize "$vm/disk1.qcow2")" $((1024 * MiB)) "online growth persisted in the data disk"
qemu-img check -q "$vm/disk0.qcow2" || fail "qemu-img check disk0"
qemu-img check -q "$vm/disk1.qcow2" || fail "qemu-img check disk1"
ok "qemu-img check accepts both disks"
assert_eq "$(sha256sum <"$img")" "$sha_img" "backing image untouched"
qc delete v1
