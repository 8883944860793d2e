/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * storage/img.c, catalog.c, import.c against the real qemu-img and qemu-io:
 * overlays, info, resize, convert, check, and the image catalog (import of
 * raw/qcow2/.xz/.gz, SHA-256 checks, bad input, remove, list).
 */
#include "config.h"

#include <dirent.h>
#include <sys/stat.h>

#include "storage/storage.h"
#include "tests/unit/unit.h"
#include "tests/unit/check_main.h"

UNIT_TMPDIR_FIXTURE(dir)

static char *P(const char *name)
{
	return qc_xasprintf("%s/%s", dir, name);
}

static char *file_sha(const char *path)
{
	struct qc_sha256 *s = qc_sha256_new();
	char hex[65];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(qc_sha256_fd(s, fd, UINT64_MAX, NULL), 0);
	close(fd);
	qc_sha256_final(s, hex);
	qc_sha256_free(s);
	return qc_xstrdup(hex);
}

/*
 * Run qemu-io -c cmd on path: true when it exited 0 and, for a read -P, found
 * the pattern; must_pass fails the test otherwise.
 */
static bool qio_run(const char *path, const char *cmd, bool must_pass)
{
	const char *argv[] = {"qemu-io", "-f", "qcow2", "-c", cmd, path, NULL};
	struct qc_spawn_opts o = {.argv = argv,
		.out = QC_STDIO_CAPTURE,
		.errout = QC_STDIO_CAPTURE,
		.timeout_ms = 60000};
	struct qc_spawn_result res = {0};
	struct qc_error err = {0};
	bool ok;

	ck_assert_msg(qc_spawn_run(&o, &res, &err) == 0, "qemu-io %s: %s", cmd, err.msg);
	/* qemu-io exits 0 even when a read -P finds other bytes; it says so. */
	ok = res.exit_code == 0 && (!res.out || !strstr(res.out, "Pattern verification failed"));
	ck_assert_msg(ok || !must_pass, "qemu-io '%s' on %s: exit %d: %s%s", cmd, path,
		res.exit_code, res.out ? res.out : "", res.err ? res.err : "");
	qc_spawn_result_free(&res);
	return ok;
}

/* qemu-io: write pattern at offset, or check that offset reads as pattern. */
static void qio(const char *path, const char *cmd)
{
	qio_run(path, cmd, true);
}

static bool qio_pattern(const char *path, const char *cmd)
{
	return qio_run(path, cmd, false);
}

START_TEST(overlays_are_isolated)
{
	cleanup_free char *base = P("base.qcow2"), *ov1 = P("vm1.qcow2"), *ov2 = P("vm2.qcow2");
	cleanup_free char *before = NULL, *after = NULL;
	struct qc_img_info *info = NULL;
	struct qc_error err = {0};

	ck_assert_qc_ok(qc_img_create(base, "qcow2", 64 << 20, &err), &err);
	qio(base, "write -P 0x11 0 1M");
	ck_assert_int_eq(chmod(base, 0444), 0);
	before = file_sha(base);

	ck_assert_qc_ok(qc_img_create_overlay(ov1, base, "qcow2", 0, &err), &err);
	ck_assert_qc_ok(qc_img_create_overlay(ov2, base, "qcow2", 128 << 20, &err), &err);

	/* vm1 writes; vm2 and the backing still see the old bytes. */
	qio(ov1, "write -P 0xab 0 64k");
	qio(ov1, "read -P 0xab 0 64k");
	qio(ov2, "read -P 0x11 0 64k");
	ck_assert(!qio_pattern(ov2, "read -P 0xab 0 64k"));
	after = file_sha(base);
	ck_assert_str_eq(before, after);

	ck_assert_qc_ok(qc_img_info(ov2, "qcow2", true, &info, &err), &err);
	ck_assert_uint_eq(info->n_chain, 2);
	ck_assert_str_eq(info->chain[0].format, "qcow2");
	ck_assert_uint_eq(info->chain[0].virtual_size, 128 << 20);
	ck_assert_str_eq(info->chain[0].backing, base);
	ck_assert_str_eq(info->chain[0].backing_format, "qcow2");
	ck_assert_uint_eq(info->chain[1].virtual_size, 64 << 20);
	ck_assert(!info->chain[0].dirty && !info->chain[0].corrupt);
	qc_img_info_free(info);
}
END_TEST

