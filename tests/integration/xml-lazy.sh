#!/bin/bash
# libxml2 is loaded on the first XML read (driver/xml_dl.c), not at start:
#   - qemuctl and libqemuctl.so.0 do not link it;
#   - with a broken libxml2.so.2 first in the library path, commands that
#     read no XML (create, list) work, and one that does (info) fails with
#     a clear error naming the package, exit 1, the VM's files unchanged.
# No QEMU is started.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_guest x86_64

for f in "$QC" "$QC_BUILDDIR/.libs/libqemuctl.so.0"; do
	[ -e "$f" ] || continue
	if readelf -d "$f" | grep -q 'NEEDED.*libxml2'; then
		fail "$f links libxml2: $(readelf -d "$f" | grep NEEDED | tr -s ' ')"
	fi
	ok "$(basename "$f") does not link libxml2"
done

broken="$SCRATCH/lib"
mkdir -p "$broken"
printf 'not a library\n' >"$broken/libxml2.so.2"
nox() { LD_LIBRARY_PATH="$broken" "$QC" --root "$ROOT" "$@"; }

nox create v --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" --no-seed --net none --memory 64M >/dev/null ||
	fail "create needs libxml2"
ok "create writes domain.xml without loading libxml2"
nox list | grep -q '^v ' || fail "list needs libxml2"
ok "list works without libxml2"
sum=$(md5sum <"$ROOT/vms/v/domain.xml")
expect_fail 1 "VM 'v': $ROOT/vms/v/domain.xml: cannot load libxml2: $broken/libxml2.so.2: .*; install the Debian package libxml2 \(apt-get install libxml2\)" \
	nox info v
assert_eq "$(md5sum <"$ROOT/vms/v/domain.xml")" "$sum" "domain.xml unchanged by the failed read"
qc info v | grep -q '^Name: *v$' || fail "info fails with the real libxml2"
ok "info reads domain.xml with the real libxml2"
