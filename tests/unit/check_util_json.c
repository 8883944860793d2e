/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util/json.c */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "tests/unit/check_main.h"
#include "tests/unit/unit.h"

static qc_json *parse_ok(const char *s)
{
	struct qc_error e = {0};
	qc_json *j = NULL;

	ck_assert_qc_ok(qc_json_parse(s, strlen(s), &j, &e), &e);
	ck_assert_ptr_nonnull(j);
	return j;
}

static const char doc[] =
	"{\"return\":{\"status\":\"running\",\"running\":true,\"singlestep\":false,"
	"\"n\":-42,\"big\":18446744073709551615,\"huge\":123456789012345678901234567890,"
	"\"pi\":3.25,\"exp\":1e3,\"nothing\":null,"
	"\"list\":[{\"file\":\"a.qcow2\"},{\"file\":\"b\\u00e9\"}],\"empty\":{}},"
	"\"id\":7}";

START_TEST(json_parse_getters)
{
	cleanup_json qc_json *j = parse_ok(doc);
	const qc_json *ret = qc_json_get(j, "return");
	int64_t i;
	uint64_t u;
	double d;
	bool b;

	ck_assert_int_eq(qc_json_type(j), QC_JSON_OBJECT);
	ck_assert_uint_eq(qc_json_len(j), 2);
	ck_assert_str_eq(qc_json_key_at(j, 0), "return");
	ck_assert_str_eq(qc_json_key_at(j, 1), "id");
	ck_assert_ptr_null(qc_json_key_at(j, 2));
	ck_assert_ptr_eq(qc_json_at(j, 0), ret);
	ck_assert_ptr_null(qc_json_at(j, 2));
	ck_assert_ptr_null(qc_json_get(j, "missing"));
	ck_assert_ptr_null(qc_json_get(j, "retur"));
	ck_assert_str_eq(qc_json_string(qc_json_get(ret, "status")), "running");
	ck_assert_ptr_eq(qc_json_path(j, "return/status"), qc_json_get(ret, "status"));
	ck_assert_ptr_eq(qc_json_path(j, ""), j);
	ck_assert_ptr_null(qc_json_path(j, "return/status/deeper"));
	ck_assert_ptr_null(qc_json_path(j, "return/missing/x"));

	/* arrays, also through paths */
	const qc_json *list = qc_json_path(j, "return/list");
	ck_assert_int_eq(qc_json_type(list), QC_JSON_ARRAY);
	ck_assert_uint_eq(qc_json_len(list), 2);
	ck_assert_str_eq(qc_json_string(qc_json_get(qc_json_at(list, 1), "file")), "b\xc3\xa9");
	ck_assert_ptr_null(qc_json_at(list, 2));
	ck_assert_ptr_null(qc_json_key_at(list, 0));
	ck_assert_str_eq(qc_json_string(qc_json_path(j, "return/list/0/file")), "a.qcow2");
	ck_assert_ptr_null(qc_json_path(j, "return/list/2/file"));
	ck_assert_uint_eq(qc_json_len(qc_json_path(j, "return/empty")), 0);
	ck_assert_uint_eq(qc_json_len(qc_json_path(j, "id")), 0);

	/* scalars and type mismatches */
	ck_assert(qc_json_as_int(qc_json_get(ret, "n"), &i));
	ck_assert_int_eq(i, -42);
	ck_assert(!qc_json_as_uint(qc_json_get(ret, "n"), &u));
	ck_assert(qc_json_as_uint(qc_json_get(ret, "big"), &u));
	ck_assert(u == UINT64_MAX);
	ck_assert(!qc_json_as_int(qc_json_get(ret, "big"), &i));
	ck_assert(!qc_json_as_uint(qc_json_get(ret, "huge"), &u));
	ck_assert(!qc_json_as_int(qc_json_get(ret, "pi"), &i));
	ck_assert(!qc_json_as_uint(qc_json_get(ret, "pi"), &u));
	ck_assert(qc_json_as_double(qc_json_get(ret, "pi"), &d));
	ck_assert(d == 3.25);
	ck_assert(qc_json_as_double(qc_json_get(ret, "exp"), &d));
	ck_assert(d == 1000.0);
	ck_assert(qc_json_as_double(qc_json_get(ret, "n"), &d));
	ck_assert(d == -42.0);
	ck_assert(qc_json_as_double(qc_json_get(ret, "huge"), &d));
	ck_assert(d > 1.2e29 && d < 1.3e29);
	ck_assert(!qc_json_as_double(qc_json_get(ret, "status"), &d));
	ck_assert(qc_json_as_bool(qc_json_get(ret, "running"), &b) && b);
	ck_assert(qc_json_as_bool(qc_json_get(ret, "singlestep"), &b) && !b);
	ck_assert(!qc_json_as_bool(qc_json_get(ret, "nothing"), &b));
	ck_assert_int_eq(qc_json_type(qc_json_get(ret, "nothing")), QC_JSON_NULL);
	ck_assert_int_eq(qc_json_type(qc_json_get(ret, "running")), QC_JSON_BOOL);
	ck_assert_int_eq(qc_json_type(qc_json_get(ret, "pi")), QC_JSON_NUMBER);
	ck_assert_int_eq(qc_json_type(NULL), QC_JSON_NULL);
	ck_assert_ptr_null(qc_json_string(qc_json_get(ret, "n")));
	ck_assert_ptr_null(qc_json_get(qc_json_get(ret, "n"), "x"));
	ck_assert_ptr_null(qc_json_string(NULL));
	ck_assert(!qc_json_as_int(NULL, &i));
}
END_TEST

