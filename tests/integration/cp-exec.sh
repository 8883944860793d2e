#!/bin/bash
# `qemuctl cp` and `qemuctl exec` against a real sshd in the tiny guest
# (lib.sh's guest_sshd_*: dropbear and sftp-server copied in over 9p):
#   - bad input first: no VM side, two VM sides, two VMs among the sources,
#     an unknown VM, a missing or directory source without -r, exec without
#     a command; the stopped VM, then the paused one (naming start / resume)
#   - cp: a file whose name holds blanks, quotes, $, * and [ ] up and back;
#     a host path holding ':' stays a host path; a tree with -r up and back
#     (diff -r); a missing guest source fails with scp's message
#   - exec: exit codes 0, 3, 127 (no such command); words reach the guest as
#     given ('a b', '$HOME', quotes); stdin, stdout and stderr pass through;
#     a dead sshd: 255 and qemuctl says the connection failed
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

guest_sshd_setup
# root in the guest stops dropbear when the test asks (the share's stop-sshd)
# and says so once nothing listens on port 22.  The script runs under set -e:
# a connection's dropbear that exits between pidof and kill makes kill fail,
# which must not end the loop before it says SSHD-DOWN.
cat >>"$SCRATCH/user-data" <<'EOF'
( while [ ! -e $S/stop-sshd ]; do sleep 0.2; done; kill $(pidof dropbear) 2>/dev/null || :
  while grep -Eq ':0016 0+:0000 0A' /proc/net/tcp /proc/net/tcp6 2>/dev/null; do sleep 0.1; done
  echo SSHD-DOWN ) &
EOF

