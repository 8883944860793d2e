#!/usr/bin/env bash
# Ways around the definition checks, each of which must fail: a user
# disk, share, nvram or firmware loader outside the VM's directory that
# reaches another VM's files by another spelling ('//', '/./', '..', a
# trailing '/'), through a symlink outside the state root (made before
# define or swapped in after: every load checks again), through
# /proc/self/root or /dev/fd; a share of a directory above the state
# root; a device given as a disk of type 'file'; as
# root, a <kernel>, <initrd> or <loader> that the author of the definition
# could not read (qemuctl would load it into the guest); a user image whose
# qcow2 header names a data file or a backing in the state root (define,
# create --disk/--disk-image, attach-disk); a definition of another VM
# under an existing VM's name; C1 controls in the definition's text echoed
# by an error.  Each is refused with FILE:LINE or the VM's name, and the
# state root and the victim files do not change.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

[ -x "$QC" ] || fail "qemuctl not built at $QC"
head -c 4096 /dev/urandom >"$SCRATCH/kernel"
chmod 0644 "$SCRATCH/kernel"
qc create b --kernel "$SCRATCH/kernel" --disk 8M --net none --no-seed >/dev/null
VICTIM="$ROOT/vms/b/disk1.qcow2"
[ -f "$VICTIM" ] || fail "no victim disk at $VICTIM"
victim_sum="$(sha256sum <"$VICTIM")"
mkdir "$SCRATCH/outside"
ln -s "$ROOT" "$SCRATCH/into-root"
ln -s "$SCRATCH/outside" "$SCRATCH/swap"

# xml NAME DISK [OS_EXTRA]: a definition of VM NAME with one user disk DISK.
xml() {
	cat >"$SCRATCH/$1.xml" <<EOX
<domain type='qemu'><name>$1</name><memory unit='MiB'>64</memory>
  <os><type arch='x86_64'>hvm</type>${3:-}</os>
  <devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$2'/><target dev='vda' bus='virtio'/></disk></devices>
</domain>
EOX
}

# refused NAME DISK PATTERN [OS_EXTRA]: define fails with PATTERN, nothing changes.
refused() {
	local before
	xml "$1" "$2" "${4:-}"
	before="$(tree_digest "$ROOT")"
	expect_fail 1 "$3" qc define "$SCRATCH/$1.xml"
	[ "$(tree_digest "$ROOT")" = "$before" ] || fail "define of $1 changed the state root"
	[ ! -e "$ROOT/vms/$1" ] || fail "define of $1 made vms/$1"
	[ "$(sha256sum <"$VICTIM")" = "$victim_sum" ] || fail "define of $1 changed the victim"
}

NORMAL="is not in normal form: no empty, '.' or '..' component and no trailing '/'"
D="${ROOT#/}"
refused slashes "/${D//\//\/\/}/vms/b/disk1.qcow2" "$NORMAL"
refused dot "/$D/./vms/b/disk1.qcow2" "$NORMAL"
refused dotdot "$SCRATCH/outside/../../${ROOT##*/}/vms/b/disk1.qcow2" "$NORMAL"
refused trailing "$SCRATCH/outside/data.raw/" "$NORMAL"
refused link "$SCRATCH/into-root/vms/b/disk1.qcow2" \
	"disk 'disk0': disk '$SCRATCH/into-root/vms/b/disk1.qcow2' resolves to '$VICTIM' in the state root"
# a VM not made yet: its directory would appear behind the link later
refused link-later "$SCRATCH/into-root/vms/later/disk0.qcow2" "in the state root $ROOT"
refused proc "/proc/self/root$VICTIM" "names a file through a process's own view"
refused devfd "/dev/fd/3" "names a file through a process's own view"
refused device "/dev/null" "disk '/dev/null' is not a regular file"
ln -s /sys/kernel/mm/transparent_hugepage/enabled "$SCRATCH/outside/sysattr"
refused sysfs "$SCRATCH/outside/sysattr" "disk '$SCRATCH/outside/sysattr' is a file of a kernel pseudo file system"
refused loader-root "$SCRATCH/outside/data.raw" "firmware loader '$SCRATCH/into-root/vms/b/disk1.qcow2' resolves to '$VICTIM' in the state root" \
	"<loader readonly='yes' type='pflash'>$SCRATCH/into-root/vms/b/disk1.qcow2</loader>"