START_TEST(json_named_errors)
{
	cleanup_json qc_json *j = parse_ok(doc);
	struct qc_error e = {0};
	const char *s = "untouched";
	int64_t i = 5;
	uint64_t u = 5;
	bool b = true;

	ck_assert_qc_ok(qc_json_get_string(j, "return/status", &s, &e), &e);
	ck_assert_str_eq(s, "running");
	ck_assert_qc_ok(qc_json_get_int(j, "id", &i, &e), &e);
	ck_assert_int_eq(i, 7);
	ck_assert_qc_ok(qc_json_get_uint(j, "return/big", &u, &e), &e);
	ck_assert(u == UINT64_MAX);
	ck_assert_qc_ok(qc_json_get_bool(j, "return/running", &b, &e), &e);
	ck_assert(b);

	s = "untouched";
	i = 5;
	u = 5;
	ck_assert_qc_fail(qc_json_get_string(j, "return/state", &s, &e), &e, QC_ERR_JSON, NULL);
	ck_assert_str_eq(e.msg, "JSON: 'return/state' is missing");
	ck_assert_qc_fail(qc_json_get_string(j, "id", &s, &e), &e, QC_ERR_JSON, NULL);
	ck_assert_str_eq(e.msg, "JSON: 'id' is not a string (it is a number)");
	ck_assert_qc_fail(qc_json_get_int(j, "return/status", &i, &e), &e, QC_ERR_JSON, NULL);
	ck_assert_str_eq(e.msg, "JSON: 'return/status' is not an integer (it is a string)");
	ck_assert_qc_fail(qc_json_get_int(j, "return/pi", &i, &e), &e, QC_ERR_JSON, NULL);
	ck_assert_str_eq(e.msg, "JSON: 'return/pi' is not an integer (it is 3.25)");
	ck_assert_qc_fail(qc_json_get_int(j, "return/big", &i, &e), &e, QC_ERR_JSON, NULL);
	ck_assert_str_eq(e.msg, "JSON: 'return/big' is out of the 64-bit integer range (it is "
				"18446744073709551615)");
	ck_assert_qc_fail(qc_json_get_uint(j, "return/n", &u, &e), &e, QC_ERR_JSON, NULL);
	ck_assert_str_eq(e.msg, "JSON: 'return/n' is not an unsigned integer (it is -42)");
	ck_assert_qc_fail(qc_json_get_uint(j, "return/huge", &u, &e), &e, QC_ERR_JSON,
		"out of the 64-bit integer range");
	ck_assert_qc_fail(
		qc_json_get_uint(j, "return/list", &u, &e), &e, QC_ERR_JSON, "(it is an array)");
	ck_assert_qc_fail(qc_json_get_bool(j, "return/nothing", &b, &e), &e, QC_ERR_JSON, NULL);
	ck_assert_str_eq(e.msg, "JSON: 'return/nothing' is not a boolean (it is null)");
	ck_assert_qc_fail(
		qc_json_get_bool(j, "return/empty", &b, &e), &e, QC_ERR_JSON, "(it is an object)");
	ck_assert_qc_fail(qc_json_get_int(j, "x/y", &i, &e), &e, QC_ERR_JSON, "'x/y' is missing");
	ck_assert_qc_fail(qc_json_get_uint(j, "x", &u, &e), &e, QC_ERR_JSON, "'x' is missing");
	ck_assert_qc_fail(qc_json_get_bool(j, "x", &b, &e), &e, QC_ERR_JSON, "'x' is missing");
	/* outputs untouched on failure */
	ck_assert_str_eq(s, "untouched");
	ck_assert_int_eq(i, 5);
	ck_assert(u == 5);
	ck_assert(b);
}
END_TEST

