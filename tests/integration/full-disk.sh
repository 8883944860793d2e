#!/usr/bin/env bash
# A full file system: the state root is a small tmpfs in a private
# mount namespace (unshare -m, so nothing outlives the test), filled up with a
# filler file to leave a chosen number of KiB free.  For create (overlay,
# nvram, seed, domain.xml), domain.xml rewrites (autostart, define), snapshot
# create, start, image import, image sync and seed build, with 0 KiB free and with
# room for part of the work: exit 1, "No space left on device" with the file
# and a hint, no temp or partial file left, the root byte-identical (except
# the filler and the lock files that are there by design); then, with the
# space back, the same operation succeeds.  start on a full disk fails before
# QEMU runs; QEMU runs once (start with room, then destroy).  Last, delete and
# undefine of a VM with a file system mounted in its directory (a tmpfs, a
# bind mount) refuse before anything changes and succeed after umount.
if [ -z "${QC_FULLDISK_NS:-}" ]; then
	if [ "$(id -u)" -ne 0 ] || ! unshare -m true 2>/dev/null; then
		echo "[full-disk] SKIP: needs root and unshare -m for a private tmpfs"
		exit 77
	fi
	QC_FULLDISK_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

[ -x "$QC" ] || fail "qemuctl not built at $QC"
FS_KIB=16384
mount -t tmpfs -o "size=${FS_KIB}k,mode=0700" qc-full-disk "$ROOT" || fail "mount tmpfs on $ROOT"
on_exit "umount -l '$ROOT'"
mkdir -m 0700 "$ROOT/out" # seed build output, on the same small file system

# Inputs (outside the small file system).
qemu-img create -q -f qcow2 "$SCRATCH/base.qcow2" 64M
head -c $((3 * 1024 * 1024)) /dev/urandom >"$SCRATCH/big.raw"
head -c $((64 * 1024)) /dev/urandom >"$SCRATCH/small.raw"
ssh-keygen -q -t ed25519 -N '' -C test -f "$SCRATCH/key" >/dev/null
serve_stream

# fill_to KIB: leave about KIB KiB free on the small file system.
fill_to() {
	local avail
	rm -f "$ROOT/filler"
	avail=$(df -k --output=avail "$ROOT" | tail -n1 | tr -d ' ')
	[ "$avail" -gt "$1" ] || fail "only ${avail} KiB free, cannot leave $1"
	fallocate -l $(((avail - $1) * 1024)) "$ROOT/filler"
}
unfill() { rm -f "$ROOT/filler"; }
# The state apart from the filler, the lock files (empty, created on first use
# by design), summary.json and domain.cache.json (caches stamped with
# domain.xml's inode and times: a rolled-back snapshot rewrites domain.xml
# with the same bytes).
# Directory sizes (tmpfs counts entries) go too, for the same lock files.
digest() {
	tree_digest "$ROOT" | grep -vE '(\./filler|/lock|\.lock|/summary\.json|/domain\.cache\.json)$' |
		sed -E 's/^(d [0-7]+) [0-9]+ /\1 - /'
}
leftovers() { find "$ROOT" \( -name '.*' -o -name '*.part' -o -name '*.tmp*' \) ! -name '*.lock' -print; }
FULL_RE='No space left on device'
HINT_RE='hint: .*free space'
n_faults=0

# full_case FREE_KIB OBJ_ERE CMD...: with FREE_KIB free, CMD fails cleanly,
# naming the object (OBJ_ERE).
full_case() {
	local free="$1" obj="$2" before after rc=0 left
	shift 2
	fill_to "$free"
	before="$(digest)"
	"$@" >"$SCRATCH/out" 2>"$SCRATCH/err" || rc=$?
	if [ "$rc" -eq 0 ]; then
		unfill
		return 3 # enough room after all
	fi
	[ "$rc" -eq 1 ] || fail "'$*' with ${free} KiB free exited $rc; stderr: $(cat "$SCRATCH/err")"
	grep -Eq -- "$FULL_RE" "$SCRATCH/err" || fail "'$*' with ${free} KiB free: no '$FULL_RE': $(cat "$SCRATCH/err")"
	grep -Eq -- "$obj" "$SCRATCH/err" || fail "'$*' with ${free} KiB free: does not name /$obj/: $(cat "$SCRATCH/err")"
	grep -Eq -- "$HINT_RE" "$SCRATCH/err" || fail "'$*' with ${free} KiB free: no hint: $(cat "$SCRATCH/err")"
	left="$(leftovers)"
	[ -z "$left" ] || fail "'$*' with ${free} KiB free left: $left"
	after="$(digest)"
	[ "$before" = "$after" ] || fail "'$*' with ${free} KiB free changed the root: $(diff <(echo "$before") <(echo "$after"))"
	n_faults=$((n_faults + 1))
	unfill
	return 0
}

