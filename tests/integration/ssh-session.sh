#!/bin/bash
# `qemuctl ssh` and `qemuctl ssh-config` against a real sshd: the tiny guest
# has none, so its user-data copies the host's dropbear (dropbear-bin),
# sftp-server (openssh-sftp-server) and rsync with their libraries in from a 9p
# share and starts it as a minimal cloud-init would: the user and the key
# the seed's vendor-data names, the host key qemuctl made for the VM
# (converted with dropbearconvert).  The user-data then waits for a gate
# file on the share before the guest prints its ready marker, so "booting"
# lasts exactly as long as the test wants.
#   - stopped: an error naming 'qemuctl start'; paused: an error naming
#     'qemuctl resume', at once; ssh-config still prints the paused VM's block
#   - a real ssh to the paused VM with that block ends by its ConnectTimeout
#   - booting: --no-wait says "not ready yet"; without it ssh waits, then
#     logs in as the --user the seed created
#   - the argv (-v) sets ConnectTimeout and ServerAlive*
#   - -L: a guest port answers through the ssh session; -tt: a pty
#   - refused ssh options (host key settings, -p, ProxyCommand): exit 2,
#     nothing run
#   - scp -F FILE (qemuctl ssh-config NAME >FILE) both ways, a file name with
#     spaces; ssh -F FILE; rsync -e "ssh -F FILE" a tree up and back
#   - --user: bad names refused at create, the default user, a definition
#     without the record keeps "qemuctl"
# Runs in a private network namespace (re-executed under `unshare -n`): the
# -L case picks a free loopback port and hands it to ssh, which no other
# process can take in between there.
# shellcheck source=tests/integration/netns.sh
. "$(dirname "$0")/netns.sh"
in_private_netns x86_64
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
ip link set lo up

# ---- lib.sh's sshd, then an httpd and the gate in the user-data ------------------
guest_sshd_setup
cat >>"$SCRATCH/user-data" <<'EOF'
mkdir -p /tmp/www
echo "HELLO-FWD-$((40 + 2))" >/tmp/www/index.html
httpd -p 127.0.0.1:8080 -h /tmp/www
while [ ! -e $S/go ]; do sleep 0.1; done
EOF

# ---- --user: refused names, nothing made ----------------------------------------
g=(--kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --append "$GUEST_APPEND")
for bad in Root 1abc 'a b' -oProxyCommand=x "$(printf 'a%.0s' $(seq 33))" 'ab$c'; do
	expect_fail 1 "^qemuctl: error: --user: user name '.*' is invalid: 1-32 of a-z 0-9 '_' '-', beginning with a-z or '_'" \
		qc create bad "${g[@]}" --user "$bad"
	assert_no_file "$ROOT/vms/bad"
done
expect_fail 1 "user name 'Bob' is invalid" qc run bad "${g[@]}" --user Bob
assert_no_file "$ROOT/vms/bad"

# the default: the caller's name under sudo, else (root) debian
user_of() { qc dumpxml "$1" | sed -n 's|.*<qemuctl:user>\(.*\)</qemuctl:user>.*|\1|p'; }
env -u SUDO_USER "$QC" --root "$ROOT" create d1 "${g[@]}" >/dev/null
assert_eq "$(user_of d1)" debian "default user as root without sudo"
SUDO_USER=alice "$QC" --root "$ROOT" create d2 "${g[@]}" >/dev/null
assert_eq "$(user_of d2)" alice "default user under sudo: \$SUDO_USER"
SUDO_USER=Bad.Name "$QC" --root "$ROOT" create d3 "${g[@]}" >/dev/null
assert_eq "$(user_of d3)" debian "a \$SUDO_USER cloud-init would refuse: debian"
SUDO_USER=root "$QC" --root "$ROOT" create d4 "${g[@]}" --no-seed --user img >/dev/null
assert_eq "$(user_of d4)" img "--user with --no-seed: recorded for ssh"
# a definition without the record (made before it existed) logs in as qemuctl
qc dumpxml d1 | sed 's|<qemuctl:user>debian</qemuctl:user>||' >"$SCRATCH/legacy.xml"
grep -q 'qemuctl:user' "$SCRATCH/legacy.xml" && fail "could not remove the user record"
qc define "$SCRATCH/legacy.xml" >/dev/null
qc start d1 --paused
assert_match "$(qc ssh-config d1)" $'\n  User qemuctl\n' "no <qemuctl:user>: ssh-config says qemuctl"
qc start d4 --paused
assert_match "$(qc ssh-config d4)" $'\n  User img\n' "--no-seed --user img: ssh-config says img"
qc destroy d1 >/dev/null
qc destroy d4 >/dev/null
# a hand-written definition with a bad user is refused where it is loaded
qc dumpxml d2 | sed 's|<qemuctl:user>alice</qemuctl:user>|<qemuctl:user>Alice</qemuctl:user>|' >"$SCRATCH/bad-user.xml"
expect_fail 1 "user name 'Alice' is invalid" qc define "$SCRATCH/bad-user.xml"
for n in d1 d2 d3 d4; do qc delete "$n" >/dev/null; done

