# driver/: domain model, XML, argv, state, lifecycle, public API.
# The CLI and the per-VM monitor have fragments of their own
# (driver/cli/local.mk, driver/monitor/local.mk).
include_HEADERS += driver/qemuctl.h
noinst_HEADERS += driver/driver.h driver/ready.h driver/ready_match.h driver/resize.h driver/seed_bus.h \
	driver/seed.h driver/snapshot_meta.h driver/vmop.h driver/stop.h driver/qemu_fds.h

# The domain model, its XML, QEMU's argv and the firmware it boots.
libqcdriver_a_SOURCES += driver/domain.h driver/domain.c driver/domain_fields.c \
	driver/domain_home.c driver/domain_cache.c driver/arch.h driver/arch.c driver/argv.c driver/firmware.c driver/firmware.h \
	driver/xml.c driver/xml_node.h driver/xml_node.c driver/xml_meta.h driver/xml_meta.c \
	driver/xml_devices.h driver/xml_devices.c driver/xml_save.c driver/xml_dl.h driver/xml_dl.c
# Context, state, lifecycle, confinement and the files QEMU gets as fds.
libqcdriver_a_SOURCES += driver/driver.h driver/ctx.c driver/state.c driver/state_devices.c driver/summary.c driver/define.c \
	driver/define_input.c driver/run.c driver/stop.c driver/query.c \
	driver/confine.h driver/confine.c driver/fdpass.h driver/fdpass.c driver/autostart.c \
	driver/doctor.c driver/public_util.c driver/remote.c
# Commands on another host's qemuctl over ssh, the frames its server speaks.
libqcdriver_a_SOURCES += driver/remote.h driver/remote_run.c driver/remote_frame.c
# QEMU's run state published to state.json (qemuctl-monitor and the CLI).
libqcdriver_a_SOURCES += driver/runstatus.c
# Images, networks and seeds as a VM uses them.
libqcdriver_a_SOURCES += driver/image.h driver/image.c \
	driver/network.h driver/network.c driver/network_nic.c driver/network_spec.c driver/network_fwd.c driver/network_retry.c \
	driver/network_ssh.h driver/network_ssh.c driver/network_scp.h driver/network_scp.c \
	driver/seed.h driver/seed.c driver/seed_hostkey.h driver/seed_hostkey.c
# Operations on a defined VM: ready/wait, resize, snapshots, hot-plug.
libqcdriver_a_SOURCES += driver/ready_match.c driver/ready.c driver/resize.c driver/seed_bus.c \
	driver/vmop.c driver/snapshot_meta.c driver/snapshot.c \
	driver/snapshot_layer.h driver/snapshot_layer.c driver/snapshot_reconcile.h \
	driver/snapshot_reconcile.c driver/snapshot_mem.h driver/snapshot_mem.c driver/hotplug.c driver/clone.c \
	driver/qga.h driver/qga.c driver/qga_vm.c driver/qga_exec.c driver/vnc.c
# Guest features of a running VM: live port forwards, stats, screenshots.
libqcdriver_a_SOURCES += driver/portfwd_live.c driver/stats.c driver/screenshot.c
# Saved state: save to a file, resume from it at the next start.
libqcdriver_a_SOURCES += driver/save.h driver/save.c
# Migration to another host's qemuctl over ssh.
libqcdriver_a_SOURCES += driver/migrate_chan.h driver/migrate_chan.c driver/migrate.c \
	driver/migrate_recv.c driver/migrate_link.h driver/migrate_link.c \
	driver/migrate_mux.h driver/migrate_mux.c driver/migrate_live.h driver/migrate_live.c \
	driver/migrate_shared.h driver/migrate_shared.c

include driver/cli/local.mk
include driver/monitor/local.mk

# ---- unit tests
# domain_golden.c reads tests/unit/golden/ from the source tree.
QC_DOMAIN_TEST_CFLAGS = $(AM_CFLAGS) -DQC_TEST_SRCDIR='"$(abs_top_srcdir)"'
QC_DOMAIN_TEST_LIBS = libqcdriver.a libqcnet.a $(QC_UTIL_LIBS) $(XML_LIBS) $(CHECK_LIBS)

QC_CHECK_TESTS += tests/unit/check_driver_domain tests/unit/check_driver_xml tests/unit/check_driver_argv \
	tests/unit/check_driver_snapshot
