/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The library's handle on other hosts (<qemuctl/remote.h>), as a program
 * outside the tree uses it (<qemuctl.h> and libqemuctl only); run by
 * remote-lib.sh.
 *
 *   remote-lib hosts URL1 URL2 REMOTE_QEMUCTL XML N
 *     two handles ("hosts"): a VM defined on each from the local file XML
 *     (its name and uuid rewritten per host; on the second from memory,
 *     a memfd), list --json on both names only its
 *     own, a failing command's exit code and stderr, then N list
 *     commands through each handle, timed (commands per second printed)
 *   remote-lib error URL REMOTE_QEMUCTL|-
 *     open and run `list`: prints "open|run CODE-NAME: MESSAGE" (exit 1);
 *     ssh is looked up in $REMOTE_LIB_PATH when set
 *   remote-lib fake URL REMOTE_QEMUCTL SIZE
 *     through one handle to remote-lib.sh's fake server of the protocol:
 *     `future` (it answers with another protocol's hello: prints "run
 *     CODE-NAME: MESSAGE"), then `echo` with SIZE bytes of standard input
 *     from memory, which must come back as its output, with exit code 3
 *     (and on stderr the request's env, NO_COLOR=1)
 *   remote-lib bench URL REMOTE_QEMUCTL N
 *     open, N list commands, close (bench/remote-lib times it)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <qemuctl.h>

static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (cond) {                                                                        \
			printf("ok: ");                                                            \
		} else {                                                                           \
			printf("FAIL: ");                                                          \
			failures++;                                                                \
		}                                                                                  \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
	} while (0)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = calloc(1, 1 << 20);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* text with <name>...</name> set to name and its <uuid> line dropped. */
static char *rename_xml(const char *text, const char *name)
{
	const char *a = strstr(text, "<name>"), *b = strstr(text, "</name>");
	const char *u = strstr(text, "<uuid>"), *ue = u ? strstr(u, "</uuid>") : NULL;
	char *out = calloc(1, strlen(text) + 128);

	if (!a || !b || !u || !ue || u < b)
		abort();
	sprintf(out, "%.*s<name>%s</name>%.*s%s", (int) (a - text), text, name,
		(int) (u - (b + 7)), b + 7, ue + 7);
	return out;
}

/* argv run on r; the result, or exit with why it could not run. */
static struct qc_remote_result run(qc_remote *r, const char *const *argv,
	const struct qc_remote_input *in)
{
	struct qc_remote_result res = {0};
	struct qc_error err = {0};

	if (qc_remote_run(r, argv, in, &res, &err) < 0) {
		printf("FAIL: %s: %s: %s\n", argv[0], qc_error_name(err.code), err.msg);
		exit(1);
	}
	return res;
}

static int hosts(char **argv)
{
	const char *url[2] = {argv[0], argv[1]}, *names[2] = {"vm-a", "vm-b"};
	struct qc_remote_opts o = {.remote_qemuctl = argv[2]};
	char *xml = read_all(argv[3]);
	int n = atoi(argv[4]);
	qc_remote *r[2] = {NULL, NULL};
	struct qc_error err = {0};

	if (!xml)
		return perror(argv[3]), 1;
	for (int h = 0; h < 2; h++)
		if (qc_remote_open(url[h], &o, &r[h], &err) < 0) {
			printf("FAIL: open %s: %s\n", url[h], err.msg);
			return 1;
		}
	/* host 0: define from a local file, sent as the CLI sends it */
	{
		const char *tmp = getenv("TMPDIR");
		char path[256];
		char *text = rename_xml(xml, names[0]);
		FILE *f;
		int fd;

		snprintf(path, sizeof(path), "%s/vm-a-XXXXXX.xml", tmp ? tmp : "/tmp");
		if ((fd = mkstemps(path, 4)) < 0 || !(f = fdopen(fd, "w")))
			return perror(path), 1;
		const char *a[] = {"define", path, NULL};
		struct qc_remote_file file = {.arg = 1};
		struct qc_remote_input in = {.files = &file, .n_files = 1};
		struct qc_remote_result res;

		fputs(text, f);
		fclose(f);
		res = run(r[0], a, &in);
		CHECK(res.exit_code == 0 && res.err_len == 0,
			"define FILE on host 0: exit %d, '%s%s'", res.exit_code, res.out, res.err);
		unlink(path);
		qc_remote_result_free(&res);
		free(text);
	}
	/* host 1: define from XML in memory (a memfd, named by /proc/self/fd) */
	{
		char *text = rename_xml(xml, names[1]), path[64];
		int fd = memfd_create("vm-b.xml", MFD_CLOEXEC);
		const char *a[] = {"define", path, NULL};
		struct qc_remote_file file = {.arg = 1};
		struct qc_remote_input in = {.files = &file, .n_files = 1};
		struct qc_remote_result res;

		if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t) strlen(text))
			return perror("memfd"), 1;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		res = run(r[1], a, &in);
		CHECK(res.exit_code == 0 && res.err_len == 0,
			"define (XML in memory) on host 1: exit %d, '%s%s'", res.exit_code, res.out,
			res.err);
		qc_remote_result_free(&res);
		close(fd);
		free(text);
	}
	for (int h = 0; h < 2; h++) {
		const char *a[] = {"--json", "list", NULL};
		struct qc_remote_result res = run(r[h], a, NULL);
		char mine[64], other[64];

		snprintf(mine, sizeof(mine), "\"name\": \"%s\"", names[h]);
		snprintf(other, sizeof(other), "\"%s\"", names[1 - h]);
		CHECK(res.exit_code == 0 && strstr(res.out, mine) && !strstr(res.out, other),
			"--json list on host %d: %s only: %s", h, names[h], res.out);
		qc_remote_result_free(&res);
	}
	{
		const char *a[] = {"info", "nosuch", NULL};
		struct qc_remote_result res = run(r[0], a, NULL);

		CHECK(res.exit_code == 1 && res.out_len == 0 &&
				strstr(res.err, "qemuctl: error:") && strstr(res.err, "'nosuch'"),
			"info nosuch: exit %d, stderr '%s'", res.exit_code, res.err);
		qc_remote_result_free(&res);
	}
	for (int h = 0; h < 2; h++) {
		double t0 = now_s(), dt;

		for (int i = 0; i < n; i++) {
			const char *a[] = {"list", NULL};
			struct qc_remote_result res = run(r[h], a, NULL);

			if (res.exit_code != 0 || !strstr(res.out, names[h]))
				CHECK(0, "list %d on host %d: exit %d '%s'", i, h, res.exit_code, res.out);
			qc_remote_result_free(&res);
		}
		dt = now_s() - t0;
		printf("host %d: %d list commands in %.3f s: %.1f commands/s\n", h, n, dt,
			n > 0 ? n / dt : 0.0);
	}
	for (int h = 0; h < 2; h++) {
		const char *a[] = {"undefine", names[h], NULL};
		struct qc_remote_result res = run(r[h], a, NULL);

		CHECK(res.exit_code == 0, "undefine %s: exit %d %s", names[h], res.exit_code, res.err);
		qc_remote_result_free(&res);
		qc_remote_close(r[h]);
	}
	free(xml);
	return failures ? 1 : 0;
}

