#!/bin/bash
# Confinement, as root: QEMU runs as an unprivileged user
# (made on demand: a test-specific one here, removed afterwards) with no
# supplementary groups, no capabilities, no new privileges and a seccomp
# filter; the guest boots and writes its disk; the sockets are 0600 in a
# 0700 dir QEMU never needs; QEMU gets its files as fds, so the VM's files
# and directory stay root's 0600/0700 and the state root stays 0700; a live
# snapshot and a hot-plugged disk (even a user FILE that user cannot read)
# work; a kernel that user cannot read and a share it cannot open are
# specific errors; QEMUCTL_USER=root runs QEMU as root; doctor says who
# QEMU runs as.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_root_user
need_guest x86_64

confine_to_test_user "qct$$"

img="$SCRATCH/root.img"
cp "$GUEST_ROOT" "$img"
vm="$ROOT/vms/v1"
printf '#!/bin/sh\necho confined >/confine-test && sync && echo "WRITE-OK $(cat /confine-test)"\n' \
	>"$SCRATCH/ud.sh"
qc create v1 --disk-image "$img" --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
	--append "$GUEST_APPEND_ROOT" --memory 256M --cpus 1 --net none \
	--user-data "$SCRATCH/ud.sh" >/dev/null

# doctor before the user exists: it is made by the first start
assert_match "$(qc doctor | grep qemu-user)" "QEMU runs as user '$tu', which does not exist yet: the first start creates it" "doctor: user not there yet"

chmod 0700 "$ROOT" # like mktemp -d, or a root made by an older qemuctl
qc start v1 2>"$SCRATCH/start.err"
assert_eq "$(stat -c %a "$ROOT")" "700" "a 0700 state root stays 0700 (QEMU opens nothing in it)"
assert_match "$(cat "$SCRATCH/start.err")" "created the system user '$tu' \(uid [0-9]+\) that QEMU runs as" "start creates the missing user and says so"
uid=$(id -u "$tu")
gid=$(id -g "$tu")
assert_match "$(getent passwd "$tu")" "^$tu:x:$uid:$gid:.*:/nonexistent:/usr/sbin/nologin$" "a system user without home or shell"
assert_match "$(qc doctor | grep qemu-user)" "QEMU runs as user '$tu' \(uid $uid, gid $gid\)" "doctor: who QEMU runs as"

field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",]*\).*/\1/p" | head -1; }
qpid=$(qc --json info v1 | field qemu_pid)
status() { grep "^$1:" "/proc/$qpid/status" | cut -f2- | tr -s '\t ' ' ' | sed 's/ *$//'; }
assert_eq "$(status Uid)" "$uid $uid $uid $uid" "QEMU's uids (real, effective, saved, fs)"
assert_eq "$(status Gid)" "$gid $gid $gid $gid" "QEMU's gids"
assert_eq "$(status Groups)" "" "QEMU has no supplementary groups"
assert_eq "$(status CapEff)" "0000000000000000" "QEMU has no effective capabilities"
assert_eq "$(status CapPrm)" "0000000000000000" "QEMU has no permitted capabilities"
assert_eq "$(status NoNewPrivs)" "1" "QEMU runs with no_new_privs"
assert_eq "$(status Seccomp)" "2" "QEMU runs under a seccomp filter"
cmd=$(tr '\0' ' ' <"/proc/$qpid/cmdline")
assert_match "$cmd" '-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny ' "full sandbox, elevateprivileges included"
assert_match "$cmd" '-chardev socket,id=qmp0,fd=5,server=on,wait=off .*-kernel /dev/fd/8 -initrd /dev/fd/9 ' "sockets and kernel are inherited fds"
[[ "$cmd" != *-runas* ]] || fail "QEMU has -runas: $cmd"
ok "no -runas"

# sockets: root's, 0600, in a 0700 dir
rdir=$(qc --json info v1 | field run_dir)
[ -n "$rdir" ] || rdir=$(field run_dir <"$vm/state.json")
assert_eq "$(stat -c '%a %U' "$rdir")" "700 root" "runtime dir"
for s in qmp events serial console; do
	assert_eq "$(stat -c '%a %U %F' "$rdir/$s.sock")" "600 root socket" "$s.sock"
done

# files: root's, the VM dir 0700, the files 0600 (QEMU has them as fds)
assert_eq "$(stat -c '%a %U %G' "$vm")" "700 root root" "VM dir"
assert_eq "$(stat -c '%a %U %G' "$vm/disk0.qcow2")" "600 root root" "overlay"
assert_eq "$(stat -c '%a %U %G' "$vm/seed.iso")" "600 root root" "seed"
assert_eq "$(stat -c '%a %U' "$vm/domain.xml")" "600 root" "definition stays root's"
as_user() { setpriv --reuid "$uid" --regid "$gid" --clear-groups "$@"; }
! as_user cat "$vm/domain.xml" >/dev/null 2>&1 || fail "the QEMU user can read domain.xml"
! as_user ls "$vm" >/dev/null 2>&1 || fail "the QEMU user can list the VM dir"
! as_user ls "$rdir" >/dev/null 2>&1 || fail "the QEMU user can enter the runtime dir"
ok "the QEMU user cannot read the definition, list the VM dir or enter the runtime dir"

