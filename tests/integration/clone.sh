#!/bin/bash
# Clones with the tiny guest booting its ext4 root from a qcow2 overlay:
# refusals (NEW exists, bad names, unknown snapshot, a running source
# without --snapshot, a writable user disk) exit 1 and change nothing; a
# clone of a running VM's live snapshot boots beside it with its own uuid,
# MAC, host name, instance id, ready marker and host key, sees the data of
# the snapshot and not what the source wrote after it; it shares the
# snapshot's layers by hard link, so deleting the source leaves a clone that
# still boots; a clone of a stopped VM copies the active layer and inherits
# the snapshots whose layers it shares.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64

img="$SCRATCH/root.img"
cp "$GUEST_ROOT" "$img"
chmod 0644 "$img"
sum_before=$(sha256sum <"$img")
# one line per key: "uuid U", "mac M", "iid I" of VM $1 from its definition and console
uuid_of() { sed -n 's|.*<uuid>\(.*\)</uuid>.*|\1|p' "$ROOT/vms/$1/domain.xml"; }
mac_of() { sed -n "s|.*<mac address='\([^']*\)'.*|\1|p" "$ROOT/vms/$1/domain.xml"; }
iid_of() { sed -n 's/^QEMUCTL-READY \(.*\)\r*$/\1/p' "$ROOT/vms/$1/console.log" | tr -d '\r' | tail -1; }

qc create src --disk-image "$img" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
	--append "$GUEST_APPEND_ROOT" --memory 256M --cpus 1 >/dev/null
ok "create src"

# ---- the source runs: a live snapshot, then data written after it
guest_boot src
wait_for_text "$ROOT/vms/src/console.log" '^QEMUCTL-READY ' 30
guest_say 'echo BEFORE-SNAP >/keep; sync; echo WROTE-KEEP'
wait_for_text "$SCRATCH/con$con_n.out" '^WROTE-KEEP' 30
out=$(qc snapshot create src live1)
assert_match "$out" "Snapshot 'live1' of VM 'src' created" "live snapshot of the running source"
guest_say 'echo AFTER-SNAP >/after; sync; echo WROTE-AFTER'
wait_for_text "$SCRATCH/con$con_n.out" '^WROTE-AFTER' 30

# ---- refusals: exit 1, a clear message, the state root unchanged
before=$(tree_digest "$ROOT" --running | sha256sum)
expect_fail 1 "VM 'src' is running; stop it first, or clone one of its snapshots \(--snapshot SNAP\)" \
	qc clone src c0
expect_fail 1 "VM 'src' already exists; pick another name for the clone" qc clone src src --snapshot live1
expect_fail 1 "VM name '\.\./x'|VM name.*'\.\./x'" qc clone src ../x --snapshot live1
expect_fail 1 "VM name '-x'|VM name.*'-x'" qc clone src -- -x
expect_fail 1 "snapshot name '\.hidden' is invalid" qc clone src c0 --snapshot .hidden
expect_fail 1 "VM 'src' has no snapshot 'nope'; 'qemuctl snapshot list src' lists them" \
	qc clone src c0 --snapshot nope
expect_fail 1 "VM 'ghost'" qc clone ghost c0
expect_fail 2 "clone: missing NEW" qc clone src
expect_fail 2 "clone: --snapshot needs a value" qc clone src c0 --snapshot
expect_fail 2 "clone: unknown option '--frob'" qc clone src c0 --frob
assert_eq "$(tree_digest "$ROOT" --running | sha256sum)" "$before" "refused clones change nothing"
assert_eq "$(ls -A "$ROOT/vms" | grep -c '^\.create-' || true)" "0" "no work directory left"

# ---- a clone of the live snapshot boots beside the running source
out=$(qc clone src c1 --snapshot live1)
assert_eq "$out" "VM 'c1' cloned from snapshot 'live1' of VM 'src'" "clone from the snapshot"
json=$(qc --json clone src c1j --snapshot live1)
assert_match "$json" '"name": "c1j"' "clone --json names the clone"
assert_match "$json" '"snapshot": "live1"' "clone --json names the snapshot"
qc delete c1j >/dev/null
layer=$(sed -n 's/.*file="\([^"]*\)".*/\1/p' "$ROOT/vms/src/domain.xml" | head -1)
base=$(basename "$layer")
assert_eq "$(stat -c %i "$ROOT/vms/c1/$base")" "$(stat -c %i "$layer")" \
	"the clone's copy of the snapshot layer is the same file (a hard link)"
assert_match "$(qc snapshot list c1)" '^live1 ' "the clone has the snapshot it shares"
[ "$(uuid_of c1)" != "$(uuid_of src)" ] || fail "clone has the source's uuid"
ok "uuid differs: $(uuid_of c1)"
[ "$(mac_of c1)" != "$(mac_of src)" ] || fail "clone has the source's MAC"
ok "MAC differs: $(mac_of c1) vs $(mac_of src)"
cmp -s "$ROOT/vms/c1/ssh_host_ed25519_key.pub" "$ROOT/vms/src/ssh_host_ed25519_key.pub" &&
	fail "clone has the source's sshd host key"
