/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemuctl wait NAME [--timeout S]: until the guest finished first boot
 * (start --wait and run --wait share cli_wait_ready).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "driver/cli/cli.h"
#include "util/util.h"

static void wait_help(void)
{
	puts("usage: qemuctl wait NAME [--timeout S]\n\n"
	     "Wait until a running VM's guest has finished first boot (its console shows\n"
	     "the ready marker of its seed, or the domain's <qemuctl:ready-marker>).\n\n"
	     "  --timeout S          seconds to wait (default 300)\n"
	     "On timeout the last 20 console lines are printed and the exit code is 1.");
}

int cli_wait_main(struct cli *c, int argc, char **argv)
{
	const char *name = NULL, *timeout = NULL;
	int i, ms = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			wait_help();
			return CLI_OK;
		} else if (strcmp(a, "--json") == 0) {
			c->json = true;
		} else if (strcmp(a, "--timeout") == 0) {
			if (++i >= argc)
				return cli_usage_error("wait", "wait: --timeout needs a value");
			timeout = argv[i];
		} else if (qc_str_has_prefix(a, "--timeout=")) {
			timeout = a + 10;
		} else if (a[0] == '-' && a[1]) {
			return cli_usage_error("wait", "wait: unknown option '%s'", a);
		} else if (!name) {
			name = a;
		} else {
			return cli_usage_error("wait", "wait: unexpected argument '%s'", a);
		}
	}
	if (!name)
		return cli_usage_error("wait", "wait: missing NAME");
	if (timeout && cli_parse_wait_timeout("wait", timeout, &ms) < 0)
		return CLI_USAGE;
	return cli_wait_ready(c, name, ms);
}
