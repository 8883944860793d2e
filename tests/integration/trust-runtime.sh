#!/usr/bin/env bash
# Directories, sockets and processes that belong to someone else are never
# used: a runtime directory (QEMUCTL_RUNDIR, /tmp/qemuctl-UID) that another
# user owns, that is a link or that is open to others; a socket at a VM's
# QMP or console path served by another uid (the fake server records what
# it got: nothing); a state root another user owns or can change; and pids
# in state.json that are not the VM's monitor and QEMU (never signalled).
# Every refusal exits 1 with what is wrong and how to fix it, and leaves
# the state root unchanged.  Needs root (other users).  One QEMU runs: a
# plain user's VM, once its runtime directory is its own.
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
tuid="$(id -u "$tu")" || fail "useradd $tu failed"
on_exit "pgrep -u $tuid | xargs -r kill -9; sleep 0.3; userdel $tu"
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
# once it is gone, the user's start makes its own (0700) and the VM works
rm -rf "$planted"
as_user start u1
assert_eq "$(stat -c '%u %a' "$planted")" "$tuid 700" "/tmp/qemuctl-$tuid made by its user, 0700"
assert_match "$(as_user qmp u1 '{"execute": "query-status"}')" '"running": ?true' \
	"QMP works through the user's own runtime directory"
as_user destroy u1
wait_until 10 sh -c "! pgrep -u $tuid"
ok "destroyed, no process of $tu left"

# ------------------------------------------------------------- state roots

# another user's root (sudo qemuctl --root ~user/.local/share/qemuctl):
# refused by every command, and left as it was
OR="$SCRATCH/other-root"
cp -a "$ROOT" "$OR"
chown -R "$NOBODY" "$OR"
ob="$(tree_digest "$OR")"
for cmd in list "info t1" "start t1" "delete --force t1" "define $OR/vms/t1/domain.xml" \
	"create x --kernel $GUEST_KERNEL --no-seed --net none"; do
	# shellcheck disable=SC2086
	expect_fail 1 "^qemuctl: error: state root '$OR' is owned by uid $NOBODY, not you \(uid 0\): use a state root of your own \(--root DIR or QEMUCTL_ROOT\)$" \
		"$QC" --root "$OR" $cmd
done
[ "$(tree_digest "$OR")" = "$ob" ] || fail "another user's state root changed"
ok "another user's state root unchanged"

# a directory above the root that another user can write (not sticky), or owns
mkdir -m 0777 "$SCRATCH/open"
chmod 0777 "$SCRATCH/open"
mkdir -m 0700 "$SCRATCH/open/root"
expect_fail 1 "^qemuctl: error: state root '$SCRATCH/open/root': directory '$SCRATCH/open' on its path is writable by group or others \(mode 0777\), who could replace what is in it: run chmod go-w $SCRATCH/open, or use a state root of your own" \
	"$QC" --root "$SCRATCH/open/root" create x --kernel "$GUEST_KERNEL" --no-seed --net none
assert_eq "$(ls -A "$SCRATCH/open/root")" "" "nothing written below a writable parent"
# ... also through a link and "..", and for a root not made yet
ln -s "$SCRATCH/open" "$SCRATCH/openlink"
expect_fail 1 "directory '$SCRATCH/open' on its path is writable by group or others" \
	"$QC" --root "$SCRATCH/openlink/root" list
expect_fail 1 "directory '$SCRATCH/open' on its path is writable by group or others" \
	"$QC" --root "$SCRATCH/open/root/../root/" list
expect_fail 1 "^qemuctl: error: state root '$SCRATCH/open/new': directory '$SCRATCH/open' on its path is writable" \
	"$QC" --root "$SCRATCH/open/new" list
assert_no_file "$SCRATCH/open/new"
mkdir -m 0755 "$SCRATCH/theirs"
chown "$NOBODY" "$SCRATCH/theirs"
expect_fail 1 "^qemuctl: error: state root '$SCRATCH/theirs/new': directory '$SCRATCH/theirs' on its path is owned by uid $NOBODY, neither you \(uid 0\) nor root" \
	"$QC" --root "$SCRATCH/theirs/new" create x --kernel "$GUEST_KERNEL" --no-seed --net none
assert_no_file "$SCRATCH/theirs/new"

# in a sticky directory (like /tmp): another user's directory there is
# refused; a root not made yet is made at once (ours, 0700), so nobody can
# slip one in before the first create
mkdir -m 1777 "$SCRATCH/sticky"
chmod 1777 "$SCRATCH/sticky"
mkdir -m 0700 "$SCRATCH/sticky/r"
chown "$NOBODY" "$SCRATCH/sticky/r"
expect_fail 1 "state root '$SCRATCH/sticky/r' is owned by uid $NOBODY, not you" \
	"$QC" --root "$SCRATCH/sticky/r" list
"$QC" --root "$SCRATCH/sticky/mine" list >/dev/null
assert_eq "$(stat -c '%u %a' "$SCRATCH/sticky/mine")" "0 700" "a new root in a sticky dir: made at once, ours, 0700"
# the root itself a link: refused
ln -s "$ROOT" "$SCRATCH/rootlink"
expect_fail 1 "^qemuctl: error: state root '$SCRATCH/rootlink' is a symbolic link" \
	"$QC" --root "$SCRATCH/rootlink" list
