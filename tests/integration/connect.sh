#!/bin/bash
# --connect ssh://USER@127.0.0.1:PORT/ROOT: every command group run on
# "another host" (this one, through a real sshd of the test's own on a
# loopback port of a private netns, a second state root as ROOT), compared
# with the same command run there directly: output, --json and exit codes
# equal; files named with relative paths are sent (the remote side runs
# in another directory); console through a terminal, Ctrl-] detaching;
# log --follow ending with its client; and each connection error with its
# own exit code and text.
# shellcheck source=tests/integration/netns.sh
. "$(dirname "$0")/netns.sh"
in_private_netns x86_64
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64
guest_sshd_setup # the guest's own sshd, for `qemuctl ssh` (lib.sh)
sshd_start

# the user's ssh: the test's key, the sshd's host key pinned (T_KNOWN and
# T_KEY change them for the error cases)
orig_path=$PATH
sshd_client_ssh
# the remote qemuctl: this build's (ssh gives it a fresh environment)
cat >"$SCRATCH/remote-qemuctl" <<EOF
#!/bin/sh
QEMUCTL_MONITOR="$QEMUCTL_MONITOR" exec "$QC" "\$@"
EOF
chmod +x "$SCRATCH/remote-qemuctl"
export QEMUCTL_REMOTE="$SCRATCH/remote-qemuctl"
R="$ROOT/remote"
mkdir -m 0711 "$R"
URL="ssh://$(id -un)@127.0.0.1:$SSHD_PORT$R"
rq() { "$QC" --connect "$URL" "$@"; } # through ssh
# the same command on the remote root, with ssh as sshd gives it (`qemuctl ssh NAME`)
there() { PATH=$orig_path "$QC" --root "$R" "$@"; }

# the client's files live here, named relatively: the remote side runs in
# ssh's login directory, so a command there that opened them by path would fail
mkdir "$SCRATCH/local"
cd "$SCRATCH/local"
cp "$SCRATCH/user-data" ud.sh
cat >>ud.sh <<'SH'
# every key of the seed (qemuctl's and --ssh-key's), not only the first
sed -n '/^ssh_authorized_keys:/,/^[a-z]/p' $vd | grep -o 'ssh-ed25519 [A-Za-z0-9+/=]*' >/home/$u/.ssh/authorized_keys
echo "CONNECT-USERDATA $((6 * 7))"
SH
ssh-keygen -q -t ed25519 -N '' -f vmkey
[ ! -e "$HOME/ud.sh" ] || fail "$HOME/ud.sh exists: the relative-path check would prove nothing"
tmp_before=$(ls -d /tmp/qemuctl-connect.* 2>/dev/null || true)

# --- create (files sent), list, info -----------------------------------------
rq create t1 --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND" \
	--memory 256M --user-data ud.sh --ssh-key vmkey.pub --share "$share:qcssh" >"$SCRATCH/create.out"
guest_sshd_host_key "$R/vms/t1" "$share"
assert_file "$R/vms/t1/domain.xml"
assert_no_file "$ROOT/vms/t1"
ok "create --user-data ud.sh --ssh-key vmkey.pub through --connect made t1 on the remote root"
assert_eq "$(ls -d /tmp/qemuctl-connect.* 2>/dev/null || true)" "$tmp_before" "no temporary files left on the remote side"
assert_eq "$(rq --json list)" "$(there --json list)" "list --json through --connect equals the remote's own"
assert_eq "$(rq list)" "$(there list)" "list through --connect equals the remote's own"
assert_eq "$(rq info t1)" "$(there info t1)" "info equal"

# define from a local file
there create tmpl --kernel "$GUEST_KERNEL" --no-seed --memory 256M >/dev/null
there dumpxml tmpl | sed -e 's|<name>tmpl</name>|<name>t2</name>|' -e '/<uuid>/d' >t2.xml
there undefine tmpl >/dev/null
rq define t2.xml >/dev/null
assert_match "$(there list)" '^t2 ' "define t2.xml (a relative local path) defined t2 remotely"
rq undefine t2 >/dev/null
assert_no_file "$R/vms/t2"

