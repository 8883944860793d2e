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
#include "util/util.h"

static const char *const hp_cmds[] = {"attach-disk", "detach-disk", "attach-net", "detach-net"};

bool cli_is_hotplug(const char *cmd)
{
	for (size_t i = 0; i < QC_ARRAY_SIZE(hp_cmds); i++)
		if (strcmp(cmd, hp_cmds[i]) == 0)
			return true;
	return false;
}

static void hotplug_usage(FILE *f, const char *cmd)
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

int cli_hotplug_main(struct cli *c, int argc, char **argv)
{
	const char *cmd = argv[0], *vm = NULL, *arg = NULL;
	struct qc_error err = {0};
	cleanup_free char *dev = NULL;
	bool live = false, attach = strncmp(cmd, "attach", 6) == 0, disk = strstr(cmd, "disk");
	qc_ctx *ctx;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			hotplug_usage(stdout, cmd);
			return CLI_OK;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return cli_usage_error(cmd, "%s: unknown option '%s'", cmd, argv[i]);
		} else if (!vm) {
			vm = argv[i];
		} else if (!arg) {
			arg = argv[i];
		} else {
			return cli_usage_error(cmd, "%s: too many arguments", cmd);
		}
	}
	if (!vm || !arg)
		return cli_usage_error(cmd, "usage: qemuctl %s NAME %s", cmd,
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
		dev = qc_xstrdup(arg);
	if (c->json) {
		cleanup_jgen struct qc_jgen *g = qc_jgen_new(true);

		qc_jgen_map_open(g);
		qc_jgen_kstring(g, "vm", vm);
		qc_jgen_kstring(g, "action", cmd);
		qc_jgen_kstring(g, disk ? "disk" : "nic", dev);
		qc_jgen_kbool(g, "live", live);
		qc_jgen_map_close(g);
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