# sweep NAME STEP_KIB UNDO OBJ_ERE CMD...: CMD with 0, STEP, 2*STEP... KiB free
# until it succeeds, then bisected down to 4 KiB (a page) between the last
# failure and the first success, where only the operation's last writes fail.
# Every failure must be clean (full_case), and at least two happen; UNDO takes
# a success back.  At the end CMD runs once more with room, and its result stays.
sweep() {
	local name="$1" step="$2" undo="$3" obj="$4" free=0 fails=0 lo hi mid t0=$SECONDS
	shift 4
	qc list >/dev/null # refresh the summary.json caches while there is room
	while full_case "$free" "$obj" "$@"; do
		fails=$((fails + 1))
		free=$((free + step))
		[ "$free" -lt $((FS_KIB - 1024)) ] || fail "$name: still failing with ${free} KiB free"
	done
	eval "$undo"
	lo=$((free - step))
	hi=$free
	while [ $((hi - lo)) -gt 4 ]; do
		mid=$(((lo + hi) / 2))
		mid=$((mid - mid % 4)) # a page boundary
		if full_case "$mid" "$obj" "$@"; then
			fails=$((fails + 1))
			lo=$mid
		else
			eval "$undo"
			hi=$mid
		fi
	done
	[ "$fails" -ge 2 ] || fail "$name: only $fails failure(s) before it fit in ${hi} KiB"
	"$@" >/dev/null || fail "$name: fails with room"
	ok "$name: $fails clean failures with 0..$lo KiB free, succeeds with $hi KiB ($((SECONDS - t0)) s)"
}

# A VM and an image that exist before the disk fills up.
qc create keep --disk-image "$SCRATCH/base.qcow2" --ssh-key "$SCRATCH/key.pub" >/dev/null
qc image import small "$SCRATCH/small.raw" >/dev/null
cp "$ROOT/vms/keep/domain.xml" "$SCRATCH/keep.xml"

# one failure shown in full: the message names the object and the file
fill_to 0
expect_fail 1 "VM 'keep': .*domain.xml.*$FULL_RE" qc autostart keep
grep -Eq "$HINT_RE" "$SCRATCH/err" || fail "no hint: $(cat "$SCRATCH/err")"
ok "the hint: $(grep hint "$SCRATCH/err")"
cmp "$ROOT/vms/keep/domain.xml" "$SCRATCH/keep.xml" || fail "domain.xml changed"
ok "domain.xml intact after a failed rewrite"
unfill

sweep "create with a seed" 64 "qc delete new >/dev/null" "VM 'new'" \
	qc create new --disk-image "$SCRATCH/base.qcow2" --ssh-key "$SCRATCH/key.pub"
sweep "create --image" 64 "qc delete new2 >/dev/null" "VM 'new2'" \
	qc create new2 --image small --no-seed
sweep "autostart (domain.xml rewrite)" 1 "qc autostart keep --disable >/dev/null" "VM 'keep': 'domain.xml'" qc autostart keep
sed 's|<memory unit=.KiB.>[0-9]*</memory>|<memory unit="KiB">262144</memory>|' "$SCRATCH/keep.xml" >"$SCRATCH/keep2.xml"
sweep "define over an existing VM" 1 "" "VM 'keep': .*domain.xml" qc define "$SCRATCH/keep2.xml"
sweep "snapshot create" 16 "qc snapshot rm keep s1 >/dev/null" "VM 'keep'" qc snapshot create keep s1
sweep "attach-disk (new qcow2 + domain.xml)" 16 "qc detach-disk keep disk1 >/dev/null; rm '$ROOT/vms/keep/disk1.qcow2'" "VM 'keep'" qc attach-disk keep 64M
sweep "seed build" 64 "rm -f '$ROOT/out/seed.iso'" "seed.iso" \
	qc seed build "$ROOT/out/seed.iso" --ssh-key "$SCRATCH/key.pub"