START_TEST(overlay_relative_backing_is_made_absolute)
{
	cleanup_free char *base = P("base.qcow2"), *ov = P("ov.qcow2"), *cwd = getcwd(NULL, 0);
	struct qc_img_info *info = NULL;
	struct qc_error err = {0};

	ck_assert_qc_ok(qc_img_create(base, NULL, 1 << 20, &err), &err);
	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_qc_ok(qc_img_create_overlay(ov, "base.qcow2", "qcow2", 0, &err), &err);
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert_qc_ok(qc_img_info(ov, "qcow2", false, &info, &err), &err);
	ck_assert_str_eq(info->chain[0].backing, base);
	qc_img_info_free(info);
}
END_TEST

START_TEST(overlay_errors)
{
	cleanup_free char *base = P("base.qcow2"), *ov = P("ov.qcow2"), *missing = P("nope.qcow2");
	cleanup_free char *text = P("notes.txt");
	struct qc_error err = {0};

	ck_assert_qc_ok(qc_img_create(base, NULL, 64 << 20, &err), &err);
	ck_assert_qc_fail(qc_img_create_overlay(ov, base, "qcow2", 1 << 20, &err), &err,
		QC_ERR_INVALID, "disk size 1 MiB is smaller than the image's 64 MiB");
	ck_assert_int_ne(access(ov, F_OK), 0);
	ck_assert_qc_fail(qc_img_create_overlay(ov, missing, "qcow2", 0, &err), &err, QC_ERR_CHILD,
		"qemu-img create: ");
	ck_assert_ptr_nonnull(strstr(err.msg, "nope.qcow2"));
	/* A text file named as a qcow2 backing: qemu-img's own words come back. */
	ck_assert_int_eq(qc_write_atomic(AT_FDCWD, text, "hello\n", 6, 0644, NULL), 0);
	ck_assert_qc_fail(qc_img_create_overlay(ov, text, "qcow2", 0, &err), &err, QC_ERR_CHILD,
		"Image is not in qcow2 format");
	ck_assert_qc_fail(
		qc_img_create(ov, NULL, 0, &err), &err, QC_ERR_INVALID, "size must not be 0");
}
END_TEST

/* A layer made without opening its backing; headers read without qemu-img. */
START_TEST(layer_and_header)
{
	cleanup_free char *base = P("base.qcow2"), *ly = P("layer.qcow2"), *gone = P("gone.qcow2");
	cleanup_free char *raw = P("d.raw"), *df = P("df.qcow2"), *dfdata = P("df.data");
	struct qc_qcow2_header h;
	struct qc_error err = {0};
	int fd;

	ck_assert_qc_ok(qc_img_create(base, NULL, 3 << 20, &err), &err);
	fd = open(base, O_RDONLY | O_CLOEXEC);
	ck_assert_qc_ok(qc_img_qcow2_header(fd, base, &h, &err), &err);
	close(fd);
	ck_assert_uint_eq(h.size, 3 << 20);
	ck_assert(!h.has_backing && !h.data_file && h.version == 3);
	/* the backing named need not exist: it is not opened */
	ck_assert_qc_ok(qc_img_create_layer(ly, gone, "qcow2", 5 << 20, &err), &err);
	fd = open(ly, O_RDONLY | O_CLOEXEC);
	ck_assert_qc_ok(qc_img_qcow2_header(fd, ly, &h, &err), &err);
	close(fd);
	ck_assert(h.has_backing);
	ck_assert_uint_eq(h.size, 5 << 20);
	ck_assert_qc_fail(qc_img_create_layer(ly, "rel.qcow2", "qcow2", 1 << 20, &err), &err,
		QC_ERR_INTERNAL, "absolute backing path");
	/* an external data file is seen; raw is not qcow2 */
	{
		cleanup_free char *o = qc_xasprintf("data_file=%s", dfdata);
		const char *argv[] = {"qemu-img", "create", "-q", "-f", "qcow2", "-o", o, df, "1M", NULL};

		unit_spawn_ok(argv);
	}
	fd = open(df, O_RDONLY | O_CLOEXEC);
	ck_assert_qc_ok(qc_img_qcow2_header(fd, df, &h, &err), &err);
	close(fd);
	ck_assert(h.data_file);
	ck_assert_qc_ok(qc_img_create(raw, "raw", 1 << 20, &err), &err);
	fd = open(raw, O_RDONLY | O_CLOEXEC);
	ck_assert_qc_fail(qc_img_qcow2_header(fd, raw, &h, &err), &err, QC_ERR_INVALID,
		"is not a qcow2 image");
	close(fd);
}
END_TEST