# ---- the VM: --user tester, the share, the gate -----------------------------------
qc create s1 "${g[@]}" --memory 256M --user tester --user-data "$SCRATCH/user-data" \
	--share "$share:qcssh" >/dev/null
vm="$ROOT/vms/s1"
assert_file "$vm/known_hosts"
guest_sshd_host_key "$vm" "$share"

# ---- stopped, paused ----------------------------------------------------------------
expect_fail 1 "^qemuctl: error: VM 's1' is not running; start it with 'qemuctl start s1'" qc ssh s1 -- true
expect_fail 1 "VM 's1' is not running" qc ssh-config s1
qc start s1 --paused
t0=$(date +%s%N)
expect_fail 1 "^qemuctl: error: VM 's1' is paused: its guest cannot answer ssh; resume it with 'qemuctl resume s1'\$" \
	qc ssh s1 -- true
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 5000 ] || fail "ssh to a paused VM took $ms ms"
ok "ssh to a paused VM fails at once ($ms ms)"
qc ssh-config s1 >"$SCRATCH/cfg"
port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ports"][0])' "$vm/network.json")
assert_eq "$(cat "$SCRATCH/cfg")" "Host s1
  HostName 127.0.0.1
  Port $port
  User tester
  IdentityFile $ROOT/ssh/id_ed25519
  IdentitiesOnly yes
  StrictHostKeyChecking yes
  UserKnownHostsFile $vm/known_hosts
  GlobalKnownHostsFile /dev/null
  HostKeyAlias qemuctl-s1
  CheckHostIP no
  UpdateHostKeys no
  HashKnownHosts no
  LogLevel ERROR
  ConnectTimeout 20
  ServerAliveInterval 15
  ServerAliveCountMax 4" "ssh-config of the paused VM: its forwarded port, user, key, known_hosts"
qc --json ssh-config s1 >"$SCRATCH/cfg.json"
python3 "$QC_SRCDIR/tests/integration/json_schema.py" "$QC_SRCDIR/docs/schema/qemuctl-v2.json" ssh-config <"$SCRATCH/cfg.json" ||
	fail "ssh-config --json does not follow the schema: $(cat "$SCRATCH/cfg.json")"
assert_eq "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["port"], d["user"], d["strict_host_key_checking"], d["config"] == open(sys.argv[2]).read())' "$SCRATCH/cfg.json" "$SCRATCH/cfg")" \
	"$port tester yes True" "ssh-config --json: the same values and block"
# the real ssh, told that block, to the paused guest: its ConnectTimeout ends it
t0=$SECONDS
rc=0
timeout 120 ssh -F "$SCRATCH/cfg" -o BatchMode=yes s1 true </dev/null 2>"$SCRATCH/paused.err" || rc=$?
[ "$rc" -eq 255 ] || fail "ssh to the paused guest exited $rc (124: it hung): $(cat "$SCRATCH/paused.err")"
assert_match "$(cat "$SCRATCH/paused.err")" "timed out" "ssh to the paused guest times out"
[ $((SECONDS - t0)) -lt 60 ] || fail "the connect timeout took $((SECONDS - t0)) s"
ok "ConnectTimeout ended ssh to the paused guest after $((SECONDS - t0)) s"

# ---- booting: --no-wait refuses, the default waits --------------------------------
qc resume s1
wait_for_text "$vm/console.log" '^SSHD-UP user=tester key=yes' 120
ok "the guest's sshd runs for the seed's user 'tester' with qemuctl's key"
expect_fail 1 "^qemuctl: error: VM 's1' is still booting \(not ready yet\); wait with 'qemuctl wait s1', or leave out --no-wait\$" \
	qc ssh s1 --no-wait -- true
"$QC" --root "$ROOT" ssh s1 -- id -un </dev/null >"$SCRATCH/wait.out" 2>"$SCRATCH/wait.err" &
wpid=$!
sleep 2
kill -0 "$wpid" 2>/dev/null || fail "ssh did not wait for the booting guest: $(cat "$SCRATCH/wait.err")"
# still qemuctl: ssh is exec'd only once the guest is ready
assert_eq "$(cat "/proc/$wpid/comm")" qemuctl "ssh waits in qemuctl while the guest boots"
touch "$share/go"
rc=0
wait "$wpid" || rc=$?
assert_eq "$rc:$(cat "$SCRATCH/wait.out")" "0:tester" "once ready, ssh logs in as the --user"
grep -q kex_exchange "$SCRATCH/wait.err" && fail "raw ssh errors while waiting: $(cat "$SCRATCH/wait.err")"
ok "no raw ssh errors while waiting"

