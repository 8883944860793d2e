/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * storage/sync.c and http.c against a real HTTP server on 127.0.0.1
 * (tests/integration/httpd.py: Range, injected cuts and errors, request
 * log) serving a simplestreams tree made by tests/integration/mkstream.py.
 */
#include "config.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "storage/storage.h"
#include "tests/unit/unit.h"
#include "tests/unit/check_main.h"

#define NEW_PATH "/server/releases/noble/release-20240423/ubuntu-noble-server-cloudimg-amd64.img"

static char *dir, *root, *tree, *stream, *logpath;
static pid_t server = -1;
static int server_pidfd = -1;

static char *P(const char *name)
{
	return qc_xasprintf("%s/%s", dir, name);
}

/*
 * $QC_SRCDIR, else automake's $srcdir (the serial harness exports only
 * that), else the source tree this file was compiled from.
 */
static const char *srcdir(void)
{
	static char from_file[4096];
	const char *s = getenv("QC_SRCDIR");
	char *p;

	if (s && *s)
		return s;
	s = getenv("srcdir");
	if (s && *s)
		return s;
	snprintf(from_file, sizeof(from_file), "%s", __FILE__);
	p = strstr(from_file, "/tests/unit/");
	if (p) {
		*p = '\0';
		return from_file;
	}
	return ".";
}

static void make_tree(const char *out, bool bad_sha)
{
	cleanup_free char *gen = qc_xasprintf("%s/tests/integration/mkstream.py", srcdir());
	cleanup_free char *old = P("old.qcow2"), *new = P("new.qcow2");
	const char *argv[] = {"python3", gen, "--out", out, "--old", old, "--new", new,
		bad_sha ? "--bad-sha" : NULL, NULL};

	unit_spawn_ok(argv);
}

static void start_server(const char *docroot)
{
	cleanup_free char *py = qc_xasprintf("%s/tests/integration/httpd.py", srcdir());
	cleanup_free char *portfile = P("port");
	cleanup_free char *port = NULL;
	const char *argv[] = {
		"python3", py, "--dir", docroot, "--port-file", portfile, "--log", logpath, NULL};
	struct qc_spawn_opts o = {.argv = argv, .errout = QC_STDIO_INHERIT};
	struct qc_error err = {0};
	int64_t deadline = qc_deadline_ms(10000);

	ck_assert_qc_ok(qc_spawn_start(&o, &server, &server_pidfd, &err), &err);
	while (qc_read_file(AT_FDCWD, portfile, 64, &port, NULL, NULL) < 0) {
		ck_assert_msg(qc_time_left_ms(deadline) > 0, "test HTTP server did not start");
		qc_sleep_ms(20);
	}
	stream = qc_xasprintf("http://127.0.0.1:%d/", atoi(port));
}

static void setup(void)
{
	struct qc_error err = {0};
	cleanup_free char *old = NULL, *new = NULL;

	dir = unit_mkdtemp();
	root = P("root");
	tree = P("tree");
	logpath = P("requests.jsonl");
	old = P("old.qcow2");
	new = P("new.qcow2");
	ck_assert_qc_ok(qc_img_create(old, "qcow2", 1 << 20, &err), &err);
	ck_assert_qc_ok(qc_img_create(new, "qcow2", 4 << 20, &err), &err);
	{
		const char *const argv[] = {
			"qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 2M", new, NULL};

		unit_spawn_ok(argv);
	}
	make_tree(tree, false);
	start_server(tree);
}

static void teardown(void)
{
	if (server > 0) {
		kill(server, SIGKILL);
		waitpid(server, NULL, 0);
		server = -1;
	}
	if (server_pidfd >= 0)
		close(server_pidfd);
	server_pidfd = -1;
	free(root);
	free(tree);
	free(stream);
	free(logpath);
	unit_rmdir(dir);
	dir = NULL;
}

static struct qc_http_opts fast_http(int retries)
{
	struct qc_http_opts h = {
		.allow_http = true, .connect_timeout_s = 5, .retries = retries, .backoff_ms = 50};

	return h;
}

static int sync_ref(const char *ref, const char *arch, int retries, struct qc_catalog_entry **ret,
	bool *fresh, struct qc_error *err)
{
	struct qc_sync_opts o = {.ref = ref,
		.arch = arch,
		.stream = stream,
		.lock_timeout_ms = 30000,
		.http = fast_http(retries)};

	return qc_sync_image(root, &o, ret, fresh, err);
}

static void control(const char *query)
{
	cleanup_free char *url = qc_xasprintf("%s__ctl/%s", stream, query);
	cleanup_free char *body = NULL;
	struct qc_http_opts h = fast_http(-1);
	struct qc_error err = {0};

	ck_assert_qc_ok(qc_http_get(url, &h, 1024, &body, NULL, &err), &err);
}

