# net/ sources and tests
libqcnet_a_SOURCES += \
	net/net.h \
	net/addr.c \
	net/ipam.c \
	net/link.c \
	net/nl_dl.c \
	net/tap.c \
	net/network.c \
	net/lease.c \
	net/portfwd.c

# Pure: CIDR/MAC parsing, the address allocator and taking a lease (lease.c).
QC_CHECK_TESTS += tests/unit/check_net_ipam
# Bridges and taps through netlink, inside a private network namespace the
# test makes for itself with unshare(CLONE_NEWNET); skipped (77) unless root.
QC_CHECK_TESTS += tests/unit/check_net_link
tests_unit_check_net_ipam_LDADD = $(QC_NET_LIBS) $(CHECK_LIBS)
tests_unit_check_net_link_LDADD = $(QC_NET_LIBS) $(CHECK_LIBS)

# driver/network*.c over net/network.c, lease.c, portfwd.c: --net SPEC parsing
# (pure), then named networks, leases, taps and host ports in a private netns
# and a temporary state root.
QC_CHECK_TESTS += tests/unit/check_driver_network
tests_unit_check_driver_network_LDADD = $(QC_LIBS) $(CHECK_LIBS)

# qemuctl net create/list/rm and their refusals, in a netns the script makes.
dist_noinst_SCRIPTS += tests/integration/net-cli.sh
TESTS += tests/integration/net-cli.sh

# Guests under TCG on a named network (ping), kill -9 leaves no tap, user-mode
# forwarded port, ssh argv, 9p share, and refusals (exhausted /30, port in use).
dist_noinst_SCRIPTS += tests/integration/net-guests.sh
TESTS += tests/integration/net-guests.sh

# bench/net: 50 taps on one bridge, netlink vs ip(8) shell-outs, in a private
# netns the program makes itself (root only; exits 77 otherwise).
noinst_PROGRAMS += bench/net-bench
bench_net_bench_SOURCES = bench/net-bench.c
bench_net_bench_LDADD = $(QC_NET_LIBS)

# libnl loaded by the first netlink socket (net/nl_dl.c): not linked, a clear
# error when broken, --net none/user VMs unaffected; in a netns the script makes.
dist_noinst_SCRIPTS += tests/integration/nl-lazy.sh
TESTS += tests/integration/nl-lazy.sh