# ---- the argv: timeouts; options passed on -----------------------------------------
qc -v ssh s1 -- true 2>"$SCRATCH/v.err" </dev/null
assert_match "$(cat "$SCRATCH/v.err")" "^qemuctl: ssh -l tester -p $port .*-o ConnectTimeout=20 -o ServerAliveInterval=15 -o ServerAliveCountMax=4 .*-- 127\.0\.0\.1 true\$" \
	"-v prints the argv: connect timeout and keepalives"
assert_eq "$(qc ssh s1 -tt -- tty </dev/null | tr -d '\r')" /dev/pts/0 "-tt: a pty in the guest"
lport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$QC" --root "$ROOT" ssh s1 -o ExitOnForwardFailure=yes -L "$lport:127.0.0.1:8080" -- 'echo FWD-UP; sleep 60' \
	</dev/null >"$SCRATCH/fwd.out" 2>"$SCRATCH/fwd.err" &
fpid=$!
wait_for_text "$SCRATCH/fwd.out" '^FWD-UP' 60
body=$(python3 -c 'import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1], timeout=20).read().decode().strip())' "$lport")
assert_eq "$body" "HELLO-FWD-42" "-L $lport:127.0.0.1:8080: the guest's httpd answers through the session"
kill "$fpid"
wait "$fpid" 2>/dev/null || true

# refused: exit 2, the reason, nothing run
pw="$SCRATCH/pwned"
for o in "-o StrictHostKeyChecking=no" "-o UserKnownHostsFile=/dev/null" "-oNoHostAuthenticationForLocalhost=yes" \
	"-o GlobalKnownHostsFile=$SCRATCH/kh" "-o HostKeyAlias=other"; do
	# shellcheck disable=SC2086
	expect_fail 2 "ssh option -o [A-Za-z]+: refused, it would defeat the check of the guest's host key" \
		qc ssh s1 $o -- touch "$pw"
done
expect_fail 2 "ssh option '-p': the port is the VM's forwarded one" qc ssh s1 -p 22 -- touch "$pw"
expect_fail 2 "ssh option -o ProxyCommand: not passed on" qc ssh s1 -o "ProxyCommand=touch $pw" -- true
expect_fail 2 "ssh option '-J': not passed on" qc ssh -J evil s1 -- touch "$pw"
assert_no_file "$pw"

# ---- ssh-config for scp, both ways, names with spaces ------------------------------
# (ssh closes every inherited descriptor first: -F takes a file, never <(...))
qc ssh-config s1 >"$SCRATCH/s1.cfg"
echo "up-$$" >"$SCRATCH/a b.txt"
scp -F "$SCRATCH/s1.cfg" -o BatchMode=yes "$SCRATCH/a b.txt" "s1:/tmp/a b.txt" </dev/null
assert_eq "$(qc ssh s1 -- cat "'/tmp/a b.txt'" </dev/null)" "up-$$" "scp -F <ssh-config>: a file with a space up"
scp -F "$SCRATCH/s1.cfg" -o BatchMode=yes "s1:/tmp/a b.txt" "$SCRATCH/back b.txt" </dev/null
assert_eq "$(cat "$SCRATCH/back b.txt")" "up-$$" "scp -F <ssh-config>: and back down"
scp -F "$SCRATCH/cfg" -o BatchMode=yes s1:/etc/passwd "$SCRATCH/passwd" </dev/null
assert_eq "$(cat "$SCRATCH/passwd")" "$(qc ssh s1 -- cat /etc/passwd </dev/null)" "scp -F <ssh-config of the paused VM>: same port after resume"
assert_eq "$(ssh -F "$SCRATCH/s1.cfg" -o BatchMode=yes s1 id -un </dev/null)" tester "ssh -F <ssh-config> s1: the --user"
# rsync -e "ssh -F FILE": a tree up and back
mkdir -p "$SCRATCH/tree/sub dir"
echo one >"$SCRATCH/tree/sub dir/f 1"
head -c 100000 /dev/urandom >"$SCRATCH/tree/blob"
rsync -a -e "ssh -F $SCRATCH/s1.cfg -o BatchMode=yes" "$SCRATCH/tree/" s1:/tmp/tree/ </dev/null
rsync -a -e "ssh -F $SCRATCH/s1.cfg -o BatchMode=yes" s1:/tmp/tree/ "$SCRATCH/tree-back/" </dev/null
diff -r "$SCRATCH/tree" "$SCRATCH/tree-back" || fail "rsync round trip through ssh-config differs"
ok "rsync -e 'ssh -F <ssh-config>': a tree with spaces up and back"

qc destroy s1 >/dev/null
expect_fail 1 "VM 's1' is not running" qc ssh s1
qc delete s1 >/dev/null
