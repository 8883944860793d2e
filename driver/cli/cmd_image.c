/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qemuctl image sync|import|list|rm. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/cli/cli.h"

void cli_image_usage(FILE *f, const char *name)
{
	(void) name;
	fputs("usage: qemuctl image sync REF [--arch A] [--stream URL] [--name NAME]\n"
	      "                              [--max-size SIZE]\n"
	      "       qemuctl image import NAME FILE|URL [--sha256 HEX] [--arch A]\n"
	      "                              [--max-size SIZE]\n"
	      "       qemuctl image list\n"
	      "       qemuctl image rm NAME\n"
	      "\n"
	      "REF is DISTRO:RELEASE.  ubuntu:24.04 or ubuntu:noble (ubuntu: may be\n"
	      "left out) is looked up in a simplestreams index (default\n"
	      "https://cloud-images.ubuntu.com/releases/) and checked by SHA-256;\n"
	      "debian:12 (bookworm) or debian:13 (trixie), with -genericcloud for the\n"
	      "smaller VM-only flavour (amd64, arm64), comes from Debian's cloud image\n"
	      "tree (default https://cloud.debian.org/images/cloud/, latest/) and is\n"
	      "checked by its SHA512SUMS.  --stream replaces either base URL (https://,\n"
	      "file:// or, when you say so, http://).  --arch (x86_64/amd64,\n"
	      "aarch64/arm64, ppc64le/ppc64el) defaults to the host's.  A synced image\n"
	      "is named CODENAME-ARCH (noble-amd64, bookworm-arm64,\n"
	      "trixie-genericcloud-amd64) unless --name is given.\n"
	      "import takes raw, qcow2, vmdk or vhdx, optionally .xz or .gz compressed;\n"
	      "--sha256 is of FILE|URL as given, checked before it is decompressed.\n"
	      "--max-size bounds the download and the decompressed image (default 64G;\n"
	      "never more than the free space of the state root's file system).\n"
	      "Images are read-only backing files; 'create --image NAME' makes an overlay.\n",
		f);
}

/* --max-size SIZE: a size with a unit (1G, 512M), more than 0. */
static int parse_max_size(const char *v, uint64_t *ret)
{
	struct qc_error err = {0};

	if (cli_size_parse("--max-size", v, ret, &err) < 0)
		return cli_usage_error("image", "%s", err.msg);
	if (*ret == 0)
		return cli_usage_error("image", "--max-size must be more than 0");
	return 0;
}

/* ------------------------------------------------------------------ output */

static void info_json(struct cli_json *g, const struct qc_image_info *i)
{
	char when[40];

	cli_format_time_utc(i->imported_at_ms, when, sizeof(when));
	cli_json_map_open(g);
	cli_json_kstring(g, "name", i->name);
	cli_json_kstring(g, "arch", i->arch);
	cli_json_kstring(g, "format", i->format);
	cli_json_kstring(g, "path", i->path);
	cli_json_kstring(g, "source", i->source);
	cli_json_kstring(g, "sha256", i->sha256);
	cli_json_kuint(g, "size", i->size);
	cli_json_kuint(g, "virtual_size", i->virtual_size);
	cli_json_kstring(g, "imported_at", when);
	if (i->distro)
		cli_json_kstring(g, "distro", i->distro);
	if (i->release)
		cli_json_kstring(g, "release", i->release);
	if (i->release_version)
		cli_json_kstring(g, "release_version", i->release_version);
	if (i->version)
		cli_json_kstring(g, "version", i->version);
	cli_json_kstrv(g, "users", i->users);
	cli_json_map_close(g);
}

static void describe(const struct qc_image_info *i, char *buf, size_t n)
{
	char v[16], s[16];

	qc_size_format(i->virtual_size, v, sizeof(v));
	qc_size_format(i->size, s, sizeof(s));
	if (i->version)
		snprintf(buf, n, "%s %s (%s), version %s, %s: %s virtual, %s on disk",
			i->distro ? i->distro : "", i->release_version ? i->release_version : "",
			i->release ? i->release : "", i->version, i->arch ? i->arch : "?", v, s);
	else
		snprintf(buf, n, "%s: %s virtual, %s on disk", i->arch ? i->arch : "?", v, s);
}

/* ---------------------------------------------------------------- commands */

