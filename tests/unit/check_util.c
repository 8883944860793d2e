/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util/: parse, mem, error, time, log, names, host names, UTF-8; main() of check_util. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "tests/unit/unit.h"
#include "tests/unit/check_main.h"

/* ------------------------------------------------------------------ sizes */

static const struct {
	const char *in;
	uint64_t want;
} good_sizes[] = {
	{"0", 0},
	{"1", 1},
	{"1073741824", 1073741824ULL},
	{"512M", 512ULL << 20},
	{"2G", 2ULL << 30},
	{"1.5T", 3ULL << 39},
	{"64k", 64ULL << 10},
	{"64K", 64ULL << 10},
	{"2GiB", 2ULL << 30},
	{"2gib", 2ULL << 30},
	{"2GB", 2ULL << 30},
	{"2gb", 2ULL << 30},
	{"0.5K", 512},
	{"0.25k", 256},
	{"1B", 1},
	{"1b", 1},
	{"1.0", 1},
	{"1.50G", 3ULL << 29},
	{"3P", 3ULL << 50},
	{"15E", 15ULL << 60},
	{"1.00000000000000000000000000K", 1024},
	{"18446744073709551615", UINT64_MAX},
	{"0000000000000000000000000001", 1},
	{"0.0009765625K", 1},
};

START_TEST(size_good)
{
	struct qc_error e = {0};
	uint64_t v = 42;

	ck_assert_qc_ok(qc_parse_size("--memory", good_sizes[_i].in, &v, &e), &e);
	ck_assert_msg(v == good_sizes[_i].want, "%s: got %" PRIu64 ", want %" PRIu64,
		good_sizes[_i].in, v, good_sizes[_i].want);
}
END_TEST

static const struct {
	const char *in;
	const char *why; /* substring of the message */
} bad_sizes[] = {
	{"", "empty size"},
	{"-1", "negative"},
	{"-1G", "negative"},
	{" 1G", "invalid size"},
	{"1G ", "invalid size"},
	{"1 G", "invalid size"},
	{"1\tG", "invalid size"},
	{"1.5.5", "invalid size"},
	{"G", "invalid size"},
	{".5K", "invalid size"},
	{"1.", "invalid size"},
	{"1.G", "invalid size"},
	{"12X", "invalid size"},
	{"1KiBB", "invalid size"},
	{"1iB", "invalid size"},
	{"1Bi", "invalid size"},
	{"0x10", "invalid size"},
	{"+1", "invalid size"},
	{"1e3", "invalid size"},
	{"1,5G", "invalid size"},
	{"18446744073709551616", "too large"},
	{"16E", "too large"},
	{"16384P", "too large"},
	{"17179869184G", "too large"},
	{"99999999999999999999999999", "too large"},
	{"15.99999999999999999999E", "whole number of bytes"},
	{"1.1", "not a whole number of bytes"},
	{"0.3K", "not a whole number of bytes"},
	{"1.0000001K", "not a whole number of bytes"},
	{"0.00000000000000000001", "not a whole number of bytes"},
};

START_TEST(size_bad)
{
	struct qc_error e = {0};
	uint64_t v = 42;

	ck_assert_qc_fail(qc_parse_size("--memory", bad_sizes[_i].in, &v, &e), &e, QC_ERR_INVALID,
		bad_sizes[_i].why);
	ck_assert_msg(qc_str_has_prefix(e.msg, "--memory: "), "%s", e.msg);
	ck_assert_msg(v == 42, "%s: ret was clobbered", bad_sizes[_i].in);
}
END_TEST

START_TEST(size_messages)
{
	struct qc_error e = {0};
	uint64_t v;

	ck_assert_int_lt(qc_parse_size("--memory", "12X", &v, &e), 0);
	ck_assert_str_eq(e.msg, "--memory: invalid size '12X': use a number with an optional K, M, "
				"G, T suffix (e.g. 512M, 2G)");
	/* A NULL err and a NULL what are fine. */
	ck_assert_int_eq(qc_parse_size(NULL, "x", &v, NULL), -QC_ERR_INVALID);
	ck_assert_int_eq(qc_parse_size(NULL, NULL, &v, &e), -QC_ERR_INVALID);
	ck_assert_str_eq(e.msg, "size: empty size: use a number with an optional K, M, G, T suffix "
				"(e.g. 512M, 2G)");
	/* Hostile input is shortened and control characters are not echoed. */
	char big[600];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[3] = '\033';
	ck_assert_int_lt(qc_parse_size("--disk-size", big, &v, &e), 0);
	ck_assert_ptr_null(strchr(e.msg, '\033'));
	ck_assert_int_lt(strlen(e.msg), 300);
	ck_assert_ptr_nonnull(strstr(e.msg, "..."));
}
END_TEST