/* Explicit chains for qemu-img: every node names its backing, the bottom qcow2 none. */
START_TEST(chain_json_and_rebase)
{
	const struct qc_img_ref c3[] = {
		{"/v/top.qcow2", "qcow2"}, {"/v/a\"b.qcow2", "qcow2"}, {"/i/base.raw", "raw"}};
	const struct qc_img_ref c1[] = {{"/v/x.qcow2", "qcow2"}};
	cleanup_free char *j3 = qc_img_chain_json(c3, 3), *j1 = qc_img_chain_json(c1, 1);
	cleanup_free char *b0 = P("b0.qcow2"), *l1 = P("l1.qcow2"), *top = P("top.qcow2");
	cleanup_free char *victim = P("victim.qcow2");
	struct qc_img_info *info = NULL;
	struct qc_error err = {0};

	ck_assert_str_eq(j3, "json:{\"driver\":\"qcow2\",\"file\":{\"driver\":\"file\","
			     "\"filename\":\"/v/top.qcow2\"},\"backing\":{\"driver\":\"qcow2\","
			     "\"file\":{\"driver\":\"file\",\"filename\":\"/v/a\\\"b.qcow2\"},"
			     "\"backing\":{\"driver\":\"raw\",\"file\":{\"driver\":\"file\","
			     "\"filename\":\"/i/base.raw\"}}}}");
	ck_assert_str_eq(j1, "json:{\"driver\":\"qcow2\",\"file\":{\"driver\":\"file\","
			     "\"filename\":\"/v/x.qcow2\"},\"backing\":null}");

	/* top's header names a FIFO: opening it would hang; the rebase never does */
	ck_assert_qc_ok(qc_img_create(b0, NULL, 1 << 20, &err), &err);
	qio(b0, "write -P 0x11 0 64k");
	ck_assert_qc_ok(qc_img_create_layer(l1, b0, "qcow2", 1 << 20, &err), &err);
	qio(l1, "write -P 0x22 64k 64k");
	ck_assert_int_eq(mkfifo(victim, 0600), 0);
	ck_assert_qc_ok(qc_img_create_layer(top, victim, "qcow2", 1 << 20, &err), &err);
	{
		const struct qc_img_ref chain[] = {{top, "qcow2"}, {l1, "qcow2"}, {b0, "qcow2"}};
		const struct qc_img_ref base[] = {{b0, "qcow2"}};

		ck_assert_qc_ok(qc_img_rebase(chain, 3, base, 1, &err), &err);
	}
	ck_assert_qc_ok(qc_img_info(top, "qcow2", false, &info, &err), &err);
	ck_assert_str_eq(info->chain[0].backing, b0);
	qc_img_info_free(info);
	qio(top, "read -P 0x22 64k 64k");
	qio(top, "read -P 0x11 0 64k");
	/* resize and check open the image alone, not the FIFO its header names */
	ck_assert_qc_ok(qc_img_create_layer(top, victim, "qcow2", 1 << 20, &err), &err);
	ck_assert_qc_ok(qc_img_resize(top, "qcow2", 2 << 20, &err), &err);
	ck_assert_qc_ok(qc_img_check(top, "qcow2", NULL, &err), &err);
	{
		cleanup_free char *copy = P("copy.qcow2");

		ck_assert_qc_ok(qc_img_convert(top, "qcow2", copy, "qcow2", &err), &err);
	}
}
END_TEST

