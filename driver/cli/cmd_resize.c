/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qemuctl resize NAME DISK SIZE|+SIZE: grow a disk, offline or online. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "driver/cli/cli.h"
#include "util/util.h"

static void resize_help(void)
{
	puts("usage: qemuctl resize NAME DISK SIZE|+SIZE\n\n"
	     "Grow disk DISK (disk0, disk1...; see 'qemuctl info NAME') to SIZE, or by\n"
	     "+SIZE: qemu-img resize when the VM is stopped, QMP block_resize while it\n"
	     "runs (the guest sees the new size at once).  Shrinking is refused.\n"
	     "The file system inside is not grown: cloud images grow the root partition\n"
	     "at first boot (cloud-init growpart); otherwise use growpart/resize2fs.");
}

int cli_resize_main(struct cli *c, int argc, char **argv)
{
	struct qc_error err = {0};
	const char *pos[3];
	int i, n = 0;
	uint64_t size, old_size = 0, new_size = 0;
	bool relative, online = false;
	const char *spec;
	qc_ctx *ctx;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			resize_help();
			return CLI_OK;
		} else if (strcmp(a, "--json") == 0) {
			c->json = true;
		} else if (a[0] == '-' && a[1] == '-') {
			return cli_usage_error("resize", "resize: unknown option '%s'", a);
		} else if (n < 3) {
			pos[n++] = a;
		} else {
			return cli_usage_error("resize", "resize: unexpected argument '%s'", a);
		}
	}
	if (n < 3)
		return cli_usage_error("resize", "resize: missing %s",
			n == 0	 ? "NAME"
			: n == 1 ? "DISK"
				 : "SIZE");
	spec = pos[2];
	relative = spec[0] == '+';
	if (qc_parse_size("SIZE", relative ? spec + 1 : spec, &size, &err) < 0)
		return cli_usage_error("resize", "resize: %s", err.msg);
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	if (qc_vm_resize(ctx, pos[0], pos[1], size, relative, &old_size, &new_size, &online, &err) <
		0)
		return cli_error(&err);
	if (c->json) {
		cleanup_jgen struct qc_jgen *g = qc_jgen_new(true);

		qc_jgen_map_open(g);
		qc_jgen_kstring(g, "name", pos[0]);
		qc_jgen_kstring(g, "disk", pos[1]);
		qc_jgen_kuint(g, "old_size", old_size);
		qc_jgen_kuint(g, "new_size", new_size);
		qc_jgen_kbool(g, "online", online);
		qc_jgen_map_close(g);
		return cli_print_json(g);
	} else if (c->verbosity >= 0) {
		char a[32], b[32];

		qc_format_size(old_size, a, sizeof(a));
		qc_format_size(new_size, b, sizeof(b));
		if (old_size == new_size)
			printf("disk '%s' of VM '%s' is %s already\n", pos[1], pos[0], a);
		else
			printf("disk '%s' of VM '%s': %s -> %s (%s)\n", pos[1], pos[0], a, b,
				online ? "online, the guest sees it now" : "offline");
	}
	return CLI_OK;
}
