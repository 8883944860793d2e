/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/migrate_shared.c on the target.  A "shared" request (with real
 * files and qemu-img): taken for an image file outside the state root of the
 * format and virtual size the source says; refused for another size or
 * format, a relative or unnormalized path, a format that is no disk format
 * of a definition, a missing file, one in the state root, one announced
 * twice.  At the commit: a definition's disks outside the VM must be
 * exactly those announced and checked as shared storage (same name, path
 * and format), none written that was announced read-only, none announced
 * that the definition lacks; the VM's own disks take no part.
 */
#include "config.h"

#include <check.h>
#include <string.h>

#include "driver/migrate_shared.h"
#include "driver/qemuctl.h"
#include "storage/storage.h"
#include "tests/unit/check_main.h"
#include "tests/unit/unit.h"

static char *dir, *root, *raw;
static qc_ctx *ctx;

static void setup(void)
{
	struct qc_error err = {0};

	dir = unit_mkdtemp();
	root = qc_xasprintf("%s/root", dir);
	raw = qc_xasprintf("%s/data.raw", dir);
	ck_assert_qc_ok(qc_ctx_open(root, &ctx, &err), &err);
	ck_assert_qc_ok(qc_img_create(raw, "raw", 1 << 20, &err), &err);
}

static void teardown(void)
{
	qc_ctx_close(ctx);
	ctx = NULL;
	free(root);
	free(raw);
	unit_rmdir(dir);
	dir = NULL;
}

/* The target's answer to {"op":"shared",...} for path, format, size (s keeps what it took). */
static int receive(struct qc_mig_shared_set *s, const char *path, const char *format,
	unsigned long long size, struct qc_error *err)
{
	cleanup_free char *req =
		qc_xasprintf("{\"op\":\"shared\",\"disk\":\"disk1\",\"path\":\"%s\","
			     "\"format\":\"%s\",\"size\":%llu,\"writes\":true}",
			path, format, size);
	cleanup_json qc_json *j = NULL;

	ck_assert_qc_ok(qc_json_parse(req, strlen(req), &j, err), err);
	return qc_mig_shared_receive(ctx, "v", j, s, err);
}

START_TEST(receive_same_file_taken)
{
	struct qc_mig_shared_set s = {0};
	struct qc_error err = {0};

	ck_assert_qc_ok(receive(&s, raw, "raw", 1 << 20, &err), &err);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_str_eq(s.v[0].path, raw);
	ck_assert_str_eq(s.v[0].format, "raw");
	ck_assert(s.v[0].writes);
	ck_assert_qc_fail(receive(&s, raw, "raw", 1 << 20, &err), &err, QC_ERR_PROTO,
		"disk 'disk1' announced twice");
	qc_mig_shared_clear(&s);
	ck_assert_uint_eq(s.n, 0);
}
END_TEST

START_TEST(receive_other_disk_refused)
{
	cleanup_free char *in_root = qc_xasprintf("%s/images/x.raw", root);
	cleanup_free char *unnormal = qc_xasprintf("%s/./data.raw", dir);
	cleanup_free char *missing = qc_xasprintf("%s/missing.raw", dir);
	cleanup_free char *want = NULL;
	struct qc_mig_shared_set s = {0};
	struct qc_error err = {0};

	ck_assert_qc_fail(receive(&s, raw, "raw", 2 << 20, &err), &err, QC_ERR_INVALID,
		"has a virtual size of 1048576 bytes here and 2097152 on the source");
	ck_assert_qc_fail(receive(&s, raw, "qcow2", 1 << 20, &err), &err, QC_ERR_INVALID,
		"is a raw image here and a qcow2 image on the source");
	ck_assert_qc_fail(receive(&s, raw, "vmdk", 1 << 20, &err), &err, QC_ERR_INVALID,
		"format 'vmdk' (qcow2 or raw)");
	ck_assert_qc_fail(receive(&s, "data.raw", "raw", 1 << 20, &err), &err, QC_ERR_INVALID,
		"'data.raw' is not an absolute path");
	want = qc_xasprintf("'%s' is '%s' here", unnormal, raw);
	ck_assert_qc_fail(receive(&s, unnormal, "raw", 1 << 20, &err), &err, QC_ERR_INVALID, want);
	ck_assert_qc_fail(receive(&s, missing, "raw", 1 << 20, &err), &err, ENOENT, "cannot read");
	ck_assert_qc_fail(receive(&s, in_root, "raw", 1 << 20, &err), &err, QC_ERR_INVALID,
		"lies in the state root");
	ck_assert_uint_eq(s.n, 0);
}
END_TEST

