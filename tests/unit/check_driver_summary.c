/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* driver/summary.c: summary.json as list reads it, hostile files included. */
#include "config.h"

#include <sys/stat.h>

#include "driver/driver.h"
#include "driver/network.h"
#include "driver/qemuctl.h"
#include "tests/unit/unit.h"
#include "tests/unit/check_main.h"

/* domain.xml as the stamp below describes it */
static struct stat xml_stat(void)
{
	struct stat st = {0};

	st.st_ino = 10;
	st.st_size = 704;
	st.st_mtim.tv_sec = 1790000000;
	st.st_mtim.tv_nsec = 123456789;
	return st;
}

#define STAMP "\"stamp\":\"10:704:1790000000.123456789\""
#define LIST                                                                             \
	STAMP ",\"name\":\"s1\",\"uuid\":\"U\",\"arch\":\"x86_64\",\"machine\":\"q35\"," \
	      "\"accel\":\"tcg\",\"cpus\":2,\"memory\":67108864"
#define ROUTE "{\"host\":\"127.0.0.1\",\"port\":0,\"index\":3}"
#define REACH "\"ssh_user\":\"debian\",\"ssh\":[" ROUTE "],\"addresses\":[\"10.0.0.5\"]"
#define GOOD "{\"v\":2," LIST ",\"kernel\":\"/k\"," REACH "}"

struct result {
	bool ok;
	struct qc_vm_info *i;
	struct qc_summary s;
};

static struct result parse_len(const char *text, size_t len)
{
	struct stat xml = xml_stat();
	struct result r = {.i = qc_xzalloc(sizeof(*r.i))};

	r.ok = qc_driver_summary_parse(text, len, &xml, "s1", r.i, &r.s);
	if (!r.ok) { /* nothing filled */
		ck_assert_ptr_null(r.i->name);
		ck_assert_ptr_null(r.i->uuid);
		ck_assert(!r.s.reach);
	}
	if (!r.s.reach) {
		ck_assert_ptr_null(r.s.routes);
		ck_assert_ptr_null(r.s.ssh_user);
		ck_assert_ptr_null(r.s.addresses);
	}
	return r;
}

static struct result parse(const char *text)
{
	return parse_len(text, strlen(text));
}

static void result_clear(struct result *r)
{
	qc_vm_info_free(r->i);
	qc_driver_summary_clear(&r->s);
}

START_TEST(summary_good)
{
	struct result r = parse(GOOD);

	ck_assert(r.ok);
	ck_assert_str_eq(r.i->name, "s1");
	ck_assert_str_eq(r.i->uuid, "U");
	ck_assert_str_eq(r.i->arch, "x86_64");
	ck_assert_str_eq(r.i->machine, "q35");
	ck_assert_str_eq(r.i->accel_requested, "tcg");
	ck_assert_uint_eq(r.i->cpus, 2);
	ck_assert_uint_eq(r.i->memory, 67108864);
	ck_assert_str_eq(r.i->kernel, "/k");
	ck_assert(r.s.reach);
	ck_assert_uint_eq(r.s.n_routes, 1);
	ck_assert_str_eq(r.s.routes[0].host, "127.0.0.1");
	ck_assert_uint_eq(r.s.routes[0].port, 0);
	ck_assert_uint_eq(r.s.routes[0].index, 3);
	ck_assert_str_eq(r.s.ssh_user, "debian");
	ck_assert_str_eq(r.s.addresses[0], "10.0.0.5");
	ck_assert_ptr_null(r.s.addresses[1]);
	result_clear(&r);
	/* No kernel, no routes, no addresses: all optional. */
	r = parse("{\"v\":2," LIST ",\"ssh_user\":\"u\",\"ssh\":[],\"addresses\":[]}");
	ck_assert(r.ok && r.s.reach);
	ck_assert_ptr_null(r.i->kernel);
	ck_assert_uint_eq(r.s.n_routes, 0);
	ck_assert_ptr_nonnull(r.s.routes);
	ck_assert_ptr_null(r.s.addresses[0]);
	result_clear(&r);
}
END_TEST

