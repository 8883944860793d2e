/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/image.c: the helpers create uses (--image with the arch check,
 * --disk-image, --disk SIZE|FILE), counting the VMs that use an image, and
 * the public image API (import, get, list, rm refused while used).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include "driver/domain.h"
#include "driver/image.h"
#include "driver/qemuctl.h"
#include "storage/storage.h"
#include "tests/unit/unit.h"
#include "tests/unit/check_main.h"

static char *dir, *root;
static qc_ctx *ctx;

static char *P(const char *name)
{
	return qc_xasprintf("%s/%s", dir, name);
}

static void setup(void)
{
	struct qc_error err = {0};
	cleanup_free char *raw = NULL;
	struct qc_image_import_opts io = {.name = "img", .arch = "amd64"};

	dir = unit_mkdtemp();
	root = P("root");
	raw = P("disk.raw");
	ck_assert_qc_ok(qc_ctx_open(root, &ctx, &err), &err);
	ck_assert_qc_ok(qc_img_create(raw, "raw", 8 << 20, &err), &err);
	io.source = raw;
	ck_assert_qc_ok(qc_image_import(ctx, &io, NULL, &err), &err);
}

static void teardown(void)
{
	qc_ctx_close(ctx);
	ctx = NULL;
	free(root);
	unit_rmdir(dir);
	dir = NULL;
}

START_TEST(resolve_checks_arch)
{
	struct qc_error err = {0};
	cleanup_free char *path = NULL, *fmt = NULL, *want = NULL;

	ck_assert_qc_fail(qc_driver_image_resolve(ctx, "img", QC_ARCH_AARCH64, &path, &fmt, &err),
		&err, QC_ERR_INVALID, "");
	ck_assert_str_eq(err.msg, "image 'img' is amd64 (x86_64) but the VM is aarch64; use an "
				  "image for aarch64 (image sync REF --arch aarch64) or create the VM "
				  "with --arch x86_64");
	ck_assert_qc_ok(
		qc_driver_image_resolve(ctx, "img", QC_ARCH_X86_64, &path, &fmt, &err), &err);
	want = qc_xasprintf("%s/images/img.qcow2", root);
	ck_assert_str_eq(path, want);
	ck_assert_str_eq(fmt, "qcow2");
	ck_assert_qc_fail(qc_driver_image_resolve(ctx, "nope", QC_ARCH_X86_64, &path, &fmt, &err),
		&err, QC_ERR_NOTFOUND, "image 'nope' not found");
	ck_assert_qc_fail(qc_driver_image_resolve(ctx, "../x", QC_ARCH_X86_64, &path, &fmt, &err),
		&err, QC_ERR_INVALID, "");
}
END_TEST

