/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared helpers for the Check unit tests. */
#ifndef QC_UNIT_H
#define QC_UNIT_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

/* r < 0, err->code == code and err->msg contains substr (NULL: any). */
#define ck_assert_qc_fail(r, err, want_code, substr)                                            \
	do {                                                                                    \
		int _r = (r);                                                                   \
		ck_assert_msg(_r < 0, "expected failure, got %d", _r);                          \
		ck_assert_msg(_r == -(want_code), "expected code %d, got %d (%s)", (want_code), \
			-_r, (err)->msg);                                                       \
		ck_assert_int_eq((err)->code, (want_code));                                     \
		unit_assert_contains((err)->msg, (substr));                                     \
	} while (0)

/* substr NULL: anything goes. */
static inline void unit_assert_contains(const char *msg, const char *substr)
{
	if (substr)
		ck_assert_msg(strstr(msg, substr) != NULL, "message '%s' lacks '%s'", msg, substr);
}

/* r == 0, else print the error. */
#define ck_assert_qc_ok(r, err)                                                         \
	do {                                                                            \
		int _r = (r);                                                           \
		ck_assert_msg(_r == 0, "expected success, got %d: %s", _r, (err)->msg); \
	} while (0)

/* A fresh private directory under $TMPDIR; remove it with unit_rmdir(). */
static inline char *unit_mkdtemp(void)
{
	const char *t = getenv("TMPDIR");
	char *p = qc_xasprintf("%s/qc-unit-XXXXXX", t && *t ? t : "/tmp");

	ck_assert_ptr_nonnull(mkdtemp(p));
	return p;
}

static inline void unit_rmdir(char *p)
{
	struct qc_error e = {0};

	if (!p)
		return;
	ck_assert_msg(qc_rm_rf_at(AT_FDCWD, p, &e) == 0, "cleanup %s: %s", p, e.msg);
	free(p);
}

/*
 * A checked fixture that gives each test a fresh private directory:
 * UNIT_TMPDIR_FIXTURE(dir) declares static char *dir and dir_setup() and
 * dir_teardown() for tcase_add_checked_fixture().
 */
#define UNIT_TMPDIR_FIXTURE(var)         \
	static char *var;                \
	static void var##_setup(void)    \
	{                                \
		var = unit_mkdtemp();    \
	}                                \
	static void var##_teardown(void) \
	{                                \
		unit_rmdir(var);         \
		var = NULL;              \
	}

/*
 * Run argv (60 s at most) and fail the test unless it exits 0; its stdout
 * (up to 4 MiB), and its length in *out_len unless out_len is NULL.
 */
static inline char *unit_spawn_out(const char *const *argv, size_t *out_len)
{
	struct qc_spawn_opts o = {.argv = argv,
		.out = QC_STDIO_CAPTURE,
		.errout = QC_STDIO_CAPTURE,
		.capture_max = 4u << 20,
		.timeout_ms = 60000};
	struct qc_spawn_result res = {0};
	struct qc_error err = {0};
	char *out;

	ck_assert_msg(qc_spawn_check(&o, &res, &err) == 0, "%s: %s", argv[0], err.msg);
	out = TAKE_PTR(res.out);
	if (out_len)
		*out_len = res.out_len;
	qc_spawn_result_free(&res);
	return out;
}

/* Run argv like unit_spawn_out(), its output dropped. */
static inline void unit_spawn_ok(const char *const *argv)
{
	free(unit_spawn_out(argv, NULL));
}

/* One row of a table-driven test: an input and the text expected for it. */
struct unit_case {
	const char *in, *want;
};

/* Number of open fds of this process (for leak checks). */
static inline int unit_count_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

Suite *util_suite(void);
Suite *util_spawn_suite(void);
Suite *util_json_suite(void);
Suite *util_file_suite(void);
Suite *util_fault_suite(void);
Suite *util_term_suite(void);
Suite *util_trust_suite(void);
Suite *util_sshurl_suite(void);

#endif