/* Not used at all: list reads domain.xml instead. */
static const char *const unusable[] = {
	"{\"stamp\":\"11:704:1790000000.123456789\",\"name\":\"s1\",\"uuid\":\"U\","
	"\"arch\":\"a\",\"machine\":\"m\",\"accel\":\"tcg\",\"cpus\":2,\"memory\":1}",
	"{\"stamp\":\"10:704:1790000000\",\"name\":\"s1\",\"uuid\":\"U\",\"arch\":\"a\","
	"\"machine\":\"m\",\"accel\":\"tcg\",\"cpus\":2,\"memory\":1}",
	"{\"stamp\":\"10:704:1790000000.123456789x\",\"name\":\"s1\",\"uuid\":\"U\","
	"\"arch\":\"a\",\"machine\":\"m\",\"accel\":\"tcg\",\"cpus\":2,\"memory\":1}",
	"{\"stamp\":10,\"name\":\"s1\",\"uuid\":\"U\",\"arch\":\"a\",\"machine\":\"m\","
	"\"accel\":\"tcg\",\"cpus\":2,\"memory\":1}",
	"{\"name\":\"s2\"," LIST "}", /* another VM's (the first name counts) */
	"{\"name\":\"s\"," LIST "}",
	"{" STAMP ",\"uuid\":\"U\",\"arch\":\"a\",\"machine\":\"m\",\"accel\":\"t\","
	"\"cpus\":2,\"memory\":1}", /* no name */
	"{" STAMP ",\"name\":\"s1\",\"arch\":\"a\",\"machine\":\"m\",\"accel\":\"t\","
	"\"cpus\":2,\"memory\":1}", /* no uuid */
	"{" STAMP ",\"name\":\"s1\",\"uuid\":\"U\",\"arch\":\"a\",\"machine\":\"m\","
	"\"accel\":\"t\",\"memory\":1}", /* no cpus */
	"{\"cpus\":\"2\"," LIST "}", "{\"cpus\":-1," LIST "}", "{\"cpus\":1.5," LIST "}",
	"{\"cpus\":2e0," LIST "}", "{\"memory\":18446744073709551616," LIST "}",
	"{\"memory\":-0.0," LIST "}", "{\"machine\":null," LIST "}",
	"{\"accel\":[\"tcg\"]," LIST "}", "{\"arch\":{}," LIST "}", "[" GOOD "]", "\"x\"", "{}",
	"null", GOOD " x", GOOD GOOD, "/* c */" GOOD, "{\"v\":2," LIST ",\"x\":[1,]}",
	"{\"v\":2," LIST ",\"x\":\"\xff\"}", /* not UTF-8 */
};

START_TEST(summary_unusable)
{
	struct result r = parse(unusable[_i]);

	ck_assert_msg(!r.ok, "used: %s", unusable[_i]);
	result_clear(&r);
}
END_TEST

/* The first of a repeated member counts, as it would in a tree. */
START_TEST(summary_repeats)
{
	struct result r = parse("{" LIST ",\"cpus\":\"2\",\"name\":\"s2\",\"uuid\":7}");

	ck_assert(r.ok);
	ck_assert_uint_eq(r.i->cpus, 2);
	ck_assert_str_eq(r.i->uuid, "U");
	result_clear(&r);
	r = parse("{\"name\":\"s1\\u0000\"," LIST "}");
	ck_assert(r.ok);
	result_clear(&r);
	r = parse("{\"name\\u0000x\":\"s2\"," LIST "}"); /* the tree's key is "name" */
	ck_assert(!r.ok);
	result_clear(&r);
	r = parse("{\"stamp\":\"bad\"," LIST "}");
	ck_assert(!r.ok);
	result_clear(&r);
	r = parse("{\"v\":2,\"uuid\":\"U\\u0000V\"," LIST "," REACH ",\"ssh\":{},\"v\":1}");
	ck_assert(r.ok && r.s.reach);
	ck_assert_str_eq(r.i->uuid, "U");
	result_clear(&r);
	r = parse("{\"v\":2," LIST ",\"ssh_user\":\"u\",\"ssh\":[{\"host\":\"10.0.0.1\","
		  "\"host\":\"x\",\"port\":22,\"port\":\"x\",\"index\":1,\"index\":-1}],"
		  "\"addresses\":[]}");
	ck_assert(r.ok && r.s.reach);
	ck_assert_str_eq(r.s.routes[0].host, "10.0.0.1");
	ck_assert_uint_eq(r.s.routes[0].port, 22);
	ck_assert_uint_eq(r.s.routes[0].index, 1);
	result_clear(&r);
	/* Members of the same names elsewhere are not the summary's. */
	r = parse("{\"x\":{\"stamp\":\"bad\",\"name\":\"s2\",\"ssh\":7},\"v\":2," LIST
		  ",\"y\":[[{\"cpus\":\"x\"}]]," REACH "}");
	ck_assert(r.ok && r.s.reach);
	result_clear(&r);
}
END_TEST