START_TEST(size_format)
{
	static const struct {
		uint64_t in;
		const char *want;
	} t[] = {
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1 KiB"},
		{1536, "1.5 KiB"},
		{512ULL << 20, "512 MiB"},
		{2ULL << 30, "2 GiB"},
		{3ULL << 39, "1.5 TiB"},
		{(1ULL << 30) - 1, "1.0 GiB"},
		{UINT64_MAX, "16.0 EiB"},
		{1ULL << 60, "1 EiB"},
	};
	char buf[32];

	for (size_t i = 0; i < QC_ARRAY_SIZE(t); i++) {
		qc_format_size(t[i].in, buf, sizeof(buf));
		ck_assert_str_eq(buf, t[i].want);
	}
	/* Round trip of every exact value. */
	for (size_t i = 0; i < QC_ARRAY_SIZE(good_sizes); i++) {
		struct qc_error e = {0};
		uint64_t v;
		char s[32];
		qc_format_size(good_sizes[i].want, buf, sizeof(buf));
		if (strchr(buf, '.') && good_sizes[i].want != (3ULL << 39) &&
			good_sizes[i].want != (3ULL << 29))
			continue;
		/* "512 MiB" -> "512MiB" */
		size_t k = 0;
		for (const char *p = buf; *p; p++)
			if (*p != ' ')
				s[k++] = *p;
		s[k] = '\0';
		ck_assert_qc_ok(qc_parse_size("x", s, &v, &e), &e);
		ck_assert_msg(v == good_sizes[i].want, "%s", s);
	}
}
END_TEST

START_TEST(uint_parse)
{
	struct qc_error e = {0};
	uint64_t v = 7;

	ck_assert_qc_ok(qc_parse_uint("--cpus", "1", 1, 255, &v, &e), &e);
	ck_assert_uint_eq(v, 1);
	ck_assert_qc_ok(qc_parse_uint("--cpus", "255", 1, 255, &v, &e), &e);
	ck_assert_uint_eq(v, 255);
	ck_assert_qc_ok(qc_parse_uint("x", "18446744073709551615", 0, UINT64_MAX, &v, &e), &e);
	ck_assert(v == UINT64_MAX);
	v = 7;
	ck_assert_qc_fail(qc_parse_uint("--cpus", "256", 1, 255, &v, &e), &e, QC_ERR_INVALID, NULL);
	ck_assert_str_eq(e.msg, "--cpus: 256 is out of range: use a whole number from 1 to 255");
	ck_assert_qc_fail(
		qc_parse_uint("--cpus", "0", 1, 255, &v, &e), &e, QC_ERR_INVALID, "out of range");
	ck_assert_qc_fail(qc_parse_uint("--cpus", "-1", 1, 255, &v, &e), &e, QC_ERR_INVALID,
		"invalid number '-1'");
	ck_assert_qc_fail(qc_parse_uint("--cpus", "", 1, 255, &v, &e), &e, QC_ERR_INVALID, "empty");
	ck_assert_qc_fail(qc_parse_uint("--cpus", "4x", 1, 255, &v, &e), &e, QC_ERR_INVALID,
		"invalid number '4x'");
	ck_assert_qc_fail(qc_parse_uint("--cpus", " 4", 1, 255, &v, &e), &e, QC_ERR_INVALID,
		"invalid number");
	ck_assert_qc_fail(qc_parse_uint("x", "18446744073709551616", 0, UINT64_MAX, &v, &e), &e,
		QC_ERR_INVALID, "out of range");
	ck_assert_uint_eq(v, 7);
}
END_TEST

/* ------------------------------------------------------------------ names */

START_TEST(name_valid)
{
	static const char *const ok[] = {"a", "web", "web-1", "A.b_c", "0", "9lives", "a..b", "x-",
		"123456789012345678901234567890123456789012345678901234567890123"};
	struct qc_error e = {0};

	for (size_t i = 0; i < QC_ARRAY_SIZE(ok); i++)
		ck_assert_qc_ok(qc_validate_name("VM", ok[i], &e), &e);
}
END_TEST

