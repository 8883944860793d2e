/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The qemu-img wrapper.  Every call is an argv (never a shell), stdout and
 * stderr are captured, and a failure carries qemu-img's own stderr.
 */
#include "config.h"

#include <errno.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "storage/storage.h"

/* qemu-img on a big image may take a while; a hung one must not hang us. */
#define IMG_TIMEOUT_MS (120 * 1000)
#define IMG_CONVERT_TIMEOUT_MS (3600 * 1000)
#define IMG_INFO_MAX (4u << 20)

int qc_img_program(char **ret, struct qc_error *err)
{
	const char *env = getenv("QEMUCTL_QEMU_IMG");
	char *p;

	if (env && *env) {
		*ret = qc_xstrdup(env);
		return 0;
	}
	p = qc_find_program("qemu-img");
	if (!p)
		return qc_error_set(err, ENOENT,
			"qemu-img not found in PATH; install qemu-utils or set $QEMUCTL_QEMU_IMG");
	*ret = p;
	return 0;
}

/* Drop a trailing newline and a "qemu-img: " prefix for shorter messages. */
static void tidy_stderr(char *s)
{
	size_t n;

	if (!s)
		return;
	n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
}

/*
 * Run qemu-img with args (NULL-terminated, without argv[0]).  On success
 * *ret_out (may be NULL) gets stdout.  On failure the message is
 * "qemu-img <subcommand>: <stderr>".
 */
static int run_img(const char *const *args, int timeout_ms, char **ret_out, struct qc_error *err)
{
	cleanup_free char *prog = NULL;
	cleanup_strvec struct qc_strv argv = {0};
	struct qc_spawn_opts o = {0};
	struct qc_spawn_result res = {0};
	int r;

	if ((r = qc_img_program(&prog, err)) < 0)
		return r;
	qc_strv_push(&argv, prog);
	for (size_t i = 0; args[i]; i++)
		qc_strv_push(&argv, args[i]);

	o.argv = (const char *const *) argv.v;
	o.in = QC_STDIO_NULL;
	o.out = QC_STDIO_CAPTURE;
	o.errout = QC_STDIO_CAPTURE;
	o.capture_max = IMG_INFO_MAX;
	o.timeout_ms = timeout_ms;
	r = qc_spawn_run(&o, &res, err);
	if (r < 0)
		return qc_error_prefix(err, "qemu-img %s", args[0]);
	if (res.timed_out) {
		r = qc_error_set(err, QC_ERR_CHILD, "qemu-img %s: timed out after %d s", args[0],
			timeout_ms / 1000);
	} else if (res.exit_code != 0) {
		char st[64];

		tidy_stderr(res.err);
		qc_format_wait_status(res.status, st, sizeof(st));
		if (res.err && *res.err)
			r = qc_error_set(err, QC_ERR_CHILD, "qemu-img %s: %s", args[0], res.err);
		else
			r = qc_error_set(err, QC_ERR_CHILD, "qemu-img %s: %s", args[0], st);
	} else if (ret_out) {
		*ret_out = res.out ? res.out : qc_xstrdup("");
		res.out = NULL;
	}
	qc_spawn_result_free(&res);
	return r;
}

static void layer_clear(struct qc_img_layer *l)
{
	qc_free_all(l->filename, l->format, l->backing, l->backing_format, l->external);
	memset(l, 0, sizeof(*l));
}

void qc_img_info_free(struct qc_img_info *info)
{
	if (!info)
		return;
	for (size_t i = 0; i < info->n_chain; i++)
		layer_clear(&info->chain[i]);
	free(info->chain);
	free(info);
}

QC_DEFINE_CLEANUP_FUNC(qc_img_info_freep, struct qc_img_info, qc_img_info_free)

static char *dup_string(const qc_json *o, const char *key)
{
	const char *s = qc_json_string(qc_json_get(o, key));

	return s ? qc_xstrdup(s) : NULL;
}