tests_unit_check_driver_xml_SOURCES = tests/unit/check_driver_xml.c tests/unit/domain_golden.c tests/unit/domain_golden.h
tests_unit_check_driver_argv_SOURCES = tests/unit/check_driver_argv.c tests/unit/domain_golden.c tests/unit/domain_golden.h
tests_unit_check_driver_xml_CFLAGS = $(QC_DOMAIN_TEST_CFLAGS)
tests_unit_check_driver_argv_CFLAGS = $(QC_DOMAIN_TEST_CFLAGS)
tests_unit_check_driver_domain_LDADD = $(QC_DOMAIN_TEST_LIBS)
tests_unit_check_driver_xml_LDADD = $(QC_DOMAIN_TEST_LIBS)
tests_unit_check_driver_argv_LDADD = $(QC_DOMAIN_TEST_LIBS)
tests_unit_check_driver_snapshot_LDADD = $(QC_DOMAIN_TEST_LIBS)
tests_unit_check_driver_firmware_LDADD = $(QC_DOMAIN_TEST_LIBS)
# libxml2 loaded on first use (driver/xml_dl.c): the test links no libxml2 of its own.
QC_CHECK_TESTS += tests/unit/check_driver_xml_dl
tests_unit_check_driver_xml_dl_CFLAGS = $(AM_CFLAGS) -pthread
tests_unit_check_driver_xml_dl_LDADD = libqcdriver.a libqcnet.a $(QC_UTIL_LIBS) $(CHECK_LIBS) \
	-lpthread

# check_driver_fdpass: disk chains and the files QEMU gets as fds;
# check_driver_network_ssh: the ssh command line of `qemuctl ssh`, hostile values included.
QC_CHECK_TESTS += tests/unit/check_driver_state tests/unit/check_driver_firmware \
	tests/unit/check_driver_fdpass tests/unit/check_driver_network_ssh \
	tests/unit/check_driver_seed tests/unit/check_driver_ready tests/unit/check_driver_qga
tests_unit_check_driver_fdpass_LDADD = libqcdriver.a libqcnet.a $(QC_STORAGE_LIBS) $(XML_LIBS) $(CHECK_LIBS)
tests_unit_check_driver_state_LDADD = $(QC_LIBS) $(CHECK_LIBS)
tests_unit_check_driver_network_ssh_LDADD = $(QC_LIBS) $(CHECK_LIBS)
tests_unit_check_driver_seed_LDADD = $(QC_LIBS) $(CHECK_LIBS)
# check_driver_state_devices: the run's devices in state.json, hostile records included.
QC_CHECK_TESTS += tests/unit/check_driver_state_devices
tests_unit_check_driver_state_devices_LDADD = $(QC_LIBS) $(CHECK_LIBS)
# check_driver_summary: summary.json as list reads it, hostile files included.
QC_CHECK_TESTS += tests/unit/check_driver_summary
tests_unit_check_driver_summary_LDADD = $(QC_LIBS) $(CHECK_LIBS)
# check_driver_domain_cache: domain.cache.json round trips, stamps, hostile caches.
QC_CHECK_TESTS += tests/unit/check_driver_domain_cache
tests_unit_check_driver_domain_cache_SOURCES = tests/unit/check_driver_domain_cache.c \
	tests/unit/domain_golden.c tests/unit/domain_golden.h
tests_unit_check_driver_domain_cache_CFLAGS = $(QC_DOMAIN_TEST_CFLAGS)
tests_unit_check_driver_domain_cache_LDADD = $(QC_DOMAIN_TEST_LIBS)
# check_driver_portfwd: port add/rm specs.
QC_CHECK_TESTS += tests/unit/check_driver_portfwd
tests_unit_check_driver_portfwd_LDADD = $(QC_LIBS) $(CHECK_LIBS)
tests_unit_check_driver_ready_LDADD = $(QC_LIBS) $(CHECK_LIBS)
tests_unit_check_driver_qga_LDADD = $(QC_LIBS) $(CHECK_LIBS)

# check_driver_remote: the remote protocol's frames and hellos, ssh's failures, its words.
QC_CHECK_TESTS += tests/unit/check_driver_remote
tests_unit_check_driver_remote_LDADD = $(QC_LIBS) $(CHECK_LIBS)

# check_driver_migrate_mux: the framed migration channel over socketpairs, hostile frames included.
QC_CHECK_TESTS += tests/unit/check_driver_migrate_mux
tests_unit_check_driver_migrate_mux_LDADD = $(QC_LIBS) $(CHECK_LIBS)
# check_driver_migrate_shared: the target's commit against the disks announced as shared storage.
QC_CHECK_TESTS += tests/unit/check_driver_migrate_shared
tests_unit_check_driver_migrate_shared_LDADD = $(QC_LIBS) $(CHECK_LIBS)