/* How many logged requests have path and (when rng is not NULL) a Range matching it. */
static int requests(const char *path, const char *rng)
{
	cleanup_free char *log = NULL;
	cleanup_free char *pat = qc_xasprintf("\"path\": \"%s\"", path);
	cleanup_free char *rpat = rng ? qc_xasprintf("\"range\": \"%s\"", rng) : NULL;
	int n = 0;

	if (qc_read_file(AT_FDCWD, logpath, 1 << 20, &log, NULL, NULL) < 0)
		return 0;
	for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n"))
		if (strstr(line, pat) && (!rpat || strstr(line, rpat)))
			n++;
	return n;
}

static off_t size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void assert_catalog_empty(void)
{
	struct qc_catalog_entry **v = NULL;
	size_t n = 99;
	struct qc_error err = {0};

	ck_assert_qc_ok(qc_catalog_list(root, &v, &n, &err), &err);
	ck_assert_uint_eq(n, 0);
	free(v);
}

START_TEST(sync_newest_for_arch_then_noop)
{
	struct qc_catalog_entry *img = NULL;
	struct qc_error err = {0};
	cleanup_free char *want = NULL;
	bool fresh = false;

	ck_assert_qc_ok(sync_ref("ubuntu:24.04", "amd64", -1, &img, &fresh, &err), &err);
	ck_assert(fresh);
	ck_assert_str_eq(img->name, "noble-amd64");
	ck_assert_str_eq(img->version, "20240423");
	ck_assert_str_eq(img->arch, "x86_64");
	ck_assert_str_eq(img->release, "noble");
	ck_assert_str_eq(img->release_version, "24.04");
	ck_assert_uint_eq(img->virtual_size, 4 << 20);
	ck_assert_ptr_nonnull(strstr(img->source, NEW_PATH));
	qc_catalog_entry_free(img);
	ck_assert_int_eq(requests(NEW_PATH, NULL), 1);

	/* Same image again: no download. */
	ck_assert_qc_ok(sync_ref("ubuntu:noble", "x86_64", -1, &img, &fresh, &err), &err);
	ck_assert(!fresh);
	ck_assert_str_eq(img->version, "20240423");
	qc_catalog_entry_free(img);
	ck_assert_int_eq(requests(NEW_PATH, NULL), 1);

	/* arm64 has a newer version of its own */
	ck_assert_qc_ok(sync_ref("noble", "aarch64", -1, &img, &fresh, &err), &err);
	ck_assert_str_eq(img->name, "noble-arm64");
	ck_assert_str_eq(img->version, "20240601");
	ck_assert_str_eq(img->arch, "aarch64");
	qc_catalog_entry_free(img);

	/* nothing but the entries (and lock files) in images/ */
	want = qc_xasprintf("%s/images/noble-amd64.part", root);
	ck_assert_int_eq(size_of(want), -1);
}
END_TEST

START_TEST(sync_bad_input)
{
	struct qc_error err = {0};

	ck_assert_qc_fail(sync_ref("ubuntu:oracular", "amd64", -1, NULL, NULL, &err), &err,
		QC_ERR_NOTFOUND, "release 'oracular' is not in the stream; known releases: ");
	ck_assert_qc_fail(sync_ref("ubuntu:noble", "ppc64el", -1, NULL, NULL, &err), &err,
		QC_ERR_NOTFOUND,
		"release 'noble' has no disk1.img for arch ppc64el (ppc64le); arches offered: "
		"amd64, arm64");
	ck_assert_qc_fail(sync_ref("ubuntu:", "amd64", -1, NULL, NULL, &err), &err, QC_ERR_INVALID,
		"use DISTRO:RELEASE");
	ck_assert_qc_fail(sync_ref("noble", "vax", -1, NULL, NULL, &err), &err, QC_ERR_INVALID,
		"unknown arch 'vax'");
	assert_catalog_empty();
}
END_TEST

START_TEST(sync_wrong_sha_leaves_nothing)
{
	cleanup_free char *bad = P("badtree"), *part = NULL;
	struct qc_error err = {0};

	make_tree(bad, true);
	free(stream);
	stream = qc_xasprintf("file://%s/", bad);
	ck_assert_qc_fail(sync_ref("noble", "amd64", -1, NULL, NULL, &err), &err, QC_ERR_CHECKSUM,
		"image 'noble-amd64': SHA-256 mismatch for file://");
	ck_assert_ptr_nonnull(strstr(err.msg, "the index says 0000000000000000"));
	assert_catalog_empty();
	part = qc_xasprintf("%s/images/noble-amd64.part", root);
	ck_assert_int_eq(size_of(part), -1);
}
END_TEST

