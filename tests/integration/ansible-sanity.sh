#!/bin/bash
# ansible-test sanity on the Ansible collection (contrib/ansible, copied to
# ansible_collections/qemuctl/vm as ansible-test needs), every test it lists,
# with Debian's tools.  ansible-test wants a virtual environment per test
# with pinned tools from PyPI (no network here): for each test that asks for
# one, the test makes it from Debian's Python with its packages
# (--system-site-packages: pylint, python3-pycodestyle, python3-voluptuous,
# yamllint, shellcheck; tools/install-deps --test), marked ready, in a
# private HOME.  A test whose tool is missing fails (it is not skipped);
# the whole is skipped (77, said loudly) without ansible-test.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
if ! command -v ansible-test >/dev/null; then
	log "SKIP: ansible-test is not installed: the collection's sanity is NOT checked (apt-get install ansible-core)"
	exit 77
fi
py=/usr/bin/python3
export HOME="$SCRATCH/home" ANSIBLE_NOCOLOR=1
mkdir -p "$HOME"
coll="$SCRATCH/ansible_collections/qemuctl/vm"
mkdir -p "$(dirname "$coll")"
cp -a "$QC_SRCDIR/contrib/ansible" "$coll"
rm "$coll/local.mk" # the build's, not the collection's (galaxy.yml build_ignore)
cd "$coll"

tests=$(ansible-test sanity --list-tests 2>/dev/null)
[ "$(wc -l <<<"$tests")" -ge 20 ] || fail "ansible-test sanity --list-tests: $tests"
# sanity ARGS...: run ansible-test sanity, output in $SCRATCH/sanity.log, set rc.
sanity() {
	rc=0
	ansible-test sanity --python-interpreter "$py" "$@" >"$SCRATCH/sanity.log" 2>&1 || rc=$?
}
# ansible-test names the first environment it could not make (no pip, no
# network) and stops; make each from Debian's Python until it stops asking.
t0=$SECONDS
for try in $(seq 12); do
	sanity --prime-venvs
	venv=$(sed -n 's/^FATAL: Python [0-9.]* at "\(.*\)\/bin\/python" does not have pip available\.$/\1/p' "$SCRATCH/sanity.log")
	[ -n "$venv" ] || break
	"$py" -m venv --without-pip --system-site-packages "$venv"
	echo '[]' >"$venv/meta.install.json"
	echo true >"$venv/meta.yaml.json"
	touch "$venv/marker.txt"
done
[ "$rc" -eq 0 ] || fail "ansible-test sanity --prime-venvs: $(cat "$SCRATCH/sanity.log")"
ok "$((try - 1)) environments made from Debian's packages"

sanity
[ "$rc" -eq 0 ] || fail "ansible-test sanity: $(grep -v '^WARNING' "$SCRATCH/sanity.log")"
for t in $tests; do
	grep -q "^Running sanity test \"$t\"" "$SCRATCH/sanity.log" || fail "sanity test $t did not run: $(cat "$SCRATCH/sanity.log")"
done
ok "ansible-test sanity: all $(wc -l <<<"$tests") tests ran and pass ($(tr '\n' ' ' <<<"$tests")) in $((SECONDS - t0)) s"

# The sanity tests catch what they claim to: an undocumented option fails
# validate-modules, a name pylint cannot resolve fails pylint (one run of
# the two tests on the two files changed: pylint over the whole collection
# again took seconds).
sed -i 's/^  hostname:$/  hostnam:/' plugins/modules/qemuctl_vm.py
printf '\n\ndef probe():\n    return no_such_name\n' >>plugins/module_utils/qemuctl.py
sanity --test validate-modules --test pylint plugins/modules/qemuctl_vm.py plugins/module_utils/qemuctl.py
[ "$rc" -ne 0 ] || fail "validate-modules and pylint pass the broken files: $(cat "$SCRATCH/sanity.log")"
for t in validate-modules pylint; do
	grep -q "^Running sanity test \"$t\"" "$SCRATCH/sanity.log" || fail "sanity test $t did not run: $(cat "$SCRATCH/sanity.log")"
done
grep -Eq 'qemuctl_vm.py.*hostname' "$SCRATCH/sanity.log" ||
	fail "validate-modules passes an undocumented option: $(cat "$SCRATCH/sanity.log")"
ok "validate-modules refuses an undocumented option: $(grep -E 'qemuctl_vm.py.*hostname' "$SCRATCH/sanity.log" | head -1)"
grep -Eq 'qemuctl.py.*undefined-variable' "$SCRATCH/sanity.log" ||
	fail "pylint passes an undefined name: $(cat "$SCRATCH/sanity.log")"
ok "pylint refuses an undefined name: $(grep -E 'qemuctl.py.*undefined-variable' "$SCRATCH/sanity.log" | head -1)"