START_TEST(json_malformed)
{
	static const struct unit_case t[] = {
		{"{bad}", "JSON: lexical error: invalid char in json text. near '{bad}'"},
		{"{\"a\":}", "JSON: parse error: unallowed token at this point in JSON text near "
			     "'{\"a\":}'"},
		{"", "JSON: parse error: premature EOF"},
		{"{\"a\":1", "JSON: parse error: premature EOF near '{\"a\":1'"},
		{"{} x", "JSON: parse error: trailing garbage near '{} x'"},
		{"[1,]", "JSON: parse error: unallowed token at this point in JSON text near "
			 "'[1,]'"},
		{"\"\xff\"", "JSON: lexical error: invalid bytes in UTF8 string."},
		{"{\"a\":1}{\"b\":2}", "JSON: parse error: trailing garbage"},
	};
	struct qc_error e = {0};
	qc_json *j = NULL;

	for (size_t i = 0; i < QC_ARRAY_SIZE(t); i++) {
		ck_assert_qc_fail(
			qc_json_parse(t[i].in, strlen(t[i].in), &j, &e), &e, QC_ERR_JSON, NULL);
		ck_assert_msg(qc_str_has_prefix(e.msg, t[i].want), "'%s': got '%s', want '%s'",
			t[i].in, e.msg, t[i].want);
		ck_assert_ptr_null(strchr(e.msg, '\n'));
		ck_assert_ptr_null(j);
	}
	/* embedded NUL */
	ck_assert_qc_fail(qc_json_parse("{}\0{}", 5, &j, &e), &e, QC_ERR_JSON, "NUL byte");
	/* len is honoured: no NUL terminator needed, the rest ignored */
	ck_assert_qc_ok(qc_json_parse("[1,2]garbage", 5, &j, &e), &e);
	ck_assert_uint_eq(qc_json_len(j), 2);
	qc_json_free(j);
	qc_json_free(NULL);
	/* scalars at the top */
	cleanup_json qc_json *jn = parse_ok("null");
	ck_assert_int_eq(qc_json_type(jn), QC_JSON_NULL);
	cleanup_json qc_json *s = parse_ok(" \"x\" ");
	ck_assert_str_eq(qc_json_string(s), "x");
	/* deep nesting is refused (yajl frees trees recursively), not a crash */
	size_t n = (size_t) 8 << 20;
	char *deep = qc_xmalloc(2 * n);
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	ck_assert_qc_fail(qc_json_parse(deep, 2 * n, &j, &e), &e, QC_ERR_JSON,
		"nested deeper than 127 levels");
	/* 127 is fine, and brackets inside strings do not count */
	ck_assert_qc_ok(qc_json_parse(deep + n - 127, 254, &j, &e), &e);
	qc_json_free(j);
	free(deep);
	cleanup_json qc_json *br = parse_ok("[\"[[[[\\\"[[[[\", {\"{{{\": \"}}}]]]\"}]");
	ck_assert_str_eq(qc_json_string(qc_json_at(br, 0)), "[[[[\"[[[[");
}
END_TEST

/* Text of n '[' ... ']' with pre inserted before the brackets. */
static char *nest(const char *pre, size_t n, size_t *ret_len)
{
	size_t p = strlen(pre);
	char *s = qc_xmalloc(p + 2 * n + 1);

	memcpy(s, pre, p);
	memset(s + p, '[', n);
	memset(s + p + n, ']', n);
	s[p + 2 * n] = '\0';
	*ret_len = p + 2 * n;
	return s;
}