START_TEST(resize_grows_only)
{
	cleanup_free char *img = P("d.qcow2");
	struct qc_img_info *info = NULL;
	struct qc_error err = {0};

	ck_assert_qc_ok(qc_img_create(img, "qcow2", 1 << 20, &err), &err);
	ck_assert_qc_ok(qc_img_resize(img, "qcow2", 8 << 20, &err), &err);
	ck_assert_qc_ok(qc_img_info(img, "qcow2", false, &info, &err), &err);
	ck_assert_uint_eq(info->chain[0].virtual_size, 8 << 20);
	qc_img_info_free(info);
	ck_assert_qc_fail(qc_img_resize(img, "qcow2", 4 << 20, &err), &err, QC_ERR_INVALID,
		"cannot shrink from 8 MiB to 4 MiB");
	ck_assert_qc_ok(qc_img_resize(img, "qcow2", 8 << 20, &err), &err);
}
END_TEST

START_TEST(convert_and_check)
{
	cleanup_free char *raw = P("d.raw"), *q = P("d.qcow2"), *bad = P("bad.qcow2");
	cleanup_free char *missing = P("missing.raw");
	struct qc_img_info *info = NULL;
	struct qc_img_check chk;
	struct qc_error err = {0};

	ck_assert_qc_ok(qc_img_create(raw, "raw", 2 << 20, &err), &err);
	ck_assert_qc_ok(qc_img_convert(raw, "raw", q, NULL, &err), &err);
	ck_assert_qc_ok(qc_img_info(q, NULL, false, &info, &err), &err);
	ck_assert_str_eq(info->chain[0].format, "qcow2");
	ck_assert_uint_eq(info->chain[0].virtual_size, 2 << 20);
	qc_img_info_free(info);
	ck_assert_qc_ok(qc_img_check(q, "qcow2", &chk, &err), &err);
	ck_assert_uint_eq(chk.check_errors, 0);

	/* Corrupt the L1 table entry's refcount: point the first L1 entry at garbage. */
	{
		const char *const cp[] = {"cp", q, bad, NULL};
		int fd;
		uint64_t l1_off_be = 0, l1_off = 0;
		unsigned char junk[8] = {0x80, 0, 0, 0, 0, 0x7f, 0x00, 0x00};

		unit_spawn_ok(cp);
		qio(bad, "write -P 0x22 0 64k");
		fd = open(bad, O_RDWR | O_CLOEXEC);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(pread(fd, &l1_off_be, 8, 40), 8); /* l1_table_offset */
		l1_off = __builtin_bswap64(l1_off_be);
		ck_assert_int_eq(pwrite(fd, junk, 8, (off_t) l1_off), 8);
		close(fd);
	}
	ck_assert_qc_fail(
		qc_img_check(bad, "qcow2", &chk, &err), &err, QC_ERR_INVALID, "is corrupt");
	ck_assert_qc_fail(qc_img_convert(missing, "raw", q, NULL, &err), &err, QC_ERR_CHILD,
		"qemu-img convert: ");
}
END_TEST

START_TEST(program_override)
{
	struct qc_error err = {0};
	struct qc_img_info *info = NULL;
	cleanup_free char *img = P("x.qcow2");

	setenv("QEMUCTL_QEMU_IMG", "/nonexistent/qemu-img", 1);
	ck_assert_int_lt(qc_img_create(img, NULL, 1 << 20, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "qemu-img create"));
	ck_assert_ptr_nonnull(strstr(err.msg, "/nonexistent/qemu-img"));
	unsetenv("QEMUCTL_QEMU_IMG");
	ck_assert_qc_ok(qc_img_create(img, NULL, 1 << 20, &err), &err);
	ck_assert_qc_ok(qc_img_info(img, NULL, false, &info, &err), &err);
	qc_img_info_free(info);
}
END_TEST

