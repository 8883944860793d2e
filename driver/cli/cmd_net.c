/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qemuctl net create|list|rm. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/cli/cli.h"
#include "util/util.h"

static void net_usage(FILE *f)
{
	fputs("usage: qemuctl net create NAME --subnet CIDR [--bridge BR] [--mtu N]\n"
	      "       qemuctl net list\n"
	      "       qemuctl net rm NAME\n"
	      "\n"
	      "A named network is a host bridge holding the gateway (the first address of\n"
	      "the subnet) and an allocator: each VM NIC attached with\n"
	      "--net network=NAME[,ip=A] keeps one static address, given to the guest\n"
	      "through its seed's network-config.  The bridge defaults to qc-NAME.\n",
		f);
}

static int net_create(struct cli *c, int argc, char **argv)
{
	struct qc_network_create_opts o = {0};
	struct qc_error err = {0};
	qc_ctx *ctx;

	for (int i = 1; i < argc; i++) {
		const char *v;
		bool missing;

		if ((v = cli_opt_value(argc, argv, &i, "--subnet", &missing)))
			o.subnet = v;
		else if (!missing && (v = cli_opt_value(argc, argv, &i, "--bridge", &missing)))
			o.bridge = v;
		else if (!missing && (v = cli_opt_value(argc, argv, &i, "--mtu", &missing))) {
			uint64_t mtu;

			if (qc_parse_uint("--mtu", v, 68, 65535, &mtu, &err) < 0)
				return cli_usage_error("net", "%s", err.msg);
			o.mtu = (unsigned) mtu;
		} else if (missing)
			return cli_usage_error("net", "%s needs a value", argv[i]);
		else if (argv[i][0] == '-')
			return cli_usage_error("net", "net create: unknown option '%s'", argv[i]);
		else if (!o.name)
			o.name = argv[i];
		else
			return cli_usage_error(
				"net", "net create: unexpected argument '%s'", argv[i]);
	}
	if (!o.name)
		return cli_usage_error("net", "net create: missing NAME");
	if (!o.subnet)
		return cli_usage_error("net",
			"net create %s: missing --subnet CIDR (e.g. --subnet 10.10.0.0/24)",
			o.name);
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	if (qc_network_create(ctx, &o, &err) < 0)
		return cli_error(&err);
	if (c->json) {
		cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
		struct qc_network_info *info = NULL;

		if (qc_network_get(ctx, o.name, &info, &err) < 0)
			return cli_error(&err);
		qc_jgen_map_open(g);
		qc_jgen_kstring(g, "name", info->name);
		qc_jgen_kstring(g, "subnet", info->subnet);
		qc_jgen_kstring(g, "gateway", info->gateway);
		qc_jgen_kstring(g, "bridge", info->bridge);
		qc_jgen_map_close(g);
		qc_network_info_free(info);
		return cli_print_json(g);
	} else if (c->verbosity >= 0) {
		struct qc_network_info *info = NULL;

		if (qc_network_get(ctx, o.name, &info, &err) == 0) {
			printf("network '%s' created: subnet %s, gateway %s on bridge %s%s\n",
				info->name, info->subnet, info->gateway, info->bridge,
				info->bridge_created ? "" : " (existing bridge)");
			qc_network_info_free(info);
		}
	}
	return CLI_OK;
}