refused nvram "$SCRATCH/outside/data.raw" "nvram '$SCRATCH/into-root/vms/b/nvram.fd' resolves to" \
	"<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader><nvram>$SCRATCH/into-root/vms/b/nvram.fd</nvram>"
# QEMU as root (QEMUCTL_USER=root) with a passthrough share: the guest
# could leave setuid-root programs in the host directory
if [ "$(id -u)" -eq 0 ]; then
	mkdir "$SCRATCH/pt"
	cat >"$SCRATCH/pt.xml" <<EOX
<domain type='qemu'><name>pt</name><memory unit='MiB'>64</memory>
  <os><type arch='x86_64'>hvm</type><kernel>$SCRATCH/kernel</kernel></os>
  <devices><filesystem type='mount' accessmode='passthrough'><source dir='$SCRATCH/pt'/><target dir='pt'/></filesystem></devices>
</domain>
EOX
	qc define "$SCRATCH/pt.xml" >/dev/null
	before="$(tree_digest "$ROOT")"
	expect_fail 1 "share 'pt': accessmode 'passthrough' with QEMU running as root would let the guest create root's files" \
		env QEMUCTL_USER=root "$QC" --root "$ROOT" start pt
	[ "$(tree_digest "$ROOT")" = "$before" ] || fail "the refused start changed the state root"
	[ -z "$(procs_using "$ROOT/vms/pt")" ] || fail "a QEMU was started for pt"
	qc undefine pt >/dev/null
	ok "as root, QEMU unconfined: a passthrough share is refused at start"
fi
# a share of a directory above the state root shares every VM's disks
for dir in / "${ROOT%/*}"; do
	cat >"$SCRATCH/share.xml" <<EOX
<domain type='qemu'><name>share</name><memory unit='MiB'>64</memory>
  <os><type arch='x86_64'>hvm</type></os>
  <devices><filesystem type='mount' accessmode='mapped'><source dir='$dir'/><target dir='up'/></filesystem></devices>
</domain>
EOX
	before="$(tree_digest "$ROOT")"
	expect_fail 1 "share 'up': '$dir' holds the state root $ROOT" qc define "$SCRATCH/share.xml"
	[ "$(tree_digest "$ROOT")" = "$before" ] || fail "define of a share of $dir changed the state root"
done
ok "paths that reach into the state root by another spelling or a link: refused at define"

# a link swapped after define: the next load refuses before anything runs
qemu-img create -q -f raw "$SCRATCH/outside/data.raw" 1M
# QEMU's user may write it: as root, a definition hands QEMU no other file
chmod 0666 "$SCRATCH/outside/data.raw"
xml swapped "$SCRATCH/swap/data.raw"
sed -i "s|type='qcow2'|type='raw'|" "$SCRATCH/swapped.xml"
qc define "$SCRATCH/swapped.xml" >/dev/null
ln -sfn "$ROOT/vms/b" "$SCRATCH/swap"
cp "$VICTIM" "$ROOT/vms/b/data.raw"
before="$(tree_digest "$ROOT")"
for cmd in "start swapped" "delete swapped" "attach-disk swapped 8M"; do
	# shellcheck disable=SC2086
	expect_fail 1 "VM 'swapped': .*domain.xml:[0-9]+: disk 'disk0': disk '$SCRATCH/swap/data.raw' resolves to '$ROOT/vms/b/data.raw' in the state root" \
		qc $cmd
	[ "$(tree_digest "$ROOT")" = "$before" ] || fail "'$cmd' changed the state root"
done
rm "$ROOT/vms/b/data.raw" "$SCRATCH/swap"
ln -s "$SCRATCH/outside" "$SCRATCH/swap"
qc undefine swapped >/dev/null
ok "a link swapped into the state root after define: refused at every load"

