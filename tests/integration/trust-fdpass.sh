#!/bin/bash
# QEMU opens nothing by path (as root, QEMU confined to a test user): a
# --disk-image under a 0700 directory boots; the VM's files stay root's
# 0600 in a 0700 directory; QEMU's argv names no file and the disk layers
# are fds it inherited or got with add-fd; live snapshot create/rm and
# attach-disk and a forced revert work; an overlay whose header was made
# to name another backing file (what a QEMU that escaped could write) still
# boots on the chain the definition names, and neither QEMU nor any
# qemu-img qemuctl runs (start, info, resize, snapshot create/rm offline)
# opens the file the header names; a bottom layer whose header names one is
# refused at start; a file an older qemuctl gave to the user is taken back.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_root_user
need_guest x86_64

confine_to_test_user "qcf$$"

# the base image in a 0700 directory, like /root/images
priv="$SCRATCH/root-images"
mkdir -m 0700 "$priv"
base="$priv/base.qcow2"
qemu-img convert -q -f raw -O qcow2 "$GUEST_ROOT" "$base"
chmod 0600 "$base"
base_sum=$(sha256sum <"$base")
vm="$ROOT/vms/f1"
qc create f1 --disk-image "$base" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
	--append "$GUEST_APPEND_ROOT" --memory 256M --cpus 1 --disk 16M >/dev/null
qc start f1 2>/dev/null
uid=$(id -u "$tu")
field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",]*\).*/\1/p" | head -1; }
qpid=$(qc --json info f1 | field qemu_pid)
assert_match "$(grep '^Uid:' "/proc/$qpid/status")" "^Uid:\s+$uid\s" "QEMU runs as $tu"
as_user() { setpriv --reuid "$uid" --regid "$(id -g "$tu")" --clear-groups "$@"; }
! as_user head -c1 "$base" >/dev/null 2>&1 || fail "the QEMU user can read the base image"
ok "the QEMU user cannot reach the base image under the 0700 directory"
wait_for_text "$vm/console.log" '^GUEST-READY' 90
ok "a --disk-image under a 0700 directory boots"

