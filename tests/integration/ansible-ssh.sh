#!/bin/bash
# The Ansible collection against this host through ssh, as a fleet reaches
# its hosts: an sshd of the test's own (its host key, authorized_keys and
# port on 127.0.0.1 of a private network namespace), ansible_connection=ssh
# with the host key pinned; fleet.yml makes images, a network, two VMs (one
# booting the test guest) and a snapshot, teardown.yml removes them, and the
# second run of each changes nothing.  Skipped (77, said loudly) without
# ansible-core or sshd (apt-get install ansible-core openssh-server; QC_SSHD
# names another sshd binary).
# shellcheck source=tests/integration/netns.sh
. "$(dirname "$0")/netns.sh"
in_private_netns x86_64
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
sshd="${QC_SSHD:-/usr/sbin/sshd}"
if [ ! -x "$sshd" ]; then
	log "SKIP: no sshd ($sshd): the collection over ssh is NOT tested (apt-get install openssh-server)"
	exit 77
fi
# shellcheck source=tests/integration/ansible-lib.sh
. "$QC_SRCDIR/tests/integration/ansible-lib.sh"

# sshd's privilege separation user and directory (the openssh-server
# package makes them; an sshd unpacked elsewhere gets them for the test).
if ! id sshd >/dev/null 2>&1; then
	useradd --system --no-create-home --home-dir /run/sshd --shell /usr/sbin/nologin sshd
	on_exit "userdel sshd"
fi
if [ ! -d /run/sshd ]; then
	mkdir -m 0755 /run/sshd
	on_exit "rmdir /run/sshd"
fi
ssh-keygen -q -t ed25519 -N '' -f "$SCRATCH/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$SCRATCH/clientkey"
cp "$SCRATCH/clientkey.pub" "$SCRATCH/authorized_keys"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$SCRATCH/sshd_config" <<EOF
ListenAddress 127.0.0.1:$port
HostKey $SCRATCH/hostkey
AuthorizedKeysFile $SCRATCH/authorized_keys
PidFile $SCRATCH/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
EOF
"$sshd" -t -f "$SCRATCH/sshd_config" 2>"$SCRATCH/sshd.log" || fail "sshd -t: $(cat "$SCRATCH/sshd.log")"
"$sshd" -D -e -f "$SCRATCH/sshd_config" 2>"$SCRATCH/sshd.log" &
sshd_pid=$!
on_exit "kill $sshd_pid; wait $sshd_pid"
sshd_up() {
	kill -0 "$sshd_pid" 2>/dev/null || fail "sshd exited: $(cat "$SCRATCH/sshd.log")"
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null
}
wait_until 10 sshd_up
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$SCRATCH/hostkey.pub")" >"$SCRATCH/known_hosts"
ok "sshd on 127.0.0.1:$port with its own host key and authorized_keys"

cat >"$SCRATCH/inventory" <<EOF
h1 ansible_connection=ssh ansible_host=127.0.0.1 ansible_port=$port ansible_user=$(id -un) ansible_ssh_private_key_file=$SCRATCH/clientkey ansible_ssh_common_args='-F /dev/null -o UserKnownHostsFile=$SCRATCH/known_hosts -o StrictHostKeyChecking=yes'
EOF
# ssh gives the module a fresh environment: name the build tree's monitor.
ansible_vars "\"qc_env\": {\"QEMUCTL_MONITOR\": \"$QEMUCTL_MONITOR\"}"

play fleet true
assert_eq "$changed" 6 "fleet.yml over ssh: 2 images, a network, 2 VMs, a snapshot"
grep -q "Accepted publickey for $(id -un)" "$SCRATCH/sshd.log" ||
	fail "sshd did not log the key login: $(cat "$SCRATCH/sshd.log")"
ok "the tasks ran through the test's sshd (key login logged)"
wait_for_text "$ROOT/vms/web/console.log" '^GUEST-READY' 90
ok "web booted the test guest"
play fleet false
assert_eq "$changed" 0 "fleet.yml over ssh, second run changes nothing"
play teardown true
assert_eq "$changed" 3 "teardown.yml over ssh: VMs, network, images removed (3 tasks)"
play teardown false
assert_eq "$changed" 0 "teardown.yml over ssh, second run changes nothing"