static int error_case(char **argv)
{
	struct qc_remote_opts o = {.remote_qemuctl = strcmp(argv[1], "-") ? argv[1] : NULL};
	const char *a[] = {"list", NULL};
	struct qc_remote_result res = {0};
	struct qc_error err = {0};
	qc_remote *r = NULL;

	/* the PATH ssh is looked up in (libtool's wrapper of this program needs its own) */
	if (getenv("REMOTE_LIB_PATH"))
		setenv("PATH", getenv("REMOTE_LIB_PATH"), 1);
	if (qc_remote_open(argv[0], &o, &r, &err) < 0) {
		printf("open %s: %s\n", qc_error_name(err.code), err.msg);
		return r ? 2 : 1; /* the handle is not set on failure */
	}
	if (qc_remote_run(r, a, NULL, &res, &err) < 0) {
		printf("run %s: %s\n", qc_error_name(err.code), err.msg);
		qc_remote_close(r);
		return 1;
	}
	printf("ran: exit %d\n", res.exit_code);
	qc_remote_result_free(&res);
	qc_remote_close(r);
	return 0;
}

static int fake(char **argv)
{
	struct qc_remote_opts o = {.remote_qemuctl = argv[1]};
	const char *future[] = {"future", NULL}, *echo[] = {"echo", NULL};
	size_t size = (size_t) atol(argv[2]);
	char *data = malloc(size + 1);
	struct qc_remote_input in = {.stdin_data = data, .stdin_len = size,
		.env = (const char *const[]){"NO_COLOR=1", NULL}};
	struct qc_remote_result res = {0};
	struct qc_error err = {0};
	qc_remote *r = NULL;

	for (size_t i = 0; i < size; i++)
		data[i] = (char) ('a' + i % 26);
	if (qc_remote_open(argv[0], &o, &r, &err) < 0)
		return printf("open: %s\n", err.msg), 1;
	CHECK(qc_remote_run(r, future, NULL, &res, &err) < 0, "future: refused");
	printf("run %s: %s\n", qc_error_name(err.code), err.msg);
	res = run(r, echo, &in);
	CHECK(res.exit_code == 3 && res.out_len == size && !memcmp(res.out, data, size),
		"%zu bytes of stdin came back: exit %d, %zu bytes", size, res.exit_code, res.out_len);
	CHECK(res.err && strstr(res.err, "{\"env\": {\"NO_COLOR\": \"1\"}}"),
		"the request carried env NO_COLOR=1: %s", res.err);
	qc_remote_result_free(&res);
	qc_remote_close(r);
	free(data);
	return failures ? 1 : 0;
}

static int bench(char **argv)
{
	struct qc_remote_opts o = {.remote_qemuctl = argv[1]};
	const char *a[] = {"list", NULL};
	struct qc_error err = {0};
	qc_remote *r = NULL;
	int n = atoi(argv[2]);

	if (qc_remote_open(argv[0], &o, &r, &err) < 0)
		return printf("open: %s\n", err.msg), 1;
	for (int i = 0; i < n; i++) {
		struct qc_remote_result res = run(r, a, NULL);

		if (res.exit_code != 0)
			return printf("list: exit %d: %s\n", res.exit_code, res.err), 1;
		qc_remote_result_free(&res);
	}
	qc_remote_close(r);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 7 && !strcmp(argv[1], "hosts"))
		return hosts(argv + 2);
	if (argc == 4 && !strcmp(argv[1], "error"))
		return error_case(argv + 2);
	if (argc == 5 && !strcmp(argv[1], "fake"))
		return fake(argv + 2);
	if (argc == 5 && !strcmp(argv[1], "bench"))
		return bench(argv + 2);
	fprintf(stderr, "usage: remote-lib hosts URL1 URL2 REMOTE_QEMUCTL XML N | "
			"error URL REMOTE_QEMUCTL|- | fake|bench URL REMOTE_QEMUCTL N\n");
	return 2;
}