START_TEST(name_invalid)
{
	static const char *const bad[] = {"../x", ".a", "-a", "_a", "a b", "a/b", "a\nb",
		"caf\xc3\xa9", "a:b", "a*", ".", "..", "a\\b", "$x"};
	struct qc_error e = {0};
	char long_name[201];

	ck_assert_qc_fail(qc_validate_name("VM", "../x", &e), &e, QC_ERR_INVALID, NULL);
	ck_assert_str_eq(e.msg,
		"VM name '../x' is invalid: only letters, digits, '.', '_' and '-' "
		"are allowed, starting with a letter or digit, at most 63 characters");
	for (size_t i = 0; i < QC_ARRAY_SIZE(bad); i++) {
		ck_assert_qc_fail(
			qc_validate_name("image", bad[i], &e), &e, QC_ERR_INVALID, "image name '");
		ck_assert_ptr_null(strchr(e.msg, '\n'));
	}
	ck_assert_qc_fail(qc_validate_name("VM", "", &e), &e, QC_ERR_INVALID, "VM name is empty");
	ck_assert_qc_fail(qc_validate_name("VM", NULL, &e), &e, QC_ERR_INVALID, "VM name is empty");
	memset(long_name, 'a', 64);
	long_name[64] = '\0';
	ck_assert_qc_fail(qc_validate_name("network", long_name, &e), &e, QC_ERR_INVALID,
		"it has 64 characters");
	memset(long_name, 'a', 200);
	long_name[200] = '\0';
	ck_assert_qc_fail(
		qc_validate_name("VM", long_name, &e), &e, QC_ERR_INVALID, "it has 200 characters");
	ck_assert_int_lt(strlen(e.msg), 400);
}
END_TEST

START_TEST(hostname)
{
	static const char *const ok[] = {
		"a", "web-1", "web-1.example.com", "1.2.3.4", "A-b.C", "xn--bcher-kva.example"};
	static const struct unit_case bad[] = {
		{"", "empty"},
		{"-a", "start or end with '-'"},
		{"a-", "start or end with '-'"},
		{"a.-b", "start or end with '-'"},
		{"a..b", "empty label"},
		{".a", "empty label"},
		{"a.", "empty label"},
		{"a_b", "only letters, digits and '-'"},
		{"a b", "only letters, digits and '-'"},
		{"caf\xc3\xa9", "only letters, digits and '-'"},
	};
	struct qc_error e = {0};
	char buf[300];

	for (size_t i = 0; i < QC_ARRAY_SIZE(ok); i++)
		ck_assert_qc_ok(qc_validate_hostname(ok[i], &e), &e);
	for (size_t i = 0; i < QC_ARRAY_SIZE(bad); i++)
		ck_assert_qc_fail(
			qc_validate_hostname(bad[i].in, &e), &e, QC_ERR_INVALID, bad[i].want);
	/* A 63-character label is fine, 64 is not. */
	memset(buf, 'a', 63);
	buf[63] = '\0';
	ck_assert_qc_ok(qc_validate_hostname(buf, &e), &e);
	memset(buf, 'a', 64);
	buf[64] = '\0';
	ck_assert_qc_fail(qc_validate_hostname(buf, &e), &e, QC_ERR_INVALID, "64 characters");
	/* 253 in total is fine, 254 is not: 4 x (62 + '.') + 1 = 253. */
	buf[0] = '\0';
	for (int i = 0; i < 4; i++) {
		size_t n = strlen(buf);
		memset(buf + n, 'b', 62);
		buf[n + 62] = '.';
		buf[n + 63] = '\0';
	}
	strcat(buf, "c");
	ck_assert_uint_eq(strlen(buf), 253);
	ck_assert_qc_ok(qc_validate_hostname(buf, &e), &e);
	strcat(buf, "c");
	ck_assert_qc_fail(qc_validate_hostname(buf, &e), &e, QC_ERR_INVALID, "254 characters");
}
END_TEST

/* ------------------------------------------------------------------ utf-8 */