START_TEST(sync_file_stream)
{
	struct qc_catalog_entry *img = NULL;
	struct qc_error err = {0};

	free(stream);
	stream = qc_xasprintf("file://%s", tree); /* without the trailing slash */
	ck_assert_qc_ok(sync_ref("ubuntu:24.04", "amd64", -1, &img, NULL, &err), &err);
	ck_assert_str_eq(img->version, "20240423");
	ck_assert(qc_str_has_prefix(img->source, "file://"));
	qc_catalog_entry_free(img);
}
END_TEST

START_TEST(sync_cut_then_resume)
{
	cleanup_free char *part = qc_xasprintf("%s/images/noble-amd64.part", root);
	struct qc_catalog_entry *img = NULL;
	struct qc_error err = {0};
	bool fresh = false;

	control("cut?path=" NEW_PATH "&after=300000&count=1");
	ck_assert_qc_fail(sync_ref("noble", "amd64", -1, NULL, NULL, &err), &err, QC_ERR_HTTP,
		"image 'noble-amd64': download 'http://127.0.0.1:");
	/* the .part is kept, and list does not show it */
	ck_assert_int_eq(size_of(part), 300000);
	assert_catalog_empty();

	ck_assert_qc_ok(sync_ref("noble", "amd64", -1, &img, &fresh, &err), &err);
	ck_assert(fresh);
	qc_catalog_entry_free(img);
	ck_assert_int_eq(requests(NEW_PATH, "bytes=300000-"), 1);
	ck_assert_int_eq(requests(NEW_PATH, NULL), 2);
	ck_assert_int_eq(size_of(part), -1);
}
END_TEST

START_TEST(sync_cut_retried_within_one_sync)
{
	struct qc_error err = {0};

	control("cut?path=" NEW_PATH "&after=100000&count=2");
	ck_assert_qc_ok(sync_ref("noble", "amd64", 3, NULL, NULL, &err), &err);
	ck_assert_int_eq(requests(NEW_PATH, "bytes=100000-"), 1);
	ck_assert_int_eq(requests(NEW_PATH, "bytes=200000-"), 1);
	ck_assert_int_eq(requests(NEW_PATH, NULL), 3);
}
END_TEST

START_TEST(sync_http_errors)
{
	struct qc_error err = {0};

	/* 404: not transient, exactly one request even with retries allowed */
	control("status?path=" NEW_PATH "&code=404&count=5");
	ck_assert_qc_fail(sync_ref("noble", "amd64", 3, NULL, NULL, &err), &err, QC_ERR_HTTP,
		"HTTP 404 (not found)");
	ck_assert_int_eq(requests(NEW_PATH, NULL), 1);
	control("reset");

	/* 500 twice, then fine: retried with backoff */
	control("status?path=" NEW_PATH "&code=500&count=2");
	ck_assert_qc_ok(sync_ref("noble", "amd64", 3, NULL, NULL, &err), &err);
	ck_assert_int_eq(requests(NEW_PATH, NULL), 4);

	/* 500 on the index, no retries: a clear error naming the URL */
	control("status?path=/streams/v1/index.json&code=500&count=1");
	ck_assert_qc_fail(sync_ref("noble", "arm64", -1, NULL, NULL, &err), &err, QC_ERR_HTTP,
		"streams/v1/index.json': HTTP 500 (internal server error)");
	/* https only unless the stream says http */
	free(stream);
	stream = qc_xstrdup("ftp://127.0.0.1/");
	ck_assert_qc_fail(sync_ref("noble", "arm64", -1, NULL, NULL, &err), &err, QC_ERR_INVALID,
		"unsupported URL scheme");
}
END_TEST

START_TEST(sync_malformed_index)
{
	cleanup_free char *idx = qc_xasprintf("%s/streams/v1/index.json", tree);
	struct qc_error err = {0};

	ck_assert_int_eq(qc_write_atomic(AT_FDCWD, idx, "{\"index\": {", 11, 0644, NULL), 0);
	ck_assert_qc_fail(sync_ref("noble", "amd64", -1, NULL, NULL, &err), &err, QC_ERR_JSON,
		"/streams/v1/index.json: stream index: ");
	ck_assert_qc_ok(qc_write_atomic(AT_FDCWD, idx, "{\"format\":\"index:1.0\",\"index\":{}}",
				33, 0644, &err),
		&err);
	ck_assert_qc_fail(sync_ref("noble", "amd64", -1, NULL, NULL, &err), &err, QC_ERR_NOTFOUND,
		"stream index: no image-downloads content listed");
	assert_catalog_empty();
}
END_TEST

