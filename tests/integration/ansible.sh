#!/bin/bash
# The Ansible collection (contrib/ansible, qemuctl.vm) with Debian's
# ansible-core against this host (connection: local), on the test's own state
# root, in a private network namespace: ansible-doc renders every module;
# the playbooks of contrib/ansible/tests/playbooks sync and import images,
# create a network, create and boot the tiny guest, snapshot it live, change
# a stopped VM's definition (applied) and a running one's (restart_required,
# applied by state=restarted), plan in check mode (nothing changes), refuse
# bad input with qemuctl's own message (nothing changes), revert and remove
# everything; the second run of each playbook changes nothing (the recap's
# changed=0).  ansible-sanity.sh runs ansible-test sanity on the collection.
# Skipped (77, said loudly) without ansible-playbook: apt-get install ansible-core.
# shellcheck source=tests/integration/netns.sh
. "$(dirname "$0")/netns.sh"
in_private_netns x86_64
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
# shellcheck source=tests/integration/ansible-lib.sh
. "$QC_SRCDIR/tests/integration/ansible-lib.sh"

mods=(qemuctl_vm qemuctl_image qemuctl_net qemuctl_snapshot qemuctl_info)
ansible-doc "${mods[@]/#/qemuctl.vm.}" >"$SCRATCH/doc" 2>"$SCRATCH/doc.err" ||
	fail "ansible-doc: $(cat "$SCRATCH/doc.err")"
! grep -q WARNING "$SCRATCH/doc.err" || fail "ansible-doc warns: $(cat "$SCRATCH/doc.err")"
for m in "${mods[@]}"; do
	grep -q "^> QEMUCTL.VM.${m^^} " "$SCRATCH/doc" || fail "ansible-doc does not render $m: $(cat "$SCRATCH/doc")"
done
for s in OPTIONS EXAMPLES 'RETURN VALUES'; do
	assert_eq "$(grep -c "^$s" "$SCRATCH/doc")" 5 "ansible-doc: 5 modules have $s"
done
ok "ansible-doc renders the 5 modules (options, examples, return values)"

echo 'localhost ansible_connection=local' >"$SCRATCH/inventory"
ansible_vars

play fleet true
[ "$changed" -eq 6 ] || fail "fleet.yml first run: changed=$changed, expected 6: $(cat "$out")"
ok "fleet.yml: 2 images, a network, 2 VMs (one running), a live snapshot (changed=6)"
assert_match "$(qc info web)" 'running' "web runs (qemuctl info)"
wait_for_text "$ROOT/vms/web/console.log" '^GUEST-READY' 90
ok "web booted the test guest"
play fleet false
assert_eq "$changed" 0 "fleet.yml second run changes nothing"

play change true
[ "$changed" -eq 2 ] || fail "change.yml first run: changed=$changed, expected 2 (db redefined, web restarted): $(cat "$out")"
grep -q "VM 'web' is running: its definition change (cpus) is not applied" "$out" ||
	fail "change.yml: no warning for the running VM's change: $(cat "$out")"
ok "change.yml: stopped VM redefined, running VM warned, restart_required, restarted with 2 CPUs"
assert_match "$(qc --json info db)" '"memory": 402653184' "db's memory is 384M on disk"
play change false
assert_eq "$changed" 0 "change.yml second run changes nothing"

# unchanged WHAT: the state root is as it was before check mode (but for
# the catalog's per-name lock files, which qemuctl keeps, empty, by design).
unchanged() {
	tree_digest "$ROOT" --running | grep -vE ' \./images/\.[^/]+\.lock$' >"$SCRATCH/after.digest"
	diff "$SCRATCH/before.digest" "$SCRATCH/after.digest" >&2 || fail "$1 changed the state root"
	ok "$1 changed nothing in the state root"
}
# The restarted guest's monitor records its first-boot marker in state.json.
qc wait web --timeout 90 >/dev/null
tree_digest "$ROOT" --running | grep -vE ' \./images/\.[^/]+\.lock$' >"$SCRATCH/before.digest"
play checkdiff true --check --diff
assert_eq "$changed" 6 "checkdiff.yml --check reports 6 planned changes"
grep -q '^+    "memory": 536870912' "$out" || fail "checkdiff.yml --diff shows no memory change: $(cat "$out")"
ok "--diff shows the planned memory"
unchanged "check mode"
assert_match "$(qc --json list)" '"state": "running"' "web still runs"

play errors true
[[ "$(grep -E '^localhost' "$out")" =~ ignored=12 ]] || fail "errors.yml: not 12 refused tasks: $(cat "$out")"
assert_eq "$changed" 0 "errors.yml: 12 bad inputs refused with their message, nothing changed"
unchanged "errors.yml"

play revert true
assert_eq "$changed" 1 "revert.yml: reverted (always a change), the VM stopped"

play teardown true
assert_eq "$changed" 3 "teardown.yml: 2 VMs, the network, 2 images removed (3 tasks)"
play teardown false
assert_eq "$changed" 0 "teardown.yml second run changes nothing"
assert_eq "$(find "$ROOT/vms" "$ROOT/images" -mindepth 1 -not -name '.*.lock' | wc -l)" 0 \
	"nothing left under the state root's vms/ and images/ (but the catalog's lock files)"
