# driver/monitor/: the per-VM supervisor, util + qmp + state.c only, so it stays tiny.
# contract.c (its arguments, both ways) is in libqcdriver.a: qemuctl writes them, the monitor reads them.
libqcdriver_a_SOURCES += driver/monitor/contract.h driver/monitor/contract.c
libexec_PROGRAMS += qemuctl-monitor
qemuctl_monitor_SOURCES = driver/monitor/monitor.h driver/monitor/main.c \
	driver/monitor/loop.c driver/monitor/qemu.c driver/monitor/console.c \
	driver/monitor/events.c driver/monitor/exit.c driver/monitor/tpm.c \
	driver/monitor/vnc.c
qemuctl_monitor_LDADD = libqcdriver.a $(QC_QMP_LIBS)

QC_CHECK_TESTS += tests/unit/check_monitor_contract
tests_unit_check_monitor_contract_LDADD = libqcdriver.a $(QC_UTIL_LIBS) $(CHECK_LIBS)
