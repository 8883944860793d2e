# driver/network.mk: named networks, NICs of VMs (leases, taps, host ports), ssh
libqcdriver_a_SOURCES += driver/network.h driver/network.c driver/network_nic.c \
	driver/network_ssh.h driver/network_ssh.c
qemuctl_SOURCES += driver/cli/cmd_net.h

# The ssh command line of `qemuctl ssh` (driver/network_ssh.c), hostile values included.
check_PROGRAMS += tests/unit/check_ssh_argv
TESTS += tests/unit/check_ssh_argv
tests_unit_check_ssh_argv_SOURCES = tests/unit/check_ssh_argv.c
tests_unit_check_ssh_argv_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_ssh_argv_LDADD = $(QC_LIBS) $(CHECK_LIBS)
dist_noinst_SCRIPTS += tests/integration/ssh-hostkeys.sh
TESTS += tests/integration/ssh-hostkeys.sh
