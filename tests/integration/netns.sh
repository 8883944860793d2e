# shellcheck shell=bash
# Run the sourcing test in a private network namespace: source this first
# thing (before lib.sh, whose state root and cleanup belong inside), then
#
#   in_private_netns [ARCH...]
#
# Outside the namespace it skips (exit 77) unless root, builds the test
# guests of ARCH... while the network is still there (build-guest fetches
# packages with apt-get; need_guest inside then finds them cached), and
# re-executes the script under `unshare -n`, so the host's interfaces are
# never touched and whatever the test leaves dies with the namespace.
# Inside (QC_NET_IN_NETNS=1) it returns at once.  The tests take no arguments.
in_private_netns() {
	local name arch
	[ -z "${QC_NET_IN_NETNS:-}" ] || return 0
	name="$(basename "${0%.sh}")"
	if [ "$(id -u)" -ne 0 ]; then
		echo "[$name] SKIP: needs root for a private network namespace"
		exit 77
	fi
	: "${QC_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
	: "${QC_BUILDDIR:=$PWD}"
	: "${QC_GUEST_CACHE:=$QC_BUILDDIR/tests/guest/cache}"
	export QC_SRCDIR QC_BUILDDIR QC_GUEST_CACHE
	for arch in "$@"; do
		"$QC_SRCDIR/tests/guest/build-guest" --arch "$arch" --out "$QC_GUEST_CACHE/$arch" >/dev/null ||
			{ echo "[$name] FAIL: building the $arch test guest failed"; exit 1; }
	done
	QC_NET_IN_NETNS=1 exec unshare -n "$BASH" "$0"
}
