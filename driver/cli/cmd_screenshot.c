/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qemuctl screenshot NAME FILE.png: a running VM's display. */
#include "config.h"

#include <stdio.h>

#include "driver/cli/cli.h"

int cli_screenshot(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_error err = {0};
	unsigned w = 0, h = 0;
	qc_ctx *ctx;

	(void) cmd;
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	if (qc_vm_screenshot(ctx, a->pos[0], a->pos[1], &w, &h, &err) < 0)
		return cli_error(&err);
	if (c->json) {
		autojson struct cli_json *g = cli_json_new(false);

		cli_json_map_open(g);
		cli_json_kstring(g, "vm", a->pos[0]);
		cli_json_kstring(g, "file", a->pos[1]);
		cli_json_kuint(g, "width", w);
		cli_json_kuint(g, "height", h);
		cli_json_map_close(g);
		return cli_print_json(g);
	}
	if (c->verbosity >= 0)
		printf("VM '%s': %ux%u screenshot written to %s\n", a->pos[0], w, h, a->pos[1]);
	return CLI_OK;
}