sweep "image import" 512 "qc image rm big >/dev/null" "image 'big'" qc image import big "$SCRATCH/big.raw"
# start: the monitor cannot write state.json (the run's logs are new by design)
need_guest x86_64
qc create run --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --no-seed --memory 128M >/dev/null
# One run with room first: a start as root hands the VM's files to QEMU's
# user and opens the directories' search bits (driver/confine.c), changes
# that belong to the first start, not to the failure under test.
qc start --paused run >/dev/null
qc destroy run >/dev/null
qc list >/dev/null
digest() {
	tree_digest "$ROOT" |
		grep -vE '(\./filler|/lock|\.lock|/summary\.json|/run/(console\.log(\.1)?|qemu\.log|events\.jsonl(\.1)?))$' |
		sed -E 's/^(d [0-7]+) [0-9]+ /\1 - /'
}
full_case 0 "VM 'run': start failed: 'state.json'" qc start run || fail "start succeeded on a full disk"
ok "start on a full disk fails cleanly: $(head -n1 "$SCRATCH/err")"
qc start run >/dev/null
assert_match "$(qc list)" "run .* running" "start succeeds once there is room"
qc destroy run >/dev/null

QEMUCTL_HTTP_RETRIES=0 sweep "image sync" 1024 "qc image rm noble-amd64 >/dev/null" "image 'noble-amd64'" \
	qc image sync ubuntu:24.04 --arch amd64 --stream "$URL"
cmp "$ROOT/images/noble-amd64.qcow2" "$SCRATCH/new.qcow2" || fail "synced image differs"
ok "synced image is byte-identical to the source"

# ------------------------------------------- a file system mounted in a VM
# delete and undefine refuse before anything changes, naming the mount point
# and the fix; the VM stays whole (listed, info works, no .delete-* left) and
# after umount the delete succeeds.  A bind mount of a directory of the same
# file system is refused too (st_dev alone does not tell it: the delete
# emptied it), and the sweep of a dead delete's leftovers does not empty one.
mounted_case() {
	local vm="$1" mnt="$2" before
	before="$(digest)"
	for cmd in "delete $vm" "delete --force $vm" "undefine $vm"; do
		# shellcheck disable=SC2086
		expect_fail 1 "VM '$vm': '$mnt' is a mount point in the VM's directory; nothing was removed: unmount it \\(umount '$mnt'\\)" qc $cmd
	done
	assert_eq "$(digest)" "$before" "refused deletes of $vm changed nothing"
	assert_match "$(qc list)" "^$vm " "$vm is still listed"
	qc info "$vm" >/dev/null || fail "info $vm fails after the refused delete"
	[ -z "$(ls -A "$ROOT/vms" | grep '^\.')" ] || fail "left in vms/: $(ls -A "$ROOT/vms")"
	umount "$mnt"
	qc delete "$vm" >/dev/null || fail "delete $vm after umount failed"
	assert_no_file "$ROOT/vms/$vm"
}
mkdir -m 0700 "$ROOT/out/host"
echo precious >"$ROOT/out/host/data"
qc create mnt --disk-image "$SCRATCH/base.qcow2" --no-seed >/dev/null
mkdir "$ROOT/vms/mnt/data"
mount -t tmpfs -o size=64k qc-in-vm "$ROOT/vms/mnt/data"
echo inside >"$ROOT/vms/mnt/data/f"
mounted_case mnt "$ROOT/vms/mnt/data"
qc create mnt2 --disk-image "$SCRATCH/base.qcow2" --no-seed >/dev/null
mkdir "$ROOT/vms/mnt2/share"
mount --bind "$ROOT/out/host" "$ROOT/vms/mnt2/share"
mounted_case mnt2 "$ROOT/vms/mnt2/share"
assert_eq "$(cat "$ROOT/out/host/data")" precious "the bind-mounted directory is intact"
dead=$(sh -c 'echo $$')
mkdir -p "$ROOT/vms/.delete-ghost.$dead/share"
mount --bind "$ROOT/out/host" "$ROOT/vms/.delete-ghost.$dead/share"
qc create mnt3 --disk-image "$SCRATCH/base.qcow2" --no-seed >/dev/null # sweeps dead builds
assert_eq "$(cat "$ROOT/out/host/data")" precious "the sweep of a dead delete does not empty a bind mount in it"
umount "$ROOT/vms/.delete-ghost.$dead/share"
qc delete mnt3 >/dev/null
assert_no_file "$ROOT/vms/.delete-ghost.$dead"

log "$n_faults out-of-space failures checked"
