# driver/: domain model, XML, argv, state, lifecycle, public API, CLI, monitor.
# driver/image.mk, network.mk and seed.mk belong to the storage, network and
# cloud-init work; they add to libqcdriver_a_SOURCES and qemuctl_SOURCES.
include_HEADERS += driver/qemuctl.h
noinst_HEADERS += driver/driver.h

libqcdriver_a_SOURCES += driver/driver.h driver/ctx.c driver/state.c driver/lifecycle.c driver/lifecycle_input.c \
	driver/lifecycle_run.c driver/lifecycle_state.c driver/confine.h driver/confine.c \
	driver/fdpass.h driver/fdpass.c

bin_PROGRAMS += qemuctl
qemuctl_SOURCES = driver/cli/cli.h driver/cli/main.c driver/cli/cmd_vm.c \
	driver/cli/cmd_vm.h driver/cli/cmd_vm_io.c driver/cli/cmd_image.c driver/cli/cmd_net.c \
	driver/cli/cmd_seed.c
qemuctl_LDADD = $(QC_LIBS)

# The per-VM supervisor: util + qmp + state.c only, so it stays tiny.
libexec_PROGRAMS += qemuctl-monitor
qemuctl_monitor_SOURCES = driver/monitor/monitor.c
qemuctl_monitor_LDADD = libqcdriver.a $(QC_QMP_LIBS)

# The example program of the public API, run by tests/integration/lifecycle-example.sh.
check_PROGRAMS += examples/boot-and-stop
examples_boot_and_stop_SOURCES = examples/boot-and-stop.c
examples_boot_and_stop_LDADD = $(QC_LIBS)

check_PROGRAMS += tests/unit/check_state tests/unit/check_cli
TESTS += tests/unit/check_state tests/unit/check_cli
tests_unit_check_state_SOURCES = tests/unit/check_state.c
tests_unit_check_state_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_state_LDADD = $(QC_LIBS) $(CHECK_LIBS)
tests_unit_check_cli_SOURCES = tests/unit/check_cli.c
tests_unit_check_cli_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_cli_LDADD = $(QC_UTIL_LIBS) $(CHECK_LIBS)

dist_noinst_SCRIPTS += tests/integration/lifecycle.sh tests/integration/lifecycle-crash.sh \
	tests/integration/lifecycle-errors.sh tests/integration/lifecycle-example.sh
TESTS += tests/integration/lifecycle.sh tests/integration/lifecycle-crash.sh \
	tests/integration/lifecycle-errors.sh tests/integration/lifecycle-example.sh

# A definition makes qemuctl act only on the VM's own files (crafted domain.xml).
dist_noinst_SCRIPTS += tests/integration/trust-define.sh
TESTS += tests/integration/trust-define.sh
# Ways around those checks (other spellings, links, devices, unreadable kernels).
dist_noinst_SCRIPTS += tests/integration/trust-attacks.sh
TESTS += tests/integration/trust-attacks.sh

# bench/start-stop (issue 4 item 7): the raw-QEMU baseline it compares against.
noinst_PROGRAMS += bench/start-stop-raw
bench_start_stop_raw_SOURCES = bench/start-stop-raw.c
bench_start_stop_raw_LDADD = $(QC_QMP_LIBS)
EXTRA_DIST += bench/start-stop

include driver/image.mk
include driver/network.mk
include driver/seed.mk
include driver/domain.mk
include driver/doctor.mk
include driver/arch.mk
include driver/day2.mk
include driver/snapshot.mk

# driver/fdpass.c: disk chains and the files QEMU gets as fds.
check_PROGRAMS += tests/unit/check_fdpass
TESTS += tests/unit/check_fdpass
tests_unit_check_fdpass_SOURCES = tests/unit/check_fdpass.c
tests_unit_check_fdpass_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_fdpass_LDADD = libqcdriver.a $(QC_STORAGE_LIBS) $(XML_LIBS) $(CHECK_LIBS)