START_TEST(disk_specs)
{
	struct qc_error err = {0};
	struct qc_disk d;
	uint64_t size = 1;
	cleanup_free char *raw = P("data.raw"), *text = P("notes.txt"), *cat = NULL;
	cleanup_free char *ov = P("disk1.qcow2");
	cleanup_img_info struct qc_img_info *info = NULL;

	ck_assert_qc_ok(qc_driver_disk_from_spec(ctx, "10G", 1, "/vms/a", &d, &size, &err), &err);
	ck_assert_str_eq(d.name, "disk1");
	ck_assert_str_eq(d.path, "/vms/a/disk1.qcow2");
	ck_assert_str_eq(d.format, "qcow2");
	ck_assert_str_eq(d.target, "vdb");
	ck_assert(d.owned);
	ck_assert_int_eq(d.role, QC_ROLE_DATA);
	ck_assert_uint_eq(size, 10ull << 30);
	qc_disk_clear(&d);

	/* the fresh disk is a sparse qcow2 of that size */
	ck_assert_qc_ok(qc_driver_disk_create(ov, 10ull << 30, &err), &err);
	ck_assert_qc_ok(qc_img_info(ov, "qcow2", false, &info, &err), &err);
	ck_assert_uint_eq(info->chain[0].virtual_size, 10ull << 30);
	ck_assert_uint_lt(info->chain[0].actual_size, 1 << 20);

	ck_assert_qc_ok(qc_img_create(raw, "raw", 1 << 20, &err), &err);
	ck_assert_qc_ok(qc_driver_disk_from_spec(ctx, raw, 2, "/vms/a", &d, &size, &err), &err);
	ck_assert_str_eq(d.name, "disk2");
	ck_assert_str_eq(d.path, raw);
	ck_assert_str_eq(d.format, "raw");
	ck_assert_str_eq(d.target, "vdc");
	ck_assert(!d.owned);
	ck_assert(!d.readonly);
	ck_assert_uint_eq(size, 0);
	qc_disk_clear(&d);

	cat = qc_xasprintf("%s/images/img.qcow2", root);
	ck_assert_qc_fail(qc_driver_disk_from_spec(ctx, cat, 1, "/vms/a", &d, &size, &err), &err,
		QC_ERR_INVALID, "is a catalog image, which must stay unmodified");
	ck_assert_int_eq(qc_write_atomic(AT_FDCWD, text, "hi\n", 3, 0644, NULL), 0);
	ck_assert_qc_fail(qc_driver_disk_from_spec(ctx, text, 1, "/vms/a", &d, &size, &err), &err,
		QC_ERR_INVALID, "is not a disk image (3 bytes of raw data");
	ck_assert_qc_fail(qc_driver_disk_from_spec(ctx, "512k", 1, "/vms/a", &d, &size, &err), &err,
		QC_ERR_INVALID, "--disk '512k': too small, at least 1M");
	ck_assert_qc_fail(
		qc_driver_disk_from_spec(ctx, "/nonexistent/x.img", 1, "/vms/a", &d, &size, &err),
		&err, ENOENT, "");
}
END_TEST

START_TEST(disk_image_file)
{
	struct qc_error err = {0};
	cleanup_free char *q = P("d.qcow2"), *path = NULL, *fmt = NULL;
	cleanup_free char *text = P("t.txt");

	ck_assert_qc_ok(qc_img_create(q, "qcow2", 1 << 20, &err), &err);
	ck_assert_qc_ok(qc_driver_image_file(q, &path, &fmt, &err), &err);
	ck_assert_str_eq(path, q);
	ck_assert_str_eq(fmt, "qcow2");
	/* corrupt it: an L1 entry pointing far beyond the end of the file */
	{
		const char *const argv[] = {"qemu-io", "-f", "qcow2", "-c", "write 0 64k", q, NULL};
		struct qc_spawn_opts o = {.argv = argv,
			.out = QC_STDIO_CAPTURE,
			.errout = QC_STDIO_CAPTURE,
			.timeout_ms = 30000};
		unsigned char junk[8] = {0x80, 0, 0, 0, 0, 0x7f, 0, 0};
		uint64_t be = 0;
		int fd;

		ck_assert_qc_ok(qc_spawn_check(&o, NULL, &err), &err);
		fd = open(q, O_RDWR | O_CLOEXEC);
		ck_assert_int_eq(pread(fd, &be, 8, 40), 8);
		ck_assert_int_eq(pwrite(fd, junk, 8, (off_t) __builtin_bswap64(be)), 8);
		close(fd);
	}
	ck_assert_qc_fail(qc_driver_image_file(q, &path, &fmt, &err), &err, QC_ERR_INVALID,
		"--disk-image: image '");
	ck_assert_ptr_nonnull(strstr(err.msg, "is corrupt: qemu-img check found"));
	ck_assert_int_eq(qc_write_atomic(AT_FDCWD, text, "x", 1, 0644, NULL), 0);
	ck_assert_qc_fail(qc_driver_image_file(text, &path, &fmt, &err), &err, QC_ERR_INVALID,
		"--disk-image '");
	ck_assert_ptr_nonnull(strstr(err.msg, "is not a disk image (1 bytes"));
	ck_assert_qc_fail(qc_driver_image_file(dir, &path, &fmt, &err), &err, QC_ERR_INVALID,
		"not a regular file");
}
END_TEST