/* The list columns are used; the reach is not, and list reads domain.xml for it. */
static const char *const no_reach[] = {
	"{" LIST "," REACH "}", /* no version: an older qemuctl's */
	"{\"v\":1," LIST "," REACH "}", /* another version */
	"{\"v\":\"2\"," LIST "," REACH "}", /* not a number */
	"{\"v\":2.0," LIST "," REACH "}", /* not an integer */
	"{\"v\":2," LIST "}", /* no reach */
	"{\"v\":2," LIST ",\"ssh_user\":\"u\",\"addresses\":[]}",
	"{\"v\":2," LIST ",\"ssh_user\":\"u\",\"ssh\":[]}",
	"{\"v\":2," LIST ",\"ssh\":[],\"addresses\":[]}",
	"{\"v\":2," LIST ",\"ssh_user\":7,\"ssh\":[],\"addresses\":[]}",
	"{\"v\":2," LIST ",\"ssh_user\":\"-oProxyCommand=x\",\"ssh\":[],\"addresses\":[]}",
	"{\"v\":2," LIST ",\"ssh_user\":\"u\",\"ssh\":{},\"addresses\":[]}",
	"{\"v\":2," LIST ",\"ssh_user\":\"u\",\"ssh\":[],\"addresses\":{}}",
	"{\"v\":2," LIST ",\"ssh_user\":\"u\",\"ssh\":[7],\"addresses\":[]}",
	"{\"v\":2," LIST ",\"ssh_user\":\"u\",\"ssh\":[[" ROUTE "]],\"addresses\":[]}",
	"{\"v\":2," LIST ",\"ssh_user\":\"u\",\"ssh\":[{\"port\":0,\"index\":0}],\"addresses\":[]}",
	"{\"v\":2," LIST ",\"ssh_user\":\"u\",\"ssh\":[{\"host\":\"127.0.0.1\",\"index\":0}],"
	"\"addresses\":[]}",
	"{\"v\":2," LIST ",\"ssh_user\":\"u\",\"ssh\":[{\"host\":\"127.0.0.1\",\"port\":0}],"
	"\"addresses\":[]}",
	"{\"v\":2," LIST ",\"ssh_user\":\"u\",\"ssh\":[{\"host\":\"127.0.0.1; rm -rf /\","
	"\"port\":0,\"index\":0}],\"addresses\":[]}",
	"{\"v\":2," LIST ",\"ssh_user\":\"u\",\"ssh\":[{\"host\":\"::1\",\"port\":0,\"index\":0}],"
	"\"addresses\":[]}",
	"{\"v\":2," LIST ",\"ssh_user\":\"u\",\"ssh\":[{\"host\":7,\"port\":0,\"index\":0}],"
	"\"addresses\":[]}",
	"{\"v\":2," LIST ",\"ssh_user\":\"u\",\"ssh\":[{\"host\":\"127.0.0.1\",\"port\":70000,"
	"\"index\":0}],\"addresses\":[]}",
	"{\"v\":2," LIST ",\"ssh_user\":\"u\",\"ssh\":[{\"host\":\"127.0.0.1\",\"port\":-1,"
	"\"index\":0}],\"addresses\":[]}",
	"{\"v\":2," LIST ",\"ssh_user\":\"u\",\"ssh\":[{\"host\":\"127.0.0.1\",\"port\":0,"
	"\"index\":65536}],\"addresses\":[]}",
	"{\"v\":2," LIST ",\"ssh_user\":\"u\",\"ssh\":[{\"host\":\"127.0.0.1\",\"port\":22.5,"
	"\"index\":0}],\"addresses\":[]}",
	"{\"v\":2," LIST ",\"ssh_user\":\"u\",\"ssh\":[{\"host\":\"127.0.0.1\",\"port\":{},"
	"\"index\":0}],\"addresses\":[]}",
	"{\"v\":2," LIST ",\"ssh_user\":\"u\",\"ssh\":[],\"addresses\":[\"not-an-address\"]}",
	"{\"v\":2," LIST ",\"ssh_user\":\"u\",\"ssh\":[],\"addresses\":[\"10.0.0.1\",7]}",
	"{\"v\":2," LIST ",\"ssh_user\":\"u\",\"ssh\":[],\"addresses\":[[\"10.0.0.1\"]]}",
	"{\"v\":2," LIST ",\"ssh_user\":\"u\",\"ssh\":[],\"addresses\":[\"10.0.0.1/24\"]}",
};

