#!/bin/bash
# libnl-3 and libnl-route-3 are loaded by the first netlink socket
# (net/nl_dl.c), not at start:
#   - qemuctl, qemuctl-monitor and libqemuctl.so.0 do not link them;
#   - with a broken libnl-3.so.200 or libnl-route-3.so.200 first in the
#     library path, create, start and destroy of a VM with --net none or
#     --net user work, and so does net list;
#   - while net create, create with a bridge NIC, start with a tap, and
#     net rm fail with exit 1 and a clear error naming the package, leaving
#     the state root and the links as they were;
#   - with the real libraries, the same commands work.
# QEMU itself links libnl: it is started through a wrapper that drops
# LD_LIBRARY_PATH, so only qemuctl sees the broken library.  Runs in a
# private network namespace (netns.sh); two QEMUs are started per library.
# shellcheck source=tests/integration/netns.sh
. "$(dirname "$0")/netns.sh"
in_private_netns x86_64

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_guest x86_64
command -v ip >/dev/null || fail "ip(8) is needed to check the results (iproute2)"
ip link set lo up

assert_not_linked "libnl-3 or libnl-route-3" 'libnl' "$QC" "$QEMUCTL_MONITOR" \
	"$QC_BUILDDIR/.libs/libqemuctl.so.0"

qemu="$SCRATCH/qemu-system-x86_64"
printf '#!/bin/sh\nunset LD_LIBRARY_PATH\nexec %s "$@"\n' "$(command -v qemu-system-x86_64)" >"$qemu"
chmod 0755 "$qemu"
export QEMUCTL_QEMU="$qemu"

G="--kernel $GUEST_KERNEL --initrd $GUEST_INITRD --no-seed --memory 64M"
taps() { ip -br link | awk '{print $1}' | grep -E '^qc[0-9a-f]{8}n[0-9]+' || true; }
links() { ip -br link | awk '{print $1}' | sort | tr '\n' ' '; }
state() { qc info "$1" | sed -n 's/^State: *\([a-z]*\).*/\1/p'; }

qc net create lan --subnet 10.61.0.0/24 >/dev/null
qc net create spare --subnet 10.63.0.0/24 >/dev/null # no VM on it: net rm may remove it
qc create nic $G --net network=lan >/dev/null

for lib in libnl-3 libnl-route-3; do
	case $lib in
	libnl-3) pkg=libnl-3-200 ;;
	libnl-route-3) pkg=libnl-route-3-200 ;;
	esac
	broken="$SCRATCH/broken-$lib"
	mkdir -p "$broken"
	printf 'not a library\n' >"$broken/$lib.so.200"
	nonl() { LD_LIBRARY_PATH="$broken" "$QC" --root "$ROOT" "$@"; }
	msg="cannot load $lib: $broken/$lib.so.200: .*; install the Debian package $pkg \(apt-get install $pkg\)"

	for net in none user; do
		nonl create "$net-$lib" $G --net "$net" >/dev/null || fail "create --net $net needs $lib"
		nonl start "$net-$lib" || fail "start --net $net needs $lib"
		assert_eq "$(state "$net-$lib")" running "--net $net: running without $lib"
		nonl destroy "$net-$lib" || fail "destroy --net $net needs $lib"
		assert_eq "$(state "$net-$lib")" stopped "--net $net: stopped without $lib"
		ok "create, start and destroy with --net $net do not load $lib"
	done

	# net list asks netlink whether each bridge is there, best effort.
	nonl net list | grep -q '^lan ' || fail "net list needs $lib"
	ok "net list works without $lib"

	before="$(tree_digest "$ROOT")"
	links_before="$(links)"
	expect_fail 1 "network 'lan2': $msg" nonl net create lan2 --subnet 10.62.0.0/24
	expect_fail 1 "VM 'br': $msg" nonl create br $G --net bridge=qc-lan
	expect_fail 1 "$msg" nonl start nic
	expect_fail 1 "network 'spare': $msg" nonl net rm spare
	assert_eq "$(tree_digest "$ROOT")" "$before" "without $lib: state root unchanged by the failures"
	assert_eq "$(links)" "$links_before" "without $lib: links unchanged by the failures"
	assert_eq "$(taps)" "" "without $lib: no tap left"
	assert_eq "$(state nic)" stopped "without $lib: the VM with a tap is still stopped"
done

# The same commands with the real libraries.
qc net create lan2 --subnet 10.62.0.0/24 >/dev/null
assert_match "$(ip -j -d link show dev qc-lan2)" '"info_kind":"bridge"' "net create makes its bridge"
qc create br $G --net bridge=qc-lan >/dev/null
qc start nic
assert_eq "$(state nic)" running "a VM with a tap starts with libnl"
[ -n "$(taps)" ] || fail "the running VM has no tap"
qc destroy nic
qc net rm lan2 >/dev/null
qc net rm spare >/dev/null
for br in qc-lan2 qc-spare; do
	! ip link show dev $br >/dev/null 2>&1 || fail "net rm leaves the bridge $br"
done
ok "net create, create with a bridge NIC, start with a tap and net rm work with libnl"
