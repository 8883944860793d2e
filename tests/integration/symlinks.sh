#!/usr/bin/env bash
# Symbolic links planted in the state root never redirect a write,
# a read of a definition or a delete outside it: a VM directory that is a
# link, a link in place of a VM's disk, domain.xml or seed.iso, catalog
# entries and a resumable .part that are links, a network definition that is
# a link, and a top-level directory that is a link.  Every command refuses
# with exit 1, naming the path, saying it is a symbolic link and how to fix
# it; the files the links point to stay byte-identical.  No QEMU runs.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

[ -x "$QC" ] || fail "qemuctl not built at $QC"
OUT="$SCRATCH/outside" # what the links point to: must never change
mkdir -p "$OUT/vmdir"
qemu-img create -q -f qcow2 "$SCRATCH/base.qcow2" 64M
qemu-img create -q -f qcow2 "$OUT/disk.qcow2" 64M
qemu-img create -q -f qcow2 "$OUT/image.qcow2" 1M
head -c 4096 /dev/urandom >"$OUT/seed.iso"
echo precious >"$OUT/vmdir/keep"
ssh-keygen -q -t ed25519 -N '' -C test -f "$SCRATCH/key" >/dev/null
LINK_RE='is a symbolic link \(to .*\); qemuctl does not follow symbolic links in its state root.*remove the link'
n_refused=0

# refused CMD...: exit 1 with the link message; the outside is unchanged.
refused() {
	local path="$1"
	shift
	expect_fail 1 "'$path' $LINK_RE" "$@"
	[ "$(tree_digest "$OUT")" = "$outside" ] || fail "'$*' changed files outside the root"
	n_refused=$((n_refused + 1))
}

qc create b --disk-image "$SCRATCH/base.qcow2" --ssh-key "$SCRATCH/key.pub" >/dev/null
qc image import img "$OUT/image.qcow2" >/dev/null
sed 's|<name>b</name>|<name>evil</name>|; s|/vms/b/|/vms/evil/|g' "$ROOT/vms/b/domain.xml" >"$OUT/vmdir/domain.xml"
outside="$(tree_digest "$OUT")"

# vms/NAME is a link to a directory outside (that even looks like a VM)
ln -s "$OUT/vmdir" "$ROOT/vms/evil"
P="$ROOT/vms/evil"
refused "$P" qc create evil --disk-image "$SCRATCH/base.qcow2" --no-seed
refused "$P" qc define "$OUT/vmdir/domain.xml"
for cmd in "delete evil" "delete evil --force" "undefine evil" "start evil" "info evil" \
	"autostart evil" "snapshot create evil s1" "resize evil disk0 +1M" "dumpxml evil"; do
	# shellcheck disable=SC2086
	refused "$P" qc $cmd
done
[ -L "$P" ] || fail "the link itself is gone"
rm "$P"
ok "vms/evil: ${n_refused} commands refused, the directory it points to is intact"

# a link in place of a file in a VM's directory
for f in disk0.qcow2 domain.xml seed.iso; do
	P="$ROOT/vms/b/$f"
	mv "$P" "$SCRATCH/saved"
	case $f in
	disk0.qcow2) ln -s "$OUT/disk.qcow2" "$P" ;;
	domain.xml) ln -s "$OUT/vmdir/domain.xml" "$P" ;;
	seed.iso) ln -s "$OUT/seed.iso" "$P" ;;
	esac
	for cmd in "start b" "snapshot create b s1" "resize b disk0 +1M" "autostart b" \
		"delete b" "undefine b" "info b"; do
		# shellcheck disable=SC2086
		refused "$P" qc $cmd
	done
	[ -L "$P" ] || fail "$P: the link is gone"
	rm "$P"
	mv "$SCRATCH/saved" "$P"
	ok "vms/b/$f as a link: every command refused, the target is intact"
done
qc info b >/dev/null || fail "VM b is not usable again after the link went"
ok "VM b works again once the link is gone"

# catalog entries that are links
for f in img.qcow2 img.json; do
	P="$ROOT/images/$f"
	mv "$P" "$SCRATCH/saved"
	cp "$SCRATCH/saved" "$OUT/$f"
	outside="$(tree_digest "$OUT")"
	ln -s "$OUT/$f" "$P"
	refused "$P" qc image rm img
	refused "$P" qc create c --image img --no-seed
	[ -L "$P" ] || fail "$P: the link is gone"
	rm "$P" "$OUT/$f"
	mv "$SCRATCH/saved" "$P"
	outside="$(tree_digest "$OUT")"
done
qc image rm img >/dev/null
ok "image rm works again once the links are gone"

# a resumable download that is a link: never written through
qemu-img create -q -f qcow2 "$SCRATCH/old.qcow2" 1M
qemu-img create -q -f qcow2 "$SCRATCH/new.qcow2" 2M
python3 "$QC_SRCDIR/tests/integration/mkstream.py" --out "$SCRATCH/tree" \
	--old "$SCRATCH/old.qcow2" --new "$SCRATCH/new.qcow2"
head -c 1000 /dev/urandom >"$OUT/part"
outside="$(tree_digest "$OUT")"
P="$ROOT/images/noble-amd64.part"
ln -s "$OUT/part" "$P"
sha256sum "$SCRATCH/new.qcow2" | cut -d' ' -f1 >"$ROOT/images/.noble-amd64.part.sha256"
refused "$P" qc image sync ubuntu:24.04 --arch amd64 --stream "file://$SCRATCH/tree/"
# a .part for another version is started over: the link goes, its target stays
echo 0000 >"$ROOT/images/.noble-amd64.part.sha256"
qc image sync ubuntu:24.04 --arch amd64 --stream "file://$SCRATCH/tree/" >/dev/null
[ "$(tree_digest "$OUT")" = "$outside" ] || fail "sync wrote through the .part link"
cmp "$ROOT/images/noble-amd64.qcow2" "$SCRATCH/new.qcow2" || fail "synced image differs"
ok "a stale .part link is replaced, not written through"

# a network definition that is a link (it names the bridge net rm deletes)
mkdir -m 0700 "$ROOT/networks"
printf '{"name":"n1","subnet":"192.0.2.0/24","gateway":"192.0.2.1","bridge":"qcbr-evil","bridge_created":true,"mtu":1500}\n' >"$OUT/n1.json"
outside="$(tree_digest "$OUT")"
P="$ROOT/networks/n1.json"
ln -s "$OUT/n1.json" "$P"
refused "networks/n1.json" qc net rm n1
rm "$P"

# a top-level directory of the root that is a link: every command refuses
for d in vms images networks; do
	mv "$ROOT/$d" "$SCRATCH/saved"
	ln -s "$OUT/vmdir" "$ROOT/$d"
	refused "$ROOT/$d" qc list
	refused "$ROOT/$d" qc image list
	rm "$ROOT/$d"
	mv "$SCRATCH/saved" "$ROOT/$d"
done
qc list >/dev/null
ok "a root whose vms/, images/ or networks/ is a link is refused"
log "$n_refused commands refused"