START_TEST(json_comments_refused)
{
	static const char *const bad[] = {
		"// comment\n{}",
		"{} // comment",
		"[1, /* two */ 2]",
		"/* \" */ []",
		"{\"a\": 1 /* } */}",
		"[1,\n# hash\n2]",
	};
	struct qc_error e = {0};
	qc_json *j = NULL;

	for (size_t i = 0; i < QC_ARRAY_SIZE(bad); i++) {
		ck_assert_qc_fail(qc_json_parse(bad[i], strlen(bad[i]), &j, &e), &e,
			QC_ERR_JSON, "JSON: ");
		ck_assert_ptr_null(j);
	}
	/* Comment-like text inside strings is data. */
	cleanup_json qc_json *s = parse_ok("[\"/* \\\" */\", \"// x\"]");
	ck_assert_str_eq(qc_json_string(qc_json_at(s, 0)), "/* \" */");
	ck_assert_str_eq(qc_json_string(qc_json_at(s, 1)), "// x");
}
END_TEST

/*
 * A comment holding a '"' made a separate depth pre-scan think the rest
 * was a string, so 100000 levels reached the parser and the recursive free.
 */
START_TEST(json_depth_cannot_be_bypassed)
{
	static const char *const pre[] = {"/* \" */", "\"", "[\"\\\"", "// \"\n", ""};
	struct qc_error e = {0};
	qc_json *j = NULL;
	size_t len;

	for (size_t i = 0; i < QC_ARRAY_SIZE(pre); i++) {
		cleanup_free char *s = nest(pre[i], 100000, &len);

		ck_assert_int_lt(qc_json_parse(s, len, &j, &e), 0);
		ck_assert_int_eq(e.code, QC_ERR_JSON);
		ck_assert_ptr_null(j);
	}
	/* Objects count like arrays, and mixed nesting too. */
	{
		cleanup_buf struct qc_buf b = {0};

		for (int i = 0; i < 128; i++)
			qc_buf_puts(&b, i % 2 ? "[" : "{\"k\":");
		qc_buf_puts(&b, "1");
		for (int i = 127; i >= 0; i--)
			qc_buf_puts(&b, i % 2 ? "]" : "}");
		ck_assert_qc_fail(qc_json_parse(b.data, b.len, &j, &e), &e, QC_ERR_JSON,
			"nested deeper than 127 levels");
	}
	/*
	 * Exactly 127 levels parse and can be written back (yajl's generator
	 * stops at 128); 128 do not parse.
	 */
	{
		cleanup_free char *ok = nest("", 127, &len);
		cleanup_free char *over = nest("", 128, &len);
		cleanup_free char *dump = NULL;

		ck_assert_qc_ok(qc_json_parse(ok, 254, &j, &e), &e);
		dump = qc_json_dump(j);
		ck_assert_ptr_nonnull(dump);
		ck_assert_str_eq(dump, ok);
		qc_json_free(j);
		j = NULL;
		ck_assert_qc_fail(qc_json_parse(over, 256, &j, &e), &e, QC_ERR_JSON,
			"nested deeper than 127 levels");
		ck_assert_ptr_null(j);
	}
	/* Level 127 reached twice, one after the other, is still depth 127. */
	{
		cleanup_buf struct qc_buf b = {0};

		qc_buf_puts(&b, "[");
		for (int k = 0; k < 2; k++) {
			for (int i = 0; i < 126; i++)
				qc_buf_puts(&b, "[");
			for (int i = 0; i < 126; i++)
				qc_buf_puts(&b, "]");
			qc_buf_puts(&b, k ? "" : ",");
		}
		qc_buf_puts(&b, "]");
		ck_assert_qc_ok(qc_json_parse(b.data, b.len, &j, &e), &e);
		ck_assert_uint_eq(qc_json_len(j), 2);
		qc_json_free(j);
	}
}
END_TEST

/* Each event as "<kind><depth>[:text]", space-separated. */
static bool record_event(
	void *opaque, enum qc_json_event ev, const char *text, size_t len, int depth)
{
	static const char kinds[] = "0bnsk{}[]";
	struct qc_buf *b = opaque;

	qc_buf_printf(b, "%s%c%d", b->len ? " " : "", kinds[ev], depth);
	if (text) {
		qc_buf_putc(b, ':');
		qc_buf_append(b, text, len);
	}
	return true;
}

