/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemuctl: global options, dispatch to the command groups, error printing.
 *   qemuctl [--root DIR] [--json] [-v|-q] [--version] [--help] COMMAND ...
 * Exit codes: 0 ok, 1 error ("qemuctl: error: ..."), 2 usage.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/cli/cli.h"
#include "driver/cli/cmd_vm.h"
#include "util/util.h"

static void usage(FILE *f)
{
	fputs("usage: qemuctl [--root DIR] [--json] [-v|-q] COMMAND [ARGS...]\n"
	      "\n"
	      "A QEMU driver without a daemon.  Global options:\n"
	      "  --root DIR   state root (default: $QEMUCTL_ROOT, /var/lib/qemuctl for root,\n"
	      "               ~/.local/share/qemuctl for users)\n"
	      "  --json       machine-readable output (one JSON document)\n"
	      "  -v, -q       more or less chatter on stderr\n"
	      "  --version, --help\n"
	      "\n"
	      "Commands:\n",
		f);
	cli_vm_list_commands(f);
	fputs("  image sync|import|list|rm ...  images (see 'qemuctl image --help')\n"
	      "  net create|list|rm ...         networks (see 'qemuctl net --help')\n"
	      "  ssh NAME [-- CMD...]           ssh into a VM through its forwarded port\n"
	      "  seed build ...                 NoCloud seed ISOs (see 'qemuctl seed --help')\n"
	      "  doctor                         can this host run VMs, and if not, why\n"
	      "  autostart NAME|--run|--shutdown  start VMs at boot, stop them at shutdown\n"
	      "  snapshot create|list|revert|rm NAME [SNAP]  disk snapshots (qcow2 overlays)\n"
	      "  attach-disk|detach-disk|attach-net|detach-net NAME ARG  hot-plug devices\n"
	      "  wait NAME [--timeout S]        wait until the guest finished first boot\n"
	      "  resize NAME DISK SIZE|+SIZE    grow a disk (offline, or online while running)\n"
	      "\n"
	      "'qemuctl COMMAND --help' describes one command.\n",
		f);
}

int main(int argc, char **argv)
{
	struct cli c = {0};
	int i, rc;

	c.tty = isatty(STDOUT_FILENO);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-' || !a[1])
			break;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(a, "--root") == 0) {
			if (++i >= argc)
				return cli_usage_error(NULL, "--root needs a directory");
			c.root = argv[i];
		} else if (qc_str_has_prefix(a, "--root=")) {
			c.root = a + 7;
		} else if (strcmp(a, "--json") == 0) {
			c.json = true;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			c.verbosity = -1;
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			c.verbosity++;
		} else if (strcmp(a, "-vv") == 0) {
			c.verbosity += 2;
		} else if (strcmp(a, "--version") == 0) {
			printf("qemuctl %s\n", PACKAGE_VERSION);
			return CLI_OK;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return CLI_OK;
		} else {
			return cli_usage_error(NULL, "unknown global option '%s'", a);
		}
	}
	if (c.root && !c.root[0])
		return cli_usage_error(NULL, "--root: empty directory name");
	if (i >= argc) {
		usage(stderr);
		return CLI_USAGE;
	}
	qc_log_set_handler(cli_log_to_stderr, NULL,
		c.verbosity < 0	   ? QC_LOG_ERROR
		: c.verbosity == 0 ? QC_LOG_WARNING
		: c.verbosity == 1 ? QC_LOG_INFO
				   : QC_LOG_DEBUG);
	argc -= i;
	argv += i;
	if (strcmp(argv[0], "image") == 0)
		rc = cli_image_main(&c, argc, argv);
	else if (strcmp(argv[0], "net") == 0)
		rc = cli_net_main(&c, argc, argv);
	else if (strcmp(argv[0], "seed") == 0)
		rc = cli_seed_main(&c, argc, argv);
	else if (strcmp(argv[0], "ssh") == 0)
		rc = cli_ssh_main(&c, argc, argv);
	else if (strcmp(argv[0], "doctor") == 0)
		rc = cli_doctor_main(&c, argc, argv);
	else if (strcmp(argv[0], "autostart") == 0)
		rc = cli_autostart_main(&c, argc, argv);
	else if (strcmp(argv[0], "snapshot") == 0)
		rc = cli_snapshot_main(&c, argc, argv);
	else if (cli_is_hotplug(argv[0]))
		rc = cli_hotplug_main(&c, argc, argv);
	else if (strcmp(argv[0], "wait") == 0)
		rc = cli_wait_main(&c, argc, argv);
	else if (strcmp(argv[0], "resize") == 0)
		rc = cli_resize_main(&c, argc, argv);
	else
		rc = cli_vm_main(&c, argc, argv);
	fflush(stdout);
	if (ferror(stdout) && rc == CLI_OK) {
		fprintf(stderr, "qemuctl: error: writing to stdout: %s\n", strerror(errno));
		rc = CLI_ERROR;
	}
	qc_ctx_close(c.ctx);
	return rc;
}
