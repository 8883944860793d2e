/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/remote_frame.c: the remote protocol's frames read back whole from
 * any split of the byte stream, a length over the limit refused, hellos
 * parsed (and a peer's version shown only when it is plain text).
 * driver/remote.c: what ssh's end without a hello means, hostile
 * remote_qemuctl values refused, and the words of ssh's command line.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver/remote.h"
#include "tests/unit/check_main.h"
#include "tests/unit/unit.h"

/* frames written to a pipe, fed to the reader one byte at a time */
START_TEST(frames_split_anywhere)
{
	int p[2];
	struct qc_remote_reader r = {0};
	char type;
	const char *data;
	size_t n;
	int got = 0;

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(qc_remote_frame_write(p[1], QC_RF_STDOUT, "hello", 5), 0);
	ck_assert_int_eq(qc_remote_frame_write(p[1], QC_RF_STDIN_END, "", 0), 0);
	ck_assert_int_eq(qc_remote_frame_write(p[1], QC_RF_EXIT, "\0\0\0\7", 4), 0);
	close(p[1]);
	for (;;) {
		char byte;
		int k;

		while ((k = qc_remote_reader_next(&r, &type, &data, &n)) > 0) {
			if (got == 0) {
				ck_assert_int_eq(type, QC_RF_STDOUT);
				ck_assert_uint_eq(n, 5);
				ck_assert(memcmp(data, "hello", 5) == 0);
			} else if (got == 1) {
				ck_assert_int_eq(type, QC_RF_STDIN_END);
				ck_assert_uint_eq(n, 0);
			} else {
				ck_assert_int_eq(type, QC_RF_EXIT);
				ck_assert_uint_eq(n, 4);
				ck_assert_int_eq(data[3], 7);
			}
			got++;
		}
		ck_assert_int_eq(k, 0);
		/* one byte more: a pipe of one byte at a time */
		if (read(p[0], &byte, 1) != 1)
			break;
		if (r.cap - r.len < 1 || !r.buf) {
			r.cap = r.len + 4096;
			r.buf = realloc(r.buf, r.cap);
		}
		r.buf[r.len++] = byte;
	}
	ck_assert_int_eq(got, 3);
	close(p[0]);
	qc_remote_reader_free(&r);
}
END_TEST

START_TEST(frame_over_limit)
{
	static const char big[] = "o\x7f\xff\xff\xff";
	struct qc_remote_reader r = {.buf = malloc(16), .len = 5, .cap = 16};
	char type;
	const char *data;
	size_t n;

	memcpy(r.buf, big, 5);
	ck_assert_int_eq(qc_remote_reader_next(&r, &type, &data, &n), -1);
	qc_remote_reader_free(&r);
}
END_TEST

static int hello(const char *text, char *v)
{
	return qc_remote_hello_parse(text, strlen(text), v, 64);
}

START_TEST(hello_parse)
{
	char v[64];
	char *ours = qc_remote_hello();

	ck_assert_int_eq(qc_remote_hello_parse(ours, strlen(ours), v, sizeof(v)), QC_REMOTE_PROTOCOL);
	ck_assert_str_eq(v, PACKAGE_VERSION);
	free(ours);
	ck_assert_int_eq(hello("{\"protocol\":7,\"version\":\"9.1\"}", v), 7);
	ck_assert_str_eq(v, "9.1");
	/* a version with a terminal escape is not shown */
	ck_assert_int_eq(hello("{\"protocol\":2,\"version\":\"\\u001b[2J\"}", v), 2);
	ck_assert_str_eq(v, "unknown");
	ck_assert_int_eq(hello("{\"protocol\":\"1\"}", v), -1);
	ck_assert_int_eq(hello("{\"protocol\":-1}", v), -1);
	ck_assert_int_eq(hello("qemuctl: error", v), -1);
}
END_TEST

/* r for url with remote_qemuctl rq, no connection (direct) */
static qc_remote *direct(const char *url, const char *rq)
{
	struct qc_remote_opts o = {.remote_qemuctl = rq, .direct = true,
		.ssh_options = (const char *const[]){"ConnectTimeout=5", NULL}};
	struct qc_error err = {0};
	qc_remote *r = NULL;

	ck_assert_msg(qc_remote_open(url, &o, &r, &err) == 0, "%s", err.msg);
	return r;
}

static int failed(const qc_remote *r, int status, const char *tail, bool said, struct qc_error *err)
{
	memset(err, 0, sizeof(*err));
	return qc_remote_ssh_failed(r, status, tail, said, err);
}

START_TEST(ssh_failures)
{
	qc_remote *r = direct("ssh://u@h1:2222/srv", "/opt/qc/bin/qemuctl");
	struct qc_error err;

	/* the host key: ssh's last line quoted, or said to be above */
	ck_assert_int_eq(failed(r, 255 << 8, "No ED25519 host key is known\r\nHost key verification failed.\r\n", true, &err),
		-QC_ERR_CHILD);
	ck_assert_msg(strstr(err.msg, "ssh refused the host key of 'h1' (Host key verification failed.): "
				      "connect once with ssh"), "%s", err.msg);
	ck_assert_int_eq(failed(r, 255 << 8, "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!\n", false, &err),
		-QC_ERR_CHILD);
	ck_assert_msg(strstr(err.msg, "host key of 'h1' (its message is above)"), "%s", err.msg);
	/* another 255: could not log in */
	ck_assert_int_eq(failed(r, 255 << 8, "x\nPermission denied (publickey).\n", true, &err), -QC_ERR_CHILD);
	ck_assert_msg(strstr(err.msg, "ssh could not log in to 'h1' (ssh exited 255; Permission denied "
				      "(publickey).): check that 'ssh HOST true' works"), "%s", err.msg);
	ck_assert_int_eq(failed(r, 255 << 8, "", true, &err), -QC_ERR_CHILD);
	ck_assert_msg(strstr(err.msg, "(ssh exited 255; its message is above)"), "%s", err.msg);
	/* 127: the remote shell found no such command */
	ck_assert_int_eq(failed(r, 127 << 8, "sh: 1: /opt/qc/bin/qemuctl: not found\n", true, &err),
		-QC_ERR_NOTFOUND);
	ck_assert_msg(strstr(err.msg, "'h1' has no qemuctl (the remote command '/opt/qc/bin/qemuctl' was "
				      "not found)"), "%s", err.msg);
	/* anything else: a qemuctl without serve-stdio, or one killed */
	ck_assert_int_eq(failed(r, 2 << 8, "qemuctl: error: unknown command\n", true, &err), -QC_ERR_PROTO);
	ck_assert_msg(strstr(err.msg, "does not speak the --connect protocol (it exited 2 without a hello)"),
		"%s", err.msg);
	ck_assert_int_eq(failed(r, SIGKILL, "", true, &err), -QC_ERR_PROTO);
	ck_assert_msg(strstr(err.msg, "(it exited 137 without a hello)"), "%s", err.msg);
	qc_remote_close(r);
}
END_TEST

START_TEST(open_refuses)
{
	static const char *bad_rq[] = {"qemuctl", "/opt/q c", "/opt/q;id", "/opt/$(id)", "/opt/q\n", NULL};
	struct qc_remote_opts o = {.direct = true};
	struct qc_error err = {0};
	qc_remote *r = (qc_remote *) &o; /* untouched on failure */

	for (int i = 0; bad_rq[i]; i++) {
		o.remote_qemuctl = bad_rq[i];
		ck_assert_int_eq(qc_remote_open("ssh://h1/", &o, &r, &err), -QC_ERR_INVALID);
		ck_assert_msg(strstr(err.msg, "give the absolute path of qemuctl"), "%s", err.msg);
		ck_assert_ptr_eq(r, (qc_remote *) &o);
	}
	o.remote_qemuctl = NULL;
	ck_assert_int_eq(qc_remote_open("http://h1/", &o, &r, &err), -QC_ERR_INVALID);
	ck_assert_int_eq(qc_remote_open("ssh://-oProxyCommand=x/", &o, &r, &err), -QC_ERR_INVALID);
	ck_assert_ptr_eq(r, (qc_remote *) &o);
}
END_TEST

/* ours first (the user's options cannot override them), then the user's, then the address */
START_TEST(ssh_words)
{
	qc_remote *r = direct("ssh://u@h1:2222/srv", NULL);
	char **w = qc_remote_ssh_words(r, (const char *const[]){"-T", NULL},
		(const char *const[]){r->remote_qemuctl, "serve-stdio", NULL});
	char *line = qc_strv_join(w, " ");

	ck_assert_str_eq(line, "ssh -T -o ConnectTimeout=5 -p2222 -l u -- h1 qemuctl serve-stdio");
	free(line);
	qc_strv_free(w);
	qc_remote_close(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("driver-remote");

	unit_tcase(s, "frames", frames_split_anywhere, frame_over_limit, hello_parse, NULL);
	unit_tcase(s, "ssh", ssh_failures, open_refuses, ssh_words, NULL);
	return unit_run(s, NULL);
}