g=(--kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND")
qc create c1 "${g[@]}" --memory 256M --user tester --user-data "$SCRATCH/user-data" \
	--share "$share:qcssh" >/dev/null
vm="$ROOT/vms/c1"
guest_sshd_host_key "$vm" "$share"
echo "hello" >"$SCRATCH/f"
mkdir -p "$SCRATCH/d"

# ---- bad input: usage errors (2), nothing copied ----------------------------------
expect_fail 2 "^qemuctl: error: cp: neither '$SCRATCH/f' nor '$SCRATCH/g' names a VM; write the guest's side as NAME:PATH" \
	qc cp "$SCRATCH/f" "$SCRATCH/g"
expect_fail 2 "^qemuctl: error: cp: both 'c1:/a' and 'c1:/b' name a VM; one side must be on this host" \
	qc cp c1:/a c1:/b
expect_fail 2 "^qemuctl: error: cp: the sources name two VMs, 'c1' and 'c2'" qc cp c1:/a c2:/b "$SCRATCH/"
expect_fail 2 "^qemuctl: error: cp: needs a source and a destination" qc cp c1:/a
expect_fail 2 "^qemuctl: error: cp: unknown option '-x' \(a path beginning with '-' goes after --\)" \
	qc cp -x "$SCRATCH/f" c1:/tmp/
expect_fail 2 "^qemuctl: error: exec: missing CMD" qc exec c1
expect_fail 2 "^qemuctl: error: exec: missing CMD" qc exec c1 --
expect_fail 2 "missing NAME" qc exec
assert_no_file "$SCRATCH/g"
# errors (1): an unknown VM, a missing source, a directory without -r
expect_fail 1 "^qemuctl: error: VM 'nosuch' does not exist" qc cp "$SCRATCH/f" nosuch:/tmp/
expect_fail 1 "^qemuctl: error: VM 'nosuch' does not exist" qc cp nosuch:/etc/hostname "$SCRATCH/g"
expect_fail 1 "^qemuctl: error: VM 'nosuch' does not exist" qc exec nosuch -- true
expect_fail 1 "^qemuctl: error: cp: source '$SCRATCH/missing': No such file or directory" \
	qc cp "$SCRATCH/missing" c1:/tmp/
expect_fail 1 "^qemuctl: error: cp: source '$SCRATCH/d' \(copy a directory with -r\): Is a directory" \
	qc cp "$SCRATCH/d" c1:/tmp/
# stopped, then paused: the state's error at once
expect_fail 1 "^qemuctl: error: VM 'c1' is not running; start it with 'qemuctl start c1'" qc cp "$SCRATCH/f" c1:/tmp/
expect_fail 1 "^qemuctl: error: VM 'c1' is not running; start it with 'qemuctl start c1'" qc exec c1 -- true
qc start c1 --paused
expect_fail 1 "^qemuctl: error: VM 'c1' is paused: its guest cannot answer ssh; resume it with 'qemuctl resume c1'" \
	qc cp c1:/etc/hostname "$SCRATCH/g"
expect_fail 1 "^qemuctl: error: VM 'c1' is paused: its guest cannot answer ssh; resume it with 'qemuctl resume c1'" \
	qc exec c1 -- true
assert_no_file "$SCRATCH/g"
qc resume c1
wait_for_text "$vm/console.log" '^SSHD-UP user=tester key=yes' 120

# ---- exec: exit codes, quoting, stdio -------------------------------------------------
rc=0; qc exec c1 -- true </dev/null || rc=$?
assert_eq "$rc" 0 "exec true: 0"
rc=0; qc exec c1 -- sh -c 'exit 3' </dev/null || rc=$?
assert_eq "$rc" 3 "exec sh -c 'exit 3': 3"
rc=0; qc exec c1 -- no-such-command-here </dev/null 2>"$SCRATCH/127.err" || rc=$?
assert_eq "$rc" 127 "exec of a missing command: 127"
assert_match "$(cat "$SCRATCH/127.err")" "no-such-command-here" "the guest shell says which command"
assert_eq "$(qc exec c1 -- echo 'a b' '$HOME' </dev/null)" 'a b $HOME' "words reach the guest as given"
assert_eq "$(qc exec c1 echo "it's" '"q"' '`id`' '; true' </dev/null)" "it's \"q\" \`id\` ; true" \
	"quotes, backquotes and ; are not the guest shell's (no --)"
assert_eq "$(qc exec c1 -- id -un </dev/null)" tester "exec runs as the VM's user"
assert_eq "$(echo hi | qc exec c1 -- cat)" hi "stdin passes through"
qc exec c1 -- sh -c 'echo out; echo err >&2' </dev/null >"$SCRATCH/o" 2>"$SCRATCH/e"
assert_eq "$(cat "$SCRATCH/o"):$(cat "$SCRATCH/e")" "out:err" "stdout and stderr stay apart"

# ---- cp: a hostile file name both ways ------------------------------------------------
name='a b '\''q'\'' $HOME *x [1].txt'
echo "up-$$" >"$SCRATCH/$name"
qc cp "$SCRATCH/$name" c1:/tmp/ </dev/null
assert_eq "$(qc exec c1 -- cat "/tmp/$name" </dev/null)" "up-$$" "cp up: a file named \"$name\""
qc exec c1 -- sh -c 'echo decoy >"/tmp/a b '\''q'\'' \$HOME Zx 1.txt"' </dev/null
mkdir "$SCRATCH/down"
qc cp "c1:/tmp/$name" "$SCRATCH/down/" </dev/null
assert_eq "$(ls "$SCRATCH/down")" "$name" "cp down: that one file, no glob matched the decoy"
assert_eq "$(cat "$SCRATCH/down/$name")" "up-$$" "cp down: its content"
# to a new name in the guest's home (relative), and back to a host path with ':'
qc cp "$SCRATCH/f" "c1:new name" </dev/null
assert_eq "$(qc exec c1 -- cat "/home/tester/new name" </dev/null)" hello "a relative guest path is in the home"
(cd "$SCRATCH" && "$QC" --root "$ROOT" cp "c1:new name" ./x:y </dev/null)
assert_eq "$(cat "$SCRATCH/x:y")" hello "./x:y is a host path, not a VM x"
# a missing guest source: scp's message, then qemuctl's
expect_fail 1 "^qemuctl: error: cp: scp exited 1 \(its message is above\)" qc cp c1:/tmp/nonexistent "$SCRATCH/g"
assert_no_file "$SCRATCH/g"

# ---- cp -r: a tree both ways ----------------------------------------------------------
mkdir -p "$SCRATCH/tree/sub dir/deep"
echo one >"$SCRATCH/tree/sub dir/f 1"
echo two >"$SCRATCH/tree/sub dir/deep/\$x"
head -c 100000 /dev/urandom >"$SCRATCH/tree/blob"
qc cp -r "$SCRATCH/tree" "c1:/tmp/t up" </dev/null
assert_eq "$(qc exec c1 -- cat "/tmp/t up/sub dir/deep/\$x" </dev/null)" two "cp -r up: the tree is there"
qc cp -r "c1:/tmp/t up" "$SCRATCH/back" </dev/null
diff -r "$SCRATCH/tree" "$SCRATCH/back" || fail "cp -r round trip differs"
ok "cp -r: a tree with blanks and \$ in names up and back (diff -r)"

# ---- a dead sshd: ssh's 255, said as such ----------------------------------------------
touch "$share/stop-sshd"
wait_for_text "$vm/console.log" '^SSHD-DOWN' 60
rc=0; qc exec c1 -- true </dev/null 2>"$SCRATCH/255.err" || rc=$?
assert_eq "$rc" 255 "exec with no sshd: ssh's 255"
assert_match "$(cat "$SCRATCH/255.err")" "^qemuctl: error: exec: ssh exited 255: the connection to VM 'c1' failed" \
	"exec says the connection failed"
expect_fail 1 "^qemuctl: error: cp: scp exited 255: the connection to the VM failed" qc cp "$SCRATCH/f" c1:/tmp/

qc destroy c1 >/dev/null
qc delete c1 >/dev/null
