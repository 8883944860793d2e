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

# One run of every test, on the collection with two faults put in: an
# option in the argument spec but not documented (validate-modules), a name
# pylint cannot resolve (pylint).  Every test runs; those two fail, each
# with the fault's report, and nothing else is reported: the collection
# itself passes all of them.  (A clean run and a second run of the two on
# the broken files took half as long again.)
sed -i "s/^        image=dict(type='str'),\$/&\n        undocumented=dict(type='str'),/" plugins/modules/qemuctl_vm.py
grep -q "^        undocumented=dict(type='str'),\$" plugins/modules/qemuctl_vm.py ||
	fail "no option put in qemuctl_vm.py's argument spec"
printf '\n\ndef probe():\n    return no_such_name\n' >>plugins/module_utils/qemuctl.py
sanity
[ "$rc" -ne 0 ] || fail "ansible-test sanity passes the broken files: $(cat "$SCRATCH/sanity.log")"
for t in $tests; do
	grep -q "^Running sanity test \"$t\"" "$SCRATCH/sanity.log" || fail "sanity test $t did not run: $(cat "$SCRATCH/sanity.log")"
done
assert_eq "$(sed -n '/^FATAL: The [0-9]* sanity test(s) listed below/,$p' "$SCRATCH/sanity.log" | sed 1d | sort | tr '\n' ' ')" \
	"pylint validate-modules " "ansible-test sanity: all $(wc -l <<<"$tests") tests ran, only the two with a fault put in fail"
issues=$(grep -E '^ERROR: [^ ]+:[0-9]+:[0-9]+: ' "$SCRATCH/sanity.log")
grep -Ev "^ERROR: plugins/modules/qemuctl_vm\.py:0:0: [a-z-]+: Argument 'undocumented' |^ERROR: plugins/module_utils/qemuctl\.py:[0-9]+:[0-9]+: undefined-variable: Undefined variable 'no_such_name'\$" \
	<<<"$issues" >&2 && fail "ansible-test sanity reports more than the faults put in: $(grep -v '^WARNING' "$SCRATCH/sanity.log")"
ok "ansible-test sanity: the collection passes all $(wc -l <<<"$tests") tests ($(tr '\n' ' ' <<<"$tests")) in $((SECONDS - t0)) s"
grep -q "qemuctl_vm.py.*undocumented-parameter: Argument 'undocumented'" <<<"$issues" ||
	fail "validate-modules passes an undocumented option: $(cat "$SCRATCH/sanity.log")"
ok "validate-modules refuses an undocumented option: $(grep -E 'qemuctl_vm.py.*undocumented-parameter' <<<"$issues")"
grep -Eq 'qemuctl.py.*undefined-variable' <<<"$issues" ||
	fail "pylint passes an undefined name: $(cat "$SCRATCH/sanity.log")"
ok "pylint refuses an undefined name: $(grep -E 'qemuctl.py.*undefined-variable' <<<"$issues")"
