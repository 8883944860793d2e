#!/bin/bash
# libxml2 is loaded on the first XML read (driver/xml_dl.c), not at start:
#   - qemuctl and libqemuctl.so.0 do not link it;
#   - with a broken libxml2.so.2 first in the library path, commands that
#     read no XML (create, list) work, and so do the commands that load one
#     VM (info, dumpxml, start, destroy) while its domain.cache.json is
#     current (driver/domain_cache.c);
#   - once domain.xml is touched or rewritten by hand, or the cache is
#     removed, corrupted or not 0600, they read the XML: without libxml2
#     they fail with a clear error naming the package, exit 1, the VM's
#     files unchanged; with it they work and make the cache current again;
#   - define always reads XML.
# One QEMU is started (and destroyed).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_guest x86_64

assert_not_linked libxml2 'libxml2' "$QC" "$QC_BUILDDIR/.libs/libqemuctl.so.0"

broken="$SCRATCH/lib"
mkdir -p "$broken"
printf 'not a library\n' >"$broken/libxml2.so.2"
nox() { LD_LIBRARY_PATH="$broken" "$QC" --root "$ROOT" "$@"; }

nox create v --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --no-seed --net none --memory 64M >/dev/null ||
	fail "create needs libxml2"
ok "create writes domain.xml without loading libxml2"
nox list | grep -q '^v ' || fail "list needs libxml2"
ok "list works without libxml2"
vm="$ROOT/vms/v"
cache="$vm/domain.cache.json"
assert_eq "$(stat -c '%a %U' "$cache")" "600 $(id -un)" "create leaves a 0600 cache beside domain.xml"
nox info v | grep -q '^Name: *v$' || fail "info of a VM with a current cache needs libxml2"
ok "info reads the cache without libxml2"
qc dumpxml v >"$SCRATCH/xml.real"
nox dumpxml v >"$SCRATCH/xml.nox" || fail "dumpxml needs libxml2"
cmp -s "$SCRATCH/xml.real" "$vm/domain.xml" || fail "dumpxml differs from domain.xml"
cmp -s "$SCRATCH/xml.nox" "$vm/domain.xml" || fail "dumpxml from the cache differs from domain.xml"
ok "dumpxml from the cache is byte-identical to domain.xml"
nox start v || fail "start with a current cache needs libxml2"
nox info v | grep -q '^State: *running$' || fail "info of the running VM needs libxml2"
nox destroy v || fail "destroy needs libxml2"
nox info v | grep -q '^State: *stopped' || fail "info after destroy needs libxml2"
ok "start, info and destroy of an existing VM do not load libxml2"

# not_used WHAT SETUP...: after SETUP, the cache is not used: without libxml2, info
# fails cleanly and changes nothing; with it, info works (and shows CPUS
# CPUs, and with -v -v why the cache was not used) and makes the cache
# current again.
cpus=1
not_used() {
	local what="$1" sum
	shift
	"$@"
	sum=$(cd "$vm" && md5sum domain.xml)
	expect_fail 1 "VM 'v': $vm/domain.xml: cannot load libxml2: $broken/libxml2.so.2: .*; install the Debian package libxml2 \(apt-get install libxml2\)" \
		nox info v
	assert_eq "$(cd "$vm" && md5sum domain.xml)" "$sum" "$what: domain.xml unchanged by the failed read"
	qc -v -v info v 2>"$SCRATCH/debug" | grep -q "^CPUs: *$cpus\$" || fail "$what: info fails with the real libxml2"
	grep -q "debug: VM 'v': domain.cache.json not used: " "$SCRATCH/debug" ||
		fail "$what: -v -v does not say why the cache was not used: $(cat "$SCRATCH/debug")"
	nox info v | grep -q "^CPUs: *$cpus\$" || fail "$what: the cache is not current again"
	assert_eq "$(stat -c '%a' "$cache")" 600 "$what: the XML is read, the cache made current"
}
not_used "domain.xml touched" touch "$vm/domain.xml"
cpus=2
not_used "domain.xml edited by hand" sed -i 's|<vcpu>1</vcpu>|<vcpu>2</vcpu>|' "$vm/domain.xml"
cpus=3
in_place() { # same inode, same size
	local xml
	xml=$(sed 's|<vcpu>2</vcpu>|<vcpu>3</vcpu>|' "$vm/domain.xml")
	printf '%s\n' "$xml" >"$vm/domain.xml"
}
not_used "domain.xml rewritten in place" in_place
not_used "cache removed" rm "$cache"
not_used "cache corrupted" truncate -s 10 "$cache"
not_used "cache not 0600" chmod 0644 "$cache"
nox start v || fail "start after the cache was made again needs libxml2"
nox destroy v || fail "destroy needs libxml2"
ok "start and destroy read the remade cache"

qc dumpxml v >"$SCRATCH/v.xml"
expect_fail 1 "cannot load libxml2: .*install the Debian package libxml2" nox define "$SCRATCH/v.xml"
ok "define reads XML"
