/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guest agent protocol (driver/qga.c) against a fake agent on a
 * socketpair(): a child process that reads the client's lines and answers
 * from a script ("%ID%" becomes the id of the client's sync).
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver/qga.h"
#include "tests/unit/check_main.h"

/* One step of the fake: wait for a line from the client, then send reply ({NULL, 1}: hang up). */
struct step {
	const char *reply;
	size_t len; /* 0: strlen(reply) */
};

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			_exit(1);
		p += w;
		n -= (size_t) w;
	}
}

static void agent(int fd, const struct step *steps, size_t n)
{
	char buf[4096], id[32] = "0";
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		char *nl;

		while (!(nl = memchr(buf, '\n', len))) {
			ssize_t r = read(fd, buf + len, sizeof(buf) - len);

			if (r <= 0)
				_exit(0);
			len += (size_t) r;
		}
		*nl = '\0';
		{
			char *p = strstr(buf, "\"id\":");

			if (p)
				snprintf(id, sizeof(id), "%ld", strtol(p + 5, NULL, 10));
		}
		memmove(buf, nl + 1, len - (size_t) (nl + 1 - buf));
		len -= (size_t) (nl + 1 - buf);
		if (!steps[i].reply && steps[i].len)
			_exit(0); /* {NULL, 1}: hang up */
		if (steps[i].reply) {
			const char *r = steps[i].reply, *at;
			size_t rl = steps[i].len ? steps[i].len : strlen(r);

			/* the reply in pieces, "%ID%" replaced */
			while ((at = memmem(r, rl, "%ID%", 4))) {
				write_all(fd, r, (size_t) (at - r));
				write_all(fd, id, strlen(id));
				rl -= (size_t) (at - r) + 4;
				r = at + 4;
			}
			write_all(fd, r, rl);
		}
	}
	/* keep the connection open until the client closes it */
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	_exit(0);
}

static pid_t child;

/* A client connection to a fake agent running steps; rc of qc_qga_open_fd. */
static int start(const struct step *steps, size_t n, int timeout_ms, struct qc_qga **g,
	struct qc_error *err)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		close(sv[0]);
		agent(sv[1], steps, n);
	}
	close(sv[1]);
	return qc_qga_open_fd(sv[0], timeout_ms, g, err);
}

