# driver/: domain model, XML, argv, state, lifecycle, public API, CLI, monitor.
# driver/image.mk, network.mk and seed.mk belong to the storage, network and
# cloud-init work; they add to libqcdriver_a_SOURCES and qemuctl_SOURCES.
include_HEADERS += driver/qemuctl.h

bin_PROGRAMS += qemuctl
qemuctl_SOURCES = driver/cli/cli.h driver/cli/cmd_image.c driver/cli/cmd_net.c \
	driver/cli/cmd_seed.c
qemuctl_LDADD = $(QC_LIBS)

include driver/image.mk
include driver/network.mk
include driver/seed.mk
include driver/domain.mk