# --- start, wait, log, console -------------------------------------------------
rq start t1
rq wait t1 --timeout 120 >"$SCRATCH/wait.out"
ok "start and wait through --connect"
grep -q 'CONNECT-USERDATA 42' "$R/vms/t1/console.log" || fail "the guest did not run the sent user-data"
ok "the guest ran the user-data file sent from the client"
assert_eq "$(rq log t1 | md5sum)" "$(there log t1 | md5sum)" "log equal"
"$QC" --connect "$URL" log t1 --follow >"$SCRATCH/follow.out" 2>&1 &
follow_pid=$!
wait_for_text "$SCRATCH/follow.out" '^GUEST-READY' 30
kill "$follow_pid"
wait "$follow_pid" 2>/dev/null || true
gone() { ! pgrep -f -- "--root $R log t1 --follow" >/dev/null; }
wait_until 10 gone
ok "log --follow streams, and its remote command ends with the client"
rq events t1 >"$SCRATCH/events.out"
assert_match "$(cat "$SCRATCH/events.out")" 'RESUME' "events through --connect"

# console on a terminal: raw mode passthrough, Ctrl-] detaches
python3 - "$QC" --connect "$URL" console t1 >"$SCRATCH/console.out" <<'EOP'
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
def until(text, secs):
    global out
    end = time.time() + secs
    while text not in out:
        if time.time() > end:
            sys.stdout.write("TIMEOUT waiting for %r in %r\n" % (text, out))
            sys.exit(1)
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        out += d
until(b"Connected to VM", 20)
time.sleep(0.5)
os.write(fd, b"echo CON$((6*7))\r")
until(b"CON42", 30)
os.write(fd, b"\x1d")
until(b"Detached from VM", 20)
_, st = os.waitpid(pid, 0)
sys.stdout.write("EXIT %d\n" % os.waitstatus_to_exitcode(st))
EOP
assert_match "$(cat "$SCRATCH/console.out")" '^EXIT 0$' "console through --connect on a terminal: typed, answered, Ctrl-] detached"

# ssh NAME: without a terminal, and with one (a pty on the remote side)
grep -q '^SSHD-UP user=' "$R/vms/t1/console.log" || fail "the guest's sshd did not start"
who=$(there ssh t1 -- id -un </dev/null)
[ -n "$who" ] || fail "ssh into the guest does not work here: nothing to compare"
assert_eq "$(rq ssh t1 -- id -un </dev/null)" "$who" "ssh NAME -- CMD through --connect"
rc1=0 rc2=0
rq ssh t1 -- exit 3 </dev/null || rc1=$?
there ssh t1 -- exit 3 </dev/null || rc2=$?
assert_eq "$rc1 $rc2" "3 3" "ssh NAME -- exit 3: the guest command's exit code"
on_pty "$SCRATCH/ssh-pty.out" "$QC" --connect "$URL" ssh t1 -t -- tty
assert_match "$(cat "$SCRATCH/ssh-pty.out")" '^/dev/pts/[0-9]+<NL>' "ssh NAME on a terminal: the guest command has a terminal"
assert_eq "$(tail -n1 "$SCRATCH/ssh-pty.out")" 0 "ssh NAME on a terminal: exit 0"

# --- exit codes and errors are the remote command's ----------------------------
for cmd in "info nosuch" "start" "stop nosuch" "create t1 --memory 1"; do
	rc1=0 rc2=0
	# shellcheck disable=SC2086
	rq $cmd >"$SCRATCH/o1" 2>"$SCRATCH/e1" || rc1=$?
	# shellcheck disable=SC2086
	there $cmd >"$SCRATCH/o2" 2>"$SCRATCH/e2" || rc2=$?
	[ "$rc1" -ne 0 ] || fail "'$cmd' succeeded"
	assert_eq "$rc1 $(cat "$SCRATCH/e1")" "$rc2 $(cat "$SCRATCH/e2")" "'$cmd': exit code and stderr equal"
done
rc1=0
rq --json info nosuch 2>"$SCRATCH/e1" || rc1=$?
assert_match "$rc1 $(cat "$SCRATCH/e1")" '^1 \{"error":' "--json errors come through as the remote prints them"
# a file the command writes comes back when it succeeds, and only then
rc1=0 rc2=0
rq screenshot t1 shot.png 2>"$SCRATCH/e1" || rc1=$?
there screenshot t1 "$SCRATCH/shot.png" 2>"$SCRATCH/e2" || rc2=$?
assert_eq "$rc1 $(cat "$SCRATCH/e1")" "$rc2 $(cat "$SCRATCH/e2")" "screenshot of a VM without a display: the remote's error"
assert_no_file shot.png
expect_fail 2 "not a regular file" rq define /dev/null
expect_fail 2 "--root names a local state root" "$QC" --root "$R" --connect "$URL" list

