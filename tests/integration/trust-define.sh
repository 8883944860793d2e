#!/usr/bin/env bash
# A definition makes qemuctl act only on what qemuctl made for that VM.
# Crafted domain.xml files whose qemuctl records name files outside the
# VM's directory (an owned disk, a snapshot layer, the seed's user-data, a
# backing that is not the catalog image, a symlink planted in the VM's
# directory) or whose fields could smuggle options (a machine type with ','
# '=', a user name '-o...'): 'define' refuses each with FILE:LINE; planted
# straight into vms/NAME/domain.xml, every command that loads it (delete,
# undefine, snapshot rm/revert/create, start, attach/detach, resize)
# refuses, the victim file keeps its content and the state root does not
# change.  Also: --user-data is copied at create, so editing the original
# never reaches the guest; a missing <nvram> outside the VM's directory is
# never created; as root, a kernel others can write is refused.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

[ -x "$QC" ] || fail "qemuctl not built at $QC"
need_guest x86_64
V="$SCRATCH/victim"
printf 'precious\n' >"$V"
victim_sum="$(sha256sum <"$V")"
qemu-img create -q -f qcow2 "$SCRATCH/base.qcow2" 64M
chmod 0666 "$SCRATCH/base.qcow2" # a user disk QEMU's user may write (nv.xml)
kernel="$SCRATCH/kernel"
head -c 4096 /dev/urandom >"$kernel"
qc image import base "$SCRATCH/base.qcow2" >/dev/null
qc create a --image base --kernel "$kernel" --disk 8M --net none >/dev/null
qc snapshot create a s1 >/dev/null
A="$ROOT/vms/a"
cp "$A/domain.xml" "$SCRATCH/a.xml"

victim_intact() {
	[ -f "$V" ] && [ "$(sha256sum <"$V")" = "$victim_sum" ] || fail "$1: the victim file changed"
}

# craft OUT SED: a.xml as VM x (paths moved to vms/x/) with sed script SED applied.
craft() {
	sed -e 's|<name>a</name>|<name>x</name>|' -e "s|$A/|$ROOT/vms/x/|g" -e "$2" \
		"$SCRATCH/a.xml" >"$SCRATCH/$1.xml"
}

# define_refused NAME SED PATTERN: define of the crafted file fails at FILE:LINE.
define_refused() {
	local before
	craft "$1" "$2"
	before="$(tree_digest "$ROOT")"
	expect_fail 1 "$SCRATCH/$1\.xml:[0-9]+: .*$3" qc define "$SCRATCH/$1.xml"
	[ "$(tree_digest "$ROOT")" = "$before" ] || fail "define of $1 changed the state root"
	victim_intact "define $1"
}

# plant_refused NAME SED PATTERN: a.xml edited in place; every command refuses.
plant_refused() {
	local before cmd
	sed -e "$2" "$SCRATCH/a.xml" >"$A/domain.xml"
	before="$(tree_digest "$ROOT")"
	for cmd in "start a" "delete a" "delete a --force" "undefine a" "snapshot rm a s1" \
		"snapshot revert a s1" "snapshot create a s2" "attach-disk a 8M" \
		"detach-disk a disk1" "resize a disk1 +1M"; do
		# shellcheck disable=SC2086
		expect_fail 1 "$3" qc $cmd
		[ "$(tree_digest "$ROOT")" = "$before" ] || fail "'$cmd' on planted $1 changed the state root"
		victim_intact "$cmd on planted $1"
	done
	cp "$SCRATCH/a.xml" "$A/domain.xml"
}

NOT_OURS="is not a file of this VM: it must be a plain file name directly in"

# ---- an owned disk outside the VM's directory
# (disk1's active layer, its <source file>, is disk1.L*.qcow2 since snapshot s1)
define_refused owned "s|<source file='$ROOT/vms/x/disk1[^']*'/>|<source file='$V'/>|" \
	"disk 'disk1': owned disk '$V' $NOT_OURS"
plant_refused owned "s|<source file='$A/disk1[^']*'/>|<source file='$V'/>|" \
	"disk 'disk1': owned disk '$V' $NOT_OURS"
# ... or reached with '..', or a symlink planted in the VM's directory
define_refused dotdot "s|<source file='$ROOT/vms/x/disk1[^']*'/>|<source file='$ROOT/vms/x/../a/disk1.qcow2'/>|" \
	"$NOT_OURS"
ln -s "$V" "$A/disk9.qcow2"
plant_refused symlink "s|<source file='$A/disk1[^']*'/>|<source file='$A/disk9.qcow2'/>|" \
	"'$A/disk9.qcow2' is a symbolic link"
rm "$A/disk9.qcow2"
# ... or one of qemuctl's own records of the VM (QEMU would be given it to write)
define_refused control "s|<source file='$ROOT/vms/x/disk1[^']*'/>|<source file='$ROOT/vms/x/domain.xml'/>|" \
	"owned disk '$ROOT/vms/x/domain.xml' is one of qemuctl's own records of the VM"