/* ------------------------------------------------------------------ catalog */

static void compress_with(const char *tool, const char *path)
{
	const char *const argv[] = {tool, "-k", "-f", path, NULL};

	unit_spawn_ok(argv);
}

static int count_entries(const char *d)
{
	int n = 0;
	DIR *dd = opendir(d);
	struct dirent *e;

	ck_assert_ptr_nonnull(dd);
	while ((e = readdir(dd)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
			!qc_str_has_suffix(e->d_name, ".lock"))
			n++;
	closedir(dd);
	return n;
}

START_TEST(import_formats)
{
	cleanup_free char *root = P("root"), *raw = P("disk.raw"), *q = P("disk.qcow2");
	cleanup_free char *rawxz = P("disk.raw.xz"), *qgz = P("disk.qcow2.gz");
	cleanup_free char *sha = NULL, *xzsha = NULL, *images = NULL;
	struct qc_catalog_entry *img = NULL, **v = NULL;
	struct qc_import_opts o = {.arch = "arm64"};
	struct qc_error err = {0};
	struct stat st;
	size_t n = 0;

	ck_assert_qc_ok(qc_img_create(raw, "raw", 4 << 20, &err), &err);
	ck_assert_qc_ok(qc_img_create(q, "qcow2", 8 << 20, &err), &err);
	compress_with("xz", raw);
	compress_with("gzip", q);
	images = qc_xasprintf("%s/images", root);

	/* raw -> converted to qcow2; arch recorded in canonical form. */
	sha = file_sha(raw);
	o.sha256 = sha;
	ck_assert_qc_ok(qc_catalog_import(root, "plain", raw, &o, &img, &err), &err);
	ck_assert_str_eq(img->format, "qcow2");
	ck_assert_str_eq(img->arch, "aarch64");
	ck_assert_str_eq(img->sha256, sha);
	ck_assert_uint_eq(img->virtual_size, 4 << 20);
	ck_assert_ptr_nonnull(strstr(img->path, "/images/plain.qcow2"));
	ck_assert_int_eq(stat(img->path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, QC_IMAGE_MODE);
	qc_catalog_entry_free(img);

	/* .xz, hash over the compressed file as published */
	xzsha = file_sha(rawxz);
	o.sha256 = xzsha;
	o.arch = NULL;
	ck_assert_qc_ok(qc_catalog_import(root, "fromxz", rawxz, &o, &img, &err), &err);
	ck_assert_str_eq(img->sha256, xzsha);
	ck_assert_str_eq(img->arch, qc_storage_arch_host());
	ck_assert_uint_eq(img->virtual_size, 4 << 20);
	qc_catalog_entry_free(img);

	/* .gz of a qcow2, no hash given */
	o.sha256 = NULL;
	ck_assert_qc_ok(qc_catalog_import(root, "fromgz", qgz, &o, &img, &err), &err);
	ck_assert_uint_eq(img->virtual_size, 8 << 20);
	qc_catalog_entry_free(img);

	ck_assert_qc_ok(qc_catalog_list(root, &v, &n, &err), &err);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0]->name, "fromgz");
	ck_assert_str_eq(v[1]->name, "fromxz");
	ck_assert_str_eq(v[2]->name, "plain");
	ck_assert_ptr_nonnull(v[2]->source);
	ck_assert_str_eq(v[2]->source, raw);
	ck_assert_uint_gt(v[2]->size, 0);
	qc_catalog_list_free(v, n);

	/* only <name>.qcow2 + <name>.json (+ lock files) remain */
	ck_assert_int_eq(count_entries(images), 6);

	ck_assert_qc_fail(qc_catalog_import(root, "plain", raw, &o, NULL, &err), &err,
		QC_ERR_EXISTS,
		"image 'plain' already exists; remove it with 'qemuctl image rm plain'");

	ck_assert_qc_ok(qc_catalog_remove(root, "plain", &err), &err);
	ck_assert_qc_fail(qc_catalog_get(root, "plain", &img, &err), &err, QC_ERR_NOTFOUND,
		"image 'plain' not found");
	ck_assert_qc_fail(qc_catalog_remove(root, "plain", &err), &err, QC_ERR_NOTFOUND,
		"image 'plain' not found");
	ck_assert_int_eq(count_entries(images), 4);
}
END_TEST