static int parse_layer(const qc_json *o, struct qc_img_layer *l, struct qc_error *err)
{
	const char *s;
	bool b;
	int r;

	if (qc_json_type(o) != QC_JSON_OBJECT)
		return qc_error_set(err, QC_ERR_JSON, "qemu-img info: expected an object");
	if ((r = qc_json_get_string(o, "format", &s, err)) < 0)
		return qc_error_prefix(err, "qemu-img info");
	l->format = qc_xstrdup(s);
	if ((r = qc_json_get_uint(o, "virtual-size", &l->virtual_size, err)) < 0)
		return qc_error_prefix(err, "qemu-img info");
	l->filename = dup_string(o, "filename");
	(void) qc_json_as_uint(qc_json_get(o, "actual-size"), &l->actual_size);
	(void) qc_json_as_uint(qc_json_get(o, "cluster-size"), &l->cluster_size);
	l->backing = dup_string(o, "full-backing-filename");
	if (!l->backing)
		l->backing = dup_string(o, "backing-filename");
	l->backing_format = dup_string(o, "backing-filename-format");
	if (qc_json_as_bool(qc_json_get(o, "dirty-flag"), &b))
		l->dirty = b;
	if (qc_json_as_bool(qc_json_path(o, "format-specific/data/corrupt"), &b))
		l->corrupt = b;
	/* Files an image pulls data from besides its backing (see the header). */
	s = qc_json_string(qc_json_path(o, "format-specific/data/data-file"));
	if (s)
		l->external = qc_xstrdup(s);
	{
		const qc_json *ext = qc_json_path(o, "format-specific/data/extents");

		for (size_t i = 0; !l->external && ext && i < qc_json_len(ext); i++) {
			const char *f = qc_json_string(qc_json_get(qc_json_at(ext, i), "filename"));

			if (f && (!l->filename || strcmp(f, l->filename) != 0))
				l->external = qc_xstrdup(f);
		}
	}
	return 0;
}

int qc_img_info_parse(const char *json, size_t len, struct qc_img_info **ret, struct qc_error *err)
{
	cleanup_json qc_json *root = NULL;
	struct qc_img_info *info;
	size_t n = 1;
	int r;

	if ((r = qc_json_parse(json, len, &root, err)) < 0)
		return qc_error_prefix(err, "qemu-img info");
	if (qc_json_type(root) == QC_JSON_ARRAY) {
		n = qc_json_len(root);
		if (n == 0)
			return qc_error_set(err, QC_ERR_JSON, "qemu-img info: empty backing chain");
	} else if (qc_json_type(root) != QC_JSON_OBJECT) {
		return qc_error_set(err, QC_ERR_JSON, "qemu-img info: expected an object or array");
	}
	info = qc_xzalloc(sizeof(*info));
	info->chain = qc_xzalloc(n * sizeof(*info->chain));
	info->n_chain = n;
	for (size_t i = 0; i < n; i++) {
		const qc_json *o = qc_json_type(root) == QC_JSON_ARRAY ? qc_json_at(root, i) : root;

		if ((r = parse_layer(o, &info->chain[i], err)) < 0) {
			qc_img_info_free(info);
			return r;
		}
	}
	*ret = info;
	return 0;
}

int qc_img_info(const char *path, const char *fmt, bool backing_chain, struct qc_img_info **ret,
	struct qc_error *err)
{
	cleanup_free char *out = NULL;
	const char *args[10];
	size_t n = 0;
	int r;

	args[n++] = "info";
	args[n++] = "--output=json";
	/* -U: the image may be open in a running VM (its lock would refuse us). */
	args[n++] = "-U";
	if (backing_chain)
		args[n++] = "--backing-chain";
	if (fmt) {
		args[n++] = "-f";
		args[n++] = fmt;
	}
	args[n++] = "--";
	args[n++] = path;
	args[n] = NULL;
	if ((r = run_img(args, IMG_TIMEOUT_MS, &out, err)) < 0)
		return r;
	return qc_img_info_parse(out, strlen(out), ret, err);
}

static void size_arg(uint64_t size, char *buf, size_t n)
{
	snprintf(buf, n, "%llu", (unsigned long long) size);
}

