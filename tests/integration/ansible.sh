#!/bin/bash
# The Ansible collection (contrib/ansible, qemuctl.vm) with Debian's
# ansible-core, on two hosts at once, in a private network namespace: this
# host (connection: local) on the test's own state root, and h1, this
# machine again as a fleet reaches its hosts, through an sshd of the test's
# own (its host key pinned, a key login, 127.0.0.1) on a second state root.
# ansible-doc renders every module; the playbooks of
# contrib/ansible/tests/playbooks sync and import images, create a network,
# create and boot the tiny guest and snapshot it live on both hosts; on the
# local one they change a stopped VM's definition (applied) and a running
# one's (restart_required, applied by state=restarted), plan in check mode
# (nothing changes), refuse bad input with qemuctl's own message (nothing
# changes) and revert; then everything is removed on both; the second run
# of each playbook changes nothing (no task changed, on each host).  A few
# ansible-playbook runs, each of several playbooks (plays of
# ansible-lib.sh): every run costs seconds of Python start-up.
# ansible-sanity.sh runs ansible-test sanity on the collection.  Skipped
# (77, said loudly) without ansible-playbook or sshd: apt-get install
# ansible-core openssh-server (QC_SSHD names another sshd binary).
# shellcheck source=tests/integration/netns.sh
. "$(dirname "$0")/netns.sh"
in_private_netns x86_64
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
# shellcheck source=tests/integration/ansible-lib.sh
. "$QC_SRCDIR/tests/integration/ansible-lib.sh"

# h1: the second host, through ssh, with its own state root, network and
# the environment its qemuctl needs (ssh gives the module a fresh one: the
# build tree's monitor named)
sshd_start
ROOT2="$(mktemp -d "/tmp/qc-$TEST_NAME-h1.XXXXXX")"
chmod 0711 "$ROOT2"
# shellcheck disable=SC2016 # expanded when the hook runs
on_exit 'kill -9 $(procs_using "$ROOT2") 2>/dev/null; rm -rf "$ROOT2"'
python3 - "$SCRATCH/inventory.yml" <<EOF
import json, sys
json.dump({"all": {"hosts": {
    "localhost": {"ansible_connection": "local", "qc_root": "$ROOT"},
    "h1": {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": $SSHD_PORT,
           "ansible_user": "$(id -un)", "ansible_ssh_private_key_file": "$SSHD_CLIENT_KEY",
           "ansible_ssh_common_args": "-F /dev/null -o UserKnownHostsFile=$SSHD_KNOWN_HOSTS -o StrictHostKeyChecking=yes",
           "qc_root": "$ROOT2", "qc_env": {"QEMUCTL_MONITOR": "$QEMUCTL_MONITOR"},
           "qc_lan": "lan1", "qc_lan_net": "10.79.0"}}}}, open(sys.argv[1], "w"))
EOF
ansible_vars

# ansible-doc (seconds of Python) runs while the first playbooks do.
mods=(qemuctl_vm qemuctl_image qemuctl_net qemuctl_snapshot qemuctl_info)
ansible-doc "${mods[@]/#/qemuctl.vm.}" >"$SCRATCH/doc" 2>"$SCRATCH/doc.err" &
doc_pid=$!

plays fleet:true fleet:false
[ "${changed[fleet:true]}" -eq 6 ] || fail "fleet.yml first run: changed=${changed[fleet:true]}, expected 6: $(cat "$out")"
ok "fleet.yml: 2 images, a network, 2 VMs (one running), a live snapshot (changed=6)"
assert_eq "${changed_h1[fleet:true]}" 6 "fleet.yml over ssh (h1): 2 images, a network, 2 VMs, a snapshot"
assert_eq "${changed[fleet:false]}" 0 "fleet.yml second run changes nothing"
assert_eq "${changed_h1[fleet:false]}" 0 "fleet.yml over ssh (h1), second run changes nothing"
grep -q "Accepted publickey for $(id -un)" "$SSHD_LOG" ||
	fail "sshd did not log the key login: $(cat "$SSHD_LOG")"
ok "h1's tasks ran through the test's sshd (key login logged)"
assert_match "$(qc info web)" 'running' "web runs (qemuctl info)"
assert_match "$("$QC" --root "$ROOT2" info web)" 'running' "h1's web runs on the second root"
wait_for_text "$ROOT/vms/web/console.log" '^GUEST-READY' 90
ok "web booted the test guest"
wait_for_text "$ROOT2/vms/web/console.log" '^GUEST-READY' 90
ok "h1's web booted the test guest"