ok "sshd host key differs"
guest_boot c1
wait_for_text "$ROOT/vms/c1/console.log" '^QEMUCTL-READY ' 30
assert_match "$(qc list)" 'src .* running' "the source still runs"
assert_match "$(tr -d '\r' <"$ROOT/vms/c1/console.log")" 'CIDATA hostname=c1 ' "the clone's host name is its own"
[ "$(iid_of c1)" != "$(iid_of src)" ] || fail "same instance id $(iid_of c1)"
assert_match "$(iid_of c1)" "^iid-$(uuid_of c1)-" "the clone's instance id is its own"
guest_say 'cat /sys/class/net/eth0/address; cat /keep; cat /after 2>&1; echo CHECKED'
wait_for_text "$SCRATCH/con$con_n.out" '^CHECKED' 30
con="$(tr -d '\r' <"$SCRATCH/con$con_n.out")"
assert_match "$con" "^$(mac_of c1)\$" "the guest sees the clone's MAC"
assert_match "$con" '^BEFORE-SNAP$' "the clone has the data of the snapshot"
assert_match "$con" 'No such file' "the clone lacks what the source wrote after the snapshot"
guest_say 'echo CLONE-DATA >/clone; sync; echo WROTE-CLONE'
wait_for_text "$SCRATCH/con$con_n.out" '^WROTE-CLONE' 30
qc stop c1 >/dev/null
qc stop src >/dev/null
ok "both stopped"

# ---- deleting the source keeps the clone's layers; the clone boots again
qc delete src >/dev/null
assert_no_file "$ROOT/vms/src"
assert_eq "$(stat -c %h "$ROOT/vms/c1/$base")" "1" "the shared layer is the clone's alone now"
# each layer alone: a shared layer's header still names the source's path
for f in "$ROOT"/vms/c1/*.qcow2; do
	qemu-img check -q -U "json:{\"driver\":\"qcow2\",\"backing\":null,\"file\":{\"driver\":\"file\",\"filename\":\"$f\"}}" ||
		fail "qemu-img check $f"
done
ok "the clone's layers pass qemu-img check"
guest_boot c1
guest_say 'cat /keep /clone; echo CHECKED2'
wait_for_text "$SCRATCH/con$con_n.out" '^CHECKED2' 30
con="$(tr -d '\r' <"$SCRATCH/con$con_n.out")"
assert_match "$con" '^BEFORE-SNAP$' "after the source's delete the clone reads the shared layer"
assert_match "$con" '^CLONE-DATA$' "and its own overlay"
qc stop c1 >/dev/null

# ---- a stopped VM without --snapshot: the active layer is copied
out=$(qc clone c1 c2)
assert_eq "$out" "VM 'c2' cloned from VM 'c1'" "clone of a stopped VM"
top1=$(sed -n "s|.*<source file='\([^']*\.qcow2\)'.*|\1|p" "$ROOT/vms/c1/domain.xml" | head -1)
top2=$(sed -n "s|.*<source file='\([^']*\.qcow2\)'.*|\1|p" "$ROOT/vms/c2/domain.xml" | head -1)
assert_eq "$(basename "$top2")" "$(basename "$top1")" "the active layer keeps its name"
[ "$(stat -c %i "$top2")" != "$(stat -c %i "$top1")" ] || fail "active layer shared"
ok "the active layer is a copy"
cmp -s "$top1" "$top2" || fail "the copy differs from the active layer"
ok "the copy has the same content"
assert_eq "$(stat -c %h "$ROOT/vms/c2/$base")" "2" "the frozen layer is shared with c2"
assert_match "$(qc snapshot list c2)" '^live1 ' "c2 inherits the snapshot"

# ---- a writable user disk is refused; nothing is left behind
qemu-img create -q -f qcow2 "$SCRATCH/user.qcow2" 16M
chmod 0666 "$SCRATCH/user.qcow2"
qc create u --disk-image "$img" --kernel "$GUEST_KERNEL" --disk "$SCRATCH/user.qcow2" \
	--no-seed >/dev/null
before=$(tree_digest "$ROOT" | sha256sum)
expect_fail 1 "VM 'u': disk 'disk1' is the writable file '$SCRATCH/user.qcow2', which a clone would write too; detach it first" \
	qc clone u u2
assert_eq "$(tree_digest "$ROOT" | sha256sum)" "$before" "refused clone changes nothing"

assert_eq "$(sha256sum <"$img")" "$sum_before" "the base image is unchanged"

# ---- a catalog image counts the clone as a user after the source is gone
qemu-img create -q -f qcow2 "$SCRATCH/tiny.qcow2" 16M
qc image import tiny "$SCRATCH/tiny.qcow2" >/dev/null
qc create i1 --image tiny --kernel "$GUEST_KERNEL" --no-seed >/dev/null
qc snapshot create i1 s >/dev/null
qc clone i1 i2 --snapshot s >/dev/null
qc delete i1 >/dev/null
expect_fail 1 "image 'tiny' is used by 1 VM: i2" qc image rm tiny
assert_file "$ROOT/images/tiny.qcow2"
# a shared layer planted as a symbolic link is refused, nothing is made
qc snapshot create i2 s2 >/dev/null
lay=$(sed -n 's/.*name="s2".*//p; s/.*<qcsnap:disk name="disk0" file="\([^"]*\)".*/\1/p' "$ROOT/vms/i2/domain.xml" | tail -1)
mv "$lay" "$SCRATCH/moved.qcow2"
ln -s "$SCRATCH/moved.qcow2" "$lay"
before=$(tree_digest "$ROOT" | sha256sum)
expect_fail 1 "is a symbolic link" qc clone i2 i3 --snapshot s2
assert_eq "$(tree_digest "$ROOT" | sha256sum)" "$before" "a planted link: nothing made"
rm "$lay"
mv "$SCRATCH/moved.qcow2" "$lay"
qc delete i2 >/dev/null
qc image rm tiny >/dev/null
assert_no_file "$ROOT/images/tiny.qcow2"