# ... or a user disk (not owned, QEMU writes it) that is the catalog image or another VM's
define_refused user-catalog "s|name='disk1' role='data' owned='yes'|name='disk1' role='data' owned='no'|; s|<source file='$ROOT/vms/x/disk1[^']*'/>|<source file='$ROOT/images/base.qcow2'/>|" \
	"disk 'disk1': '$ROOT/images/base.qcow2' lies in the state root"
# ... or the seed claimed as not owned (qemuctl writes seed.iso whatever the record says)
plant_refused seed "s|name='seed' role='seed' owned='yes'|name='seed' role='seed' owned='no'|" \
	"the seed disk is always owned"

# ---- a snapshot record naming the victim
SED="s|file=\"$A/disk1.qcow2\"|file=\"$V\"|"
define_refused snap "s|file=\"$ROOT/vms/x/disk1.qcow2\"|file=\"$V\"|" \
	"snapshot 's1': disk 'disk1': layer '$V' $NOT_OURS"
plant_refused snap "$SED" "snapshot 's1': disk 'disk1': layer '$V' $NOT_OURS"
plant_refused snap-new "s|<qcsnap:snapshot name=\"s1\"|<qcsnap:snapshot pending=\"yes\" name=\"s1\"|; s|file=\"$A/disk1.qcow2\"|file=\"$A/disk1.qcow2\" new=\"$V\"|" \
	"new layer '$V' $NOT_OURS"

# ---- an owned overlay whose backing is not the catalog image it names
# (since s1 disk0's backing is the frozen disk0.qcow2, itself on the catalog image)
define_refused backing "s|<source file='$ROOT/vms/x/disk0.qcow2'/>|<source file='$V'/>|" \
	"disk 'disk0': backing file '$V' is not catalog image 'base'"
plant_refused backing "s|<source file='$A/disk0.qcow2'/>|<source file='$V'/>|" \
	"backing file '$V' is not catalog image 'base'"
plant_refused backing-root "s|<source file='$A/disk0.qcow2'/>|<source file='$ROOT/vms/b/disk0.qcow2'/>|" \
	"backing file '$ROOT/vms/b/disk0.qcow2' is not catalog image 'base'"
plant_refused snap-backing "s|backing=\"$ROOT/images/base.qcow2\"|backing=\"$V\"|" \
	"snapshot 's1': disk 'disk0': backing file '$V' is not catalog image 'base'"

# ---- seed user-data / network-config outside the VM's directory
# (the seed record holds the VM's guest user, one line: it makes way for them)
U="<qemuctl:user>[^<]*</qemuctl:user>"
define_refused seed-ud "s|$U|<qemuctl:user-data>$V</qemuctl:user-data>|" "qemuctl metadata <seed>: user-data '$V' $NOT_OURS"
plant_refused seed-ud "s|$U|<qemuctl:user-data>$V</qemuctl:user-data>|" "user-data '$V' $NOT_OURS"
plant_refused seed-disk "s|$U|<qemuctl:user-data>$A/disk1.qcow2</qemuctl:user-data>|" "user-data '$A/disk1.qcow2' must be $A/user-data"
define_refused seed-nc "s|$U|<qemuctl:network-config>$ROOT/vms/b/nc</qemuctl:network-config>|" "network-config '$ROOT/vms/b/nc' $NOT_OURS"

# ---- fields that would smuggle options into QEMU's or ssh's argv
define_refused machine "s|<type arch='x86_64'>|<type arch='x86_64' machine='q35,accel=kvm'>|" \
	"machine type 'q35,accel=kvm' is invalid"
define_refused machine-eq "s|<type arch='x86_64'>|<type arch='x86_64' machine='pc=1'>|" \
	"machine type 'pc=1' is invalid"
define_refused cpu "s|</os>|</os><cpu mode='custom'><model>max,+vmx</model></cpu>|" \
	"CPU model 'max,\+vmx' is invalid"
define_refused user "s|$U|<qemuctl:user>-oProxyCommand=x</qemuctl:user>|" \
	"user name '-oProxyCommand=x' is invalid"
define_refused user-space "s|$U|<qemuctl:user>a b</qemuctl:user>|" \
	"user name 'a b' is invalid"
plant_refused machine "s|<type arch='x86_64'>|<type arch='x86_64' machine='q35,accel=kvm'>|" \
	"machine type 'q35,accel=kvm' is invalid"
ok "crafted definitions: refused at define with FILE:LINE and refused by every command when planted"

# the untouched definition still works
qc snapshot rm a s1 >/dev/null
# attach-disk of another VM's file: refused before anything is made or plugged
qc create b --kernel "$kernel" --disk 8M --net none --no-seed >/dev/null
before="$(tree_digest "$ROOT")"
expect_fail 1 "VM 'a': disk 'disk2': '$ROOT/vms/b/disk1.qcow2' lies in the state root" \
	qc attach-disk a "$ROOT/vms/b/disk1.qcow2"
