# net/ sources and tests
libqcnet_a_SOURCES += \
	net/net.h \
	net/addr.c \
	net/ipam.c \
	net/link.c \
	net/tap.c

# Pure: CIDR/MAC parsing and the address allocator.
check_PROGRAMS += tests/unit/check_net_ipam
TESTS += tests/unit/check_net_ipam
tests_unit_check_net_ipam_SOURCES = tests/unit/check_net_ipam.c
tests_unit_check_net_ipam_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_net_ipam_LDADD = $(QC_NET_LIBS) $(CHECK_LIBS)

# Bridges and taps through netlink, inside a private network namespace the
# test makes for itself with unshare(CLONE_NEWNET); skipped (77) unless root.
check_PROGRAMS += tests/unit/check_net_link
TESTS += tests/unit/check_net_link
tests_unit_check_net_link_SOURCES = tests/unit/check_net_link.c
tests_unit_check_net_link_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_net_link_LDADD = $(QC_NET_LIBS) $(CHECK_LIBS)