int qc_img_create(const char *path, const char *fmt, uint64_t size, struct qc_error *err)
{
	char sz[32];
	const char *args[] = {"create", "-q", "-f", fmt ? fmt : "qcow2", "--", path, sz, NULL};

	if (size == 0)
		return qc_error_set(err, QC_ERR_INVALID, "disk '%s': size must not be 0", path);
	size_arg(size, sz, sizeof(sz));
	return run_img(args, IMG_TIMEOUT_MS, NULL, err);
}

int qc_img_create_overlay(const char *path, const char *backing, const char *backing_fmt,
	uint64_t size, struct qc_error *err)
{
	cleanup_free char *abs = NULL;
	char sz[32];
	const char *args[12];
	size_t n = 0;
	int r;

	if (!backing_fmt)
		return qc_error_set(err, QC_ERR_INTERNAL,
			"overlay '%s': the backing format must be named", path);
	/* qemu-img resolves a relative backing path against the overlay's dir. */
	if ((r = qc_abspath(backing, &abs, err)) < 0)
		return qc_error_prefix(err, "overlay '%s': backing file", path);
	if (size) {
		cleanup_img_info struct qc_img_info *bi = NULL;

		if ((r = qc_img_info(abs, backing_fmt, false, &bi, err)) < 0)
			return qc_error_prefix(err, "overlay '%s'", path);
		if (size < bi->chain[0].virtual_size) {
			char a[32], b[32];

			qc_format_size(size, a, sizeof(a));
			qc_format_size(bi->chain[0].virtual_size, b, sizeof(b));
			return qc_error_set(err, QC_ERR_INVALID,
				"overlay '%s': disk size %s is smaller than the image's %s; "
				"give a --disk-size of at least %s",
				path, a, b, b);
		}
	}
	args[n++] = "create";
	args[n++] = "-q";
	args[n++] = "-f";
	args[n++] = "qcow2";
	args[n++] = "-F";
	args[n++] = backing_fmt;
	args[n++] = "-b";
	args[n++] = abs;
	args[n++] = "--";
	args[n++] = path;
	if (size) {
		size_arg(size, sz, sizeof(sz));
		args[n++] = sz;
	}
	args[n] = NULL;
	return run_img(args, IMG_TIMEOUT_MS, NULL, err);
}

int qc_img_create_layer(const char *path, const char *backing, const char *backing_fmt,
	uint64_t size, struct qc_error *err)
{
	char sz[32];
	const char *args[] = {"create", "-q", "-f", "qcow2", "-u", "-F", backing_fmt, "-b", backing,
		"--", path, sz, NULL};

	if (!backing_fmt || !backing || backing[0] != '/' || size == 0)
		return qc_error_set(err, QC_ERR_INTERNAL,
			"layer '%s': needs an absolute backing path, its format and a size", path);
	size_arg(size, sz, sizeof(sz));
	return run_img(args, IMG_TIMEOUT_MS, NULL, err);
}

static void chain_node(struct qc_jgen *g, const struct qc_img_ref *chain, size_t n)
{
	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "driver", chain[0].format);
	qc_jgen_key(g, "file");
	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "driver", "file");
	qc_jgen_kstring(g, "filename", chain[0].path);
	qc_jgen_map_close(g);
	if (n > 1) {
		qc_jgen_key(g, "backing");
		chain_node(g, chain + 1, n - 1);
	} else if (strcmp(chain[0].format, "qcow2") == 0) {
		qc_jgen_key(g, "backing");
		qc_jgen_null(g);
	}
	qc_jgen_map_close(g);
}

char *qc_img_chain_json(const struct qc_img_ref *chain, size_t n)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	cleanup_free char *json = NULL;

	chain_node(g, chain, n);
	if (qc_jgen_finish(g, &json, NULL, NULL) < 0)
		return qc_xstrdup("json:{}"); /* cannot happen: the nesting is balanced */
	return qc_xasprintf("json:%s", json);
}

#define IMG_REBASE_TIMEOUT_MS (10 * 60 * 1000)