START_TEST(users_and_rm)
{
	struct qc_error err = {0};
	struct qc_vm_create_opts a = {.name = "a", .image = "img", .arch = "x86_64"};
	struct qc_vm_create_opts b = {.name = "b", .image = "img", .arch = "x86_64"};
	struct qc_image_info *info = NULL, **v = NULL;
	char **users = NULL;
	size_t n = 0;

	ck_assert_qc_ok(qc_vm_create(ctx, &a, &err), &err);
	ck_assert_qc_ok(qc_vm_create(ctx, &b, &err), &err);
	ck_assert_qc_ok(qc_driver_image_users(ctx, "img", &users, &err), &err);
	ck_assert_str_eq(users[0], "a");
	ck_assert_str_eq(users[1], "b");
	ck_assert_ptr_null(users[2]);
	qc_strv_free(users);

	ck_assert_qc_ok(qc_image_get(ctx, "img", &info, &err), &err);
	ck_assert_uint_eq(info->n_users, 2);
	ck_assert_str_eq(info->arch, "x86_64");
	ck_assert_uint_eq(info->virtual_size, 8 << 20);
	qc_image_info_free(info);
	ck_assert_qc_ok(qc_image_list(ctx, &v, &n, &err), &err);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(v[0]->n_users, 2);
	qc_image_info_list_free(v, n);

	ck_assert_qc_fail(qc_image_remove(ctx, "img", &err), &err, QC_ERR_BUSY, "");
	ck_assert_str_eq(err.msg, "image 'img' is used by 2 VMs: a, b; delete them first");

	/* A VM whose domain.xml cannot be read still counts through its overlay. */
	{
		cleanup_free char *xml = qc_xasprintf("%s/vms/b/domain.xml", root);

		ck_assert_int_eq(qc_write_atomic(AT_FDCWD, xml, "<domain", 7, 0600, NULL), 0);
	}
	ck_assert_qc_ok(qc_vm_delete(ctx, "a", true, &err), &err);
	ck_assert_qc_fail(qc_image_remove(ctx, "img", &err), &err, QC_ERR_BUSY, "");
	ck_assert_str_eq(err.msg, "image 'img' is used by 1 VM: b; delete it first");
	{
		cleanup_free char *vmdir = qc_xasprintf("%s/vms/b", root);

		ck_assert_int_eq(qc_rm_rf_at(AT_FDCWD, vmdir, NULL), 0);
	}
	ck_assert_qc_ok(qc_image_remove(ctx, "img", &err), &err);
	ck_assert_qc_fail(qc_image_get(ctx, "img", &info, &err), &err, QC_ERR_NOTFOUND, "");
}
END_TEST

/* Overlay creation waits while an rm or a replacing sync holds the image. */
START_TEST(overlay_waits_for_image_lock)
{
	struct qc_error err = {0};
	cleanup_free char *images = qc_xasprintf("%s/images", root);
	cleanup_free char *backing = qc_xasprintf("%s/images/img.qcow2", root);
	cleanup_free char *ov = P("ov.qcow2");
	int dfd = open(images, O_RDONLY | O_DIRECTORY | O_CLOEXEC), lock = -1, status;
	pid_t kid;

	ck_assert_int_ge(dfd, 0);
	ck_assert_qc_ok(qc_catalog_lock(dfd, "img", 0, &lock, &err), &err);
	kid = fork();
	ck_assert_int_ge(kid, 0);
	if (kid == 0) {
		close(lock); /* our copy of the parent's lock (flock: per open file) */
		if (qc_driver_image_overlay(ov, backing, "qcow2", 0, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			_exit(1);
		}
		_exit(0);
	}
	qc_sleep_ms(700);
	ck_assert_int_eq(waitpid(kid, &status, WNOHANG), 0); /* still waiting */
	ck_assert_int_ne(access(ov, F_OK), 0);
	close(lock);
	ck_assert_int_eq(waitpid(kid, &status, 0), kid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(access(ov, F_OK), 0);
	close(dfd);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("storage_driver");
	TCase *tc;

	tc = unit_tcase(s, "image", resolve_checks_arch, disk_specs, disk_image_file, users_and_rm,
		overlay_waits_for_image_lock, NULL);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	return s;
}

UNIT_MAIN(suite)