static void stop(struct qc_qga *g)
{
	qc_qga_close(g);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

#define SYNC_OK {"\xff{\"return\": %ID%}\n", 0}

START_TEST(sync_skips_noise_and_stale_replies)
{
	/* garbage, a stale sync reply of another id, then ours */
	static const struct step s[] = {
		{"junk{\"return\":{}}\n\xff{\"return\": 12345}\n\xff{\"return\": %ID%}\n", 0},
		{"{\"return\": {}}\n", 0}};
	struct qc_error err = {0};
	struct qc_qga *g = NULL;
	cleanup_json qc_json *r = NULL;

	ck_assert_int_eq(start(s, 2, 2000, &g, &err), 0);
	ck_assert_int_eq(qc_qga_execute(g, "guest-ping", NULL, 2000, &r, &err), 0);
	ck_assert_int_eq(qc_json_type(qc_json_get(r, "return")), QC_JSON_OBJECT);
	stop(g);
}
END_TEST

START_TEST(error_reply_names_command_and_desc)
{
	static const struct step s[] = {SYNC_OK,
		{"{\"error\": {\"class\": \"GenericError\", \"desc\": \"frozen \\u001b[31m\"}}\n", 0},
		{"{\"error\": {\"class\": \"GenericError\", \"desc\": \"no such thing\"}}\n", 0}};
	struct qc_error err = {0};
	struct qc_qga *g = NULL;

	ck_assert_int_eq(start(s, 3, 2000, &g, &err), 0);
	ck_assert_int_eq(qc_qga_execute(g, "guest-fsfreeze-freeze", NULL, 2000, NULL, &err),
		-QC_ERR_PROTO);
	/* a description with control bytes is not shown */
	ck_assert_str_eq(err.msg, "guest agent: 'guest-fsfreeze-freeze' failed: (no readable "
				  "description)");
	ck_assert_int_eq(qc_qga_execute(g, "guest-ping", NULL, 2000, NULL, &err), -QC_ERR_PROTO);
	ck_assert_str_eq(err.msg, "guest agent: 'guest-ping' failed: no such thing");
	stop(g);
}
END_TEST

START_TEST(bad_replies)
{
	static const struct step s[] = {SYNC_OK, {"{\"return\": [1, 2\n", 0}, {"[1]\n", 0},
		{"{\"nothing\": 1}\n", 0}, {"\r\n\n{\"return\": 7}\r\n", 0}};
	struct qc_error err = {0};
	struct qc_qga *g = NULL;
	cleanup_json qc_json *r = NULL;
	int64_t v = 0;

	ck_assert_int_eq(start(s, 5, 2000, &g, &err), 0);
	ck_assert_int_lt(qc_qga_execute(g, "guest-ping", NULL, 2000, NULL, &err), 0);
	ck_assert_msg(strstr(err.msg, "guest agent: bad reply to 'guest-ping'"), "%s", err.msg);
	ck_assert_int_eq(qc_qga_execute(g, "guest-ping", NULL, 2000, NULL, &err), -QC_ERR_PROTO);
	ck_assert_str_eq(err.msg, "guest agent: reply to 'guest-ping' is not a JSON object");
	ck_assert_int_eq(qc_qga_execute(g, "guest-ping", NULL, 2000, NULL, &err), -QC_ERR_PROTO);
	ck_assert_str_eq(err.msg, "guest agent: reply to 'guest-ping' has no \"return\"");
	/* empty lines and CRLF are framing, not replies */
	ck_assert_int_eq(qc_qga_execute(g, "guest-fsfreeze-thaw", NULL, 2000, &r, &err), 0);
	ck_assert(qc_json_as_int(qc_json_get(r, "return"), &v));
	ck_assert_int_eq(v, 7);
	stop(g);
}
END_TEST

START_TEST(deadline_and_eof)
{
	static const struct step silent[] = {{NULL, 0}};
	static const struct step closes[] = {SYNC_OK, {NULL, 1}};
	struct qc_error err = {0};
	struct qc_qga *g = NULL;
	int64_t t0 = qc_now_ms();

	/* an agent that never answers costs the deadline, no more */
	ck_assert_int_eq(start(silent, 1, 150, &g, &err), -ETIMEDOUT);
	ck_assert_str_eq(err.msg, "guest agent: no reply to 'guest-sync-delimited'");
	ck_assert_int_lt(qc_now_ms() - t0, 1000);
	ck_assert_ptr_null(g);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	/* the agent goes away after the sync */
	ck_assert_int_eq(start(closes, 2, 2000, &g, &err), 0);
	ck_assert_int_eq(qc_qga_execute(g, "guest-ping", NULL, 2000, NULL, &err), -QC_ERR_EOF);
	ck_assert_str_eq(err.msg, "guest agent: connection closed before the reply to 'guest-ping'");
	stop(g);
}
END_TEST

START_TEST(oversize_line)
{
	static char big[QC_QGA_LINE_MAX + 16];
	struct step s[] = {SYNC_OK, {big, sizeof(big)}};
	struct qc_error err = {0};
	struct qc_qga *g = NULL;

	memset(big, 'x', sizeof(big));
	big[0] = '"';
	ck_assert_int_eq(start(s, 2, 2000, &g, &err), 0);
	ck_assert_int_eq(qc_qga_execute(g, "guest-ping", NULL, 5000, NULL, &err), -QC_ERR_PROTO);
	ck_assert_msg(strstr(err.msg, "longer than 262144 bytes"), "%s", err.msg);
	stop(g);
}
END_TEST

/* The same line fits once the limit is raised (guest-exec-status carries output). */
START_TEST(raised_line_max)
{
	static char big[QC_QGA_LINE_MAX + 64];
	struct step s[] = {SYNC_OK, {big, sizeof(big)}};
	struct qc_error err = {0};
	struct qc_qga *g = NULL;
	qc_json *r = NULL;
	size_t n = sizeof(big);

	memset(big, 'x', n);
	memcpy(big, "{\"return\": \"", 12);
	memcpy(big + n - 3, "\"}\n", 3);
	ck_assert_int_eq(start(s, 2, 2000, &g, &err), 0);
	qc_qga_set_line_max(g, 2 * QC_QGA_LINE_MAX);
	ck_assert_int_eq(qc_qga_execute(g, "guest-exec-status", NULL, 5000, &r, &err), 0);
	ck_assert_uint_eq(strlen(qc_json_string(qc_json_get(r, "return"))), n - 15);
	qc_json_free(r);
	stop(g);
}
END_TEST

START_TEST(base64)
{
	static const struct {
		const char *in, *out;
		size_t len;
		const char *err;
	} t[] = {
		{"", "", 0, NULL},
		{"aGk=", "hi", 2, NULL},
		{"aGk/", "hi?", 3, NULL},
		{"YQ==", "a", 1, NULL},
		{"AP8A", "\0\377\0", 3, NULL},
		{"YWJj", "abc", 3, NULL},
		{"YQ=", NULL, 0, "not a multiple of 4"},
		{"Y===", NULL, 0, "bad base64 character at offset 1"},
		{"YQ=a", NULL, 0, "bad base64 character at offset 2"},
		{"YQ==YWJj", NULL, 0, "bad base64 character at offset 2"},
		{"aGk\n", NULL, 0, "bad base64 character at offset 3"},
		{"a-k=", NULL, 0, "bad base64 character at offset 1"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct qc_error err = {0};
		char *out = NULL;
		size_t len = 99;
		int rc = qc_qga_base64_decode(t[i].in, &out, &len, &err);

		if (!t[i].err) {
			ck_assert_msg(rc == 0, "%s: %s", t[i].in, err.msg);
			ck_assert_uint_eq(len, t[i].len);
			ck_assert_msg(memcmp(out, t[i].out, len) == 0 && !out[len], "%s", t[i].in);
			free(out);
		} else {
			ck_assert_int_eq(rc, -QC_ERR_PROTO);
			ck_assert_ptr_null(out);
			ck_assert_msg(strstr(err.msg, t[i].err), "%s: %s", t[i].in, err.msg);
		}
	}
}
END_TEST

START_TEST(guest_parse_checks_everything)
{
	static const char ifaces[] =
		"{\"return\": [{\"name\": \"lo\", \"ip-addresses\": [{\"ip-address-type\": "
		"\"ipv4\", \"ip-address\": \"127.0.0.1\", \"prefix\": 8}]},"
		"{\"name\": \"eth0\", \"ip-addresses\": ["
		"{\"ip-address-type\": \"ipv4\", \"ip-address\": \"10.0.2.15\", \"prefix\": 24},"
		"{\"ip-address-type\": \"ipv6\", \"ip-address\": \"fe80::1\", \"prefix\": 64},"
		"{\"ip-address-type\": \"ipv4\", \"ip-address\": \"10.0.2.16\", \"prefix\": 33},"
		"{\"ip-address-type\": \"ipv4\", \"ip-address\": \"1.2.3.4; rm -rf\", \"prefix\": 8},"
		"{\"ip-address-type\": \"ipv4\", \"ip-address\": \"fe80::2\", \"prefix\": 8},"
		"{\"ip-address-type\": \"ipx\", \"ip-address\": \"1.2.3.4\", \"prefix\": 8},"
		"{\"ip-address-type\": \"ipv4\", \"ip-address\": 5, \"prefix\": 8}]},"
		"{\"name\": \"e\\u001b[2J\", \"ip-addresses\": [{\"ip-address-type\": \"ipv4\", "
		"\"ip-address\": \"9.9.9.9\", \"prefix\": 8}]},"
		"{\"name\": \"a-very-long-interface-name\", \"ip-addresses\": []},"
		"7, {\"name\": \"eth1\"}]}";
	static const char os[] = "{\"return\": {\"name\": \"Debian GNU/Linux\", \"version\": "
				 "\"12\", \"kernel-release\": \"6.1.0\\u0007\"}}";
	cleanup_json qc_json *ji = NULL, *jo = NULL;
	struct qc_qga_guest gi = {0};

	ck_assert_int_eq(qc_json_parse(ifaces, strlen(ifaces), &ji, NULL), 0);
	ck_assert_int_eq(qc_json_parse(os, strlen(os), &jo, NULL), 0);
	qc_qga_guest_parse(ji, jo, &gi);
	ck_assert_ptr_nonnull(gi.addrs);
	ck_assert_str_eq(gi.addrs[0], "eth0 10.0.2.15/24");
	ck_assert_str_eq(gi.addrs[1], "eth0 fe80::1/64");
	ck_assert_ptr_null(gi.addrs[2]);
	ck_assert_str_eq(gi.os, "Debian GNU/Linux 12");
	ck_assert_ptr_null(gi.kernel);
	qc_qga_guest_clear(&gi);
	/* no replies: nothing */
	qc_qga_guest_parse(NULL, NULL, &gi);
	ck_assert_ptr_null(gi.addrs);
	ck_assert_ptr_null(gi.os);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("driver_qga");

	unit_tcase(s, "protocol", sync_skips_noise_and_stale_replies,
		error_reply_names_command_and_desc, bad_replies, deadline_and_eof, oversize_line,
		raised_line_max, base64, guest_parse_checks_everything, NULL);
	return s;
}

UNIT_MAIN(suite)