# image import of a local file (a relative path)
qemu-img create -q -f qcow2 disk.qcow2 16M
rq image import small disk.qcow2 >/dev/null
assert_match "$(there image list)" '^small ' "image import disk.qcow2 through --connect"
rq seed build out.iso --hostname h1 --user-data ud.sh --no-default-keys >/dev/null
assert_eq "$(dd if=out.iso bs=1 skip=32769 count=5 status=none)" "CD001" "seed build out.iso: the ISO the remote side wrote came back"
assert_eq "$(stat -c %a out.iso)" "$(printf '%o' $((0666 & ~0$(umask))))" "the file that came back has the mode this umask gives"
there seed build "$SCRATCH/there.iso" --hostname h1 --user-data ud.sh --no-default-keys >/dev/null
cmp out.iso "$SCRATCH/there.iso" || fail "the ISO that came back differs from one built there"
ok "it is the ISO the remote command builds, byte for byte"
cp out.iso before.iso
rc=0
rq seed build out.iso --hostname 'bad_host!' --no-default-keys 2>/dev/null || rc=$?
[ "$rc" -ne 0 ] || fail "seed build --hostname 'bad_host!' succeeded"
cmp out.iso before.iso || fail "a failed seed build changed the local file"
assert_eq "$(ls out.iso.qemuctl-* 2>/dev/null || true)" "" "a failed command leaves the local file as it was, no temporary file"

# the connection lost mid-command: its own error, and the remote command ends
"$QC" --connect "$URL" log t1 --follow >"$SCRATCH/follow2.out" 2>"$SCRATCH/follow2.err" &
follow_pid=$!
wait_for_text "$SCRATCH/follow2.out" '^GUEST-READY' 30
ssh_pid=$(pgrep -P "$follow_pid" -x ssh)
kill "$ssh_pid"
rc=0
wait "$follow_pid" || rc=$?
assert_match "$rc $(cat "$SCRATCH/follow2.err")" '^255 .*the connection ended before the remote command did' "ssh killed mid-command: exit 255, said so"
wait_until 10 gone
ok "the remote log --follow ended with the connection"

# --- stop, delete --------------------------------------------------------------
rq stop t1 --timeout 60 >/dev/null
assert_match "$(there info t1)" 'State: +stopped' "stop through --connect"
rq delete t1 >/dev/null
assert_no_file "$R/vms/t1"
ok "delete through --connect"

# --- QEMUCTL_CONNECT -----------------------------------------------------------
assert_eq "$(QEMUCTL_CONNECT="$URL" "$QC" --json list)" "$(there --json list)" "QEMUCTL_CONNECT names the host"

# --- connection errors ---------------------------------------------------------
expect_fail 2 "user name must be" "$QC" --connect "ssh://-oProxyCommand=x@127.0.0.1/" list
expect_fail 2 "not an ssh:// address" "$QC" --connect "http://127.0.0.1" list
QEMUCTL_REMOTE=/nonexistent/qemuctl expect_fail 127 "'127.0.0.1' has no qemuctl" rq list
printf '#!/bin/sh\necho "qemuctl: error: unknown command %s" >&2\nexit 2\n' "'\$1'" >"$SCRATCH/old-qemuctl"
cat >"$SCRATCH/future-qemuctl" <<'PY'
#!/usr/bin/python3
import json, sys
d = json.dumps({"protocol": 99, "version": "99.0"}).encode()
sys.stdout.buffer.write(b"h" + len(d).to_bytes(4, "big") + d)
sys.stdout.flush()
sys.stdin.buffer.read()
PY
chmod +x "$SCRATCH/old-qemuctl" "$SCRATCH/future-qemuctl"
QEMUCTL_REMOTE="$SCRATCH/old-qemuctl" expect_fail 126 "does not speak the --connect protocol" rq list
QEMUCTL_REMOTE="$SCRATCH/future-qemuctl" expect_fail 126 "version 99.0\) speaks --connect protocol 99, this one .* speaks 1" rq list
expect_fail 2 "remote qemuctl 'qemuctl;id': give the absolute path" env QEMUCTL_REMOTE='qemuctl;id' "$QC" --connect "$URL" list
# a port nothing listens on: refused
closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
expect_fail 255 "Connection refused" "$QC" --connect "ssh://127.0.0.1:$closed/" list
grep -q "ssh could not log in to '127.0.0.1'" "$SCRATCH/err" || fail "no connect error after ssh's own message: $(cat "$SCRATCH/err")"
ssh-keygen -q -t ed25519 -N '' -f "$SCRATCH/otherkey"
T_KEY="$SCRATCH/otherkey" expect_fail 255 "Permission denied" rq list
grep -q "ssh could not log in" "$SCRATCH/err" || fail "no hint after ssh's own message: $(cat "$SCRATCH/err")"
ssh-keygen -q -t ed25519 -N '' -f "$SCRATCH/wronghost"
echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$SCRATCH/wronghost.pub")" >"$SCRATCH/wrong_known"
T_KNOWN="$SCRATCH/wrong_known" expect_fail 255 "HOST IDENTIFICATION HAS CHANGED" rq list
grep -q "refused the host key of '127.0.0.1'" "$SCRATCH/err" || fail "changed key: no host-key error: $(cat "$SCRATCH/err")"
T_KNOWN=/dev/null expect_fail 255 "Host key verification failed" rq list
grep -q "refused the host key of '127.0.0.1'" "$SCRATCH/err" || fail "unknown key: no host-key error: $(cat "$SCRATCH/err")"
ok "host key problems: ssh's own text, then the host-key error"
rc=0
"$QC" --json --connect "ssh://127.0.0.1:$closed/" list 2>"$SCRATCH/e1" || rc=$?
assert_match "$rc $(tail -n1 "$SCRATCH/e1")" '^255 \{"error":\{"code":"net"' "--json: the connection error as JSON"

