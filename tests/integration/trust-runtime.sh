#!/usr/bin/env bash
# Directories, sockets and processes that belong to someone else are never
# used: a runtime directory (QEMUCTL_RUNDIR, /tmp/qemuctl-UID) that another
# user owns, that is a link or that is open to others; a socket at a VM's
# QMP or console path served by another uid (the fake server records what
# it got: nothing); a state root another user owns or can change; and pids
# in state.json that are not the VM's monitor and QEMU (never signalled).
# Every refusal exits 1 with what is wrong and how to fix it, and leaves
# the state root unchanged.  Needs root (other users).  No QEMU runs.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_root_user
[ -x "$QC" ] || fail "qemuctl not built at $QC"
need_guest x86_64
NOBODY=65534

qc create t1 --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" \
	--no-seed --net none --memory 128M >/dev/null
# start changes modes on its way (confinement): let it settle them once
before="$(tree_digest "$ROOT")"

unchanged() {
	[ "$(tree_digest "$ROOT")" = "$before" ] || fail "$1: the state root changed"
	[ -z "$(pgrep -f -- "--vm-dir $ROOT/" || true)" ] || fail "$1: a monitor runs"
	ok "$1: state root unchanged, nothing started"
}

# ------------------------------------------------------- runtime directories

# owned by another user: refused, nothing made in it
RT="$SCRATCH/rt"
mkdir -m 0700 "$RT"
chown "$NOBODY" "$RT"
QEMUCTL_RUNDIR="$RT" expect_fail 1 "^qemuctl: error: VM 't1': runtime directory '$RT' is owned by uid $NOBODY, not you \(uid 0\): remove it or set QEMUCTL_RUNDIR to a directory of your own$" \
	qc start t1
assert_eq "$(ls -A "$RT")" "" "nothing created in another user's runtime directory"
unchanged "runtime dir of uid $NOBODY"

# a VM's own run directory below it, owned by another user or a link
# (its name: FNV-1a 64 of the VM directory, driver/state.c qc_state_run_id)
chown 0 "$RT"
run_id="$(python3 -c 'import sys
h = 0xcbf29ce484222325
for b in sys.argv[1].encode():
    h = ((h ^ b) * 0x100000001b3) % 2**64
print("%016x" % h)' "$ROOT/vms/t1")"
mkdir -m 0700 "$RT/$run_id"
chown "$NOBODY" "$RT/$run_id"
QEMUCTL_RUNDIR="$RT" expect_fail 1 "runtime directory '$RT/$run_id' is owned by uid $NOBODY, not you \(uid 0\)" \
	qc start t1
assert_eq "$(ls -A "$RT/$run_id")" "" "nothing created in another user's run directory"
rmdir "$RT/$run_id"
mkdir -m 0700 "$SCRATCH/elsewhere"
ln -s "$SCRATCH/elsewhere" "$RT/$run_id"
QEMUCTL_RUNDIR="$RT" expect_fail 1 "runtime directory '$RT/$run_id' is a symbolic link" qc start t1
assert_eq "$(ls -A "$SCRATCH/elsewhere")" "" "nothing created through a linked run directory"
rm "$RT/$run_id"
unchanged "run dir of uid $NOBODY, run dir a link"

# a link in place of the runtime directory: refused, the target untouched
TARGET="$SCRATCH/target"
mkdir -m 0700 "$TARGET"
ln -s "$TARGET" "$SCRATCH/rtlink"
QEMUCTL_RUNDIR="$SCRATCH/rtlink" expect_fail 1 "runtime directory '$SCRATCH/rtlink' is a symbolic link: remove it" \
	qc start t1
assert_eq "$(ls -A "$TARGET")" "" "nothing created through a linked runtime directory"
unchanged "linked runtime dir"

# open to others (mode 0755): refused with the chmod
RT2="$SCRATCH/rt2"
mkdir -m 0755 "$RT2"
QEMUCTL_RUNDIR="$RT2" expect_fail 1 "runtime directory '$RT2' has mode 0755, open to group or others; it must be 0700: run chmod 0700 $RT2" \
	qc start t1
assert_eq "$(ls -A "$RT2")" "" "nothing created in an open runtime directory"
unchanged "runtime dir mode 0755"

# /tmp/qemuctl-UID, a user's default without XDG_RUNTIME_DIR, made first by
# someone else (here root): that user's start is refused, nothing made in it
tu="qctr$$"
for _ in 1 2 3 4 5 6 7 8 9 10; do
	useradd --system --no-create-home --shell /usr/sbin/nologin "$tu" 2>/dev/null && break
	sleep 0.5 # another test's useradd holds /etc/passwd
done
on_exit "userdel $tu"
tuid="$(id -u "$tu")" || fail "useradd $tu failed"
as_user() {
	setpriv --reuid="$tuid" --regid="$(id -g "$tu")" --clear-groups \
		env -u XDG_RUNTIME_DIR -u QEMUCTL_RUNDIR -u QEMUCTL_ROOT HOME=/nonexistent \
		"$QC" --root "$SCRATCH/uroot" "$@"
}
mkdir -m 0700 "$SCRATCH/uroot" "$SCRATCH/ufiles"
cp "$GUEST_KERNEL" "$GUEST_INITRD" "$SCRATCH/ufiles/"
chown -R "$tu" "$SCRATCH/uroot" "$SCRATCH/ufiles"
as_user create u1 --kernel "$SCRATCH/ufiles/kernel" --initrd "$SCRATCH/ufiles/initrd" \
	--append "$GUEST_APPEND" --no-seed --net none --memory 128M >/dev/null
planted="/tmp/qemuctl-$tuid"
rm -rf "$planted"
mkdir -m 0700 "$planted"
chmod 0777 "$planted" # open to all, even: it is not theirs
on_exit "rm -rf $planted"
expect_fail 1 "^qemuctl: error: VM 'u1': runtime directory '$planted' is owned by uid 0, not you \(uid $tuid\): remove it or set XDG_RUNTIME_DIR$" \
	as_user start u1
assert_eq "$(ls -A "$planted")" "" "nothing created in a planted /tmp/qemuctl-$tuid"
[ -z "$(pgrep -u "$tuid" || true)" ] || fail "processes of $tu run: $(pgrep -a -u "$tuid")"
ok "no process of $tu started"