wait "$doc_pid" || fail "ansible-doc: $(cat "$SCRATCH/doc.err")"
! grep -q WARNING "$SCRATCH/doc.err" || fail "ansible-doc warns: $(cat "$SCRATCH/doc.err")"
for m in "${mods[@]}"; do
	grep -q "^> QEMUCTL.VM.${m^^} " "$SCRATCH/doc" || fail "ansible-doc does not render $m: $(cat "$SCRATCH/doc")"
done
for s in OPTIONS EXAMPLES 'RETURN VALUES'; do
	assert_eq "$(grep -c "^$s" "$SCRATCH/doc")" 5 "ansible-doc: 5 modules have $s"
done
ok "ansible-doc renders the 5 modules (options, examples, return values)"

# On localhost: change.yml twice; check mode (checkdiff.yml) and bad input
# (errors.yml), each between two digests of the state root (but for the
# catalog's per-name lock files, which qemuctl keeps, empty, by design),
# the first once the restarted guest's monitor has recorded its first-boot
# marker in state.json; revert.yml.
cat >"$SCRATCH/digest.sh" <<EOF
$(declare -f tree_digest)
set -e
[ "\$2" != wait ] || "$QC" --root "$ROOT" wait web --timeout 90 >/dev/null
tree_digest "$ROOT" --running | grep -vE ' \./images/\.[^/]+\.lock\$' >"$SCRATCH/\$1.digest"
"$QC" --root "$ROOT" --json list >"$SCRATCH/\$1.list"
EOF
# unchanged WHAT DIGEST: the state root was as before.digest in DIGEST.
unchanged() {
	diff "$SCRATCH/before.digest" "$SCRATCH/$2.digest" >&2 || fail "$1 changed the state root"
	ok "$1 changed nothing in the state root"
}
plays change:true change:false "run:$SCRATCH/digest.sh before wait" checkdiff:true \
	"run:$SCRATCH/digest.sh checked" errors:true "run:$SCRATCH/digest.sh refused" revert:true -- --limit localhost
[ "${changed[change:true]}" -eq 2 ] ||
	fail "change.yml first run: changed=${changed[change:true]}, expected 2 (db redefined, web restarted): $(cat "$out")"
grep -q "VM 'web' is running: its definition change (cpus) is not applied" "$out" ||
	fail "change.yml: no warning for the running VM's change: $(cat "$out")"
ok "change.yml: stopped VM redefined, running VM warned, restart_required, restarted with 2 CPUs"
assert_match "$(qc --json info db)" '"memory": 402653184' "db's memory is 384M on disk"
assert_eq "${changed[change:false]}" 0 "change.yml second run changes nothing"

assert_eq "${changed[checkdiff:true]}" 6 "checkdiff.yml in check mode reports 6 planned changes"
grep -q '^+    "memory": 536870912' "$out" || fail "checkdiff.yml's diff shows no memory change: $(cat "$out")"
ok "the diff shows the planned memory"
unchanged "check mode" checked
assert_match "$(cat "$SCRATCH/checked.list")" '"state": "running"' "web still runs"

[ "$ignored" -eq 12 ] || fail "errors.yml: not 12 refused tasks: $(grep -E '^localhost' "$out")"
assert_eq "${changed[errors:true]}" 0 "errors.yml: 12 bad inputs refused with their message, nothing changed"
unchanged "errors.yml" refused

assert_eq "${changed[revert:true]}" 1 "revert.yml: reverted (always a change), the VM stopped"

plays teardown:true teardown:false
assert_eq "${changed[teardown:true]}" 3 "teardown.yml: 2 VMs, the network, 2 images removed (3 tasks)"
assert_eq "${changed_h1[teardown:true]}" 3 "teardown.yml over ssh (h1): VMs, network, images removed (3 tasks)"
assert_eq "${changed[teardown:false]}" 0 "teardown.yml second run changes nothing"
assert_eq "${changed_h1[teardown:false]}" 0 "teardown.yml over ssh (h1), second run changes nothing"
assert_eq "$(find "$ROOT/vms" "$ROOT/images" "$ROOT2/vms" "$ROOT2/images" -mindepth 1 -not -name '.*.lock' | wc -l)" 0 \
	"nothing left under both state roots' vms/ and images/ (but the catalog's lock files)"
