/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemuctl wait NAME [--timeout S]: until the guest finished first boot
 * (start --wait and run --wait share cli_wait_ready).
 */
#include "config.h"

#include <stdio.h>

#include "driver/cli/cli.h"

void cli_wait_usage(FILE *f, const char *name)
{
	(void) name;
	fputs("usage: qemuctl wait NAME [--timeout S]\n\n"
	      "Wait until a running VM's guest has finished first boot (its console shows\n"
	      "the ready marker of its seed, or the domain's <qemuctl:ready-marker>).\n\n"
	      "  --timeout S          seconds to wait (default 300)\n"
	      "On timeout the last 20 console lines are printed and the exit code is 1.\n",
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