# --- the server checks what the client sends ---------------------------------
# serve_raw PROTOCOL REQUEST [HEX]: frames straight to `qemuctl serve-stdio`
# (a hello, the request, then HEX as raw bytes; REQUEST BIG: a length over
# the limit); prints the server's frames, one per line: TYPE TEXT
serve_raw() {
	python3 - "$QC" "$@" <<'PY'
import json, subprocess, sys
def frame(t, b):
    return t.encode() + len(b).to_bytes(4, "big") + b
hello = json.dumps({"protocol": int(sys.argv[2]), "version": "0.1.0"}).encode()
req = b"r\xff\xff\xff\xff" if sys.argv[3] == "BIG" else frame("r", sys.argv[3].encode())
extra = bytes.fromhex(sys.argv[4]) if len(sys.argv) > 4 else b""
p = subprocess.run([sys.argv[1], "serve-stdio"], input=frame("h", hello) + req + extra,
                   stdout=subprocess.PIPE, timeout=30)
out, i = p.stdout, 0
while i + 5 <= len(out):
    n = int.from_bytes(out[i + 1:i + 5], "big")
    print(chr(out[i]), out[i + 5:i + 5 + n].decode(errors="replace"))
    i += 5 + n
PY
}
served() {
	local out
	out=$(serve_raw "${@:2}")
	assert_match "$out" "$1" "serve-stdio refuses: $1"
	! grep -q '^x ' <<<"$out" || fail "serve-stdio ran a command for a bad request: $out"
}
tmp_before=$(ls -d /tmp/qemuctl-connect.* 2>/dev/null || true)
served '^E this qemuctl .* speaks --connect protocol 1, the client \(version 0.1.0\) speaks 2' 2 '{}'
served "^E request: 'argv' must hold 1 to" 1 '{"argv": "list"}'
served "^E request: 'argv' must hold 1 to" 1 '{"argv": []}'
served "^E request: argv\[1\] is not a string" 1 '{"argv": ["list", 1]}'
served "^E request: 'root' must be an absolute path" 1 '{"argv": ["list"], "root": "rel"}'
served "^E request: env 'LD_PRELOAD' is not one a client may set" 1 '{"argv": ["list"], "env": {"LD_PRELOAD": "/x.so"}}'
served "^E request: env 'TERM' is not one" 1 '{"argv": ["list"], "env": {"TERM": "a\u001bb"}}'
served "^E request: file 0: arg, offset or size out of range" 1 '{"argv": ["define", "x"], "files": [{"arg": 2, "offset": 0, "name": "x", "size": 1}]}'
served "^E request: file 0: arg, offset or size out of range" 1 '{"argv": ["define", "x"], "files": [{"arg": 1, "offset": 5, "name": "x", "size": 1}]}'
served "^E request: argument 1 names two files" 1 '{"argv": ["define", "x"], "files": [{"arg": 1, "offset": 0, "name": "x", "size": 0}, {"arg": 1, "offset": 0, "name": "y", "size": 0}]}'
served "^E file 0 \('/tmp/qemuctl-connect\.[^/]+/0-x\.xml'\): its bytes did not arrive whole" 1 '{"argv": ["define", "x.xml"], "files": [{"arg": 1, "offset": 0, "name": "x.xml", "size": 10}]}' 6600000003616263
served "^E expected a request" 1 BIG
assert_eq "$(ls -d /tmp/qemuctl-connect.* 2>/dev/null || true)" "$tmp_before" "refused requests leave no temporary files"