# and the usual one: mktemp -d under /tmp (root-owned, sticky), 0711
qc list >/dev/null
ok "a mktemp -d root under /tmp is used"

# --------------------------------------------------------- sockets and pids

# t1 "runs": its monitor.lock is held (flock; its child sleep keeps the
# lock file open, as a monitor does) and state.json names a run directory
# of ours, where a fake server of uid $NOBODY listens on qmp.sock and
# console.sock (bound as root, listening after the drop: SO_PEERCRED says
# $NOBODY), greets like QEMU and records every byte it receives.
FAKE="$SCRATCH/fake"
mkdir -m 0700 "$FAKE"
python3 - "$FAKE" "$SCRATCH/received" >"$SCRATCH/fake.out" 2>&1 <<'EOP' &
import os, select, socket, sys
d, log = sys.argv[1], sys.argv[2]
rec = open(log, "ab", buffering=0)
lst = {}
for name in ("qmp.sock", "console.sock"):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(os.path.join(d, name))
    lst[s] = name
os.setgroups([])
os.setgid(65534)
os.setuid(65534)
for s in lst:
    s.listen(8)
print("ready", flush=True)
conns = {}
while True:
    r, _, _ = select.select(list(lst) + list(conns), [], [])
    for x in r:
        if x in lst:
            c, _ = x.accept()
            conns[c] = lst[x]
            if lst[x] == "qmp.sock":
                try:  # a refusing client has hung up already
                    c.sendall(b'{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, '
                              b'"major": 7}, "package": ""}, "capabilities": []}}\r\n')
                except OSError:
                    pass
            continue
        try:
            data = x.recv(4096)
        except OSError:
            data = b""
        if data:
            rec.write(conns[x].encode() + b": " + data)
        else:
            del conns[x]
            x.close()
EOP
fake=$!
on_exit "kill $fake 2>/dev/null"
wait_for_text "$SCRATCH/fake.out" '^ready' 10
flock -x "$ROOT/vms/t1/monitor.lock" sleep 600 &
holder=$!
on_exit "kill $holder 2>/dev/null"
wait_until 10 pgrep -P "$holder" sleep
lock_pid="$(pgrep -P "$holder" sleep)"
sleep 600 &
victim=$!
on_exit "kill $victim 2>/dev/null"
# state_json MONITOR_PID QEMU_PID: a running state.json with these pids
state_json() {
	printf '{"running": true, "boot_id": "%s", "monitor_pid": %d, "qemu_pid": %d, "started_at_ms": 1, "run_dir": "%s", "ports": [], "last_exit": null, "ready": null}\n' \
		"$(cat /proc/sys/kernel/random/boot_id)" "$1" "$2" "$FAKE" >"$ROOT/vms/t1/state.json"
}
state_json "$lock_pid" "$victim"
before="$(tree_digest "$ROOT")"
SERVED="is served by uid $NOBODY \(pid [0-9]+\), not by you \(uid 0\)"
expect_fail 1 "^qemuctl: error: VM 't1': QMP socket '$FAKE/qmp.sock' $SERVED" \
	qc qmp t1 '{"execute": "query-status"}'
expect_fail 1 "QMP socket '$FAKE/qmp.sock' $SERVED" qc pause t1
expect_fail 1 "QMP socket '$FAKE/qmp.sock' $SERVED" qc reboot t1
expect_fail 1 "^qemuctl: error: VM 't1': console socket '$FAKE/console.sock' $SERVED" \
	sh -c "echo keystrokes | '$QC' --root '$ROOT' console t1"
qc info t1 >/dev/null
ok "info still answers (the live query is skipped)"
# stop and destroy fall back to SIGKILL: never to a pid that is not the
# VM's QEMU (the victim is not a child of the process holding the lock)
expect_fail 1 "^qemuctl: error: VM 't1': pid $victim in state.json is not a QEMU started by this VM's monitor \(pid $lock_pid\): not signalling it" \
	qc destroy t1
expect_fail 1 "pid $victim in state.json is not a QEMU started by this VM's monitor" qc stop t1
kill -0 "$victim" || fail "destroy/stop signalled pid $victim, which is not QEMU"
ok "the unrelated process $victim is alive"
[ "$(tree_digest "$ROOT")" = "$before" ] || fail "the state root changed"
ok "state root unchanged by the refused socket and pid operations"
# neither pid is this VM's: the monitor pid does not hold monitor.lock
state_json "$victim" "$victim"
before="$(tree_digest "$ROOT")"
expect_fail 1 "pid $victim in state.json is not a QEMU started by this VM's monitor \(pid $victim\)" \
	qc destroy t1
expect_fail 1 "pid $victim in state.json is not a QEMU" qc delete --force t1
kill -0 "$victim" || fail "destroy/delete signalled pid $victim"
kill -0 "$lock_pid" || fail "the lock holder was signalled"
ok "neither the unrelated process nor the lock holder was signalled"
assert_eq "$(cat "$SCRATCH/received")" "" "the fake server received nothing"
[ "$(tree_digest "$ROOT")" = "$before" ] || fail "the state root changed"
ok "state root unchanged by the refused pid operations"
kill "$holder" "$lock_pid" 2>/dev/null || true