START_TEST(sync_concurrent_one_download)
{
	pid_t kids[2];
	int status, fresh_count = 0;

	/* Slow the transfer down: the first request is cut and retried. */
	control("cut?path=" NEW_PATH "&after=200000&count=1");
	for (int i = 0; i < 2; i++) {
		kids[i] = fork();
		ck_assert_int_ge(kids[i], 0);
		if (kids[i] == 0) {
			struct qc_error err = {0};
			bool fresh = false;
			int r = sync_ref("noble", "amd64", 3, NULL, &fresh, &err);

			if (r < 0)
				fprintf(stderr, "child %d: %s\n", i, err.msg);
			_exit(r < 0 ? 1 : fresh ? 10 : 11);
		}
	}
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(waitpid(kids[i], &status, 0), kids[i]);
		ck_assert(WIFEXITED(status));
		ck_assert_int_ne(WEXITSTATUS(status), 1);
		fresh_count += WEXITSTATUS(status) == 10;
	}
	ck_assert_int_eq(fresh_count, 1);
	/* one download: the cut request and its resume */
	ck_assert_int_eq(requests(NEW_PATH, NULL), 2);
}
END_TEST

START_TEST(sync_low_speed_timeout_then_resume)
{
	struct qc_sync_opts o = {.ref = "noble",
		.arch = "amd64",
		.stream = stream,
		.lock_timeout_ms = 30000,
		.http = fast_http(2)};
	struct qc_error err = {0};
	int64_t t0 = qc_now_ms();

	/* 150000 bytes, then nothing for 20 s: the low-speed limit gives up after ~2 s */
	o.http.low_speed_time_s = 2;
	o.http.low_speed_limit = 1000;
	control("stall?path=" NEW_PATH "&after=150000&seconds=20&count=1");
	ck_assert_qc_ok(qc_sync_image(root, &o, NULL, NULL, &err), &err);
	ck_assert_int_lt(qc_now_ms() - t0, 15000);
	ck_assert_int_eq(requests(NEW_PATH, "bytes=150000-"), 1);

	/* and without retries the timeout is the error */
	ck_assert_qc_ok(qc_catalog_remove(root, "noble-amd64", &err), &err);
	o.http.retries = -1;
	control("stall?path=" NEW_PATH "&after=150000&seconds=20&count=1");
	ck_assert_qc_fail(
		qc_sync_image(root, &o, NULL, NULL, &err), &err, QC_ERR_HTTP, "Operation too slow");
}
END_TEST

static int users_none(const char *name, char **ret, void *opaque, struct qc_error *err)
{
	(void) name;
	(void) opaque;
	(void) err;
	*ret = NULL;
	return 0;
}

static int users_vm1(const char *name, char **ret, void *opaque, struct qc_error *err)
{
	(void) name;
	(void) opaque;
	(void) err;
	*ret = qc_xstrdup("vm1");
	return 0;
}

START_TEST(sync_replaces_unused_only)
{
	struct qc_sync_opts o = {.ref = "noble",
		.arch = "amd64",
		.stream = stream,
		.name = "img",
		.lock_timeout_ms = 30000,
		.http = fast_http(-1)};
	struct qc_catalog_entry *img = NULL;
	struct qc_error err = {0};
	bool fresh = false;

	ck_assert_qc_ok(qc_sync_image(root, &o, NULL, NULL, &err), &err);
	/* another version under the same name: no way to know the users -> refused */
	o.ref = "jammy";
	ck_assert_qc_fail(qc_sync_image(root, &o, NULL, NULL, &err), &err, QC_ERR_EXISTS,
		"image 'img' holds version 20240423, the stream now has 20230101; sync it under "
		"another --name");
	o.users = users_vm1;
	ck_assert_qc_fail(qc_sync_image(root, &o, NULL, NULL, &err), &err, QC_ERR_BUSY,
		"image 'img' holds version 20240423, the stream now has 20230101, but VMs use it "
		"(vm1)");
	ck_assert_qc_ok(qc_catalog_get(root, "img", &img, &err), &err);
	ck_assert_str_eq(img->version, "20240423");
	qc_catalog_entry_free(img);
	o.users = users_none;
	ck_assert_qc_ok(qc_sync_image(root, &o, &img, &fresh, &err), &err);
	ck_assert(fresh);
	ck_assert_str_eq(img->version, "20230101");
	ck_assert_uint_eq(img->virtual_size, 1 << 20);
	qc_catalog_entry_free(img);
	ck_assert_qc_ok(qc_catalog_get(root, "img", &img, &err), &err);
	ck_assert_str_eq(img->version, "20230101");
	qc_catalog_entry_free(img);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("storage_sync");
	TCase *tc;

	tc = unit_tcase(s, "http", sync_newest_for_arch_then_noop, sync_bad_input,
		sync_wrong_sha_leaves_nothing, sync_file_stream, sync_cut_then_resume,
		sync_cut_retried_within_one_sync, sync_http_errors, sync_malformed_index,
		sync_concurrent_one_download, sync_replaces_unused_only,
		sync_low_speed_timeout_then_resume, NULL);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	return s;
}

UNIT_MAIN(suite)