static int list_json(struct qc_network_info **v, size_t n)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);

	qc_jgen_array_open(g);
	for (size_t i = 0; i < n; i++) {
		qc_jgen_map_open(g);
		qc_jgen_kstring(g, "name", v[i]->name);
		qc_jgen_kstring(g, "subnet", v[i]->subnet);
		qc_jgen_kstring(g, "gateway", v[i]->gateway);
		qc_jgen_kstring(g, "bridge", v[i]->bridge);
		qc_jgen_kbool(g, "bridge_created", v[i]->bridge_created);
		qc_jgen_kbool(g, "bridge_present", v[i]->bridge_present);
		qc_jgen_kuint(g, "mtu", v[i]->mtu);
		qc_jgen_kuint(g, "used", v[i]->used);
		qc_jgen_kuint(g, "capacity", v[i]->capacity);
		qc_jgen_key(g, "vms");
		qc_jgen_array_open(g);
		for (char **p = v[i]->vms; p && *p; p++)
			qc_jgen_string(g, *p);
		qc_jgen_array_close(g);
		qc_jgen_key(g, "leases");
		qc_jgen_array_open(g);
		for (size_t k = 0; k < v[i]->n_leases; k++) {
			qc_jgen_map_open(g);
			qc_jgen_kstring(g, "vm", v[i]->leases[k].vm);
			qc_jgen_kstring(g, "nic", v[i]->leases[k].nic);
			qc_jgen_kstring(g, "ip", v[i]->leases[k].ip);
			qc_jgen_map_close(g);
		}
		qc_jgen_array_close(g);
		qc_jgen_map_close(g);
	}
	qc_jgen_array_close(g);
	return cli_print_json(g);
}

static int net_list(struct cli *c, int argc, char **argv)
{
	struct qc_network_info **v = NULL;
	struct qc_error err = {0};
	size_t n = 0;
	int rc = CLI_OK;
	qc_ctx *ctx;

	if (argc > 1)
		return cli_usage_error("net", "net list: unexpected argument '%s'", argv[1]);
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	if (qc_network_list(ctx, &v, &n, &err) < 0)
		return cli_error(&err);
	if (c->json) {
		rc = list_json(v, n);
	} else {
		int wn = 4, wb = 6;

		for (size_t i = 0; i < n; i++) {
			wn = (int) strlen(v[i]->name) > wn ? (int) strlen(v[i]->name) : wn;
			wb = (int) strlen(v[i]->bridge) > wb ? (int) strlen(v[i]->bridge) : wb;
		}
		printf("%-*s  %-*s  %-18s  %-15s  %-9s  %s\n", wn, "NAME", wb, "BRIDGE", "SUBNET",
			"GATEWAY", "USED", "VMS");
		for (size_t i = 0; i < n; i++) {
			cleanup_free char *vms = qc_strv_join(v[i]->vms, ",");
			char used[32];

			snprintf(used, sizeof(used), "%u/%u", v[i]->used, v[i]->capacity);
			printf("%-*s  %-*s  %-18s  %-15s  %-9s  %s%s\n", wn, v[i]->name, wb,
				v[i]->bridge, v[i]->subnet, v[i]->gateway, used, vms[0] ? vms : "-",
				v[i]->bridge_present ? "" : "  (bridge down until a VM starts)");
		}
	}
	qc_network_list_free(v, n);
	return rc;
}

static int net_rm(struct cli *c, int argc, char **argv)
{
	struct qc_error err = {0};
	qc_ctx *ctx;

	if (argc != 2 || argv[1][0] == '-')
		return cli_usage_error("net", "net rm: expected exactly one NAME");
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	if (qc_network_remove(ctx, argv[1], &err) < 0)
		return cli_error(&err);
	if (c->json)
		return cli_print_removed(argv[1]);
	if (c->verbosity >= 0)
		printf("network '%s' removed\n", argv[1]);
	return CLI_OK;
}

int cli_net_main(struct cli *c, int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error("net", "net: missing subcommand (create, list, rm)");
	argc--;
	argv++;
	if (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h") || !strcmp(argv[0], "help")) {
		net_usage(stdout);
		return CLI_OK;
	}
	if (!strcmp(argv[0], "create"))
		return net_create(c, argc, argv);
	if (!strcmp(argv[0], "list") || !strcmp(argv[0], "ls"))
		return net_list(c, argc, argv);
	if (!strcmp(argv[0], "rm") || !strcmp(argv[0], "remove"))
		return net_rm(c, argc, argv);
	return cli_usage_error("net", "net: unknown subcommand '%s' (create, list, rm)", argv[0]);
}
