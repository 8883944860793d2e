/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qemuctl net create|list|rm. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/cli/cli.h"

void cli_net_usage(FILE *f, const char *name)
{
	(void) name;
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

static int net_create(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_network_create_opts o = {.name = a->pos[0]};
	struct qc_error err = {0};
	qc_ctx *ctx;

	(void) cmd;
	if (o.name && o.name[0] == '-')
		return cli_usage_error("net", "net create: unknown option '%s'", o.name);
	o.subnet = a->val[OPT_SUBNET];
	o.bridge = a->val[OPT_BRIDGE];
	if (a->set[OPT_MTU]) {
		uint64_t mtu;

		if (qc_uint_parse("--mtu", a->val[OPT_MTU], 68, 65535, &mtu, &err) < 0)
			return cli_usage_error("net", "%s", err.msg);
		o.mtu = (unsigned) mtu;
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
		autojson struct cli_json *g = cli_json_new(false);
		struct qc_network_info *info = NULL;

		if (qc_network_get(ctx, o.name, &info, &err) < 0)
			return cli_error(&err);
		cli_json_map_open(g);
		cli_json_kstring(g, "name", info->name);
		cli_json_kstring(g, "subnet", info->subnet);
		cli_json_kstring(g, "gateway", info->gateway);
		cli_json_kstring(g, "bridge", info->bridge);
		cli_json_map_close(g);
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
	autojson struct cli_json *g = cli_json_new(false);

	cli_json_array_open(g);
	for (size_t i = 0; i < n; i++) {
		cli_json_map_open(g);
		cli_json_kstring(g, "name", v[i]->name);
		cli_json_kstring(g, "subnet", v[i]->subnet);
		cli_json_kstring(g, "gateway", v[i]->gateway);
		cli_json_kstring(g, "bridge", v[i]->bridge);
		cli_json_kbool(g, "bridge_created", v[i]->bridge_created);
		cli_json_kbool(g, "bridge_present", v[i]->bridge_present);
		cli_json_kuint(g, "mtu", v[i]->mtu);
		cli_json_kuint(g, "used", v[i]->used);
		cli_json_kuint(g, "capacity", v[i]->capacity);
		cli_json_kstrv(g, "vms", v[i]->vms);
		cli_json_karray_open(g, "leases");
		for (size_t k = 0; k < v[i]->n_leases; k++) {
			cli_json_map_open(g);
			cli_json_kstring(g, "vm", v[i]->leases[k].vm);
			cli_json_kstring(g, "nic", v[i]->leases[k].nic);
			cli_json_kstring(g, "ip", v[i]->leases[k].ip);
			cli_json_map_close(g);
		}
		cli_json_array_close(g);
		cli_json_map_close(g);
	}
	cli_json_array_close(g);
	return cli_print_json(g);
}

static int net_list(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_network_info **v = NULL;
	struct qc_error err = {0};
	size_t n = 0;
	int rc = CLI_OK;
	qc_ctx *ctx;

	(void) cmd;
	if (a->n_pos > 0)
		return cli_usage_error("net", "net list: unexpected argument '%s'", a->pos[0]);
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
			autofree char *vms = cli_strv_join(v[i]->vms, ",");
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

static int net_rm(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	(void) cmd;
	return cli_remove(c, a, "net", "network", qc_network_remove);
}

/* net create|list|rm: the group's table */
const struct cli_cmd cli_net_cmds[] = {
	CLI_SUBCMD("create", NULL, cli_net_usage,
		CLI_OPT(OPT_SUBNET) | CLI_OPT(OPT_BRIDGE) | CLI_OPT(OPT_MTU), 1, net_create),
	CLI_SUBCMD("list", "ls", cli_net_usage, 0, CLI_MAX_POS, net_list),
	CLI_SUBCMD("rm", "remove", cli_net_usage, 0, CLI_MAX_POS, net_rm),
	{0},
};
