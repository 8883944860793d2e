/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/fdpass.c: a disk's chain is what the domain and the snapshot
 * records name (loops and over-long chains refused), and a file is opened
 * for QEMU only when it is what it should be: no symlink in the VM's
 * directory, no FIFO or directory, no qcow2 with an external data file, no
 * bottom layer whose header names a backing file.
 */
#include "config.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "driver/confine.h"
#include "driver/fdpass.h"
#include "storage/storage.h"
#include "tests/unit/unit.h"
#include "tests/unit/check_main.h"

static struct qc_domain *dom(void)
{
	struct qc_domain *d = qc_domain_new();
	struct qc_disk *k = qc_domain_add_disk(d);

	d->name = qc_xstrdup("t");
	k->name = qc_xstrdup("disk0");
	k->path = qc_xstrdup("/vm/disk0.L2.qcow2");
	k->format = qc_xstrdup("qcow2");
	k->backing = qc_xstrdup("/vm/disk0.L1.qcow2");
	k->backing_format = qc_xstrdup("qcow2");
	return d;
}

static void add_record(struct qc_snaps *s, const char *file, const char *backing, const char *fmt)
{
	struct qc_snap *sn;
	struct qc_snap_disk *dk;

	s->v = qc_xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	sn = &s->v[s->n++];
	memset(sn, 0, sizeof(*sn));
	sn->name = qc_xasprintf("s%zu", s->n);
	sn->disks = qc_xzalloc(sizeof(*sn->disks));
	sn->n_disks = 1;
	dk = sn->disks;
	dk->disk = qc_xstrdup("disk0");
	dk->file = qc_xstrdup(file);
	dk->backing = backing ? qc_xstrdup(backing) : NULL;
	dk->backing_format = fmt ? qc_xstrdup(fmt) : NULL;
}

/* qc_driver_disk_chain() refuses dom()'s disk0 over the records s, saying why. */
static void assert_chain_refused(const struct qc_snaps *s, const char *why)
{
	cleanup_domain struct qc_domain *d = dom();
	struct qc_chain_layer c[QC_CHAIN_MAX];
	struct qc_error err = {0};
	size_t n = 0;

	ck_assert_qc_fail(qc_driver_disk_chain(d, s, 0, c, &n, &err), &err, QC_ERR_INVALID, why);
}

START_TEST(chain_from_records)
{
	cleanup_domain struct qc_domain *d = dom();
	struct qc_snaps s = {0};
	struct qc_chain_layer c[QC_CHAIN_MAX];
	struct qc_error err = {0};
	size_t n = 0;

	add_record(&s, "/vm/disk0.L1.qcow2", "/vm/disk0.qcow2", "qcow2");
	add_record(&s, "/vm/disk0.qcow2", "/images/base.qcow2", "qcow2");
	ck_assert_qc_ok(qc_driver_disk_chain(d, &s, 0, c, &n, &err), &err);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(c[0].path, "/vm/disk0.L2.qcow2");
	ck_assert_str_eq(c[1].path, "/vm/disk0.L1.qcow2");
	ck_assert_str_eq(c[2].path, "/vm/disk0.qcow2");
	ck_assert_str_eq(c[3].path, "/images/base.qcow2");
	ck_assert_str_eq(c[3].format, "qcow2");

	/* a record that loops back is refused, not followed forever */
	free(s.v[1].disks[0].backing);
	s.v[1].disks[0].backing = qc_xstrdup("/vm/disk0.L1.qcow2");
	assert_chain_refused(&s, "is its own backing file");
	/* a backing without a format is refused (it would be probed) */
	free(s.v[1].disks[0].backing);
	s.v[1].disks[0].backing = qc_xstrdup("/images/base.raw");
	free(s.v[1].disks[0].backing_format);
	s.v[1].disks[0].backing_format = NULL;
	assert_chain_refused(&s, "has no recorded format");
	qc_snaps_clear(&s);
}
END_TEST

START_TEST(chain_too_long)
{
	struct qc_snaps s = {0};

	add_record(&s, "/vm/disk0.L1.qcow2", "/vm/x1.qcow2", "qcow2");
	for (int i = 1; i <= QC_CHAIN_MAX + 2; i++) {
		cleanup_free char *f = qc_xasprintf("/vm/x%d.qcow2", i);
		cleanup_free char *b = qc_xasprintf("/vm/x%d.qcow2", i + 1);

		add_record(&s, f, b, "qcow2");
	}
	assert_chain_refused(&s, "more than 64 layers");
	qc_snaps_clear(&s);
}
END_TEST