START_TEST(import_bad_input_leaves_nothing)
{
	cleanup_free char *root = P("root"), *raw = P("disk.raw"), *text = P("notes.txt");
	cleanup_free char *q = P("disk.qcow2"), *bad = P("bad.qcow2"), *ov = P("ov.qcow2");
	cleanup_free char *images = NULL, *trunc = P("t.raw.xz"), *rawxz = P("disk.raw.xz");
	cleanup_free char *missing = P("missing");
	struct qc_import_opts o = {0};
	struct qc_error err = {0};
	struct qc_catalog_entry **v = NULL;
	size_t n = 9;

	images = qc_xasprintf("%s/images", root);
	ck_assert_qc_ok(qc_img_create(raw, "raw", 1 << 20, &err), &err);
	ck_assert_qc_ok(qc_img_create(q, "qcow2", 1 << 20, &err), &err);

	o.sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
	ck_assert_qc_fail(qc_catalog_import(root, "img", raw, &o, NULL, &err), &err,
		QC_ERR_CHECKSUM, "image 'img': SHA-256 mismatch for '");
	o.sha256 = "abc";
	ck_assert_qc_fail(qc_catalog_import(root, "img", raw, &o, NULL, &err), &err, QC_ERR_INVALID,
		"--sha256 'abc' is not 64 hex digits");
	o.sha256 = NULL;

	ck_assert_int_eq(qc_write_atomic(AT_FDCWD, text, "hello\n", 6, 0644, NULL), 0);
	ck_assert_qc_fail(qc_catalog_import(root, "img", text, &o, NULL, &err), &err,
		QC_ERR_INVALID, "is not a disk image (6 bytes of raw data");

	/* a qcow2 with a backing file: never a catalog image */
	ck_assert_qc_ok(qc_img_create_overlay(ov, q, "qcow2", 0, &err), &err);
	ck_assert_qc_fail(qc_catalog_import(root, "img", ov, &o, NULL, &err), &err, QC_ERR_INVALID,
		"has a backing file");

	/* a vmdk descriptor whose extent is another file (could be any file on the host) */
	{
		cleanup_free char *flat = P("f.vmdk");
		const char *const mk[] = {"qemu-img", "create", "-q", "-f", "vmdk", "-o",
			"subformat=monolithicFlat", flat, "1M", NULL};
		cleanup_img_info struct qc_img_info *fi = NULL;

		cleanup_free char *desc = NULL, *abs_desc = NULL, *flatdata = P("f-flat.vmdk");
		size_t len = 0;
		char *at;

		unit_spawn_ok(mk);
		/* Point the extent at an absolute path, as a hostile descriptor would. */
		ck_assert_int_eq(qc_read_file(AT_FDCWD, flat, 1 << 16, &desc, &len, NULL), 0);
		at = strstr(desc, "\"f-flat.vmdk\"");
		ck_assert_ptr_nonnull(at);
		*at = '\0';
		abs_desc =
			qc_xasprintf("%s\"%s\"%s", desc, flatdata, at + strlen("\"f-flat.vmdk\""));
		ck_assert_int_eq(
			qc_write_atomic(AT_FDCWD, flat, abs_desc, strlen(abs_desc), 0644, NULL), 0);
		ck_assert_qc_ok(qc_img_info(flat, "vmdk", false, &fi, &err), &err);
		ck_assert(qc_str_has_suffix(fi->chain[0].external, "/f-flat.vmdk"));
		ck_assert_qc_fail(qc_catalog_import(root, "img", flat, &o, NULL, &err), &err,
			QC_ERR_INVALID, "reads data from another file '");
		ck_assert_ptr_nonnull(
			strstr(err.msg, "f-flat.vmdk'; import a self-contained image"));
	}
	/* a self-contained vmdk is fine, and converted */
	{
		cleanup_free char *sparse = P("s.vmdk");
		cleanup_img_info struct qc_img_info *si = NULL;
		struct qc_catalog_entry *img = NULL;

		ck_assert_qc_ok(qc_img_create(sparse, "vmdk", 2 << 20, &err), &err);
		ck_assert_qc_ok(qc_img_info(sparse, "vmdk", false, &si, &err), &err);
		ck_assert_ptr_null(si->chain[0].external);
		ck_assert_qc_ok(qc_catalog_import(root, "vm", sparse, &o, &img, &err), &err);
		ck_assert_str_eq(img->format, "qcow2");
		ck_assert_uint_eq(img->virtual_size, 2 << 20);
		qc_catalog_entry_free(img);
		ck_assert_qc_ok(qc_catalog_remove(root, "vm", &err), &err);
	}

	/* corrupt qcow2: qemu-img check fails */
	{
		const char *const cp[] = {"cp", q, bad, NULL};
		int fd;
		uint64_t be = 0;
		unsigned char junk[8] = {0x80, 0, 0, 0, 0, 0x7f, 0x00, 0x00};

		unit_spawn_ok(cp);
		qio(bad, "write -P 0x22 0 64k");
		fd = open(bad, O_RDWR | O_CLOEXEC);
		ck_assert_int_eq(pread(fd, &be, 8, 40), 8);
		ck_assert_int_eq(pwrite(fd, junk, 8, (off_t) __builtin_bswap64(be)), 8);
		close(fd);
	}
	ck_assert_qc_fail(qc_catalog_import(root, "img", bad, &o, NULL, &err), &err, QC_ERR_INVALID,
		"is corrupt");

	/* truncated .xz */
	compress_with("xz", raw);
	{
		cleanup_free char *data = NULL;
		size_t len = 0;

		ck_assert_int_eq(qc_read_file(AT_FDCWD, rawxz, 1 << 24, &data, &len, NULL), 0);
		ck_assert_int_eq(qc_write_atomic(AT_FDCWD, trunc, data, len / 2, 0644, NULL), 0);
	}
	ck_assert_qc_fail(qc_catalog_import(root, "img", trunc, &o, NULL, &err), &err,
		QC_ERR_INVALID, "xz: compressed data is truncated");

	ck_assert_qc_fail(
		qc_catalog_import(root, "img", missing, &o, NULL, &err), &err, ENOENT, "open '");
	ck_assert_qc_fail(qc_catalog_import(root, "img", dir, &o, NULL, &err), &err, QC_ERR_INVALID,
		"is not a regular file");
	ck_assert_qc_fail(
		qc_catalog_import(root, "../x", raw, &o, NULL, &err), &err, QC_ERR_INVALID, "");
	o.arch = "vax";
	ck_assert_qc_fail(qc_catalog_import(root, "img", raw, &o, NULL, &err), &err, QC_ERR_INVALID,
		"unknown arch 'vax'");
	o.arch = NULL;

	/* Nothing visible, nothing left over except the lock file. */
	ck_assert_qc_ok(qc_catalog_list(root, &v, &n, &err), &err);
	ck_assert_uint_eq(n, 0);
	free(v);
	ck_assert_int_eq(count_entries(images), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("storage_img");
	TCase *tc;

	tc = unit_tcase(s, "qemu-img", overlays_are_isolated,
		overlay_relative_backing_is_made_absolute, overlay_errors, layer_and_header,
		chain_json_and_rebase, resize_grows_only, convert_and_check, program_override,
		import_formats, import_bad_input_leaves_nothing, NULL);
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_set_timeout(tc, 120);
	return s;
}

UNIT_MAIN(suite)