START_TEST(json_walk_events)
{
	static const char text[] = "{\"a\":[1,-0.5e3,\"x\\u00e9\",{\"b\":null}],\"c\":true,\"a\":false}";
	cleanup_buf struct qc_buf b = {0};
	struct qc_error e = {0};

	ck_assert_qc_ok(qc_json_walk(text, strlen(text), record_event, &b, &e), &e);
	ck_assert_str_eq(b.data, "{0 k1:a [1 n2:1 n2:-0.5e3 s2:x\xc3\xa9 {2 k3:b 03 }2 ]1 "
				 "k1:c b1:true k1:a b1:false }0");
	/* A top-level scalar is depth 0; \u0000 is a NUL byte in the text (the tree stops there). */
	qc_buf_free(&b);
	ck_assert_qc_ok(qc_json_walk("\"a\\u0000b\"", 10, record_event, &b, &e), &e);
	ck_assert_uint_eq(b.len, 6);
	ck_assert_mem_eq(b.data, "s0:a\0b", 6);
	{
		cleanup_json qc_json *j = parse_ok("\"a\\u0000b\"");

		ck_assert_str_eq(qc_json_string(j), "a");
	}
}
END_TEST

static bool stop_at_key(
	void *opaque, enum qc_json_event ev, const char *text, size_t len, int depth)
{
	int *n = opaque;

	(void) text, (void) len, (void) depth;
	(*n)++;
	return ev != QC_JSON_EV_KEY;
}

/* The walk has qc_json_parse's checks, and a reader may stop it. */
START_TEST(json_walk_strict)
{
	static const char *const bad[] = {"{\"a\":1", "{\"a\":1}x", "[1,]", "/* c */ 1",
		"{\"a\" 1}", "\"\xff\"", "", "{\"a\":tru}", "[1] [2]"};
	cleanup_buf struct qc_buf b = {0};
	struct qc_error e = {0}, e2 = {0};
	qc_json *j = NULL;
	size_t len;
	int n = 0;

	for (size_t i = 0; i < QC_ARRAY_SIZE(bad); i++) {
		ck_assert_int_lt(qc_json_walk(bad[i], strlen(bad[i]), record_event, &b, &e), 0);
		ck_assert_int_lt(qc_json_parse(bad[i], strlen(bad[i]), &j, &e2), 0);
		ck_assert_int_eq(e.code, QC_ERR_JSON);
		ck_assert_str_eq(e.msg, e2.msg);
	}
	ck_assert_qc_fail(qc_json_walk("{\"a\":\"b\0\"}", 9, record_event, &b, &e), &e,
		QC_ERR_JSON, "contains a NUL byte");
	/* 128 levels: refused before the 128th opens; 127 are walked. */
	{
		cleanup_free char *over = nest("", 128, &len);
		cleanup_free char *ok = nest("", 127, &len);

		qc_buf_free(&b);
		ck_assert_qc_fail(qc_json_walk(over, 256, record_event, &b, &e), &e, QC_ERR_JSON,
			"nested deeper than 127 levels");
		ck_assert_ptr_null(strstr(b.data, "[127"));
		ck_assert_ptr_nonnull(strstr(b.data, "[126"));
		ck_assert_qc_ok(qc_json_walk(ok, 254, record_event, &b, &e), &e);
	}
	/* Stopped by the reader: an error, and no event after. */
	ck_assert_qc_fail(qc_json_walk("{\"a\":1,\"b\":2}", 13, stop_at_key, &n, &e), &e,
		QC_ERR_JSON, "malformed");
	ck_assert_int_eq(n, 2);
}
END_TEST