START_TEST(open_file_checks)
{
	char *dir = unit_mkdtemp();
	cleanup_free char *plain = qc_xasprintf("%s/plain.qcow2", dir);
	cleanup_free char *layer = qc_xasprintf("%s/layer.qcow2", dir);
	cleanup_free char *df = qc_xasprintf("%s/df.qcow2", dir);
	cleanup_free char *dfo = qc_xasprintf("data_file=%s/df.data", dir);
	cleanup_free char *link = qc_xasprintf("%s/link.qcow2", dir);
	cleanup_free char *fifo = qc_xasprintf("%s/fifo.qcow2", dir);
	cleanup_free char *sub = qc_xasprintf("%s/sub", dir);
	cleanup_free char *raw = qc_xasprintf("%s/text.raw", dir);
	struct qc_error err = {0};
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = -1, fl;

	ck_assert_int_ge(dfd, 0);
	ck_assert_qc_ok(qc_img_create(plain, NULL, 1 << 20, &err), &err);
	ck_assert_qc_ok(qc_img_create_layer(layer, "/nonexistent/x.qcow2", "qcow2", 1 << 20, &err),
		&err);
	{
		const char *argv[] = {"qemu-img", "create", "-q", "-f", "qcow2", "-o", dfo, df, "1M",
			NULL};

		unit_spawn_ok(argv);
	}
	ck_assert_int_eq(symlink(plain, link), 0);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert_int_eq(qc_write_atomic(AT_FDCWD, raw, "x", 1, 0600, NULL), 0);

	/* a plain qcow2, read-write, blocking (O_NONBLOCK was only for the open) */
	ck_assert_qc_ok(
		qc_driver_fdpass_open_file(dfd, dir, "disk", plain, "qcow2", true, true, &fd, &err),
		&err);
	fl = fcntl(fd, F_GETFL);
	ck_assert_int_eq(fl & O_ACCMODE, O_RDWR);
	ck_assert_int_eq(fl & O_NONBLOCK, 0);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	close(fd);
	/* a layer may name a backing when the chain goes on; the bottom may not */
	ck_assert_qc_ok(
		qc_driver_fdpass_open_file(dfd, dir, "disk", layer, "qcow2", false, false, &fd, &err),
		&err);
	close(fd);
	ck_assert_qc_fail(
		qc_driver_fdpass_open_file(dfd, dir, "disk", layer, "qcow2", false, true, &fd, &err),
		&err, QC_ERR_INVALID, "names a backing file in its header that the definition");
	ck_assert_qc_fail(
		qc_driver_fdpass_open_file(dfd, dir, "disk", df, "qcow2", false, false, &fd, &err),
		&err, QC_ERR_INVALID, "keeps its data in an external file");
	/* in the VM's directory: no symlink; nowhere a FIFO (it must not block) or directory */
	ck_assert_qc_fail(
		qc_driver_fdpass_open_file(dfd, dir, "disk", link, "qcow2", false, true, &fd, &err),
		&err, ELOOP, "link.qcow2");
	ck_assert_qc_fail(
		qc_driver_fdpass_open_file(dfd, dir, "disk", fifo, "raw", false, true, &fd, &err), &err,
		QC_ERR_INVALID, "is not a regular file or block device");
	ck_assert_qc_fail(
		qc_driver_fdpass_open_file(-1, NULL, "disk", fifo, "raw", false, true, &fd, &err), &err,
		QC_ERR_INVALID, "is not a regular file or block device");
	ck_assert_qc_fail(
		qc_driver_fdpass_open_file(dfd, dir, "disk", sub, "raw", false, true, &fd, &err), &err,
		QC_ERR_INVALID, "is not a regular file");
	/* a file that says qcow2 and is not; a relative path */
	ck_assert_qc_fail(
		qc_driver_fdpass_open_file(dfd, dir, "disk", raw, "qcow2", false, true, &fd, &err),
		&err, QC_ERR_INVALID, "is not a qcow2 image");
	ck_assert_qc_fail(qc_driver_fdpass_open_file(
				  dfd, dir, "disk", "plain.qcow2", "qcow2", false, true, &fd, &err),
		&err, QC_ERR_INVALID, "not an absolute path");
	close(dfd);
	unit_rmdir(dir);
}
END_TEST

/* What QEMU's confined user (uid 994, gid 993, no other groups) may open. */
START_TEST(confine_may)
{
	struct stat st = {.st_uid = 0, .st_gid = 42};

	st.st_mode = S_IFREG | 0640; /* /etc/shadow: root:shadow */
	ck_assert(!qc_driver_confine_may(&st, 994, 993, false));
	st.st_mode = S_IFREG | 0644;
	ck_assert(qc_driver_confine_may(&st, 994, 993, false));
	ck_assert(!qc_driver_confine_may(&st, 994, 993, true));
	st.st_mode = S_IFREG | 0666;
	ck_assert(qc_driver_confine_may(&st, 994, 993, true));
	st.st_gid = 993;
	st.st_mode = S_IFREG | 0660;
	ck_assert(qc_driver_confine_may(&st, 994, 993, true));
	/* the owner's bits decide for the owner, even when others may more */
	st.st_uid = 994;
	st.st_mode = S_IFREG | 0066;
	ck_assert(!qc_driver_confine_may(&st, 994, 993, false));
	st.st_mode = S_IFREG | 0400;
	ck_assert(qc_driver_confine_may(&st, 994, 993, false));
	ck_assert(!qc_driver_confine_may(&st, 994, 993, true));
	/* the group's bits decide for a member that does not own it */
	st.st_uid = 0;
	st.st_mode = S_IFREG | 0604;
	ck_assert(!qc_driver_confine_may(&st, 994, 993, false));
}
END_TEST

static Suite *fdpass_suite(void)
{
	Suite *s = suite_create("fdpass");
	TCase *tc;

	unit_tcase(s, "chain", chain_from_records, chain_too_long, confine_may, NULL);
	tc = unit_tcase(s, "open", open_file_checks, NULL);
	tcase_set_timeout(tc, 60);
	return s;
}

UNIT_MAIN(fdpass_suite)