static int image_sync(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_image_sync_opts o = {.ref = a->pos[0]};
	struct qc_image_info *info = NULL;
	struct qc_error err = {0};
	struct cli_progress p;
	bool fresh = false;
	qc_ctx *ctx;
	int r;

	(void) cmd;
	if (o.ref && o.ref[0] == '-')
		return cli_usage_error("image", "image sync: unknown option '%s'", o.ref);
	o.arch = a->val[OPT_ARCH];
	o.stream = a->val[OPT_STREAM];
	o.name = a->val[OPT_NAME];
	if (a->set[OPT_MAX_SIZE] && parse_max_size(a->val[OPT_MAX_SIZE], &o.max_size) != 0)
		return CLI_USAGE;
	if (!o.ref)
		return cli_usage_error("image", "image sync: missing REF (e.g. ubuntu:24.04)");
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	cli_progress_begin(c, ctx, &p, c->json);
	r = qc_image_sync(ctx, &o, &info, &fresh, &err);
	cli_progress_end(ctx, &p);
	if (r < 0)
		return cli_error(&err);
	if (c->json) {
		autojson struct cli_json *g = cli_json_new(false);

		cli_json_map_open(g);
		cli_json_kbool(g, "downloaded", fresh);
		cli_json_key(g, "image");
		info_json(g, info);
		cli_json_map_close(g);
		r = cli_print_json(g);
	} else {
		char d[512];

		describe(info, d, sizeof(d));
		if (c->verbosity >= 0)
			printf("image '%s' %s: %s\n", info->name,
				fresh ? "synced" : "is up to date", d);
		r = CLI_OK;
	}
	qc_image_info_free(info);
	return r;
}

static int image_import(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_image_import_opts o = {.name = a->pos[0], .source = a->pos[1]};
	struct qc_image_info *info = NULL;
	struct qc_error err = {0};
	struct cli_progress p;
	qc_ctx *ctx;
	int r;

	(void) cmd;
	o.arch = a->val[OPT_ARCH];
	o.sha256 = a->val[OPT_SHA256];
	if (a->set[OPT_MAX_SIZE] && parse_max_size(a->val[OPT_MAX_SIZE], &o.max_size) != 0)
		return CLI_USAGE;
	if (!o.name || !o.source)
		return cli_usage_error("image", "image import: expected NAME and FILE|URL");
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	cli_progress_begin(c, ctx, &p, c->json);
	r = qc_image_import(ctx, &o, &info, &err);
	cli_progress_end(ctx, &p);
	if (r < 0)
		return cli_error(&err);
	if (c->json) {
		autojson struct cli_json *g = cli_json_new(false);

		info_json(g, info);
		r = cli_print_json(g);
	} else {
		char d[512];

		describe(info, d, sizeof(d));
		if (c->verbosity >= 0)
			printf("image '%s' imported: %s\n", info->name, d);
		r = CLI_OK;
	}
	qc_image_info_free(info);
	return r;
}

static int image_list(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_image_info **v = NULL;
	struct qc_error err = {0};
	size_t n = 0;
	qc_ctx *ctx;

	(void) cmd;
	if (a->n_pos > 0)
		return cli_usage_error("image", "image list: unexpected argument '%s'", a->pos[0]);
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	if (qc_image_list(ctx, &v, &n, &err) < 0)
		return cli_error(&err);
	if (c->json) {
		autojson struct cli_json *g = cli_json_new(false);
		int r;

		cli_json_map_open(g);
		cli_json_karray_open(g, "images");
		for (size_t i = 0; i < n; i++)
			info_json(g, v[i]);
		cli_json_array_close(g);
		cli_json_map_close(g);
		r = cli_print_json(g);
		qc_image_info_list_free(v, n);
		return r;
	}
	printf("%-20s %-8s %10s %10s %4s  %s\n", "NAME", "ARCH", "DISK", "VIRTUAL", "VMS",
		"SOURCE");
	for (size_t i = 0; i < n; i++) {
		char s[16], vs[16];

		qc_size_format(v[i]->size, s, sizeof(s));
		qc_size_format(v[i]->virtual_size, vs, sizeof(vs));
		printf("%-20s %-8s %10s %10s %4zu  %s\n", v[i]->name, v[i]->arch ? v[i]->arch : "-",
			s, vs, v[i]->n_users, v[i]->source ? v[i]->source : "-");
	}
	qc_image_info_list_free(v, n);
	return CLI_OK;
}

static int image_rm(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	(void) cmd;
	return cli_remove(c, a, "image", "image", qc_image_remove);
}

/* image sync|import|list|rm: the group's table */
const struct cli_cmd cli_image_cmds[] = {
	CLI_SUBCMD("sync", NULL, cli_image_usage,
		CLI_OPT(OPT_ARCH) | CLI_OPT(OPT_STREAM) | CLI_OPT(OPT_NAME) | CLI_OPT(OPT_MAX_SIZE),
		1, image_sync),
	CLI_SUBCMD("import", NULL, cli_image_usage,
		CLI_OPT(OPT_ARCH) | CLI_OPT(OPT_SHA256) | CLI_OPT(OPT_MAX_SIZE), 2, image_import,
		.pos_files = "-i"),
	CLI_SUBCMD("list", "ls", cli_image_usage, 0, CLI_MAX_POS, image_list),
	CLI_SUBCMD("rm", "remove", cli_image_usage, 0, CLI_MAX_POS, image_rm),
	{0},
};