# ---- a user image whose own header names more files for QEMU to open:
# a qcow2 data file (QEMU writes it) or a backing that is another VM's disk.
# A guest can write such a header into its raw disk, which is then probed
# as qcow2 when someone passes the file to --disk again.
qemu-img create -q -f qcow2 -o data_file="$SCRATCH/outside/decoy" "$SCRATCH/datafile.qcow2" 8M
chmod 0666 "$SCRATCH/datafile.qcow2"
qemu-img amend -f qcow2 -o data_file="$VICTIM" "$SCRATCH/datafile.qcow2"
qemu-img create -q -f qcow2 -b "$VICTIM" -F qcow2 "$SCRATCH/onvictim.qcow2"
DATAFILE="keeps its data in another file '$VICTIM' \(a qcow2 data file or vmdk extent\)"
ONVICTIM="backing '$VICTIM' lies in the state root $ROOT but is no catalog image"
refused datafile "$SCRATCH/datafile.qcow2" "VM 'datafile': disk 'disk0': disk '$SCRATCH/datafile.qcow2': .*$DATAFILE"
refused onvictim "$SCRATCH/onvictim.qcow2" "disk '$SCRATCH/onvictim.qcow2': $ONVICTIM"
before="$(tree_digest "$ROOT")"
expect_fail 1 "--disk '$SCRATCH/datafile.qcow2': .*$DATAFILE" \
	qc create c --kernel "$SCRATCH/kernel" --disk "$SCRATCH/datafile.qcow2" --net none --no-seed
expect_fail 1 "--disk-image '$SCRATCH/onvictim.qcow2': $ONVICTIM" \
	qc create c --kernel "$SCRATCH/kernel" --disk-image "$SCRATCH/onvictim.qcow2" --net none --no-seed
expect_fail 1 "--disk '$SCRATCH/onvictim.qcow2': $ONVICTIM" qc attach-disk b "$SCRATCH/onvictim.qcow2"
[ "$(tree_digest "$ROOT")" = "$before" ] || fail "a refused create or attach-disk changed the state root"
[ "$(sha256sum <"$VICTIM")" = "$victim_sum" ] || fail "the victim changed"
# the same file as a raw disk is its bytes only: QEMU opens nothing else
xml rawdisk "$SCRATCH/datafile.qcow2"
sed -i "s|type='qcow2'|type='raw'|" "$SCRATCH/rawdisk.xml"
qc define "$SCRATCH/rawdisk.xml" >/dev/null
qc undefine rawdisk >/dev/null
# a backing on a catalog image stays fine
qemu-img create -q -f qcow2 "$SCRATCH/cat.qcow2" 16M
qc image import cat "$SCRATCH/cat.qcow2" >/dev/null
qemu-img create -q -f qcow2 -b "$ROOT/images/cat.qcow2" -F qcow2 "$SCRATCH/oncat.qcow2"
qc create c --kernel "$SCRATCH/kernel" --disk-image "$SCRATCH/oncat.qcow2" --net none --no-seed >/dev/null
qc delete c >/dev/null
ok "user images whose header names a data file or another VM's disk: refused"

if [ "$(id -u)" -eq 0 ]; then
	printf 'secret\n' >"$SCRATCH/secret"
	chmod 0640 "$SCRATCH/secret"
	refused initrd "$SCRATCH/outside/data.raw" \
		"<initrd> '$SCRATCH/secret' is not readable by every user \(mode 0640\)" \
		"<kernel>$SCRATCH/kernel</kernel><initrd>$SCRATCH/secret</initrd>"
	refused shadow "$SCRATCH/outside/data.raw" "<initrd> '/etc/shadow' is not readable by every user" \
		"<kernel>$SCRATCH/kernel</kernel><initrd>/etc/shadow</initrd>"
	# readable by all, but root reads more there (kallsyms shows root the addresses)
	refused kallsyms "$SCRATCH/outside/data.raw" "<initrd> '/proc/kallsyms' is a file of a kernel pseudo file system" \
		"<kernel>$SCRATCH/kernel</kernel><initrd>/proc/kallsyms</initrd>"
	mkdir -m 0700 "$SCRATCH/private"
	cp "$SCRATCH/kernel" "$SCRATCH/private/k"
	refused loader "$SCRATCH/outside/data.raw" "<loader> '$SCRATCH/secret' is not readable by every user" \
		"<loader readonly='yes' type='pflash'>$SCRATCH/secret</loader>"
	refused kernel-dir "$SCRATCH/outside/data.raw" \
		"<kernel> '$SCRATCH/private/k': directory '$SCRATCH/private' is not searchable by every user" \
		"<kernel>$SCRATCH/private/k</kernel>"
	# create's --kernel is the caller's own choice: a root-only file is fine there
	qc create k --kernel "$SCRATCH/private/k" --net none --no-seed >/dev/null
	qc delete k >/dev/null
	ok "as root: a <kernel>/<initrd>/<loader> the definition's author could not read is refused"
	# a user disk QEMU's user could not open itself: root would open it for QEMU
	qemu-img create -q -f qcow2 "$SCRATCH/rootonly.qcow2" 1M
	chmod 0600 "$SCRATCH/rootonly.qcow2"
	ro_sum="$(sha256sum <"$SCRATCH/rootonly.qcow2")"
	refused rootonly "$SCRATCH/rootonly.qcow2" \
		"disk 'disk0' '$SCRATCH/rootonly.qcow2' \(owner uid 0, gid 0, mode 0600\): user '[a-z_0-9-]+' that QEMU runs as may not write it"
	chmod 0644 "$SCRATCH/rootonly.qcow2"
	expect_fail 1 "may not write it; a definition may hand the guest only files QEMU's user could open itself" \
		qc define "$SCRATCH/rootonly.xml"
	# read-only, a file every user may read is fine
	sed -i "s|<target dev='vda' bus='virtio'/>|<target dev='vda' bus='virtio'/><readonly/>|" "$SCRATCH/rootonly.xml"
	qc define "$SCRATCH/rootonly.xml" >/dev/null
	qc undefine rootonly >/dev/null
	[ "$(sha256sum <"$SCRATCH/rootonly.qcow2")" = "$ro_sum" ] || fail "the root-only file changed"
	ok "as root: a user disk QEMU's user could not open itself is refused at define"