START_TEST(utf8)
{
	static const struct {
		const char *s;
		bool ok;
	} t[] = {
		{"", true}, {"plain ascii", true}, {"caf\xc3\xa9", true},
		{"\xe2\x82\xac", true}, /* euro sign */
		{"\xf0\x9f\x98\x80", true}, /* emoji */
		{"\xf4\x8f\xbf\xbf", true}, /* U+10FFFF */
		{"\xc0\x80", false}, /* overlong NUL */
		{"\xc1\xbf", false}, /* overlong */
		{"\xe0\x80\xaf", false}, /* overlong '/' */
		{"\xed\xa0\x80", false}, /* surrogate */
		{"\xf4\x90\x80\x80", false}, /* > U+10FFFF */
		{"\xf8\x88\x80\x80\x80", false}, /* 5 bytes */
		{"\xff", false}, {"\x80", false}, /* lone continuation */
		{"caf\xc3", false}, /* truncated */
		{"\xe2\x82", false}, /* truncated */
		{"\xc3\x28", false}, /* bad continuation */
	};

	for (size_t i = 0; i < QC_ARRAY_SIZE(t); i++)
		ck_assert_msg(qc_utf8_valid(t[i].s, strlen(t[i].s)) == t[i].ok, "case %zu", i);
	ck_assert(!qc_utf8_valid("a\0b", 3));
	/* Length is honoured: a valid prefix of an invalid string. */
	ck_assert(qc_utf8_valid("ab\xff", 2));
	ck_assert(!qc_utf8_valid("\xc3\xa9", 1));
}
END_TEST

/* ----------------------------------------------------------------- errors */

START_TEST(error_basic)
{
	struct qc_error e = {0};

	ck_assert_int_eq(
		qc_error_set(&e, QC_ERR_NOTFOUND, "VM '%s' not found", "web"), -QC_ERR_NOTFOUND);
	ck_assert_int_eq(e.code, QC_ERR_NOTFOUND);
	ck_assert_str_eq(e.msg, "VM 'web' not found");
	ck_assert_int_eq(qc_error_prefix(&e, "start"), -QC_ERR_NOTFOUND);
	ck_assert_str_eq(e.msg, "start: VM 'web' not found");
	ck_assert_int_eq(qc_error_errno(&e, ENOENT, "open '%s'", "/x"), -ENOENT);
	ck_assert_str_eq(e.msg, "open '/x': No such file or directory");
	/* errno 0 is never "success". */
	ck_assert_int_eq(qc_error_errno(&e, 0, "read"), -EIO);
	ck_assert_int_eq(qc_error_set(&e, 0, "bug"), -QC_ERR_INTERNAL);
	ck_assert_int_eq(qc_error_set(NULL, EINVAL, "x"), -EINVAL);
	ck_assert_int_eq(qc_error_errno(NULL, EPERM, "x"), -EPERM);
	ck_assert_int_eq(qc_error_prefix(NULL, "x"), -QC_ERR_INTERNAL);
	qc_error_clear(&e);
	ck_assert_int_eq(e.code, 0);
	ck_assert_str_eq(e.msg, "");
	qc_error_clear(NULL);
}
END_TEST

START_TEST(error_long)
{
	struct qc_error e = {0};
	char big[3000];

	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	qc_error_set(&e, EINVAL, "%s", big);
	ck_assert_uint_eq(strlen(e.msg), sizeof(e.msg) - 1);
	qc_error_errno(&e, ENOENT, "%s", big);
	ck_assert_uint_eq(strlen(e.msg), sizeof(e.msg) - 1);
	qc_error_set(&e, EINVAL, "tail");
	qc_error_prefix(&e, "%s", big);
	ck_assert_uint_eq(strlen(e.msg), sizeof(e.msg) - 1);
	ck_assert(e.msg[0] == 'z');
	/* The prefix keeps the start of the message (what failed) when both are long. */
	qc_error_set(&e, EINVAL, "%.900s", big);
	qc_error_prefix(&e, "ctx");
	ck_assert(qc_str_has_prefix(e.msg, "ctx: zzz"));
	ck_assert_uint_eq(strlen(e.msg), sizeof(e.msg) - 1 < 905 ? sizeof(e.msg) - 1 : 905);
}
END_TEST

