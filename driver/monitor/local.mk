# driver/monitor/: the per-VM supervisor, util + qmp + state.c only, so it stays tiny.
libexec_PROGRAMS += qemuctl-monitor
qemuctl_monitor_SOURCES = driver/monitor/monitor.c
qemuctl_monitor_LDADD = libqcdriver.a $(QC_QMP_LIBS)