[ "$(tree_digest "$ROOT")" = "$before" ] || fail "a refused attach-disk changed the state root"
qc delete b >/dev/null
qc delete a >/dev/null
[ ! -e "$A" ] || fail "delete of the clean VM left $A"
victim_intact "clean delete"

# ---- <nvram> outside the VM's directory is never created
NV="$SCRATCH/made-by-start.fd"
cat >"$SCRATCH/nv.xml" <<EOF
<domain type='qemu'><name>nv</name><memory unit='MiB'>64</memory>
  <os><type arch='x86_64'>hvm</type><loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader><nvram>$NV</nvram></os>
  <devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$SCRATCH/base.qcow2'/><target dev='vda' bus='virtio'/></disk></devices>
</domain>
EOF
if [ -r /usr/share/OVMF/OVMF_CODE.fd ]; then
	qc define "$SCRATCH/nv.xml" >/dev/null
	rc=0
	qc start nv >/dev/null 2>"$SCRATCH/err" || rc=$?
	[ ! -e "$NV" ] || fail "start created the varstore $NV outside the VM's directory"
	[ "$rc" -eq 1 ] || fail "start nv exited $rc, expected 1"
	grep -q "varstore '$NV' is missing; qemuctl makes one only in the VM's directory" "$SCRATCH/err" ||
		fail "start nv: $(cat "$SCRATCH/err")"
	ok "start refuses to make a varstore outside the VM's directory"
	qc undefine nv >/dev/null
else
	log "no OVMF: the <nvram> case is covered by tests/unit/check_driver_firmware only"
fi

# ---- --user-data is captured at create: editing the original changes nothing
printf '#cloud-config\nruncmd: [echo ORIGINAL]\n' >"$SCRATCH/ud"
orig="$(sha256sum <"$SCRATCH/ud")"
qc create u --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" \
	--memory 256M --net none --user-data "$SCRATCH/ud" >/dev/null
assert_eq "$(sha256sum <"$ROOT/vms/u/user-data")" "$orig" "create copied --user-data into the VM"
assert_eq "$(stat -c %a "$ROOT/vms/u/user-data")" 600 "the copy is 0600"
grep -q "<qemuctl:user-data>$ROOT/vms/u/user-data</qemuctl:user-data>" "$ROOT/vms/u/domain.xml" ||
	fail "the definition does not name the copy"
printf '#cloud-config\nruncmd: [echo CHANGED]\n' >"$SCRATCH/ud"
qc start u >/dev/null
assert_eq "$(isoinfo -R -i "$ROOT/vms/u/seed.iso" -x /user-data | sha256sum)" "$orig" \
	"after start the seed still holds the original user-data"
qc destroy u >/dev/null
rm "$SCRATCH/ud"
qc start u >/dev/null
qc destroy u >/dev/null
ok "start works with the original --user-data file gone"
# The same root spelled another way (a "..", a doubled slash) loads the
# same definitions: the root is resolved once, before any path is checked.
other="$(dirname "$ROOT")/./$(basename "$ROOT")/../$(basename "$ROOT")/"
"$QC" --root "$other" info u >/dev/null || fail "info through the root spelled as $other failed"
ok "a VM loads through another spelling of its state root"
qc delete u >/dev/null

# ---- as root: a kernel another user can write, or in a directory others can write
if [ "$(id -u)" -eq 0 ]; then
	cp "$kernel" "$SCRATCH/k666"
	chmod 0666 "$SCRATCH/k666"
	expect_fail 1 "--kernel '$SCRATCH/k666' can be written by another user \(owner uid 0, mode 0666\)" \
		qc create k1 --kernel "$SCRATCH/k666" --no-seed
	cp "$kernel" "$SCRATCH/knobody"
	chown nobody "$SCRATCH/knobody"
	expect_fail 1 "--kernel '$SCRATCH/knobody' can be written by another user" \
		qc create k1 --kernel "$SCRATCH/knobody" --no-seed
	mkdir -m 0777 "$SCRATCH/open"
	cp "$kernel" "$SCRATCH/open/k"
	expect_fail 1 "--initrd '$SCRATCH/open/k': directory '$SCRATCH/open' can be written by another user" \
		qc create k1 --kernel "$kernel" --initrd "$SCRATCH/open/k" --no-seed
	sed "s|<kernel>[^<]*</kernel>|<kernel>$SCRATCH/k666</kernel>|" "$SCRATCH/a.xml" |
		sed -e 's|<name>a</name>|<name>k2</name>|' -e "s|$A/|$ROOT/vms/k2/|g" >"$SCRATCH/k2.xml"
	expect_fail 1 "<kernel> '$SCRATCH/k666' can be written by another user" qc define "$SCRATCH/k2.xml"
	[ ! -e "$ROOT/vms/k1" ] && [ ! -e "$ROOT/vms/k2" ] || fail "a refused kernel left a VM"
fi
ok "trust-define: done"