/* qc_json_text_uint reads a number's text as qc_json_as_uint reads the parsed number. */
START_TEST(json_text_uint_as_tree)
{
	static const char *const nums[] = {"0", "-0", "1", "65535", "-1", "1.0", "1e3", "0.5",
		"-0.0", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
		"-9223372036854775809", "18446744073709551615", "18446744073709551616",
		"1234567890123456789012345678901234567890", "1E2", "10e-1"};

	for (size_t i = 0; i < QC_ARRAY_SIZE(nums); i++) {
		cleanup_json qc_json *j = parse_ok(nums[i]);
		uint64_t a = 7, b = 9;
		bool ta = qc_json_as_uint(j, &a);
		bool tb = qc_json_text_uint(nums[i], strlen(nums[i]), &b);

		ck_assert_msg(ta == tb, "%s: tree %d, text %d", nums[i], ta, tb);
		if (ta)
			ck_assert_msg(a == b, "%s: %" PRIu64 " vs %" PRIu64, nums[i], a, b);
	}
	{
		uint64_t v = 0;

		ck_assert(qc_json_text_uint("18446744073709551615", 20, &v) && v == UINT64_MAX);
		ck_assert(qc_json_text_uint("-0", 2, &v) && v == 0);
		ck_assert(!qc_json_text_uint("-1", 2, &v));
		ck_assert(qc_json_text_uint("123", 2, &v) && v == 12); /* len bytes only */
	}
}
END_TEST

START_TEST(json_dump_roundtrip)
{
	cleanup_json qc_json *j = parse_ok(doc);
	cleanup_free char *d = qc_json_dump(j);
	/* numbers keep their text, \u00e9 becomes UTF-8 */
	ck_assert_str_eq(d,
		"{\"return\":{\"status\":\"running\",\"running\":true,\"singlestep\":false,"
		"\"n\":-42,\"big\":18446744073709551615,"
		"\"huge\":123456789012345678901234567890,\"pi\":3.25,\"exp\":1e3,"
		"\"nothing\":null,\"list\":[{\"file\":\"a.qcow2\"},{\"file\":\"b\xc3\xa9\"}],"
		"\"empty\":{}},\"id\":7}");
	cleanup_json qc_json *j2 = parse_ok(d);
	cleanup_free char *d2 = qc_json_dump(j2);
	ck_assert_str_eq(d, d2);
	/* a subtree */
	cleanup_free char *sub = qc_json_dump(qc_json_path(j, "return/list/1"));
	ck_assert_str_eq(sub, "{\"file\":\"b\xc3\xa9\"}");
	cleanup_free char *nul = qc_json_dump(NULL);
	ck_assert_str_eq(nul, "null");
	/* escapes survive a round trip */
	cleanup_json qc_json *j3 = parse_ok("[\"q\\\"b\\\\n\\nt\\tc\\u0001\\/\"]");
	cleanup_free char *d3 = qc_json_dump(j3);
	ck_assert_str_eq(d3, "[\"q\\\"b\\\\n\\nt\\tc\\u0001/\"]");
}
END_TEST

/* take: the member's subtree changes hands, a null stays in its place. */
START_TEST(json_take)
{
	cleanup_json qc_json *j = parse_ok(doc);
	cleanup_json qc_json *ret = qc_json_take(j, "return");
	cleanup_json qc_json *none = NULL;
	cleanup_free char *left = qc_json_dump(j);
	cleanup_free char *list = qc_json_dump(qc_json_get(ret, "list"));

	ck_assert_ptr_nonnull(ret);
	ck_assert_str_eq(left, "{\"return\":null,\"id\":7}");
	ck_assert_int_eq(qc_json_type(qc_json_get(j, "return")), QC_JSON_NULL);
	ck_assert_str_eq(list, "[{\"file\":\"a.qcow2\"},{\"file\":\"b\xc3\xa9\"}]");
	ck_assert_ptr_null(qc_json_take(j, "missing"));
	none = qc_json_take(ret, "nothing");
	ck_assert_int_eq(qc_json_type(none), QC_JSON_NULL);
	/* not an object: nothing to take */
	ck_assert_ptr_null(qc_json_take((qc_json *) qc_json_get(ret, "list"), "file"));
	ck_assert_ptr_null(qc_json_take(NULL, "return"));
}
END_TEST

static char *gen_finish_ok(struct qc_jgen *g)
{
	struct qc_error e = {0};
	char *s = NULL;
	size_t len = 0;

	ck_assert_qc_ok(qc_jgen_finish(g, &s, &len, &e), &e);
	ck_assert_uint_eq(len, strlen(s));
	return s;
}