START_TEST(error_names)
{
	ck_assert_str_eq(qc_error_code_name(QC_ERR_INVALID), "invalid");
	ck_assert_str_eq(qc_error_code_name(-QC_ERR_NOTFOUND), "not-found");
	ck_assert_str_eq(qc_error_code_name(QC_ERR_INTERNAL), "internal");
	ck_assert_str_eq(qc_error_code_name(ENOENT), "ENOENT");
	ck_assert_str_eq(qc_error_code_name(ETIMEDOUT), "timeout");
	ck_assert_str_eq(qc_error_code_name(0), "unknown");
	ck_assert_str_eq(qc_error_code_name(QC_ERR_MAX + 5), "unknown");
	for (int c = QC_ERR_BASE + 1; c < QC_ERR_MAX; c++)
		ck_assert_ptr_nonnull(qc_error_code_name(c));
}
END_TEST

/* ------------------------------------------------------------------ memory */

START_TEST(mem_buf)
{
	cleanup_buf struct qc_buf b = {0};
	char *s;

	s = qc_buf_steal(&b);
	ck_assert_str_eq(s, "");
	free(s);
	qc_buf_puts(&b, "abc");
	qc_buf_putc(&b, '-');
	qc_buf_printf(&b, "%d/%s", 42, "x");
	qc_buf_append(&b, "\0z", 2);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_int_eq(memcmp(b.data, "abc-42/x\0z", 10), 0);
	ck_assert_int_eq(b.data[b.len], '\0');
	for (int i = 0; i < 10000; i++)
		qc_buf_printf(&b, "%04d", i % 10000);
	ck_assert_uint_eq(b.len, 10 + 40000);
	ck_assert_int_eq(memcmp(b.data + b.len - 4, "9999", 4), 0);
	s = qc_buf_steal(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	free(s);
}
END_TEST

START_TEST(mem_strv)
{
	cleanup_strvec struct qc_strv v = {0};
	cleanup_free char *j = NULL;
	cleanup_free char *j0 = NULL;
	char **stolen;

	j0 = qc_strv_join(v.v, ",");
	ck_assert_str_eq(j0, "");
	for (int i = 0; i < 40; i++)
		qc_strv_pushf(&v, "a%d", i);
	qc_strv_push(&v, "last");
	qc_strv_push_take(&v, qc_xstrdup("taken"));
	ck_assert_uint_eq(v.n, 42);
	ck_assert_ptr_null(v.v[42]);
	j = qc_strv_join(v.v, " ");
	ck_assert(qc_str_has_prefix(j, "a0 a1 a2 "));
	ck_assert(qc_str_has_suffix(j, "a39 last taken"));
	stolen = qc_strv_steal(&v);
	ck_assert_ptr_null(v.v);
	ck_assert_str_eq(stolen[41], "taken");
	qc_strv_free(stolen);
	stolen = qc_strv_steal(&v);
	ck_assert_ptr_nonnull(stolen);
	ck_assert_ptr_null(stolen[0]);
	qc_strv_free(stolen);
}
END_TEST

START_TEST(mem_strings)
{
	cleanup_free char *a = qc_xasprintf("%s-%d", "x", 5);
	cleanup_free char *b = qc_xstrndup("abcdef", 3);
	cleanup_free char *z = qc_xzalloc(64);
	cleanup_free char *m = qc_xmalloc(0);

	ck_assert_str_eq(a, "x-5");
	ck_assert_str_eq(b, "abc");
	for (int i = 0; i < 64; i++)
		ck_assert_int_eq(z[i], 0);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_null(qc_xstrdup(NULL));
	ck_assert(qc_str_has_prefix("qemu-img", "qemu"));
	ck_assert(!qc_str_has_prefix("qe", "qemu"));
	ck_assert(qc_str_has_suffix("disk.qcow2", ".qcow2"));
	ck_assert(!qc_str_has_suffix("w2", ".qcow2"));
	ck_assert(qc_str_has_suffix("x", ""));
	ck_assert(qc_streq_null(NULL, NULL));
	ck_assert(!qc_streq_null("a", NULL));
	ck_assert(!qc_streq_null(NULL, "a"));
	ck_assert(qc_streq_null("a", "a"));
	ck_assert(!qc_streq_null("a", "b"));
}
END_TEST

START_TEST(mem_cleanup)
{
	int fds[2];
	int probe;

	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	probe = fds[0];
	{
		cleanup_close int fd = fds[0];
		(void) fd;
	}
	ck_assert_int_lt(fcntl(probe, F_GETFD), 0);
	{
		cleanup_close int fd = fds[1];
		int kept = TAKE_FD(fd);
		ck_assert_int_eq(fd, -1);
		ck_assert_int_eq(kept, fds[1]);
	}
	ck_assert_int_ge(fcntl(fds[1], F_GETFD), 0);
	errno = 1234;
	{
		cleanup_close int fd = fds[1];
		(void) fd;
	}
	ck_assert_int_eq(errno, 1234);
	{
		cleanup_free char *p = qc_xstrdup("x");
		char *q = TAKE_PTR(p);
		ck_assert_ptr_null(p);
		free(q);
	}
	{
		cleanup_fclose FILE *f = fopen("/dev/null", "re");
		ck_assert_ptr_nonnull(f);
	}
	{
		cleanup_strv char **v = qc_xzalloc(3 * sizeof(char *));
		v[0] = qc_xstrdup("a");
		v[1] = qc_xstrdup("b");
	}
}
END_TEST

/* ------------------------------------------------------------------- time */

START_TEST(time_basic)
{
	int64_t a = qc_now_ms(), d;
	char buf[40];

	ck_assert_int_gt(a, 0);
	qc_sleep_ms(30);
	ck_assert_int_ge(qc_now_ms() - a, 30);
	ck_assert_int_lt(qc_now_ms() - a, 1000);
	ck_assert_int_ge(qc_now_us() / 1000, a);
	ck_assert_int_eq(qc_deadline_ms(-1), -1);
	ck_assert_int_eq(qc_time_left_ms(-1), -1);
	d = qc_deadline_ms(0);
	ck_assert_int_eq(qc_time_left_ms(d), 0);
	d = qc_deadline_ms(5000);
	ck_assert_int_gt(qc_time_left_ms(d), 4000);
	ck_assert_int_le(qc_time_left_ms(d), 5000);
	ck_assert_int_eq(qc_time_left_ms(qc_now_ms() + ((int64_t) 1 << 40)), INT32_MAX);
	ck_assert_int_gt(qc_realtime_ms(), 1600000000000LL);
	qc_format_time_utc(0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1970-01-01T00:00:00.000Z");
	qc_format_time_utc(1795593760123LL, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2026-11-25T08:02:40.123Z");
}
END_TEST

/* -------------------------------------------------------------------- log */

static int log_count;
static char log_last[256];
static void log_cb(int level, const char *msg, void *opaque)
{
	log_count++;
	snprintf(log_last, sizeof(log_last), "%d:%s:%s", level, msg, (const char *) opaque);
}

START_TEST(log_basic)
{
	qc_info("dropped %d", 1); /* no handler: nothing happens */
	qc_log_set_handler(log_cb, "op", QC_LOG_INFO);
	qc_debug("too verbose");
	ck_assert_int_eq(log_count, 0);
	errno = 77;
	qc_info("hello %s", "there");
	ck_assert_int_eq(errno, 77);
	ck_assert_int_eq(log_count, 1);
	ck_assert_str_eq(log_last, "2:hello there:op");
	qc_warn("w");
	ck_assert_str_eq(log_last, "1:w:op");
	qc_log_set_handler(NULL, NULL, QC_LOG_DEBUG);
	qc_warn("gone");
	ck_assert_int_eq(log_count, 2);
}
END_TEST

Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc;

	tc = unit_tcase(s, "size", NULL);
	tcase_add_loop_test(tc, size_good, 0, QC_ARRAY_SIZE(good_sizes));
	tcase_add_loop_test(tc, size_bad, 0, QC_ARRAY_SIZE(bad_sizes));
	unit_add_tests(tc, size_messages, size_format, uint_parse, NULL);
	unit_tcase(s, "name", name_valid, name_invalid, hostname, utf8, NULL);
	unit_tcase(s, "error", error_basic, error_long, error_names, NULL);
	unit_tcase(s, "mem", mem_buf, mem_strv, mem_strings, mem_cleanup, NULL);
	unit_tcase(s, "time", time_basic, log_basic, NULL);
	return s;
}

int main(void)
{
	return unit_run(util_suite(), util_file_suite(), util_spawn_suite(), util_json_suite(),
		util_fault_suite(), util_term_suite(), util_trust_suite(), util_sshurl_suite(), NULL);
}
