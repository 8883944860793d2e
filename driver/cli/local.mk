# driver/cli/: the qemuctl command.
bin_PROGRAMS += qemuctl
qemuctl_SOURCES = driver/cli/cli.h driver/cli/cli.c driver/cli/json.c driver/cli/parse.c \
	driver/cli/main.c driver/cli/cmd_vm.c driver/cli/cmd_vm_io.c driver/cli/cmd_image.c \
	driver/cli/cmd_net.c driver/cli/cmd_ssh.c driver/cli/cmd_seed.c driver/cli/cmd_doctor.c \
	driver/cli/cmd_autostart.c driver/cli/cmd_snapshot.c driver/cli/cmd_hotplug.c \
	driver/cli/cmd_wait.c driver/cli/cmd_resize.c driver/cli/suggest.c driver/cli/cmd_cp.c \
	driver/cli/shquote.c driver/cli/cmd_clone.c driver/cli/cmd_migrate.c \
	driver/cli/progress.c
# Guest features of a running VM.
qemuctl_SOURCES += driver/cli/cmd_port.c driver/cli/cmd_stats.c \
	driver/cli/cmd_screenshot.c driver/cli/cmd_vnc.c
# --connect: the client (on the library's qc_remote_run), the serve-stdio end.
qemuctl_SOURCES += driver/cli/connect.h driver/cli/connect.c driver/cli/serve.c
qemuctl_LDADD = $(QC_LIBS)

QC_CHECK_TESTS += tests/unit/check_cli_parse
tests_unit_check_cli_parse_SOURCES = tests/unit/check_cli_parse.c driver/cli/cli.c driver/cli/json.c \
	driver/cli/parse.c driver/cli/suggest.c
tests_unit_check_cli_parse_LDADD = $(QC_LIBS) $(CHECK_LIBS)

# the first hour of a new user, against real QEMU (TCG)
dist_noinst_SCRIPTS += tests/integration/cli-habits.sh
TESTS += tests/integration/cli-habits.sh

# check_cli_shquote: exec's words quoted for the guest's shell, read back by /bin/sh.
QC_CHECK_TESTS += tests/unit/check_cli_shquote
tests_unit_check_cli_shquote_SOURCES = tests/unit/check_cli_shquote.c driver/cli/shquote.c
tests_unit_check_cli_shquote_LDADD = $(QC_LIBS) $(CHECK_LIBS)

# --connect through a real sshd on a loopback port, a second state root
dist_noinst_SCRIPTS += tests/integration/connect.sh
TESTS += tests/integration/connect.sh

# remote-lib: the library's qc_remote_* handles on two "hosts" (remote-lib.sh),
# built as a program outside the tree is, with <qemuctl.h> and libqemuctl only.
check_PROGRAMS += tests/integration/remote-lib
tests_integration_remote_lib_SOURCES = tests/integration/remote-lib.c
tests_integration_remote_lib_CPPFLAGS = -I$(top_srcdir)/driver -I$(top_srcdir)/include
tests_integration_remote_lib_LDADD = libqemuctl.la
dist_noinst_SCRIPTS += tests/integration/remote-lib.sh
TESTS += tests/integration/remote-lib.sh