START_TEST(jgen_basic)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);

	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "execute", "query-status");
	qc_jgen_kint(g, "id", -3);
	qc_jgen_kuint(g, "max", UINT64_MAX);
	qc_jgen_kbool(g, "yes", true);
	qc_jgen_kbool(g, "no", false);
	qc_jgen_key(g, "min");
	qc_jgen_int(g, INT64_MIN);
	qc_jgen_key(g, "nil");
	qc_jgen_null(g);
	qc_jgen_kstring(g, "nullstr", NULL);
	qc_jgen_key(g, "d");
	qc_jgen_array_open(g);
	qc_jgen_double(g, 0.1);
	qc_jgen_double(g, 1.0);
	qc_jgen_double(g, -2.5e300);
	qc_jgen_double(g, 1.0 / 3.0);
	qc_jgen_array_close(g);
	qc_jgen_key(g, "raw");
	qc_jgen_string_len(g, "abcdef", 3);
	qc_jgen_map_close(g);
	cleanup_free char *s = gen_finish_ok(g);
	ck_assert_str_eq(s, "{\"execute\":\"query-status\",\"id\":-3,\"max\":18446744073709551615,"
			    "\"yes\":true,\"no\":false,\"min\":-9223372036854775808,\"nil\":null,"
			    "\"nullstr\":null,\"d\":[0.1,1.0,-2.5e+300,0.33333333333333331],"
			    "\"raw\":\"abc\"}");
	/* and it reads back exactly */
	cleanup_json qc_json *j = parse_ok(s);
	struct qc_error e = {0};
	int64_t i;
	uint64_t u;
	double d;
	ck_assert_qc_ok(qc_json_get_int(j, "min", &i, &e), &e);
	ck_assert(i == INT64_MIN);
	ck_assert_qc_ok(qc_json_get_uint(j, "max", &u, &e), &e);
	ck_assert(u == UINT64_MAX);
	ck_assert(qc_json_as_double(qc_json_path(j, "d/3"), &d));
	ck_assert(d == 1.0 / 3.0);
}
END_TEST

START_TEST(jgen_escapes)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);

	qc_jgen_array_open(g);
	qc_jgen_string(
		g, "quote\" backslash\\ slash/ nl\n cr\r tab\t bs\b ff\f ctl\x01\x1f del\x7f");
	qc_jgen_string(g, "caf\xc3\xa9 \xf0\x9f\x98\x80");
	qc_jgen_string_len(g, "nul\0byte", 8);
	qc_jgen_array_close(g);
	cleanup_free char *s = gen_finish_ok(g);
	ck_assert_str_eq(s, "[\"quote\\\" backslash\\\\ slash/ nl\\n cr\\r tab\\t bs\\b ff\\f "
			    "ctl\\u0001\\u001F del\x7f\",\"caf\xc3\xa9 \xf0\x9f\x98\x80\","
			    "\"nul\\u0000byte\"]");
	cleanup_json qc_json *j = parse_ok(s);
	ck_assert_str_eq(qc_json_string(qc_json_at(j, 0)),
		"quote\" backslash\\ slash/ nl\n cr\r tab\t bs\b ff\f ctl\x01\x1f del\x7f");
}
END_TEST

START_TEST(jgen_pretty)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(true);

	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "a", "b");
	qc_jgen_key(g, "l");
	qc_jgen_array_open(g);
	qc_jgen_int(g, 1);
	qc_jgen_array_close(g);
	qc_jgen_map_close(g);
	cleanup_free char *s = gen_finish_ok(g);
	ck_assert_str_eq(s, "{\n  \"a\": \"b\",\n  \"l\": [\n    1\n  ]\n}");
}
END_TEST

START_TEST(jgen_embed)
{
	cleanup_json qc_json *j = parse_ok(doc);
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);

	qc_jgen_map_open(g);
	qc_jgen_key(g, "list");
	qc_jgen_value(g, qc_json_path(j, "return/list"));
	qc_jgen_key(g, "none");
	qc_jgen_value(g, NULL);
	qc_jgen_key(g, "t");
	qc_jgen_value(g, qc_json_path(j, "return/running"));
	qc_jgen_key(g, "big");
	qc_jgen_value(g, qc_json_path(j, "return/huge"));
	qc_jgen_key(g, "all");
	qc_jgen_value(g, j);
	qc_jgen_map_close(g);
	cleanup_free char *s = gen_finish_ok(g);
	cleanup_free char *all = qc_json_dump(j);
	cleanup_free char *want = qc_xasprintf("{\"list\":[{\"file\":\"a.qcow2\"},{\"file\":"
					       "\"b\xc3\xa9\"}],\"none\":null,\"t\":true,"
					       "\"big\":123456789012345678901234567890,\"all\":%s}",
		all);
	ck_assert_str_eq(s, want);
}
END_TEST