static char n_root[] = "disk0", n_data[] = "disk1", n_iso[] = "disk2";
static char p_root[] = "/r/vms/v/disk0.qcow2", p_data[] = "/srv/data.qcow2",
	    p_iso[] = "/srv/tools.iso";
static char f_qcow2[] = "qcow2", f_raw[] = "raw";

/* A VM's own overlay, a writable data disk on shared storage and a read-only one. */
static void domain(struct qc_domain *d, struct qc_disk k[3])
{
	memset(d, 0, sizeof(*d));
	k[0] = (struct qc_disk){.name = n_root, .path = p_root, .format = f_qcow2, .owned = true};
	k[1] = (struct qc_disk){.name = n_data, .path = p_data, .format = f_qcow2};
	k[2] = (struct qc_disk){.name = n_iso, .path = p_iso, .format = f_raw, .readonly = true};
	d->disks = k;
	d->n_disks = 3;
}

static struct qc_mig_shared ann[3];

/* The announcements matching domain(): disk1 written, disk2 read-only. */
static struct qc_mig_shared_set announced(void)
{
	ann[0] = (struct qc_mig_shared){
		.disk = n_data, .path = p_data, .format = f_qcow2, .writes = true};
	ann[1] = (struct qc_mig_shared){.disk = n_iso, .path = p_iso, .format = f_raw};
	return (struct qc_mig_shared_set){.v = ann, .n = 2};
}

/* A definition (domain()) and the announcements that match it (announced()). */
struct fix {
	struct qc_disk k[3];
	struct qc_domain d;
	struct qc_mig_shared_set s;
};

static void fixture(struct fix *f)
{
	domain(&f->d, f->k);
	f->s = announced();
}

static void refused(const struct qc_mig_shared_set *s, const struct qc_domain *d, const char *msg)
{
	struct qc_error e = {0};

	ck_assert_int_eq(qc_mig_shared_match(s, d, &e), -QC_ERR_INVALID);
	ck_assert_msg(strstr(e.msg, msg), "'%s' lacks '%s'", e.msg, msg);
}

START_TEST(exact_match_taken)
{
	struct qc_error e = {0};
	struct fix f;

	fixture(&f);
	ck_assert_int_eq(qc_mig_shared_match(&f.s, &f.d, &e), 0);
	/* a read-only disk announced as written is no harm */
	ann[1].writes = true;
	ck_assert_int_eq(qc_mig_shared_match(&f.s, &f.d, &e), 0);
}
END_TEST

/* Each way a definition may differ from what was announced, and the refusal. */
START_TEST(mismatch_refused)
{
	static char other[] = "/srv/other.qcow2";
	static const char *const want[] = {
		"disk 'disk2' (/srv/tools.iso) outside the VM was not announced",
		"disk 'disk1' (/srv/data.qcow2) outside the VM was not announced",
		"disk 'disk1' (/srv/other.qcow2) outside the VM was not announced",
		"disk 'disk1' (/srv/data.qcow2) outside the VM was not announced",
		"writes disk 'disk2' (/srv/tools.iso), announced as read-only",
		"1 disk(s) announced as shared storage are none of the definition's",
		"1 disk(s) announced as shared storage are none of the definition's",
	};
	struct fix f;

	fixture(&f);
	switch (_i) {
	case 0: /* the read-only one not announced */
		f.s.n = 1;
		break;
	case 1: /* none announced */
		f.s.n = 0;
		break;
	case 2: /* another path */
		f.k[1].path = other;
		break;
	case 3: /* another format */
		f.k[1].format = f_raw;
		break;
	case 4: /* written, announced read-only */
		f.k[2].readonly = false;
		break;
	case 5: /* announced, not in the definition */
		f.d.n_disks = 2;
		break;
	default: /* the VM's own disk announced as shared: none of those outside the VM */
		ann[2] = (struct qc_mig_shared){.disk = n_root, .path = p_root, .format = f_qcow2};
		f.s.n = 3;
		break;
	}
	refused(&f.s, &f.d, want[_i]);
}
END_TEST

static Suite *shared_suite(void)
{
	Suite *s = suite_create("migrate_shared");
	TCase *tc;

	tc = unit_tcase(s, "receive", receive_same_file_taken, receive_other_disk_refused, NULL);
	tcase_add_checked_fixture(tc, setup, teardown);
	tc = unit_tcase(s, "match", exact_match_taken, NULL);
	tcase_add_loop_test(tc, mismatch_refused, 0, 7);
	return s;
}

UNIT_MAIN(shared_suite)