int qc_img_rebase(const struct qc_img_ref *chain, size_t n, const struct qc_img_ref *base,
	size_t n_base, struct qc_error *err)
{
	cleanup_free char *img = NULL, *nb = NULL, *top = NULL;
	const char *args[12];
	size_t k = 0;
	int r;

	if (n == 0 || strcmp(chain[0].format, "qcow2") != 0)
		return qc_error_set(err, QC_ERR_INTERNAL, "rebase: needs a qcow2 image");
	img = qc_img_chain_json(chain, n);
	nb = n_base ? qc_img_chain_json(base, n_base) : qc_xstrdup("");
	args[k++] = "rebase";
	args[k++] = "-q";
	if (n_base) {
		args[k++] = "-F";
		args[k++] = base[0].format;
	}
	args[k++] = "-b";
	args[k++] = nb;
	args[k++] = "--";
	args[k++] = img;
	args[k] = NULL;
	if ((r = run_img(args, IMG_REBASE_TIMEOUT_MS, NULL, err)) < 0)
		return qc_error_prefix(err, "'%s'", chain[0].path);
	if (!n_base)
		return 0;
	/* the header got the json: name; it should name the file (nothing opened) */
	top = qc_img_chain_json(chain, 1);
	{
		const char *fix[] = {"rebase", "-q", "-u", "-F", base[0].format, "-b", base[0].path,
			"--", top, NULL};

		if ((r = run_img(fix, IMG_TIMEOUT_MS, NULL, err)) < 0)
			return qc_error_prefix(err, "'%s'", chain[0].path);
	}
	return 0;
}

int qc_img_resize(const char *path, const char *fmt, uint64_t size, struct qc_error *err)
{
	cleanup_img_info struct qc_img_info *info = NULL;
	char sz[32];
	/* a qcow2 alone, "backing": null: resizing needs no backing and opens none */
	const struct qc_img_ref self = {path, fmt ? fmt : "qcow2"};
	cleanup_free char *name = qc_img_chain_json(&self, 1);
	const char *args[] = {"resize", "-q", "--", name, sz, NULL};
	int r;

	if ((r = qc_img_info(path, fmt ? fmt : "qcow2", false, &info, err)) < 0)
		return r;
	if (size < info->chain[0].virtual_size) {
		char a[32], b[32];

		qc_format_size(size, a, sizeof(a));
		qc_format_size(info->chain[0].virtual_size, b, sizeof(b));
		return qc_error_set(err, QC_ERR_INVALID,
			"disk '%s': cannot shrink from %s to %s (data would be lost)", path, b, a);
	}
	if (size == info->chain[0].virtual_size)
		return 0;
	size_arg(size, sz, sizeof(sz));
	return run_img(args, IMG_TIMEOUT_MS, NULL, err);
}

bool qc_img_format_importable(const char *fmt)
{
	static const char *const ok[] = {"qcow2", "raw", "vmdk", "vhdx", "vpc", "qcow", "vdi"};

	if (!fmt)
		return false;
	for (size_t i = 0; i < QC_ARRAY_SIZE(ok); i++)
		if (strcmp(fmt, ok[i]) == 0)
			return true;
	return false;
}

int qc_img_convert(const char *src, const char *src_fmt, const char *dst, const char *dst_fmt,
	struct qc_error *err)
{
	const char *args[12];
	size_t n = 0;
	/* a qcow2 source alone ("backing": null): its data, never a file its header names */
	const struct qc_img_ref self = {src, src_fmt};
	cleanup_free char *alone =
		src_fmt && strcmp(src_fmt, "qcow2") == 0 ? qc_img_chain_json(&self, 1) : NULL;

	args[n++] = "convert";
	args[n++] = "-q";
	if (alone)
		src = alone;
	else if (src_fmt) {
		args[n++] = "-f";
		args[n++] = src_fmt;
	}
	args[n++] = "-O";
	args[n++] = dst_fmt ? dst_fmt : "qcow2";
	args[n++] = "--";
	args[n++] = src;
	args[n++] = dst;
	args[n] = NULL;
	return run_img(args, IMG_CONVERT_TIMEOUT_MS, NULL, err);
}