START_TEST(jgen_errors)
{
	struct qc_error e = {0};
	char *s = (char *) "untouched";

	/* invalid UTF-8 is user data: QC_ERR_JSON, and sticky */
	struct qc_jgen *g = qc_jgen_new(false);
	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "name", "bad\xff");
	qc_jgen_kstring(g, "later", "fine");
	qc_jgen_map_close(g);
	ck_assert_qc_fail(qc_jgen_finish(g, &s, NULL, &e), &e, QC_ERR_JSON, NULL);
	ck_assert_str_eq(e.msg, "JSON generator: a string is not valid UTF-8 (after key 'name')");
	qc_jgen_free(g);

	g = qc_jgen_new(false);
	qc_jgen_array_open(g);
	qc_jgen_double(g, NAN);
	qc_jgen_array_close(g);
	ck_assert_qc_fail(qc_jgen_finish(g, &s, NULL, &e), &e, QC_ERR_JSON, "NaN or infinity");
	qc_jgen_free(g);

	g = qc_jgen_new(false);
	qc_jgen_array_open(g);
	qc_jgen_double(g, INFINITY);
	ck_assert_qc_fail(qc_jgen_finish(g, &s, NULL, &e), &e, QC_ERR_JSON, "NaN or infinity");
	qc_jgen_free(g);

	/* bugs in the caller: QC_ERR_INTERNAL */
	g = qc_jgen_new(false);
	qc_jgen_map_open(g);
	qc_jgen_int(g, 1); /* a value where a key belongs */
	ck_assert_qc_fail(qc_jgen_finish(g, &s, NULL, &e), &e, QC_ERR_INTERNAL,
		"where an object key was expected");
	qc_jgen_free(g);

	g = qc_jgen_new(false);
	qc_jgen_map_open(g);
	qc_jgen_key(g, NULL);
	ck_assert_qc_fail(qc_jgen_finish(g, &s, NULL, &e), &e, QC_ERR_INTERNAL, NULL);
	qc_jgen_free(g);

	g = qc_jgen_new(false);
	qc_jgen_array_open(g);
	qc_jgen_map_open(g);
	ck_assert_qc_fail(qc_jgen_finish(g, &s, NULL, &e), &e, QC_ERR_INTERNAL,
		"2 object(s) or array(s) left open");
	qc_jgen_free(g);

	g = qc_jgen_new(false);
	ck_assert_qc_fail(qc_jgen_finish(g, &s, NULL, &e), &e, QC_ERR_INTERNAL, "empty document");
	qc_jgen_free(g);

	g = qc_jgen_new(false);
	qc_jgen_int(g, 1);
	qc_jgen_int(g, 2);
	ck_assert_qc_fail(qc_jgen_finish(g, &s, NULL, &e), &e, QC_ERR_INTERNAL,
		"after the complete document");
	qc_jgen_free(g);

	g = qc_jgen_new(false);
	qc_jgen_array_close(g);
	ck_assert_int_lt(qc_jgen_finish(g, &s, NULL, &e), 0);
	qc_jgen_free(g);

	ck_assert_str_eq(s, "untouched");
	/* NULL generators are harmless */
	qc_jgen_int(NULL, 1);
	qc_jgen_free(NULL);
	ck_assert_qc_fail(qc_jgen_finish(NULL, &s, NULL, &e), &e, QC_ERR_INTERNAL, NULL);

	/* a top-level scalar document is fine */
	g = qc_jgen_new(false);
	qc_jgen_string(g, "just");
	cleanup_free char *ok = gen_finish_ok(g);
	ck_assert_str_eq(ok, "\"just\"");
	qc_jgen_free(g);
}
END_TEST

Suite *util_json_suite(void)
{
	Suite *s = suite_create("util-json");

	unit_tcase(s, "json", json_parse_getters, json_named_errors, json_malformed,
		json_comments_refused, json_depth_cannot_be_bypassed, json_walk_events,
		json_walk_strict, json_text_uint_as_tree, json_dump_roundtrip, json_take,
		jgen_basic, jgen_escapes, jgen_pretty, jgen_embed, jgen_errors, NULL);
	return s;
}