wait_for_text "$vm/console.log" '^GUEST-READY' 90
grep -aq '^WRITE-OK confined' "$vm/console.log" || fail "the guest could not write its disk: $(tail -5 "$vm/console.log")"
ok "guest booted and wrote its disk"

# live snapshot: QEMU formats a layer made for it
qc snapshot create v1 s1 >/dev/null
layer=$(qc dumpxml v1 | sed -n "s|.*<source file='\($vm/disk0\.L[0-9a-f]*\.qcow2\)'.*|\1|p" | head -1)
[ -n "$layer" ] || fail "no new layer in: $(qc dumpxml v1)"
assert_eq "$(stat -c '%a %U' "$layer")" "600 root" "live snapshot layer is root's"
assert_match "$(qemu-img info -U "$layer")" "backing file: $vm/disk0.qcow2" "the layer is a qcow2 on the old overlay"

# hot-plug: a new disk and a user FILE the QEMU user cannot open both go in as fds
qc attach-disk v1 8M >/dev/null
assert_eq "$(stat -c '%a %U' "$vm/disk1.qcow2")" "600 root" "hot-plugged disk is root's"
mkdir -m 0700 "$SCRATCH/priv-hp"
qemu-img create -q -f qcow2 "$SCRATCH/priv-hp/private.qcow2" 4M
chmod 0600 "$SCRATCH/priv-hp/private.qcow2"
qc attach-disk v1 "$SCRATCH/priv-hp/private.qcow2" >/dev/null
assert_eq "$(stat -c '%a %U' "$SCRATCH/priv-hp/private.qcow2")" "600 root" "a user FILE in a 0700 dir is attached untouched"
con="$SCRATCH/con.out"
mkfifo "$SCRATCH/in"
qc console v1 <"$SCRATCH/in" >"$con" 2>&1 &
exec 7>"$SCRATCH/in"
sleep 0.5
printf '%s\n' 'i=0; while [ ! -e /sys/block/vdb ] && [ $i -lt 40 ]; do sleep 0.5; i=$((i+1)); done; echo hot >/confine-2 && sync && echo "HOT $(ls /sys/block | tr "\n" " ")W2=$(cat /confine-2)"' >&7
wait_for_text "$con" '^HOT ' 30
assert_match "$(grep -a '^HOT ' "$con" | tail -1)" 'vdb .*W2=hot' "guest sees the hot-plugged disk and writes to the snapshot's layer"
exec 7>&-
qc destroy v1

# QEMUCTL_USER=root: unconfined
QEMUCTL_USER=root qc start v1
qpid=$(qc --json info v1 | field qemu_pid)
assert_eq "$(status Uid)" "0 0 0 0" "QEMUCTL_USER=root: QEMU runs as root"
assert_match "$(QEMUCTL_USER=root qc doctor | grep qemu-user)" "^warn +qemu-user +QEMU runs as uid 0 \(QEMUCTL_USER says so" "doctor warns about an unconfined QEMU"
qc destroy v1

# kernels: one in a directory the user cannot enter works (inherited fd), an unreadable one is refused
mkdir -m 0700 "$SCRATCH/private"
cp "$GUEST_KERNEL" "$SCRATCH/private/kernel"
chmod 0644 "$SCRATCH/private/kernel"
qc create v2 --kernel "$SCRATCH/private/kernel" --no-seed --net none --memory 128M >/dev/null
qc start v2
qpid=$(qc --json info v2 | field qemu_pid)
assert_eq "$(status Uid)" "$uid $uid $uid $uid" "a kernel in a 0700 dir: QEMU runs as $tu"
qc destroy v2
chmod 0600 "$SCRATCH/private/kernel"
expect_fail 1 "^qemuctl: error: VM 'v2': kernel '$SCRATCH/private/kernel': user '$tu' \(uid $uid\) that QEMU runs as cannot read it; make the file readable by that user \(chmod o\+r $SCRATCH/private/kernel\), or set QEMUCTL_USER=root to run QEMU unconfined: Permission denied$" \
	qc start v2
# a share in a directory that user cannot enter is refused before QEMU runs
mkdir "$SCRATCH/private/share"
qc create v3 --kernel "$GUEST_KERNEL" --no-seed --net none --memory 128M \
	--share "$SCRATCH/private/share:priv" >/dev/null
expect_fail 1 "^qemuctl: error: VM 'v3': share '$SCRATCH/private/share': user '$tu' \(uid $uid\) that QEMU runs as cannot open it for reading; give it access \(the file readable by that user, every directory above it searchable: chmod o\+x\), or set QEMUCTL_USER=root to run QEMU unconfined: Permission denied$" \
	qc start v3
# a root that is not root's is not used at all (nor changed): the error says so
chown 65534 "$ROOT"
chmod 0700 "$ROOT"
expect_fail 1 "^qemuctl: error: state root '$ROOT' is owned by uid 65534, not you \(uid 0\): use a state root of your own" \
	qc start v2
chown 0 "$ROOT"
chmod 0711 "$ROOT"
expect_fail 1 "QEMUCTL_USER 'Bad!' is not a valid user name" env QEMUCTL_USER='Bad!' "$QC" --root "$ROOT" start v2
[ -z "$(pgrep -u "$uid")" ] || fail "processes of $tu left: $(pgrep -a -u "$uid")"
ok "no process of $tu left"