int qc_img_check(const char *path, const char *fmt, struct qc_img_check *ret, struct qc_error *err)
{
	cleanup_free char *prog = NULL;
	/* the image alone ("backing": null): checking it opens nothing its header names */
	const struct qc_img_ref self = {path, fmt ? fmt : "qcow2"};
	cleanup_free char *name = qc_img_chain_json(&self, 1);
	const char *argv[] = {NULL, "check", "--output=json", "-U", "--", name, NULL};
	struct qc_spawn_opts o = {0};
	struct qc_spawn_result res = {0};
	struct qc_img_check c = {0};
	cleanup_json qc_json *root = NULL;
	int r;

	if ((r = qc_img_program(&prog, err)) < 0)
		return r;
	argv[0] = prog;
	o.argv = argv;
	o.out = QC_STDIO_CAPTURE;
	o.errout = QC_STDIO_CAPTURE;
	o.capture_max = IMG_INFO_MAX;
	o.timeout_ms = IMG_CONVERT_TIMEOUT_MS;
	if ((r = qc_spawn_run(&o, &res, err)) < 0)
		return qc_error_prefix(err, "qemu-img check");
	tidy_stderr(res.err);
	/*
	 * Exit codes: 0 clean, 1 check not completed, 2 corruptions, 3 leaks
	 * only, 63 format has no check.  With 2 and 3 stdout still has JSON.
	 */
	if (res.timed_out) {
		r = qc_error_set(err, QC_ERR_CHILD, "qemu-img check '%s': timed out", path);
	} else if (res.exit_code == 63) {
		r = 0; /* e.g. raw: nothing to check */
	} else if (res.exit_code == 0 || res.exit_code == 2 || res.exit_code == 3) {
		if (res.out && qc_json_parse(res.out, res.out_len, &root, NULL) == 0) {
			(void) qc_json_as_uint(qc_json_get(root, "check-errors"), &c.check_errors);
			(void) qc_json_as_uint(qc_json_get(root, "leaks"), &c.leaks);
			(void) qc_json_as_uint(
				qc_json_get(root, "image-end-offset"), &c.image_end_offset);
		}
		if (res.exit_code == 2 || c.check_errors)
			r = qc_error_set(err, QC_ERR_INVALID,
				"image '%s' is corrupt: qemu-img check found %llu error(s)%s%s",
				path, (unsigned long long) (c.check_errors ? c.check_errors : 1),
				res.err && *res.err ? ": " : "", res.err ? res.err : "");
	} else {
		r = qc_error_set(err, QC_ERR_INVALID, "image '%s' cannot be checked: %s", path,
			res.err && *res.err ? res.err : "qemu-img check failed");
	}
	qc_spawn_result_free(&res);
	if (r == 0 && ret)
		*ret = c;
	return r;
}

static uint64_t be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

/*
 * The fixed part of a qcow2 header (QEMU docs/interop/qcow2.txt): magic
 * "QFI\xfb", version, backing_file_offset (0: no backing), size at 24 and,
 * in version 3, incompatible_features at 72 (bit 2: external data file).
 */
int qc_img_qcow2_header(int fd, const char *shown, struct qc_qcow2_header *ret, struct qc_error *err)
{
	unsigned char h[104];
	ssize_t n = pread(fd, h, sizeof(h), 0);
	struct qc_qcow2_header r = {0};

	if (n < 0)
		return qc_error_errno(err, errno, "read '%s'", shown);
	if (n < 72 || memcmp(h, "QFI\xfb", 4) != 0)
		return qc_error_set(err, QC_ERR_INVALID, "'%s' is not a qcow2 image", shown);
	r.version = be32(h + 4);
	if (r.version != 2 && r.version != 3)
		return qc_error_set(err, QC_ERR_INVALID, "'%s': qcow2 version %u is not supported",
			shown, (unsigned) r.version);
	r.has_backing = be64(h + 8) != 0;
	r.size = be64(h + 24);
	if (r.version == 3) {
		if (n < 80)
			return qc_error_set(
				err, QC_ERR_INVALID, "'%s': truncated qcow2 header", shown);
		r.data_file = (be64(h + 72) & (UINT64_C(1) << 2)) != 0;
	}
	*ret = r;
	return 0;
}
