/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemuctl wait NAME [--timeout S]: until the guest finished booting
 * (start --wait and run --wait share cli_wait_ready).
 */
#include "config.h"

#include <stdio.h>

#include "driver/cli/cli.h"

void cli_wait_usage(FILE *f, const char *name)
{
	(void) name;
	fputs("usage: qemuctl wait NAME [--timeout S]\n\n"
	      "Wait until a running VM's guest has finished booting, on this run (its\n"
	      "console shows the ready marker of its seed, printed on every boot, or the\n"
	      "domain's <qemuctl:ready-marker>).\n\n"
	      "  --timeout S          seconds to wait (default 300)\n"
	      "On timeout, or when the console shows the guest cannot boot (no bootable\n"
	      "disk), the last 20 console lines are printed and the exit code is 1.\n"
	      "Ctrl-C ends the wait (exit code 130), not the VM.\n",
		f);
}

int cli_wait(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	int ms = 0;

	(void) cmd;
	if (a->set[OPT_TIMEOUT] && cli_parse_wait_timeout("wait", a->val[OPT_TIMEOUT], &ms) < 0)
		return CLI_USAGE;
	return cli_wait_ready(c, a->pos[0], ms, NULL);
}
