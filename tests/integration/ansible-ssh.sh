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
# shellcheck source=tests/integration/ansible-lib.sh
. "$QC_SRCDIR/tests/integration/ansible-lib.sh"
sshd_start
port=$SSHD_PORT

cat >"$SCRATCH/inventory" <<EOF
h1 ansible_connection=ssh ansible_host=127.0.0.1 ansible_port=$port ansible_user=$(id -un) ansible_ssh_private_key_file=$SSHD_CLIENT_KEY ansible_ssh_common_args='-F /dev/null -o UserKnownHostsFile=$SSHD_KNOWN_HOSTS -o StrictHostKeyChecking=yes'
EOF
# ssh gives the module a fresh environment: name the build tree's monitor.
ansible_vars "\"qc_env\": {\"QEMUCTL_MONITOR\": \"$QEMUCTL_MONITOR\"}"

play fleet true
assert_eq "$changed" 6 "fleet.yml over ssh: 2 images, a network, 2 VMs, a snapshot"
grep -q "Accepted publickey for $(id -un)" "$SSHD_LOG" ||
	fail "sshd did not log the key login: $(cat "$SSHD_LOG")"
ok "the tasks ran through the test's sshd (key login logged)"
wait_for_text "$ROOT/vms/web/console.log" '^GUEST-READY' 90
ok "web booted the test guest"
play fleet false
assert_eq "$changed" 0 "fleet.yml over ssh, second run changes nothing"
play teardown true
assert_eq "$changed" 3 "teardown.yml over ssh: VMs, network, images removed (3 tasks)"
play teardown false
assert_eq "$changed" 0 "teardown.yml over ssh, second run changes nothing"