else
	log "not root: the <kernel>/<initrd> readability check applies only to root"
fi
# ---- a definition of another VM under an existing VM's name: it would take
# over b's disks, snapshots and directory.  dumpxml, edit, define still works.
cat >"$SCRATCH/takeover.xml" <<EOX
<domain type='qemu'><name>b</name><memory unit='MiB'>64</memory>
  <os><type arch='x86_64'>hvm</type><kernel>$SCRATCH/kernel</kernel><cmdline>init=/bin/sh</cmdline></os>
  <devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$VICTIM'/><target dev='vda' bus='virtio'/></disk></devices>
  <metadata><qemuctl:domain xmlns:qemuctl='https://qemuctl.dev/xmlns/domain/1'><qemuctl:disk name='disk0' role='data' owned='yes'/></qemuctl:domain></metadata>
</domain>
EOX
before="$(tree_digest "$ROOT")"
expect_fail 1 "takeover.xml: VM 'b' already exists with UUID [0-9a-f-]+, and this definition's is" \
	qc define "$SCRATCH/takeover.xml"
[ "$(tree_digest "$ROOT")" = "$before" ] || fail "define of another VM named b changed the state root"
qc dumpxml b | sed 's|<memory unit=.KiB.>[0-9]*</memory>|<memory unit="KiB">131072</memory>|' >"$SCRATCH/b2.xml"
qc define "$SCRATCH/b2.xml" >/dev/null
grep -q '131072' "$ROOT/vms/b/domain.xml" || fail "define of b's own edited dumpxml did not apply"
ok "define over an existing VM: only that VM's own definition (same UUID)"

# ---- an error quoting the definition's text shows its controls, not obeys them
# (U+009B is a CSI in UTF-8 that XML 1.0 allows; ESC itself it refuses)
printf '%s\n' "<domain type='qemu'><name>esc</name><memory unit='MiB'>64</memory><metadata><qemuctl:domain xmlns:qemuctl='https://qemuctl.dev/xmlns/domain/1'><qemuctl:accel>&#x9b;31mred&#x9d;0;title&#x9c;</qemuctl:accel></qemuctl:domain></metadata></domain>" >"$SCRATCH/esc.xml"
expect_fail 1 "unknown accelerator '\\\\u009b31mred\\\\u009d0;title\\\\u009c'" qc define "$SCRATCH/esc.xml"
if LC_ALL=C grep -q "$(printf '\302[\200-\237]')" "$SCRATCH/err"; then
	fail "define's error carried a raw C1 control: $(od -c "$SCRATCH/err" | head -5)"
fi
ok "errors show the control characters of a definition's text"

qc delete b >/dev/null
ok "trust-attacks: done"
