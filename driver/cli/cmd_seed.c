/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qemuctl seed build OUT.iso [options]: a standalone NoCloud seed. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/cli/cli.h"
#include "util/util.h"

static void seed_usage(FILE *f)
{
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


static int seed_build(struct cli *c, int argc, char **argv)
{
	static const char *const opts[] = {"--hostname", "--user-data", "--meta-data",
		"--network-config", "--ssh-key", "--instance-id", "--user"};
	struct qc_seed_build_opts o = {0};
	cleanup_strvec struct qc_strv keys = {0};
	struct qc_error err = {0};
	const char *out = NULL;
	qc_ctx *ctx = NULL;

	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		bool missing = false;
		size_t k;

		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			seed_usage(stdout);
			return CLI_OK;
		}
		if (!strcmp(argv[i], "--no-default-keys")) {
			o.no_default_keys = true;
			continue;
		}
		if (!strcmp(argv[i], "--no-qemuctl-key")) {
			o.no_own_key = true;
			continue;
		}
		for (k = 0; k < QC_ARRAY_SIZE(opts); k++)
			if ((v = cli_opt_value(argc, argv, &i, opts[k], &missing)) || missing)
				break;
		if (missing)
			return cli_usage_error("seed", "%s needs a value", argv[i]);
		if (v) {
			const char **slot[] = {&o.hostname, &o.user_data, &o.meta_data,
				&o.network_config, NULL, &o.instance_id, &o.user};

			if (!slot[k]) {
				qc_strv_push(&keys, v);
				continue;
			}
			if (*slot[k])
				return cli_usage_error("seed", "%s given twice", opts[k]);
			*slot[k] = v;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error("seed", "seed build: unknown option '%s'", argv[i]);
		if (out)
			return cli_usage_error(
				"seed", "seed build: unexpected argument '%s'", argv[i]);
		out = argv[i];
	}
	if (!out)
		return cli_usage_error("seed", "seed build: missing OUT.iso");
	o.ssh_keys = (const char *const *) keys.v;
	/* qemuctl's own key lives in the state root; without it the seed is still usable */
	if (!o.user_data && !o.no_own_key && !(ctx = cli_ctx(c)))
		return CLI_ERROR;
	if (qc_seed_build(ctx, &o, out, &err) < 0)
		return cli_error(&err);
	if (c->json) {
		cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);

		qc_jgen_map_open(g);
		qc_jgen_kstring(g, "seed", out);
		qc_jgen_map_close(g);
		return cli_print_json(g);
	} else if (c->verbosity > 0)
		printf("seed written to %s\n", out);
	return CLI_OK;
}

int cli_seed_main(struct cli *c, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		seed_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	if (!strcmp(argv[1], "build"))
		return seed_build(c, argc - 1, argv + 1);
	return cli_usage_error("seed", "unknown seed command '%s' (expected: build)", argv[1]);
}