# files: root's 0600 in a 0700 VM dir; nothing handed to the QEMU user
assert_eq "$(stat -c '%a %U %G' "$vm")" "700 root root" "VM dir"
for f in "$vm"/*; do
	[ -f "$f" ] || continue
	[ "$(stat -c '%a %U' "$f")" = "600 root" ] || fail "$f is $(stat -c '%a %U %G' "$f")"
done
ok "every file in the VM dir is root's, 0600"
assert_eq "$(stat -c '%a %U' "$base")" "600 root" "the base image is untouched"
[ -z "$(find "$ROOT" -user "$tu" -o -group "$tu")" ] || fail "files of $tu: $(find "$ROOT" -user "$tu" -o -group "$tu")"
ok "nothing under the state root belongs to $tu"

# argv: no file path; the files are the fds QEMU inherited
cmd=$(tr '\0' '\n' <"/proc/$qpid/cmdline")
! grep -qF -e "$priv" -e "$vm/" -e "$ROOT/" <<<"$cmd" || fail "a path in QEMU's argv: $(grep -F -e "$priv" -e "$ROOT" <<<"$cmd")"
ok "QEMU's argv holds no disk path"
assert_match "$cmd" '^-add-fd$' "files come as -add-fd"
assert_match "$cmd" '"filename":"/dev/fdset/[0-9]+"' "blockdev file nodes are fd sets"
assert_match "$cmd" '"backing":null' "the bottom layer has no backing from its header"
open_files() { for f in /proc/"$qpid"/fd/*; do readlink "$f"; done; }
held=$(open_files)
for f in "$base" "$vm/disk0.qcow2" "$vm/disk1.qcow2" "$vm/seed.iso"; do
	grep -qxF "$f" <<<"$held" || fail "QEMU does not hold $f: $held"
done
ok "QEMU holds the base, both disks and the seed as fds"

# live: snapshot, hot-plug, write, rm (block-stream)
guest_console f1
guest_say 'echo one >/one; sync; echo WROTE-ONE'
wait_for_text "$SCRATCH/con$con_n.out" '^WROTE-ONE' 30
qc snapshot create f1 s1 >/dev/null
layer=$(sed -n "s|.*<source file='\($vm/disk0\.L[0-9a-f]*\.qcow2\)'.*|\1|p" "$vm/domain.xml" | head -1)
[ -n "$layer" ] || fail "no new layer in domain.xml"
assert_eq "$(stat -c '%a %U' "$layer")" "600 root" "live snapshot layer is root's 0600"
grep -qxF "$layer" <<<"$(open_files)" || fail "QEMU does not hold the new layer"
ok "QEMU got the live snapshot's layer as an fd"
qc attach-disk f1 8M >/dev/null
assert_eq "$(stat -c '%a %U' "$vm/disk2.qcow2")" "600 root" "hot-plugged disk is root's 0600"
guest_say 'i=0; while [ ! -e /sys/block/vdc ] && [ $i -lt 40 ]; do sleep 0.5; i=$((i+1)); done; echo two >/two; sync; echo "LIVE $(ls /sys/block | tr "\n" " ")"'
wait_for_text "$SCRATCH/con$con_n.out" '^LIVE ' 30
assert_match "$(grep -a '^LIVE ' "$SCRATCH/con$con_n.out" | tail -1)" 'vdc' "the guest sees the hot-plugged disk"
qc snapshot create f1 s2 >/dev/null
qc snapshot rm f1 s2 >/dev/null
guest_say 'cat /one /two'
wait_for_text "$SCRATCH/con$con_n.out" '^two' 30
ok "live snapshot rm (block-stream) keeps the data"
exec 7>&-
qc snapshot revert f1 s1 --force >/dev/null
guest_boot f1
guest_say 'cat /two 2>/dev/null || echo NO-TWO; cat /one'
wait_for_text "$SCRATCH/con$con_n.out" '^NO-TWO' 30
wait_for_text "$SCRATCH/con$con_n.out" '^one' 10
ok "forced revert: the VM boots at s1 (/one, no /two)"
exec 7>&-
qc stop f1 --timeout 60

# an overlay's header made to name another backing file: a FIFO, so anything
# opening it for reading would hang, and strace sees every open
victim="$SCRATCH/victim.qcow2"
mkfifo "$victim"
for f in "$vm"/disk0*.qcow2; do
	qemu-img rebase -q -u -f qcow2 -F qcow2 -b "$victim" "$f"
done
assert_match "$(qemu-img info -U "$vm/disk0.qcow2")" "backing file: $victim" "the overlay's header names the victim"
# LeakSanitizer cannot run under ptrace: an ASan build's leak check is off
# for the traced commands (their memory is checked everywhere else).
export_nolsan() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS; }
traced() { (export_nolsan; exec timeout 150 strace -f -qq -e trace=open,openat,openat2 -o "$SCRATCH/trace.$1" "$QC" --root "$ROOT" "${@:2}"); }
# start under strace -f: it follows the monitor and QEMU until the VM stops
(export_nolsan; exec strace -f -qq -e trace=open,openat,openat2 -o "$SCRATCH/trace.start" "$QC" --root "$ROOT" start f1) &
spid=$!
# console.log still holds the last run's GUEST-READY until this start makes
# a new one: first the start must have the VM running, then this boot's line
started() { qc --json info f1 | grep -q '"state": "running"'; }
wait_until 90 started
wait_for_text "$vm/console.log" '^GUEST-READY' 90
ok "the VM boots on the chain the definition names"
qpid=$(qc --json info f1 | field qemu_pid)
! grep -qF "$victim" <<<"$(open_files)" || fail "QEMU holds the victim"
qc stop f1 --timeout 60
timeout 30 tail --pid="$spid" -f /dev/null || fail "strace of start did not end with the VM"
traced info info f1 >/dev/null || fail "info"
traced resize resize f1 disk0 +8M >/dev/null || fail "offline resize"
traced snap snapshot create f1 s3 >/dev/null || fail "offline snapshot create"
traced rm snapshot rm f1 s3 >/dev/null || fail "offline snapshot rm"
traced rm1 snapshot rm f1 s1 >/dev/null || fail "offline snapshot rm of the first layer"
for t in start info resize snap rm rm1; do
	! grep -F "$victim" "$SCRATCH/trace.$t" || fail "'$t' opened the victim: $(grep -F "$victim" "$SCRATCH/trace.$t" | head -3)"
done
ok "QEMU and qemuctl's qemu-img calls never open the backing file a header names"
[ -p "$victim" ] || fail "the victim is no longer a FIFO"
assert_eq "$(sha256sum <"$base")" "$base_sum" "the base image is unchanged"

# a bottom layer (the data disk) whose header was made to name a backing file:
# refused at start with the file and the fix, nothing started
d1=$(sed -n "s|.*<source file='\($vm/disk1[^']*\.qcow2\)'.*|\1|p" "$vm/domain.xml" | head -1)
[ -n "$d1" ] || fail "no disk1 layer in domain.xml"
assert_match "$(qemu-img info -U "$d1")" '^image:' "disk1's active layer is its bottom one (no snapshots left)"
! qemu-img info -U "$d1" | grep -q '^backing file' || fail "disk1 has a backing file"
qemu-img rebase -q -u -f qcow2 -F qcow2 -b "$victim" "$d1"
before=$(tree_digest "$ROOT" | sha256sum)
expect_fail 1 "VM 'f1': disk 'disk1' '$d1' names a backing file in its header that the definition does not; .*qemu-img convert -O qcow2 $d1 NEW" \
	qc start f1
[ -z "$(pgrep -u "$uid")" ] || fail "a QEMU was started: $(pgrep -a -u "$uid")"
assert_eq "$(tree_digest "$ROOT" | sha256sum)" "$before" "the refused start left the state root unchanged"
qemu-img rebase -q -u -f qcow2 -b "" "$d1"
# a file an older qemuctl gave to the QEMU user is taken back at start
chown "$tu:$tu" "$d1"
chmod 0640 "$d1"
guest_boot f1
assert_eq "$(stat -c '%a %U %G' "$d1")" "600 root root" "a disk an older qemuctl gave to $tu is root's 0600 again"
guest_say 'cat /one'
wait_for_text "$SCRATCH/con$con_n.out" '^one' 30
ok "the data written before is there after the offline operations"
exec 7>&-
qc destroy f1

# A disk QEMU's user could not open itself, under a directory another user
# controls: that user could have swapped it in for a file of root's after
# the definition was checked, so root does not open it for QEMU.
eve="$SCRATCH/eve"
mkdir -m 0755 "$eve"
qemu-img create -q -f qcow2 "$eve/d.qcow2" 8M
chmod 0600 "$eve/d.qcow2"
chown 65534 "$eve"
qc create f3 --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" \
	--memory 256M --cpus 1 --net none --no-seed --disk "$eve/d.qcow2" >/dev/null
before=$(tree_digest "$ROOT" | sha256sum)
expect_fail 1 "disk 'disk[0-9]' '$eve/d.qcow2' \(mode 0600\) is not one user '$tu' that QEMU runs as may write, and another user could have put it there" \
	qc start f3
[ -z "$(pgrep -u "$uid")" ] || fail "a QEMU was started: $(pgrep -a -u "$uid")"
assert_eq "$(tree_digest "$ROOT" | sha256sum)" "$before" "the refused start left the state root unchanged"
# the same file where only root can have put it is root's own choice
chown 0 "$eve"
qc start f3 --paused >/dev/null
qc destroy f3 >/dev/null
ok "a root-only disk starts only from directories only root can change"
qc delete f3 >/dev/null
[ -z "$(pgrep -u "$uid")" ] || fail "processes of $tu left: $(pgrep -a -u "$uid")"
ok "no process of $tu left"