# ---- integration tests: real QEMU under TCG
QC_DRIVER_TESTS = tests/integration/lifecycle.sh tests/integration/lifecycle-crash.sh \
	tests/integration/lifecycle-errors.sh tests/integration/lifecycle-example.sh \
	tests/integration/trust-define.sh tests/integration/trust-attacks.sh \
	tests/integration/ssh-hostkeys.sh tests/integration/ssh-session.sh tests/integration/cp-exec.sh \
	tests/integration/seed-cli.sh tests/integration/seed-guest.sh \
	tests/integration/ready.sh tests/integration/ready-boot-fail.sh tests/integration/resize.sh \
	tests/integration/snapshot.sh tests/integration/clone.sh tests/integration/qga.sh \
	tests/integration/hotplug.sh tests/integration/hotplug-net.sh \
	tests/integration/reads.sh tests/integration/list-summary.sh \
	tests/integration/doctor.sh tests/integration/autostart.sh \
	tests/integration/arch-lifecycle-x86_64.sh tests/integration/arch-lifecycle-aarch64.sh \
	tests/integration/arch-lifecycle-ppc64le.sh tests/integration/arch-errors.sh \
	tests/integration/firmware-disk-boot-x86_64.sh tests/integration/firmware-disk-boot-aarch64.sh
# qemuctl save and the start that resumes it.
QC_DRIVER_TESTS += tests/integration/save.sh
# snapshot create --memory and the revert that resumes it.
QC_DRIVER_TESTS += tests/integration/snapmem.sh
QC_DRIVER_TESTS += tests/integration/migrate.sh
# port add|rm|list on a running guest (a live TCP and UDP forward answer).
QC_DRIVER_TESTS += tests/integration/port-forward.sh
# stats of a booting, writing, pinging guest.
QC_DRIVER_TESTS += tests/integration/stats.sh
# libxml2 loaded on the first XML read: not linked, a clear error when broken.
QC_DRIVER_TESTS += tests/integration/xml-lazy.sh
# screenshot of a guest with a VGA display, and of one without.
QC_DRIVER_TESTS += tests/integration/screenshot.sh
# --tpm (a per-VM swtpm the guest sees) and --secure-boot (OVMF enforcing it).
QC_DRIVER_TESTS += tests/integration/tpm.sh
# --display vnc: the socket, the TCP form's password, qemuctl vnc and --listen.
QC_DRIVER_TESTS += tests/integration/vnc.sh
TESTS += $(QC_DRIVER_TESTS)
dist_noinst_SCRIPTS += $(QC_DRIVER_TESTS) tests/integration/arch-lifecycle.sh \
	tests/integration/firmware-disk-boot.sh tests/guest/build-disk-image
# The static network-config of seed-guest.sh, timed by bench/seed.sh too.
EXTRA_DIST += tests/integration/seed-net.yaml

# lib-start: whose child a VM's monitor is for a libqemuctl program (lifecycle-example.sh).
check_PROGRAMS += tests/integration/lib-start
tests_integration_lib_start_SOURCES = tests/integration/lib-start.c
tests_integration_lib_start_CPPFLAGS = -I$(top_srcdir)/driver -I$(top_srcdir)/include
tests_integration_lib_start_LDADD = libqemuctl.la

# seed-mkiso: an ISO of a whole tree, for seed-guest.sh's kernel round trip.
check_PROGRAMS += tests/integration/seed-mkiso
tests_integration_seed_mkiso_SOURCES = tests/integration/seed-mkiso.c
tests_integration_seed_mkiso_LDADD = $(QC_CLOUDINIT_LIBS)

# ---- benchmarks (bench/README.md)
# The raw-QEMU baseline that bench/start-stop compares against.
noinst_PROGRAMS += bench/start-stop-raw
bench_start_stop_raw_SOURCES = bench/start-stop-raw.c
bench_start_stop_raw_LDADD = $(QC_QMP_LIBS)
# The seed writer alone, next to `qemuctl seed build` (bench/seed.sh).
noinst_PROGRAMS += bench/seed-build
bench_seed_build_SOURCES = bench/seed-build.c
bench_seed_build_LDADD = $(QC_CLOUDINIT_LIBS)
EXTRA_DIST += bench/start-stop bench/seed.sh bench/wait bench/snapshot
dist_noinst_SCRIPTS += bench/boot
