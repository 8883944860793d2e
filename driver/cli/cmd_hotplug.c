/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemuctl attach-disk NAME SIZE|FILE | detach-disk NAME DISK
 * qemuctl attach-net NAME SPEC       | detach-net NAME NIC
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/cli/cli.h"

void cli_hotplug_usage(FILE *f, const char *cmd)
{
	fprintf(f,
		"usage: qemuctl attach-disk NAME SIZE|FILE\n"
		"       qemuctl detach-disk NAME DISK\n"
		"       qemuctl attach-net NAME SPEC\n"
		"       qemuctl detach-net NAME NIC\n"
		"\n"
		"On a running VM the device is plugged in (or out) at once through QMP; on a\n"
		"stopped VM it is recorded for the next start.  Either way domain.xml keeps it.\n"
		"attach-disk SIZE makes a fresh qcow2 in the VM's directory; FILE attaches an\n"
		"existing image in place.  SPEC is as for --net: user[,hostfwd=...] |\n"
		"network=NAME[,ip=A][,mac=M] | bridge=BR[,mac=M].  Detaching keeps the disk's\n"
		"file.  (%s)\n",
		cmd);
}

int cli_hotplug(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	const char *name = cmd->name, *vm = a->pos[0], *arg = a->pos[1];
	struct qc_error err = {0};
	autofree char *dev = NULL;
	bool live = false, attach = strncmp(name, "attach", 6) == 0, disk = strstr(name, "disk");
	qc_ctx *ctx;
	int rc;

	if (a->n_pos > 2)
		return cli_usage_error(name, "%s: too many arguments", name);
	if (!vm || !arg)
		return cli_usage_error(name, "usage: qemuctl %s NAME %s", name,
			attach ? (disk ? "SIZE|FILE" : "SPEC") : (disk ? "DISK" : "NIC"));
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	if (attach && disk)
		rc = qc_vm_attach_disk(ctx, vm, arg, &dev, &live, &err);
	else if (attach)
		rc = qc_vm_attach_net(ctx, vm, arg, &dev, &live, &err);
	else if (disk)
		rc = qc_vm_detach_disk(ctx, vm, arg, &live, &err);
	else
		rc = qc_vm_detach_net(ctx, vm, arg, &live, &err);
	if (rc < 0)
		return cli_error(&err);
	if (!dev)
		dev = cli_strdup(arg);
	if (c->json) {
		autojson struct cli_json *g = cli_json_new(true);

		cli_json_map_open(g);
		cli_json_kstring(g, "vm", vm);
		cli_json_kstring(g, "action", name);
		cli_json_kstring(g, disk ? "disk" : "nic", dev);
		cli_json_kbool(g, "live", live);
		cli_json_map_close(g);
		return cli_print_json(g);
	} else if (c->verbosity >= 0) {
		printf("%s '%s' %s VM '%s'%s\n", disk ? "Disk" : "NIC", dev,
			attach ? "attached to" : "detached from", vm,
			live ? " (live)"
			     : (attach ? " (VM stopped: recorded, the VM gets it at its next start)"
				       : " (VM stopped: removed from its definition)"));
	}
	return CLI_OK;
}
