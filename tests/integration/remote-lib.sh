#!/bin/bash
# The C library's handles on other hosts (qc_remote_open, qc_remote_run,
# qc_remote_close; tests/integration/remote-lib.c): two "hosts" (a real
# sshd of the test's own on a loopback port of a private netns, two state
# roots as ROOT), a VM defined on each from a local file and from memory,
# list --json on each, a failing command's exit code and stderr; each
# handle logs in once (sshd's log) for all its commands, and leaves no
# master or directory behind; each connection error is the one --connect
# gives (connect.sh checks the CLI's, the same code, with an old qemuctl
# too); standard input given as bytes arrives whole.  No guest boots.
# shellcheck source=tests/integration/netns.sh
. "$(dirname "$0")/netns.sh"
in_private_netns
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
sshd_start
sshd_client_ssh
LIB="$QC_BUILDDIR/tests/integration/remote-lib"
[ -x "$LIB" ] || fail "$LIB is not built (make check builds it)"

# the remote qemuctl: this build's (ssh gives it a fresh environment)
printf '#!/bin/sh\nexec "%s" "$@"\n' "$QC" >"$SCRATCH/remote-qemuctl"
chmod +x "$SCRATCH/remote-qemuctl"
R1="$ROOT/host1" R2="$ROOT/host2"
mkdir -m 0711 "$R1" "$R2"
URL1="ssh://$(id -un)@127.0.0.1:$SSHD_PORT$R1" URL2="ssh://$(id -un)@127.0.0.1:$SSHD_PORT$R2"
# the masters' private directories go here: nothing may be left in it
export TMPDIR="$SCRATCH/tmp"
mkdir -m 0700 "$TMPDIR"

head -c 4096 /dev/urandom >"$SCRATCH/vmlinuz"
qc create tmpl --kernel "$SCRATCH/vmlinuz" --no-seed >/dev/null
qc dumpxml tmpl >"$SCRATCH/vm.xml"
logins() { grep -c 'Accepted publickey' "$SSHD_LOG" || true; }
ends() { grep -c 'Disconnected from user' "$SSHD_LOG" || true; }

before=$(logins) ended=$(ends)
rc=0
"$LIB" hosts "$URL1" "$URL2" "$SCRATCH/remote-qemuctl" "$SCRATCH/vm.xml" 1 >"$SCRATCH/hosts.out" 2>&1 || rc=$?
cat "$SCRATCH/hosts.out"
! grep -q '^FAIL' "$SCRATCH/hosts.out" || fail "remote-lib hosts: $(grep '^FAIL' "$SCRATCH/hosts.out")"
assert_eq "$rc $(grep -c '^ok: ' "$SCRATCH/hosts.out")" "0 7" "remote-lib hosts: exit 0, its 7 checks passed"
assert_match "$(cat "$SCRATCH/hosts.out")" '^host 1: 1 list commands in' "each handle ran its list commands"
assert_eq "$(ls -A "$R1/vms" "$R2/vms" | tr -d "\n")" "$R1/vms:$R2/vms:" "both VMs undefined on their hosts"
assert_eq "$(($(logins) - before))" 2 "two handles, 5 and 4 commands: two ssh logins in sshd's log"
# the masters ended with qc_remote_close (sshd logs it once it saw the end)
closed() { [ "$(($(ends) - ended))" -eq 2 ]; }
wait_until 10 closed
ok "both master connections were closed"
assert_eq "$(ls -A "$TMPDIR")" "" "no private directory left"

# --- errors: each the one --connect gives ---------------------------------------
lib_fails() { # STAGE ERE URL REMOTE
	local out rc=0
	out=$("$LIB" error "$3" "$4" 2>&1) || rc=$?
	[ "$rc" -eq 1 ] || fail "remote-lib error $3 $4: exit $rc: $out"
	assert_match "$out" "^$1 $2" "$3 $4: $1 fails"
}
lib_fails open "invalid: 'ssh://-oProxyCommand=x@127.0.0.1/': the user name must be" "ssh://-oProxyCommand=x@127.0.0.1/" -
lib_fails open "invalid: remote qemuctl 'qemuctl;id': give the absolute path" "$URL1" 'qemuctl;id'
closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
lib_fails open "child: ssh could not log in to '127.0.0.1' \(ssh exited 255; ssh: connect to host 127.0.0.1 port $closed: Connection refused\): check that 'ssh HOST true' works" \
	"ssh://127.0.0.1:$closed/" -
ssh-keygen -q -t ed25519 -N '' -f "$SCRATCH/wronghost"
echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$SCRATCH/wronghost.pub")" >"$SCRATCH/wrong_known"
T_KNOWN="$SCRATCH/wrong_known" lib_fails open "child: ssh refused the host key of '127.0.0.1' \(Host key verification failed.\): connect once with ssh" "$URL1" -
rc=0
out=$(REMOTE_LIB_PATH=/nonexistent "$LIB" error "$URL1" - 2>&1) || rc=$?
assert_match "$rc $out" "^1 open child: ssh to '127.0.0.1': cannot execute 'ssh': No such file or directory \(not found in PATH\): install OpenSSH's client" \
	"no ssh in PATH: open fails, says what to install"
lib_fails run "not-found: '127.0.0.1' has no qemuctl \(the remote command '/nonexistent/qemuctl' was not found\)" "$URL1" /nonexistent/qemuctl
assert_eq "$(ls -A "$TMPDIR")" "" "failed opens leave no private directory"

# --- another protocol; standard input from memory ------------------------------
# no qemuctl command reads its stdin without a guest, and none speaks
# another protocol: a server of the protocol that reads the request, then
# for `future` says hello in protocol 99, for `echo` in protocol 1 and
# sends back the standard input it got (the request's env on stderr),
# then exit code 3
cat >"$SCRATCH/fake-qemuctl" <<'PY'
#!/usr/bin/python3
import json, sys
rd, wr = sys.stdin.buffer, sys.stdout.buffer
def frame(t, b):
    wr.write(t + len(b).to_bytes(4, "big") + b)
def read_frame():
    h = rd.read(5)
    return h[:1], rd.read(int.from_bytes(h[1:], "big"))
assert read_frame()[0] == b"h"
t, req = read_frame()
req = json.loads(req)
argv = req["argv"]
if argv == ["future"]:
    frame(b"h", json.dumps({"protocol": 99, "version": "99.0"}).encode())
    sys.exit(0)
frame(b"h", json.dumps({"protocol": 1, "version": "0.1.0"}).encode())
got = b""
while True:
    t, p = read_frame()
    if t == b"I":
        break
    assert t == b"i", t
    got += p
frame(b"o", got)
frame(b"e", json.dumps({"env": req["env"]}).encode())
frame(b"x", (3).to_bytes(4, "big"))
PY
chmod +x "$SCRATCH/fake-qemuctl"
out=$("$LIB" fake "$URL1" "$SCRATCH/fake-qemuctl" 200000) || fail "remote-lib fake: $out"
assert_match "$out" "^run protocol: the qemuctl on '127.0.0.1' \(version 99.0\) speaks --connect protocol 99, this one .* speaks 1: install the same" \
	"a server of another protocol: the run refused, the versions named"
assert_match "$out" '^ok: 200000 bytes of stdin came back: exit 3' "stdin_data in 64 KiB frames, then its end, on the same handle"
assert_match "$out" '^ok: the request carried env NO_COLOR=1' "qc_remote_input.env reaches the server"
assert_eq "$(ls -A "$TMPDIR")" "" "no private directory left"
