/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qemuctl port add|rm|list: host port forwards of a VM's user-mode NICs. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/cli/cli.h"

void cli_port_usage(FILE *f, const char *name)
{
	(void) name;
	fputs("usage: qemuctl port add NAME [ADDR:]HOSTPORT:GUESTPORT[/udp] [--persist] [--nic "
	      "NIC]\n"
	      "       qemuctl port rm NAME [ADDR:]HOSTPORT[/udp]\n"
	      "       qemuctl port list NAME [--json]\n"
	      "\n"
	      "Forward a host port to a guest port through a user-mode NIC (--net user).\n"
	      "add opens it in the running VM at once; it lasts until the VM stops.\n"
	      "  --persist            also put it in the VM's definition: every start has\n"
	      "                       it (on a stopped VM: only that)\n"
	      "  --nic NIC            the user-mode NIC (default: the first one)\n"
	      "ADDR is the host's IPv4 address to listen on (default 127.0.0.1; 0.0.0.0:\n"
	      "every address); tcp unless /udp.  A host port in use, forwarded already,\n"
	      "or below 1024 while QEMU runs unprivileged is refused.  rm closes a\n"
	      "forward, and takes it out of the definition when it is there.\n",
		f);
}

static int port_change(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	bool add = !strcmp(cmd->name, "add"), live = false;
	struct qc_error err = {0};
	qc_ctx *ctx;
	int rc;

	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	rc = add ? qc_vm_port_add(ctx, a->pos[0], a->pos[1], a->val[OPT_NIC], a->set[OPT_PERSIST],
			   &live, &err)
		 : qc_vm_port_remove(ctx, a->pos[0], a->pos[1], &live, &err);
	if (rc < 0)
		return cli_error(&err);
	if (c->json) {
		autojson struct cli_json *g = cli_json_new(false);

		cli_json_map_open(g);
		cli_json_kstring(g, "vm", a->pos[0]);
		cli_json_kstring(g, "action", add ? "add" : "rm");
		cli_json_kstring(g, "spec", a->pos[1]);
		cli_json_kbool(g, "live", live);
		cli_json_kbool(g, "persistent", add ? a->set[OPT_PERSIST] : false);
		cli_json_map_close(g);
		return cli_print_json(g);
	}
	if (c->verbosity >= 0)
		printf("VM '%s': forward %s %s%s\n", a->pos[0], a->pos[1],
			add ? (live ? "added" : "added to the definition") : "removed",
			add && live && a->set[OPT_PERSIST] ? " (and to the definition)" : "");
	return CLI_OK;
}

static int port_list(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_port_fwd *v = NULL;
	struct qc_error err = {0};
	size_t n = 0;
	qc_ctx *ctx;

	(void) cmd;
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	if (qc_vm_port_list(ctx, a->pos[0], &v, &n, &err) < 0)
		return cli_error(&err);
	if (c->json) {
		autojson struct cli_json *g = cli_json_new(false);

		cli_json_map_open(g);
		cli_json_kstring(g, "vm", a->pos[0]);
		cli_json_karray_open(g, "forwards");
		for (size_t i = 0; i < n; i++) {
			cli_json_map_open(g);
			cli_json_kstring(g, "nic", v[i].nic);
			cli_json_kstring(g, "proto", v[i].proto);
			cli_json_kstring(g, "host_addr", v[i].host_addr);
			cli_json_kuint(g, "host_port", v[i].host_port);
			cli_json_kuint(g, "guest_port", v[i].guest_port);
			cli_json_kbool(g, "persistent", v[i].persistent);
			cli_json_kbool(g, "live", v[i].live);
			cli_json_map_close(g);
		}
		cli_json_array_close(g);
		cli_json_map_close(g);
		free(v);
		return cli_print_json(g);
	}
	printf("%-6s %-5s %-21s %-6s %s\n", "NIC", "PROTO", "HOST", "GUEST", "KEPT");
	for (size_t i = 0; i < n; i++) {
		char host[96];

		if (v[i].host_port)
			snprintf(host, sizeof(host), "%s:%u", v[i].host_addr, v[i].host_port);
		else
			snprintf(host, sizeof(host), "%s:(at start)", v[i].host_addr);
		printf("%-6s %-5s %-21s %-6u %s\n", v[i].nic, v[i].proto, host, v[i].guest_port,
			v[i].persistent ? "definition" : "this run");
	}
	free(v);
	return CLI_OK;
}

#define PORT_SUB(n, a, o, min, max, names, f)                                                    \
	{                                                                                        \
		.name = n, .alias = a, .usage = cli_port_usage, .opts = (o) | CLI_OPT(OPT_JSON), \
		.min_pos = min, .max_pos = max, .pos_names = names, .style = CLI_STYLE_BARE,     \
		.flags = CLI_LAST_WINS, .fn = f                                                  \
	}

/* port add|rm|list: the group's table */
const struct cli_cmd cli_port_cmds[] = {
	PORT_SUB("add", NULL, CLI_OPT(OPT_PERSIST) | CLI_OPT(OPT_NIC), 2, 2, "NAME SPEC",
		port_change),
	PORT_SUB("rm", "remove", 0, 2, 2, "NAME SPEC", port_change),
	PORT_SUB("list", "ls", 0, 1, 1, "NAME", port_list),
	{0},
};
