/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qemuctl seed build OUT.iso [options]: a standalone NoCloud seed. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/cli/cli.h"

void cli_seed_usage(FILE *f, const char *name)
{
	(void) name;
	fputs("usage: qemuctl seed build OUT.iso [--hostname H] [--user-data FILE]\n"
	      "                [--meta-data FILE] [--network-config FILE] [--ssh-key FILE]...\n"
	      "                [--instance-id ID] [--user NAME] [--no-default-keys]\n"
	      "                [--no-qemuctl-key]\n"
	      "\n"
	      "Writes a NoCloud seed (ISO 9660 with Rock Ridge and Joliet, volume id\n"
	      "'cidata') for cloud-init under any hypervisor.  Without --user-data a\n"
	      "#cloud-config is generated: the host name, a user (default 'qemuctl') with\n"
	      "passwordless sudo and the ssh keys (--ssh-key, else ~/.ssh/id_*.pub, plus\n"
	      "qemuctl's own key).  Files given are used verbatim after a check.\n",
		f);
}

static int seed_build(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_seed_build_opts o = {
		.hostname = a->val[OPT_HOSTNAME],
		.user_data = a->val[OPT_USER_DATA],
		.meta_data = a->val[OPT_META_DATA],
		.network_config = a->val[OPT_NETCFG],
		.ssh_keys = (const char *const *) a->multi[OPT_SSH_KEY],
		.instance_id = a->val[OPT_INSTANCE_ID],
		.user = a->val[OPT_USER],
		.no_default_keys = a->set[OPT_NO_DEFAULT_KEYS],
		.no_own_key = a->set[OPT_NO_QEMUCTL_KEY],
	};
	struct qc_error err = {0};
	const char *out = a->pos[0];
	qc_ctx *ctx = NULL;

	(void) cmd;
	/* qemuctl's own key lives in the state root; without it the seed is still usable */
	if (!o.user_data && !o.no_own_key && !(ctx = cli_ctx(c)))
		return CLI_ERROR;
	if (qc_seed_build(ctx, &o, out, &err) < 0)
		return cli_error(&err);
	if (c->json) {
		autojson struct cli_json *g = cli_json_new(false);

		cli_json_map_open(g);
		cli_json_kstring(g, "seed", out);
		cli_json_map_close(g);
		return cli_print_json(g);
	} else if (c->verbosity > 0)
		printf("seed written to %s\n", out);
	return CLI_OK;
}

/* seed build: the group's table */
const struct cli_cmd cli_seed_cmds[] = {
	{.name = "build",
		.usage = cli_seed_usage,
		.style = CLI_STYLE_BARE,
		.opts = CLI_OPT(OPT_HOSTNAME) | CLI_OPT(OPT_USER_DATA) | CLI_OPT(OPT_META_DATA) |
			CLI_OPT(OPT_NETCFG) | CLI_OPT(OPT_SSH_KEY) | CLI_OPT(OPT_INSTANCE_ID) |
			CLI_OPT(OPT_USER) | CLI_OPT(OPT_NO_DEFAULT_KEYS) |
			CLI_OPT(OPT_NO_QEMUCTL_KEY),
		.min_pos = 1,
		.max_pos = 1,
		.pos_names = "OUT.iso",
		.pos_files = "o",
		.fn = seed_build},
	{0},
};