START_TEST(summary_no_reach)
{
	for (size_t k = 0; k < QC_ARRAY_SIZE(no_reach); k++) {
		struct result r = parse(no_reach[k]);

		ck_assert_msg(r.ok, "not used: %s", no_reach[k]);
		ck_assert_msg(!r.s.reach, "reach used: %s", no_reach[k]);
		ck_assert_str_eq(r.i->uuid, "U");
		result_clear(&r);
	}
}
END_TEST

/* Every prefix of a good summary, and the good one with a NUL byte, is not used. */
START_TEST(summary_truncated)
{
	static const char good[] = GOOD;
	char nul[sizeof(good)];

	for (size_t len = 0; len < sizeof(good) - 1; len++) {
		struct result r = parse_len(good, len);

		ck_assert_msg(!r.ok, "prefix of %zu bytes used", len);
		result_clear(&r);
	}
	memcpy(nul, good, sizeof(good));
	nul[20] = '\0';
	{
		struct result r = parse_len(nul, sizeof(good) - 1);

		ck_assert(!r.ok);
		result_clear(&r);
	}
}
END_TEST

/* A summary with n routes and m addresses. */
static char *with_items(size_t n, size_t m)
{
	struct qc_buf b = {0};

	qc_buf_puts(&b, "{\"v\":2," LIST ",\"ssh_user\":\"u\",\"ssh\":[");
	for (size_t k = 0; k < n; k++)
		qc_buf_printf(&b, "%s" ROUTE, k ? "," : "");
	qc_buf_puts(&b, "],\"addresses\":[");
	for (size_t k = 0; k < m; k++)
		qc_buf_printf(&b, "%s\"10.0.0.%zu\"", k ? "," : "", k);
	qc_buf_puts(&b, "]}");
	return qc_buf_steal(&b);
}

/* At most 64 routes and 64 addresses; deep nesting in an unknown member is walked. */
START_TEST(summary_sizes)
{
	static const size_t sizes[][3] = {{64, 64, 1}, {65, 0, 0}, {0, 65, 0}, {1000, 1000, 0}};

	for (size_t k = 0; k < QC_ARRAY_SIZE(sizes); k++) {
		cleanup_free char *text = with_items(sizes[k][0], sizes[k][1]);
		struct result r = parse(text);

		ck_assert(r.ok);
		ck_assert_int_eq(r.s.reach, sizes[k][2]);
		if (r.s.reach) {
			ck_assert_uint_eq(r.s.n_routes, 64);
			ck_assert_str_eq(r.s.addresses[63], "10.0.0.63");
			ck_assert_ptr_null(r.s.addresses[64]);
		}
		result_clear(&r);
	}
	/* "x" at depth 1 holding n nested arrays: the n-th opens at depth n, 127 is too deep. */
	for (size_t n = 125; n <= 127; n++) {
		struct qc_buf b = {0};
		struct result r;

		qc_buf_puts(&b, "{\"v\":2," LIST ",\"x\":");
		for (size_t k = 0; k < n; k++)
			qc_buf_puts(&b, "[");
		for (size_t k = 0; k < n; k++)
			qc_buf_puts(&b, "]");
		qc_buf_puts(&b, "}");
		r = parse(b.data);
		ck_assert_msg(r.ok == (n < 127), "%zu nested arrays", n);
		result_clear(&r);
		qc_buf_free(&b);
	}
	{ /* huge numbers: the column keeps what the tree kept */
		struct result r = parse("{\"cpus\":18446744073709551615," LIST "}");

		ck_assert(r.ok);
		ck_assert_uint_eq(r.i->cpus, (unsigned) UINT64_MAX);
		result_clear(&r);
	}
}
END_TEST

static Suite *summary_suite(void)
{
	Suite *s = suite_create("summary");

	TCase *tc = unit_tcase(s, "parse", summary_good, summary_repeats, summary_no_reach,
		summary_truncated, summary_sizes, NULL);

	tcase_add_loop_test(tc, summary_unusable, 0, QC_ARRAY_SIZE(unusable));
	return s;
}

UNIT_MAIN(summary_suite)
