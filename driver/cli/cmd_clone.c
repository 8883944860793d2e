/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qemuctl clone NAME NEW [--snapshot SNAP]: a new VM on NAME's read-only layers. */
#include "config.h"

#include <stdio.h>

#include "driver/cli/cli.h"

void cli_clone_usage(FILE *f, const char *name)
{
	(void) name;
	fputs("usage: qemuctl clone NAME NEW [--snapshot SNAP]\n\n"
	      "Make VM NEW from VM NAME.  With --snapshot, NEW gets a qcow2 overlay of\n"
	      "its own on snapshot SNAP's layers, which are read-only, so NAME may run;\n"
	      "without it NAME must be stopped and each disk's active layer is copied.\n"
	      "The layers below are shared (hard links in NEW's directory: deleting\n"
	      "either VM keeps what the other uses), and so are NEW's copies of the\n"
	      "snapshots whose layers it shares.  NEW has its own uuid, so a new\n"
	      "cloud-init instance id (the guest runs first boot again), new MACs and\n"
	      "addresses in named networks, its own name as host name, a new sshd host\n"
	      "key, free host ports for its forwards and its own seed.  A writable disk\n"
	      "outside NAME's directory (a file of the user's) is refused: both VMs\n"
	      "would write it.\n",
		f);
}

int cli_clone(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_error err = {0};
	const char *snap = a->set[OPT_SNAPSHOT] ? a->val[OPT_SNAPSHOT] : NULL;
	qc_ctx *ctx;

	(void) cmd;
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	if (qc_vm_clone(ctx, a->pos[0], a->pos[1], snap, &err) < 0)
		return cli_error(&err);
	if (c->json) {
		autojson struct cli_json *g = cli_json_new(true);

		cli_json_map_open(g);
		cli_json_kstring(g, "name", a->pos[1]);
		cli_json_kstring(g, "source", a->pos[0]);
		cli_json_kstring(g, "snapshot", snap); /* null without --snapshot */
		cli_json_map_close(g);
		return cli_print_json(g);
	} else if (c->verbosity >= 0) {
		if (snap)
			printf("VM '%s' cloned from snapshot '%s' of VM '%s'\n", a->pos[1], snap,
				a->pos[0]);
		else
			printf("VM '%s' cloned from VM '%s'\n", a->pos[1], a->pos[0]);
	}
	return CLI_OK;
}
