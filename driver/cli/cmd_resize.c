/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qemuctl resize NAME DISK SIZE|+SIZE: grow a disk, offline or online. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "driver/cli/cli.h"

void cli_resize_usage(FILE *f, const char *name)
{
	(void) name;
	fputs("usage: qemuctl resize NAME DISK SIZE|+SIZE\n\n"
	      "Grow disk DISK (disk0, disk1...; see 'qemuctl info NAME') to SIZE, or by\n"
	      "+SIZE (with a unit: K, M, G, T, or B for bytes; e.g. +10G): qemu-img\n"
	      "resize when the VM is stopped, QMP block_resize while it runs (the guest\n"
	      "sees the new size at once).  Shrinking is refused.\n"
	      "The file system inside is not grown: cloud images grow the root partition\n"
	      "at first boot (cloud-init growpart); otherwise use growpart/resize2fs.\n",
		f);
}

/* "2 GiB", or a size no unit shows exactly with its bytes: "2.0 GiB (2147484672 bytes)" */
static void exact_size(uint64_t v, char *buf, size_t size)
{
	size_t n;

	qc_size_format(v, buf, size);
	n = strlen(buf);
	if (strchr(buf, '.'))
		snprintf(buf + n, size - n, " (%" PRIu64 " bytes)", v);
}

int cli_resize(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_error err = {0};
	const char *const *pos = a->pos;
	uint64_t size, old_size = 0, new_size = 0;
	bool relative, online = false;
	const char *spec;
	qc_ctx *ctx;

	(void) cmd;
	spec = pos[2];
	relative = spec[0] == '+';
	if (cli_size_lacks_unit(relative ? spec + 1 : spec))
		return cli_usage_error("resize", "resize: SIZE '%s' has no unit: " CLI_SIZE_UNITS,
			spec, relative ? "+" : "", relative ? spec + 1 : spec);
	if (qc_size_parse("SIZE", relative ? spec + 1 : spec, &size, &err) < 0)
		return cli_usage_error("resize", "resize: %s", err.msg);
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	if (qc_vm_resize(ctx, pos[0], pos[1], size, relative, &old_size, &new_size, &online, &err) <
		0)
		return cli_error(&err);
	if (c->json) {
		autojson struct cli_json *g = cli_json_new(true);

		cli_json_map_open(g);
		cli_json_kstring(g, "name", pos[0]);
		cli_json_kstring(g, "disk", pos[1]);
		cli_json_kuint(g, "old_size", old_size);
		cli_json_kuint(g, "new_size", new_size);
		cli_json_kbool(g, "online", online);
		cli_json_map_close(g);
		return cli_print_json(g);
	} else if (c->verbosity >= 0) {
		char from[64], to[64];

		exact_size(old_size, from, sizeof(from));
		exact_size(new_size, to, sizeof(to));
		if (old_size == new_size)
			printf("disk '%s' of VM '%s' is %s already\n", pos[1], pos[0], from);
		else
			printf("disk '%s' of VM '%s': %s -> %s (%s)\n", pos[1], pos[0], from, to,
				online ? "online, the guest sees it now" : "offline");
	}
	return CLI_OK;
}
