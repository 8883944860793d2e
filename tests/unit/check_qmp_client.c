/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qmp/: the QMP client against a scripted fake QEMU (qmp_fake.c).
 * Every failure case must end in a clear error, never a crash or a hang;
 * timeouts are asserted to be bounded.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "qmp/qmp.h"
#include "tests/unit/qmp_fake.h"
#include "tests/unit/check_main.h"

/* Slack for slow machines and valgrind on top of a timeout. */
#define SLACK_MS 2000

static struct fake f;

static void teardown(void)
{
	fake_finish(&f);
}

static struct qc_qmp *open_ok(const struct fake_step *script)
{
	struct qc_error err = {0};
	struct qc_qmp *q = NULL;

	fake_start(&f, script);
	ck_assert_msg(qc_qmp_open_fd(f.cfd, 5000, &q, &err) == 0, "open: %s", err.msg);
	ck_assert_ptr_nonnull(q);
	return q;
}

static void assert_err(int r, const struct qc_error *err, int code, const char *msg)
{
	ck_assert_int_eq(r, -code);
	ck_assert_int_eq(err->code, code);
	ck_assert_str_eq(err->msg, msg);
}

static void assert_err_prefix(int r, const struct qc_error *err, int code, const char *prefix)
{
	ck_assert_int_eq(r, -code);
	ck_assert_int_eq(err->code, code);
	ck_assert_msg(qc_str_has_prefix(err->msg, prefix), "'%s' does not start with '%s'",
		err->msg, prefix);
}

/* ------------------------------------------------------ greeting, commands */

START_TEST(greeting_and_negotiation)
{
	static const struct fake_step s[] = {
		NEGOTIATE,
		{F_EXPECT, "query-status", "none", 0},
		REPLY("{\"status\": \"prelaunch\", \"running\": false}"),
		{F_EXPECT, "query-cpus-fast", "{\"x\":[1,\"two\"]}", 0},
		{F_SEND, "{\"return\": [], \"id\": $ID}\r", NULL, 0},
		{F_WAIT_EOF},
		{F_END},
	};
	cleanup_qmp struct qc_qmp *q = open_ok(s);
	const struct qc_qmp_greeting *g = qc_qmp_get_greeting(q);
	cleanup_json qc_json *rv = NULL, *rv2 = NULL;
	struct qc_error err = {0};
	const char *status;
	bool running = true;

	ck_assert_int_eq(g->major, 7);
	ck_assert_int_eq(g->minor, 2);
	ck_assert_int_eq(g->micro, 2);
	ck_assert_str_eq(g->package, "Debian 1:7.2+dfsg-7");
	ck_assert_str_eq(g->capabilities[0], "oob");
	ck_assert_ptr_null(g->capabilities[1]);
	ck_assert_int_ge(qc_qmp_fd(q), 0);
	ck_assert_int_eq(qc_qmp_check_alive(q, &err), 0);

	ck_assert_int_eq(qc_qmp_execute(q, "query-status", NULL, 2000, &rv, &err), 0);
	ck_assert_int_eq(qc_json_get_string(rv, "status", &status, &err), 0);
	ck_assert_str_eq(status, "prelaunch");
	ck_assert_int_eq(qc_json_get_bool(rv, "running", &running, &err), 0);
	ck_assert(!running);
	/* JSON text arguments; a reply line ending in \r\n. */
	ck_assert_msg(qc_qmp_execute_text(
			      q, "query-cpus-fast", "{\"x\": [1, \"two\"]}", 2000, &rv2, &err) == 0,
		"%s", err.msg);
	ck_assert_int_eq(qc_json_type(rv2), QC_JSON_ARRAY);
	ck_assert_int_eq(qc_json_len(rv2), 0);
	qc_qmp_close(TAKE_PTR(q));
}
END_TEST

/*
 * A batch: both commands in one write, the replies matched by id in
 * whatever order they come; an error in it fails it, keeping no result,
 * and leaves the connection usable.
 */
START_TEST(execute_all)
{
	static const struct fake_step s[] = {
		NEGOTIATE,
		{F_EXPECT, "query-cpus-fast", "none", 0},
		{F_EXPECT, "query-blockstats", "none", 0},
		{F_SEND, "{\"return\": [{\"qdev\": \"disk-d\"}], \"id\": \"qc-3\"}", NULL, 0},
		{F_SEND, "{\"return\": [], \"id\": \"qc-2\"}", NULL, 0},
		{F_EXPECT, "query-cpus-fast", "none", 0},
		{F_EXPECT, "query-blockstats", "none", 0},
		{F_SEND,
			"{\"id\": \"qc-4\", \"error\": {\"class\": \"GenericError\", "
			"\"desc\": \"no\"}}",
			NULL, 0},
		{F_SEND, "{\"return\": [], \"id\": \"qc-5\"}", NULL, 0},
		{F_EXPECT, "stop", "none", 0},
		REPLY("{}"),
		{F_WAIT_EOF},
		{F_END},
	};
	static const char *const cmds[] = {"query-cpus-fast", "query-blockstats"};
	cleanup_qmp struct qc_qmp *q = open_ok(s);
	struct qc_error err = {0};
	qc_json *rv[2] = {NULL, NULL};
	const char *qdev = NULL;
	int r;

	ck_assert_msg(qc_qmp_execute_all(q, cmds, 2, 2000, rv, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(qc_json_len(rv[0]), 0);
	ck_assert_int_eq(qc_json_get_string(qc_json_at(rv[1], 0), "qdev", &qdev, &err), 0);
	ck_assert_str_eq(qdev, "disk-d");
	qc_json_free(rv[0]);
	qc_json_free(rv[1]);
	rv[0] = rv[1] = NULL;
	r = qc_qmp_execute_all(q, cmds, 2, 2000, rv, &err);
	assert_err(r, &err, QC_ERR_QMP, "QMP 'query-cpus-fast': GenericError: no");
	ck_assert_ptr_null(rv[0]);
	ck_assert_ptr_null(rv[1]);
	/* no command, too many: refused before anything is sent */
	assert_err(qc_qmp_execute_all(q, cmds, 0, 2000, rv, &err), &err, QC_ERR_INVALID,
		"QMP: 0 commands at once");
	assert_err(qc_qmp_execute_all(q, cmds, QC_QMP_MAX_BATCH + 1, 2000, rv, &err), &err,
		QC_ERR_INVALID, "QMP: 9 commands at once");
	ck_assert_int_eq(qc_qmp_check_alive(q, NULL), 0);
	ck_assert_int_eq(qc_qmp_execute(q, "stop", NULL, 2000, NULL, &err), 0);
	qc_qmp_close(TAKE_PTR(q));
}
END_TEST

START_TEST(error_reply)
{
	static const struct fake_step s[] = {
		NEGOTIATE,
		{F_EXPECT, "frobnicate", "none", 0},
		{F_SEND,
			"{\"id\": $ID, \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The "
			"command frobnicate has not been found\"}}",
			NULL, 0},
		{F_EXPECT, "stop", "none", 0},
		REPLY("{}"),
		{F_WAIT_EOF},
		{F_END},
	};
	cleanup_qmp struct qc_qmp *q = open_ok(s);
	struct qc_error err = {0};
	qc_json *rv = NULL;
	int r;

	r = qc_qmp_execute(q, "frobnicate", NULL, 2000, &rv, &err);
	assert_err(r, &err, QC_ERR_QMP,
		"QMP 'frobnicate': CommandNotFound: The command frobnicate has not been found");
	ck_assert_ptr_null(rv);
	/* An error reply leaves the connection usable. */
	ck_assert_int_eq(qc_qmp_check_alive(q, NULL), 0);
	ck_assert_int_eq(qc_qmp_execute(q, "stop", NULL, 2000, NULL, &err), 0);
	qc_qmp_close(TAKE_PTR(q));
}
END_TEST

START_TEST(bad_arguments)
{
	static const struct fake_step s[] = {NEGOTIATE, {F_WAIT_EOF}, {F_END}};
	cleanup_qmp struct qc_qmp *q = open_ok(s);
	struct qc_error err = {0};
	int r;

	r = qc_qmp_execute_text(q, "cont", "{\"a\":", 1000, NULL, &err);
	assert_err_prefix(r, &err, QC_ERR_INVALID, "QMP 'cont': arguments are not valid JSON: ");
	r = qc_qmp_execute_text(q, "cont", "[1]", 1000, NULL, &err);
	assert_err(r, &err, QC_ERR_INVALID, "QMP 'cont': arguments must be a JSON object");
	r = qc_qmp_execute(q, "", NULL, 1000, NULL, &err);
	assert_err(r, &err, QC_ERR_INVALID, "QMP: empty command name");
	r = qc_qmp_execute_with_fd(q, "getfd", NULL, -1, 1000, NULL, &err);
	assert_err(r, &err, EBADF, "QMP 'getfd': no fd to pass (fd -1)");
	r = qc_qmp_getfd(q, 0, "", 1000, &err);
	assert_err(r, &err, QC_ERR_INVALID, "QMP 'getfd': empty fd name");
	r = qc_qmp_closefd(q, NULL, 1000, &err);
	assert_err(r, &err, QC_ERR_INVALID, "QMP 'closefd': empty fd name");
	r = qc_qmp_add_fd(q, -1, -1, NULL, 1000, NULL, NULL, &err);
	assert_err(r, &err, EBADF, "QMP 'add-fd': no fd to pass (fd -1)");
	ck_assert_int_eq(qc_qmp_check_alive(q, NULL), 0);
	qc_qmp_close(TAKE_PTR(q));
}
END_TEST

/* ----------------------------------------------------------------- events */

START_TEST(events_interleaved)
{
	static const struct fake_step s[] = {
		NEGOTIATE,
		{F_SEND,
			"{\"event\": \"A\", \"timestamp\": {\"seconds\": 12, \"microseconds\": "
			"34}}",
			NULL, 0},
		{F_EXPECT, "cont", "none", 0},
		{F_SEND, "{\"event\": \"B\", \"data\": {\"k\": \"v\"}}", NULL, 0},
		{F_SEND, "{\"event\": \"C\"}", NULL, 0},
		REPLY("{}"),
		{F_SLEEP, NULL, NULL, 100},
		{F_SEND, "{\"event\": \"D\"}", NULL, 0},
		{F_SEND, "{\"event\": \"E\"}", NULL, 0},
		{F_WAIT_EOF},
		{F_END},
	};
	cleanup_qmp struct qc_qmp *q = open_ok(s);
	cleanup_qmp_event struct qc_qmp_event *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL,
					      *none = NULL;
	struct qc_error err = {0};
	const char *v;

	ck_assert_int_eq(qc_qmp_execute(q, "cont", NULL, 2000, NULL, &err), 0);
	/* A, B and C arrived before the reply and were queued in order. */
	ck_assert_uint_eq(qc_qmp_events_pending(q), 3);
	/* Waiting for D (after the reply) leaves the earlier ones queued. */
	ck_assert_msg(qc_qmp_wait_event(q, "D", 2000, &d, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(d->name, "D");
	ck_assert_str_eq(d->line, "{\"event\": \"D\"}");
	ck_assert_ptr_null(d->data);
	ck_assert_int_eq(d->seconds, -1);
	ck_assert_int_eq(qc_qmp_pop_event(q, &a), 1);
	ck_assert_str_eq(a->name, "A");
	ck_assert_int_eq(a->seconds, 12);
	ck_assert_int_eq(a->microseconds, 34);
	ck_assert_int_eq(qc_qmp_pop_event(q, &b), 1);
	ck_assert_str_eq(b->name, "B");
	ck_assert_int_eq(qc_json_get_string(b->data, "k", &v, &err), 0);
	ck_assert_str_eq(v, "v");
	ck_assert_int_eq(qc_qmp_wait_event(q, NULL, 2000, &c, &err), 0);
	ck_assert_str_eq(c->name, "C");
	ck_assert_int_eq(qc_qmp_wait_event(q, NULL, 2000, &e, &err), 0);
	ck_assert_str_eq(e->name, "E");
	ck_assert_int_eq(qc_qmp_pop_event(q, &none), 0);
	ck_assert_ptr_null(none);
	ck_assert_uint_eq(qc_qmp_events_dropped(q), 0);
	qc_qmp_close(TAKE_PTR(q));
}
END_TEST

START_TEST(wait_event_timeout)
{
	static const struct fake_step s[] = {
		NEGOTIATE, {F_SEND, "{\"event\": \"STOP\"}", NULL, 0}, {F_WAIT_EOF}, {F_END}};
	cleanup_qmp struct qc_qmp *q = open_ok(s);
	cleanup_qmp_event struct qc_qmp_event *ev = NULL;
	struct qc_error err = {0};
	int64_t t0 = qc_now_ms(), dt;
	int r;

	r = qc_qmp_wait_event(q, "SHUTDOWN", 300, &ev, &err);
	dt = qc_now_ms() - t0;
	assert_err(r, &err, ETIMEDOUT, "QMP: no 'SHUTDOWN' event within 300 ms");
	ck_assert_ptr_null(ev);
	ck_assert_int_ge(dt, 300);
	ck_assert_int_lt(dt, 300 + SLACK_MS);
	/* The STOP that came meanwhile is queued; a timeout is not fatal. */
	ck_assert_uint_eq(qc_qmp_events_pending(q), 1);
	ck_assert_int_eq(qc_qmp_check_alive(q, NULL), 0);
	r = qc_qmp_wait_event(q, "RESUME", 0, &ev, &err);
	assert_err(r, &err, ETIMEDOUT, "QMP: no 'RESUME' event within 0 ms");
	ck_assert_int_eq(qc_qmp_wait_event(q, NULL, 0, &ev, &err), 0);
	ck_assert_str_eq(ev->name, "STOP");
	qc_qmp_event_free(TAKE_PTR(ev));
	r = qc_qmp_wait_event(q, NULL, 50, &ev, &err);
	assert_err(r, &err, ETIMEDOUT, "QMP: no event within 50 ms");
	qc_qmp_close(TAKE_PTR(q));
}
END_TEST

START_TEST(read_available_in_poll_loop)
{
	static const struct fake_step s[] = {NEGOTIATE, {F_SLEEP, NULL, NULL, 200},
		{F_EVENTS, "RTC_CHANGE", NULL, 3}, {F_WAIT_EOF}, {F_END}};
	cleanup_qmp struct qc_qmp *q = open_ok(s);
	struct qc_error err = {0};
	int64_t deadline = qc_deadline_ms(5000);
	int total;

	/* Nothing there yet (the fake sleeps): returns 0 at once. */
	total = qc_qmp_read_available(q, &err);
	ck_assert_int_eq(total, 0);
	while (total < 3 && qc_time_left_ms(deadline) > 0) {
		struct pollfd p = {.fd = qc_qmp_fd(q), .events = POLLIN};
		int n;

		ck_assert_int_ge(poll(&p, 1, qc_time_left_ms(deadline)), 0);
		n = qc_qmp_read_available(q, &err);
		ck_assert_msg(n >= 0, "%s", err.msg);
		total += n;
	}
	ck_assert_int_eq(total, 3);
	for (int i = 0; i < 3; i++) {
		cleanup_qmp_event struct qc_qmp_event *ev = NULL;
		int64_t k;

		ck_assert_int_eq(qc_qmp_pop_event(q, &ev), 1);
		ck_assert_str_eq(ev->name, "RTC_CHANGE");
		ck_assert_int_eq(qc_json_get_int(ev->data, "i", &k, &err), 0);
		ck_assert_int_eq(k, i);
	}
	/* Nothing there: returns 0 at once. */
	ck_assert_int_eq(qc_qmp_read_available(q, &err), 0);
	qc_qmp_close(TAKE_PTR(q));
}
END_TEST

START_TEST(event_queue_bounded)
{
	static const struct fake_step s[] = {NEGOTIATE,
		{F_EVENTS, "FLOOD", NULL, QC_QMP_MAX_EVENTS + 5},
		{F_SEND, "{\"event\": \"LAST\"}", NULL, 0}, {F_WAIT_EOF}, {F_END}};
	cleanup_qmp struct qc_qmp *q = open_ok(s);
	cleanup_qmp_event struct qc_qmp_event *ev = NULL, *first = NULL;
	struct qc_error err = {0};
	int64_t k;

	ck_assert_msg(qc_qmp_wait_event(q, "LAST", 10000, &ev, &err) == 0, "%s", err.msg);
	/* 4101 FLOOD + LAST through a queue of 4096: the 6 oldest dropped, LAST taken. */
	ck_assert_uint_eq(qc_qmp_events_pending(q), QC_QMP_MAX_EVENTS - 1);
	ck_assert_uint_eq(qc_qmp_events_dropped(q), 6);
	ck_assert_int_eq(qc_qmp_pop_event(q, &first), 1);
	ck_assert_int_eq(qc_json_get_int(first->data, "i", &k, &err), 0);
	ck_assert_int_eq(k, 6); /* the oldest were dropped */
	qc_qmp_close(TAKE_PTR(q));
}
END_TEST

/* ------------------------------------------------------------- id matching */



START_TEST(late_reply_dropped)
{
	static const struct fake_step s[] = {
		NEGOTIATE,
		{F_EXPECT, "slow", NULL, 0},
		{F_SLEEP, NULL, NULL, 1000}, /* well after the client's 150 ms */
		REPLY("{\"late\": true}"),
		{F_EXPECT, "fast", NULL, 0},
		REPLY("{\"late\": false}"),
		{F_WAIT_EOF},
		{F_END},
	};
	cleanup_qmp struct qc_qmp *q = open_ok(s);
	cleanup_json qc_json *rv = NULL;
	struct qc_error err = {0};
	int64_t t0 = qc_now_ms(), dt;
	bool late = true;
	int r;

	r = qc_qmp_execute(q, "slow", NULL, 150, NULL, &err);
	dt = qc_now_ms() - t0;
	assert_err(r, &err, ETIMEDOUT, "QMP 'slow': no reply within 150 ms");
	ck_assert_int_ge(dt, 150);
	ck_assert_int_lt(dt, 150 + SLACK_MS);
	/* The connection survives; the late answer to 'slow' is not taken for 'fast'. */
	ck_assert_msg(qc_qmp_execute(q, "fast", NULL, 3000, &rv, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(qc_json_get_bool(rv, "late", &late, &err), 0);
	ck_assert(!late);
	qc_qmp_close(TAKE_PTR(q));
}
END_TEST

/* --------------------------------------------------------- EOF, bad input */


START_TEST(eof_while_waiting)
{
	static const struct fake_step s[] = {
		NEGOTIATE,
		{F_SEND, "{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true}}", NULL, 0},
		{F_SLEEP, NULL, NULL, 200},
		{F_CLOSE},
		{F_END},
	};
	cleanup_qmp struct qc_qmp *q = open_ok(s);
	cleanup_qmp_event struct qc_qmp_event *ev = NULL;
	struct qc_error err = {0};
	int64_t t0 = qc_now_ms(), dt;
	int r;

	r = qc_qmp_wait_event(q, "RESET", 5000, &ev, &err);
	dt = qc_now_ms() - t0;
	/* EOF is reported as EOF, at once, not as a timeout. */
	assert_err(r, &err, QC_ERR_EOF, "QMP: connection closed by QEMU");
	ck_assert_int_lt(dt, 4000);
	/* What came before the EOF can still be had. */
	ck_assert_int_eq(qc_qmp_wait_event(q, "SHUTDOWN", 1000, &ev, &err), 0);
	qc_qmp_event_free(TAKE_PTR(ev));
	r = qc_qmp_wait_event(q, NULL, 1000, &ev, &err);
	assert_err(r, &err, QC_ERR_EOF, "QMP: connection closed by QEMU");
	r = qc_qmp_execute(q, "cont", NULL, 1000, NULL, &err);
	assert_err(r, &err, QC_ERR_EOF, "QMP 'cont': connection closed by QEMU");
	qc_qmp_close(TAKE_PTR(q));
}
END_TEST

START_TEST(reply_then_eof)
{
	/* quit: the reply, SHUTDOWN and EOF may arrive in one read. */
	static const struct fake_step s[] = {
		NEGOTIATE,
		{F_EXPECT, "quit", NULL, 0},
		{F_SEND_RAW,
			"{\"return\": {}, \"id\": \"qc-2\"}\n{\"event\": \"SHUTDOWN\", \"data\": "
			"{\"guest\": false, \"reason\": \"host-qmp-quit\"}}\n",
			NULL, 0},
		{F_CLOSE},
		{F_END},
	};
	cleanup_qmp struct qc_qmp *q = open_ok(s);
	cleanup_qmp_event struct qc_qmp_event *ev = NULL;
	struct qc_error err = {0};
	const char *reason;

	ck_assert_msg(qc_qmp_execute(q, "quit", NULL, 3000, NULL, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(qc_qmp_wait_event(q, "SHUTDOWN", 3000, &ev, &err), 0);
	ck_assert_int_eq(qc_json_get_string(ev->data, "reason", &reason, &err), 0);
	ck_assert_str_eq(reason, "host-qmp-quit");
	qc_qmp_event_free(TAKE_PTR(ev));
	ck_assert_int_eq(qc_qmp_wait_event(q, NULL, 3000, &ev, &err), -QC_ERR_EOF);
	qc_qmp_close(TAKE_PTR(q));
}
END_TEST

START_TEST(huge_message)
{
	static const struct fake_step s[] = {
		NEGOTIATE,
		{F_SEND_BIG, NULL, NULL, 1024 * 1024}, /* 1 MiB: fine */
		{F_EXPECT, "query-status", NULL, 0},
		{F_SEND_BIG, NULL, NULL, 20 * 1024 * 1024},
		{F_END},
	};
	cleanup_qmp struct qc_qmp *q = open_ok(s);
	cleanup_qmp_event struct qc_qmp_event *ev = NULL;
	struct qc_error err = {0};
	const char *str;
	int r;

	ck_assert_msg(qc_qmp_wait_event(q, "BIG", 5000, &ev, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(qc_json_get_string(ev->data, "s", &str, &err), 0);
	ck_assert_uint_eq(strlen(str), 1024 * 1024);
	r = qc_qmp_execute(q, "query-status", NULL, 20000, NULL, &err);
	assert_err(r, &err, QC_ERR_PROTO, "QMP 'query-status': message larger than 16 MiB");
	r = qc_qmp_wait_event(q, NULL, 1000, &ev, &err);
	assert_err(r, &err, QC_ERR_PROTO, "QMP: message larger than 16 MiB");
	qc_qmp_close(TAKE_PTR(q)); /* lets the fake's blocked send fail */
}
END_TEST









/* ------------------------------------------------------- scripted failures */

/* What a step of a failure case calls on the connection. */
enum call {
	C_END = 0,
	C_OPEN, /* qc_qmp_open_fd() on the fake's socket; must be the first call */
	C_OPEN_ALL, /* qc_qmp_open_fd_all() with query-cpus-fast, query-blockstats; first too */
	C_EXEC, /* qc_qmp_execute(name) */
	C_WAIT_EVENT, /* qc_qmp_wait_event(name), NULL: any event */
	C_READ_AVAILABLE, /* qc_qmp_read_available() */
	C_CHECK_ALIVE, /* qc_qmp_check_alive() */
};

/* How err.msg is compared with the step's msg. */
enum match {
	M_EXACT = 0,
	M_PREFIX,
	M_PREFIX_AND_MORE, /* starts with msg and says more after it */
};

struct step {
	enum call call;
	const char *name;
	int timeout_ms;
	int code; /* 0: the call succeeds */
	const char *msg;
	enum match match;
	bool timed; /* took at least timeout_ms, and at most SLACK_MS more */
};

struct failure_case {
	const char *what;
	const struct fake_step *script;
	int sleep_ms; /* before the first step */
	struct step steps[5];
};

static const struct fake_step id_mismatch_script[] = {
	NEGOTIATE,
	{F_EXPECT, "query-status", NULL, 0},
	{F_SEND, "{\"return\": {}, \"id\": \"qc-99\"}", NULL, 0},
	{F_WAIT_EOF},
	{F_END},
};

static const struct fake_step reply_without_id_script[] = {
	NEGOTIATE,
	{F_EXPECT, "query-status", NULL, 0},
	{F_SEND,
		"{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse "
		"error\"}}",
		NULL, 0},
	{F_WAIT_EOF},
	{F_END},
};

static const struct fake_step eof_mid_line_script[] = {
	NEGOTIATE,
	{F_EXPECT, "query-status", NULL, 0},
	{F_SEND_RAW, "{\"return\": {\"status\": \"runn", NULL, 0},
	{F_CLOSE},
	{F_END},
};

static const struct fake_step garbage_script[] = {
	NEGOTIATE,
	{F_EXPECT, "query-status", NULL, 0},
	{F_SEND, "this is not JSON at all", NULL, 0},
	{F_WAIT_EOF},
	{F_END},
};

static const struct fake_step not_an_object_script[] = {
	NEGOTIATE, {F_SEND, "[1, 2]", NULL, 0}, {F_WAIT_EOF}, {F_END}};
static const struct fake_step unknown_message_script[] = {
	NEGOTIATE, {F_SEND, "{\"hello\": 1}", NULL, 0}, {F_WAIT_EOF}, {F_END}};
static const struct fake_step event_without_name_script[] = {
	NEGOTIATE, {F_SEND, "{\"event\": 7}", NULL, 0}, {F_WAIT_EOF}, {F_END}};

/* qmp_capabilities comes with the connection, before the greeting is read. */
#define CAPS                                            \
	{                                               \
		F_EXPECT, "qmp_capabilities", "none", 0 \
	}

static const struct fake_step not_a_greeting_script[] = {
	CAPS, {F_SEND, "{\"return\": {}}", NULL, 0}, {F_WAIT_EOF}, {F_END}};

static const struct fake_step greeting_bad_version_script[] = {CAPS,
	{F_SEND,
		"{\"QMP\": {\"version\": {\"qemu\": "
		"{\"major\": \"7\"}}, \"capabilities\": []}}",
		NULL, 0},
	{F_WAIT_EOF}, {F_END}};

static const struct fake_step greeting_timeout_script[] = {CAPS, {F_WAIT_EOF}, {F_END}};

/* Commands sent with the connection, then a reply where the greeting belongs. */
static const struct fake_step reply_before_greeting_script[] = {CAPS,
	{F_EXPECT, "query-cpus-fast", "none", 0}, {F_EXPECT, "query-blockstats", "none", 0},
	{F_SEND, "{\"return\": {}, \"id\": \"qc-1\"}", NULL, 0}, {F_WAIT_EOF}, {F_END}};

/* A bad greeting, and the fake hangs up before the client writes (EPIPE). */
static const struct fake_step bad_greeting_then_gone_script[] = {
	{F_SEND, "{\"QMP\": {}}", NULL, 0}, {F_CLOSE}, {F_END}};

/* The commands sent with the connection arrive; no greeting ever does. */
static const struct fake_step no_greeting_after_commands_script[] = {CAPS,
	{F_EXPECT, "query-cpus-fast", "none", 0}, {F_EXPECT, "query-blockstats", "none", 0},
	{F_WAIT_EOF}, {F_END}};

/* Gone after the greeting, with the commands unanswered. */
static const struct fake_step greeting_then_gone_script[] = {CAPS,
	{F_EXPECT, "query-cpus-fast", "none", 0}, {F_EXPECT, "query-blockstats", "none", 0},
	{F_SEND, GREETING, NULL, 0}, {F_CLOSE}, {F_END}};

/* Negotiated, then one of the commands sent with it fails. */
static const struct fake_step batch_error_script[] = {CAPS,
	{F_EXPECT, "query-cpus-fast", "none", 0}, {F_EXPECT, "query-blockstats", "none", 0},
	{F_SEND, GREETING, NULL, 0}, {F_SEND, "{\"return\": {}, \"id\": \"qc-1\"}", NULL, 0},
	{F_SEND, "{\"return\": [], \"id\": \"qc-2\"}", NULL, 0},
	{F_SEND,
		"{\"error\": {\"class\": \"GenericError\", \"desc\": \"no block layer\"}, "
		"\"id\": \"qc-3\"}",
		NULL, 0},
	{F_WAIT_EOF}, {F_END}};

static const struct fake_step negotiation_refused_script[] = {{F_SEND, GREETING, NULL, 0},
	{F_EXPECT, "qmp_capabilities", "none", 0},
	{F_SEND,
		"{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Capabilities "
		"negotiation is already complete, command ignored\"}, \"id\": $ID}",
		NULL, 0},
	{F_WAIT_EOF}, {F_END}};

static const struct fake_step command_timeout_script[] = {
	NEGOTIATE, {F_EXPECT, "query-status", NULL, 0}, {F_WAIT_EOF}, {F_END}};

static const struct fake_step peer_gone_script[] = {NEGOTIATE, {F_CLOSE}, {F_END}};

static const struct failure_case failure_cases[] = {
	{"id mismatch: sticky, every later call fails the same way at once", id_mismatch_script,
		0,
		{{C_EXEC, "query-status", 2000, QC_ERR_PROTO,
			 "QMP 'query-status': reply with an id we never sent: {\"return\": {}, "
			 "\"id\": \"qc-99\"}"},
			{C_EXEC, "cont", 2000, QC_ERR_PROTO,
				"QMP 'cont': reply with an id we never sent: {\"return\": {}, "
				"\"id\": \"qc-99\"}"},
			{C_READ_AVAILABLE, NULL, 0, QC_ERR_PROTO,
				"QMP: reply with an id we never sent", M_PREFIX},
			{C_CHECK_ALIVE, NULL, 0, QC_ERR_PROTO,
				"QMP: reply with an id we never sent", M_PREFIX}}},
	{"reply without id", reply_without_id_script, 0,
		{{C_EXEC, "query-status", 2000, QC_ERR_PROTO,
			"QMP 'query-status': reply without an id: ", M_PREFIX}}},
	{"EOF in the middle of a line", eof_mid_line_script, 0,
		{{C_EXEC, "query-status", 3000, QC_ERR_EOF,
			 "QMP 'query-status': connection closed by QEMU (in the middle of a "
			 "message, 27 bytes dropped)"},
			{C_EXEC, "cont", 3000, QC_ERR_EOF, "QMP 'cont': connection closed by QEMU",
				M_PREFIX}}},
	{"garbage", garbage_script, 0,
		{{C_EXEC, "query-status", 2000, QC_ERR_PROTO,
			 "QMP 'query-status': malformed message: ", M_PREFIX_AND_MORE},
			{C_EXEC, "query-status", 2000, QC_ERR_PROTO,
				"QMP 'query-status': malformed message: ", M_PREFIX}}},
	{"not an object", not_an_object_script, 0,
		{{C_WAIT_EVENT, NULL, 2000, QC_ERR_PROTO,
			"QMP: message is not a JSON object: [1, 2]"}}},
	{"unknown message", unknown_message_script, 0,
		{{C_WAIT_EVENT, NULL, 2000, QC_ERR_PROTO,
			"QMP: unexpected message: {\"hello\": 1}"}}},
	{"event without a name", event_without_name_script, 0,
		{{C_WAIT_EVENT, NULL, 2000, QC_ERR_PROTO,
			"QMP: event without a name: {\"event\": 7}"}}},
	{"not a greeting", not_a_greeting_script, 0,
		{{C_OPEN, NULL, 2000, QC_ERR_PROTO,
			"QMP: not a QMP greeting: {\"return\": {}}"}}},
	{"greeting with a bad version", greeting_bad_version_script, 0,
		{{C_OPEN, NULL, 2000, QC_ERR_PROTO, "QMP: not a QMP greeting: {\"QMP\"",
			M_PREFIX}}},
	{"no greeting", greeting_timeout_script, 0,
		{{C_OPEN, NULL, 250, ETIMEDOUT, "QMP: no greeting within 250 ms", M_EXACT,
			true}}},
	{"a reply where the greeting belongs, after commands sent with the connection",
		reply_before_greeting_script, 0,
		{{C_OPEN_ALL, NULL, 2000, QC_ERR_PROTO,
			"QMP: not a QMP greeting: {\"return\": {}, \"id\": \"qc-1\"}"}}},
	{"a bad greeting, then gone before the commands are sent",
		bad_greeting_then_gone_script, 100,
		{{C_OPEN_ALL, NULL, 2000, QC_ERR_PROTO, "QMP: not a QMP greeting: {\"QMP\": {}}"}}},
	{"no greeting after commands sent with the connection",
		no_greeting_after_commands_script, 0,
		{{C_OPEN_ALL, NULL, 250, ETIMEDOUT, "QMP: no greeting within 250 ms", M_EXACT,
			true}}},
	{"gone after the greeting, commands unanswered", greeting_then_gone_script, 0,
		{{C_OPEN_ALL, NULL, 2000, QC_ERR_EOF,
			"QMP 'qmp_capabilities': connection closed by QEMU"}}},
	{"a command sent with the connection fails", batch_error_script, 0,
		{{C_OPEN_ALL, NULL, 2000, QC_ERR_QMP,
			"QMP 'query-blockstats': GenericError: no block layer"}}},
	{"negotiation refused", negotiation_refused_script, 0,
		{{C_OPEN, NULL, 2000, QC_ERR_QMP,
			"QMP 'qmp_capabilities': CommandNotFound: Capabilities negotiation is "
			"already complete, command ignored"}}},
	{"command timeout is bounded and not fatal", command_timeout_script, 0,
		{{C_EXEC, "query-status", 300, ETIMEDOUT,
			 "QMP 'query-status': no reply within 300 ms", M_EXACT, true},
			{C_CHECK_ALIVE}}},
	{"peer gone before the send", peer_gone_script, 100,
		{{C_EXEC, "cont", 2000, QC_ERR_EOF, "QMP 'cont': connection closed by QEMU",
			M_PREFIX}}},
};

static int run_step(struct qc_qmp **q, const struct step *st, struct qc_error *err)
{
	cleanup_qmp_event struct qc_qmp_event *ev = NULL;

	switch (st->call) {
	case C_OPEN: {
		int r = qc_qmp_open_fd(f.cfd, st->timeout_ms, q, err);

		if (r < 0)
			ck_assert_ptr_null(*q);
		return r;
	}
	case C_OPEN_ALL: {
		static const char *const cmds[] = {"query-cpus-fast", "query-blockstats"};
		qc_json *rets[2] = {(qc_json *) 1, (qc_json *) 1};
		int r = qc_qmp_open_fd_all(f.cfd, cmds, 2, st->timeout_ms, q, rets, err);

		if (r < 0) {
			ck_assert_ptr_null(*q);
			ck_assert_ptr_null(rets[0]);
			ck_assert_ptr_null(rets[1]);
		}
		return r;
	}
	case C_EXEC:
		return qc_qmp_execute(*q, st->name, NULL, st->timeout_ms, NULL, err);
	case C_WAIT_EVENT:
		return qc_qmp_wait_event(*q, st->name, st->timeout_ms, &ev, err);
	case C_READ_AVAILABLE:
		return qc_qmp_read_available(*q, err);
	case C_CHECK_ALIVE:
		return qc_qmp_check_alive(*q, err);
	case C_END:
		break;
	}
	ck_abort_msg("bad step");
	return -1;
}

/* Each case's calls end in the error it expects, never a crash or a hang. */
START_TEST(scripted_failures)
{
	const struct failure_case *c = &failure_cases[_i];
	struct qc_qmp *q = NULL;
	struct qc_error err = {0};

	fake_start(&f, c->script);
	if (c->steps[0].call != C_OPEN && c->steps[0].call != C_OPEN_ALL) {
		ck_assert_msg(qc_qmp_open_fd(f.cfd, 5000, &q, &err) == 0, "open: %s", err.msg);
		ck_assert_ptr_nonnull(q);
	}
	qc_sleep_ms(c->sleep_ms);
	for (const struct step *st = c->steps; st->call != C_END; st++) {
		int64_t t0 = qc_now_ms(), dt;
		int r = run_step(&q, st, &err);

		dt = qc_now_ms() - t0;
		if (st->code == 0)
			ck_assert_msg(r == 0, "%s: %s", c->what, err.msg);
		else if (st->match == M_EXACT)
			assert_err(r, &err, st->code, st->msg);
		else
			assert_err_prefix(r, &err, st->code, st->msg);
		if (st->match == M_PREFIX_AND_MORE)
			ck_assert_int_gt(strlen(err.msg), strlen(st->msg));
		if (st->timed) {
			ck_assert_int_ge(dt, st->timeout_ms);
			ck_assert_int_lt(dt, st->timeout_ms + SLACK_MS);
		}
	}
	qc_qmp_close(q);
}
END_TEST

/* ------------------------------------------------------------- big sends */

static char *big_args(size_t n)
{
	char *a = qc_xmalloc(n + 16);

	memcpy(a, "{\"s\": \"", 7);
	memset(a + 7, 'x', n);
	memcpy(a + 7 + n, "\"}", 3);
	return a;
}

START_TEST(large_command_waits_for_room)
{
	static const struct fake_step s[] = {
		NEGOTIATE,
		{F_SLEEP, NULL, NULL, 200}, /* the socket buffer fills: EAGAIN, poll */
		{F_EXPECT, "big", NULL, 0},
		REPLY("{}"),
		{F_WAIT_EOF},
		{F_END},
	};
	cleanup_qmp struct qc_qmp *q = open_ok(s);
	cleanup_free char *args = big_args(240 * 1024);
	struct qc_error err = {0};

	ck_assert_msg(qc_qmp_execute_text(q, "big", args, 5000, NULL, &err) == 0, "%s", err.msg);
	qc_qmp_close(TAKE_PTR(q));
}
END_TEST

START_TEST(send_timeout_mid_command)
{
	static const struct fake_step s[] = {NEGOTIATE, {F_SLEEP, NULL, NULL, 1500}, {F_END}};
	cleanup_qmp struct qc_qmp *q = open_ok(s);
	cleanup_free char *args = big_args(4 * 1024 * 1024);
	struct qc_error err = {0};
	int64_t t0 = qc_now_ms(), dt;
	int r;

	r = qc_qmp_execute_text(q, "big", args, 300, NULL, &err);
	dt = qc_now_ms() - t0;
	/* Half a command is in QEMU's input: the connection cannot be used again. */
	assert_err(r, &err, ETIMEDOUT, "QMP 'big': timed out in the middle of sending a command");
	ck_assert_int_ge(dt, 300);
	ck_assert_int_lt(dt, 300 + SLACK_MS);
	r = qc_qmp_execute(q, "cont", NULL, 300, NULL, &err);
	assert_err(r, &err, ETIMEDOUT, "QMP 'cont': timed out in the middle of sending a command");
	qc_qmp_close(TAKE_PTR(q));
}
END_TEST

/* ------------------------------------------------------------- fd passing */

static int hello_pipe(void)
{
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(write(p[1], "hello-fd", 8), 8);
	close(p[1]);
	return p[0];
}

START_TEST(fd_passing)
{
	static const struct fake_step s[] = {
		NEGOTIATE,
		{F_EXPECT_FD, "getfd", "{\"fdname\":\"tap \\\"0\\\"\"}", 0},
		REPLY("{}"),
		{F_EXPECT, "closefd", "{\"fdname\":\"tap \\\"0\\\"\"}", 0},
		REPLY("{}"),
		{F_EXPECT_FD, "add-fd", "{\"opaque\":\"disk0\"}", 0},
		REPLY("{\"fdset-id\": 0, \"fd\": 25}"),
		{F_EXPECT_FD, "add-fd", "{\"fdset-id\":3}", 0},
		REPLY("{\"fdset-id\": 3, \"fd\": 26}"),
		{F_EXPECT, "remove-fd", "{\"fdset-id\":3,\"fd\":26}", 0},
		REPLY("{}"),
		{F_EXPECT_FD, "netdev_add", "{\"type\":\"tap\"}", 0},
		REPLY("{}"),
		{F_EXPECT_FD, "add-fd", NULL, 0},
		REPLY("{\"fd\": 27}"),
		{F_WAIT_EOF},
		{F_END},
	};
	cleanup_qmp struct qc_qmp *q = open_ok(s);
	struct qc_error err = {0};
	int64_t set = -1, num = -1;
	int fd, r;

	fd = hello_pipe();
	ck_assert_msg(qc_qmp_getfd(q, fd, "tap \"0\"", 2000, &err) == 0, "%s", err.msg);
	close(fd);
	ck_assert_msg(qc_qmp_closefd(q, "tap \"0\"", 2000, &err) == 0, "%s", err.msg);
	fd = hello_pipe();
	ck_assert_msg(
		qc_qmp_add_fd(q, fd, -1, "disk0", 2000, &set, &num, &err) == 0, "%s", err.msg);
	close(fd);
	ck_assert_int_eq(set, 0);
	ck_assert_int_eq(num, 25);
	fd = hello_pipe();
	ck_assert_int_eq(qc_qmp_add_fd(q, fd, 3, NULL, 2000, NULL, &num, &err), 0);
	close(fd);
	ck_assert_int_eq(num, 26);
	ck_assert_int_eq(qc_qmp_remove_fd(q, 3, 26, 2000, &err), 0);
	fd = hello_pipe();
	ck_assert_msg(qc_qmp_execute_with_fd(
			      q, "netdev_add", "{\"type\": \"tap\"}", fd, 2000, NULL, &err) == 0,
		"%s", err.msg);
	close(fd);
	/* A reply without the fields we need. */
	fd = hello_pipe();
	r = qc_qmp_add_fd(q, fd, -1, NULL, 2000, &set, &num, &err);
	close(fd);
	assert_err_prefix(r, &err, QC_ERR_JSON, "QMP 'add-fd': unexpected reply: ");
	qc_qmp_close(TAKE_PTR(q));
}
END_TEST

/* -------------------------------------------------------------------- raw */

START_TEST(raw_passthrough)
{
	static const struct fake_step s[] = {
		NEGOTIATE,
		{F_EXPECT, "query-status", "none", 0},
		REPLY("{\"status\": \"running\"}"),
		{F_EXPECT, "human-monitor-command", "{\"command-line\":\"info version\"}", 0},
		{F_SEND, "{\"id\": $ID, \"return\": \"7.2.2\\r\\n\"}", NULL, 0},
		{F_EXPECT, "nope", NULL, 0},
		{F_SEND,
			"{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command nope "
			"has not been found\"}, \"id\": $ID}",
			NULL, 0},
		{F_WAIT_EOF},
		{F_END},
	};
	cleanup_qmp struct qc_qmp *q = open_ok(s);
	cleanup_free char *r1 = NULL, *r2 = NULL, *r3 = NULL;
	char *none = NULL;
	struct qc_error err = {0};
	int r;

	ck_assert_msg(qc_qmp_raw(q, "{\"execute\": \"query-status\", \"id\": {\"mine\": 1}}", 2000,
			      &r1, &err) == 0,
		"%s", err.msg);
	ck_assert_str_eq(r1, "{\"return\":{\"status\":\"running\"},\"id\":{\"mine\":1}}");
	ck_assert_int_eq(qc_qmp_raw(q,
				 "{\"arguments\": {\"command-line\": \"info version\"}, "
				 "\"execute\": \"human-monitor-command\"}",
				 2000, &r2, &err),
		0);
	ck_assert_str_eq(r2, "{\"return\":\"7.2.2\\r\\n\"}");
	/* An error reply is QEMU's answer, not a failure of the call. */
	ck_assert_int_eq(qc_qmp_raw(q, "{\"execute\": \"nope\", \"id\": 5}", 2000, &r3, &err), 0);
	ck_assert_str_eq(r3,
		"{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"The command nope "
		"has not been found\"},\"id\":5}");

	r = qc_qmp_raw(q, "{\"execute\": ", 2000, &none, &err);
	assert_err_prefix(r, &err, QC_ERR_INVALID, "QMP: command is not valid JSON: ");
	r = qc_qmp_raw(q, "[\"query-status\"]", 2000, &none, &err);
	assert_err_prefix(r, &err, QC_ERR_INVALID, "QMP: a command must be a JSON object");
	r = qc_qmp_raw(q, "{\"execute\": 3}", 2000, &none, &err);
	assert_err_prefix(r, &err, QC_ERR_INVALID, "QMP: a command needs \"execute\"");
	r = qc_qmp_raw(q, "{\"exec-oob\": \"migrate-pause\"}", 2000, &none, &err);
	assert_err_prefix(r, &err, QC_ERR_INVALID, "QMP: \"exec-oob\" is not supported");
	r = qc_qmp_raw(q, NULL, 2000, &none, &err);
	assert_err(r, &err, QC_ERR_INVALID, "QMP: command is not valid JSON: (none)");
	ck_assert_ptr_null(none);
	ck_assert_int_eq(qc_qmp_check_alive(q, NULL), 0);
	qc_qmp_close(TAKE_PTR(q));
}
END_TEST

/* ------------------------------------------------------------------ connect */

/*
 * Commands asked for with the connection go out with qmp_capabilities in
 * one write, before the greeting is read: this fake reads all three before
 * it greets (a client that waited for the greeting would hang here), then
 * answers out of order.  The connection goes on with the next id.
 */
START_TEST(open_all_sends_before_the_greeting)
{
	static const struct fake_step s[] = {
		CAPS,
		{F_EXPECT, "query-cpus-fast", "none", 0},
		{F_EXPECT, "query-blockstats", "none", 0},
		{F_SEND, GREETING, NULL, 0},
		{F_SEND, "{\"return\": [{\"qdev\": \"disk-d\"}], \"id\": \"qc-3\"}", NULL, 0},
		{F_SEND, "{\"return\": {}, \"id\": \"qc-1\"}", NULL, 0},
		{F_SEND, "{\"return\": [{\"cpu-index\": 0}], \"id\": \"qc-2\"}", NULL, 0},
		{F_EXPECT, "stop", "none", 0},
		REPLY("{}"),
		{F_WAIT_EOF},
		{F_END},
	};
	static const char *const cmds[] = {"query-cpus-fast", "query-blockstats"};
	cleanup_qmp struct qc_qmp *q = NULL;
	cleanup_json qc_json *cpus = NULL, *blk = NULL;
	qc_json *rets[2] = {NULL, NULL};
	struct qc_error err = {0};

	fake_start(&f, s);
	ck_assert_msg(qc_qmp_open_fd_all(f.cfd, cmds, 2, 5000, &q, rets, &err) == 0, "%s",
		err.msg);
	cpus = rets[0];
	blk = rets[1];
	ck_assert_int_eq(qc_qmp_get_greeting(q)->major, 7);
	ck_assert_str_eq(qc_qmp_get_greeting(q)->package, "Debian 1:7.2+dfsg-7");
	ck_assert_int_eq(qc_json_len(cpus), 1);
	ck_assert_ptr_nonnull(qc_json_get(qc_json_at(cpus, 0), "cpu-index"));
	ck_assert_str_eq(qc_json_string(qc_json_get(qc_json_at(blk, 0), "qdev")), "disk-d");
	ck_assert_msg(qc_qmp_execute(q, "stop", NULL, 2000, NULL, &err) == 0, "%s", err.msg);
	qc_qmp_close(TAKE_PTR(q));
}
END_TEST

/* Too many commands for one write, or none given: refused, the fd closed. */
START_TEST(open_all_bad_arguments)
{
	const char *cmds[QC_QMP_MAX_BATCH] = {0};
	qc_json *rets[QC_QMP_MAX_BATCH];
	struct qc_qmp *q = NULL;
	struct qc_error err = {0};
	int sv[2], r;

	for (size_t i = 0; i < QC_QMP_MAX_BATCH; i++)
		cmds[i] = "query-status";
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	r = qc_qmp_open_fd_all(sv[0], cmds, QC_QMP_MAX_BATCH, 1000, &q, rets, &err);
	assert_err(r, &err, QC_ERR_INVALID, "QMP: 8 commands with the connection (at most 7)");
	ck_assert_ptr_null(q);
	/* sv[0] was closed: its peer sees EOF, nothing was sent. */
	ck_assert_int_eq(read(sv[1], &r, 1), 0);
	close(sv[1]);

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	r = qc_qmp_open_fd_all(sv[0], NULL, 1, 1000, &q, rets, &err);
	assert_err(r, &err, QC_ERR_INVALID,
		"QMP: 1 commands with the connection, but no list of them or of their results");
	ck_assert_int_eq(read(sv[1], &r, 1), 0);
	close(sv[1]);
}
END_TEST

START_TEST(connect_all_over_socket)
{
	static const struct fake_step s[] = {CAPS, {F_EXPECT, "query-status", "none", 0},
		{F_SEND, GREETING, NULL, 0}, {F_SEND, "{\"return\": {}, \"id\": \"qc-1\"}", NULL, 0},
		REPLY("{\"status\": \"paused\"}"), {F_WAIT_EOF}, {F_END}};
	static const char *const cmds[] = {"query-status"};
	char dir[] = "/tmp/check_qmp_client.XXXXXX";
	cleanup_free char *path = NULL;
	cleanup_qmp struct qc_qmp *q = NULL;
	cleanup_json qc_json *st = NULL;
	struct qc_error err = {0};

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = qc_xasprintf("%s/qmp.sock", dir);
	fake_start_listen(&f, path, 0, s);
	ck_assert_msg(qc_qmp_connect_all(path, cmds, 1, 5000, &q, &st, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(qc_json_string(qc_json_get(st, "status")), "paused");
	qc_qmp_close(TAKE_PTR(q));
	fake_finish(&f);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(connect_retries_until_socket_exists)
{
	static const struct fake_step s[] = {
		NEGOTIATE, {F_EXPECT, "cont", NULL, 0}, REPLY("{}"), {F_WAIT_EOF}, {F_END}};
	char dir[] = "/tmp/check_qmp_client.XXXXXX";
	cleanup_free char *path = NULL;
	cleanup_qmp struct qc_qmp *q = NULL;
	struct qc_error err = {0};
	int64_t t0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = qc_xasprintf("%s/qmp.sock", dir);
	t0 = qc_now_ms();
	fake_start_listen(&f, path, 300, s);
	ck_assert_msg(qc_qmp_connect(path, 5000, &q, &err) == 0, "%s", err.msg);
	ck_assert_int_ge(qc_now_ms() - t0, 300);
	ck_assert_int_eq(qc_qmp_get_greeting(q)->major, 7);
	ck_assert_int_eq(qc_qmp_execute(q, "cont", NULL, 2000, NULL, &err), 0);
	qc_qmp_close(TAKE_PTR(q));
	fake_finish(&f);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(connect_errors)
{
	char dir[] = "/tmp/check_qmp_client.XXXXXX";
	cleanup_free char *path = NULL, *longp = NULL, *expect = NULL;
	struct qc_qmp *q = NULL;
	struct qc_error err = {0};
	int64_t t0, dt;
	int r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = qc_xasprintf("%s/missing.sock", dir);
	t0 = qc_now_ms();
	r = qc_qmp_connect(path, 200, &q, &err);
	dt = qc_now_ms() - t0;
	expect = qc_xasprintf(
		"QMP socket '%s': connect (gave up after 200 ms): No such file or directory", path);
	assert_err(r, &err, ENOENT, expect);
	ck_assert_int_ge(dt, 200);
	ck_assert_int_lt(dt, 200 + SLACK_MS);
	ck_assert_ptr_null(q);

	/* Nobody listening (a stale file, as a dead QEMU leaves): retried until the deadline. */
	ck_assert_int_eq(qc_write_atomic(AT_FDCWD, path, "x", 1, 0600, &err), 0);
	t0 = qc_now_ms();
	r = qc_qmp_connect(path, 200, &q, &err);
	dt = qc_now_ms() - t0;
	ck_assert_int_eq(r, -ECONNREFUSED);
	ck_assert_int_ge(dt, 200);
	ck_assert_int_lt(dt, 200 + SLACK_MS);
	unlink(path);

	longp = qc_xasprintf("/tmp/%0200d.sock", 0);
	r = qc_qmp_connect(longp, 100, &q, &err);
	assert_err_prefix(r, &err, ENAMETOOLONG, "QMP socket '/tmp/000");
	ck_assert_int_eq(rmdir(dir), 0);

	r = qc_qmp_open_fd(-1, 100, &q, &err);
	assert_err(r, &err, EBADF, "QMP: no socket (fd -1)");
	r = qc_qmp_connect("", 100, &q, &err);
	assert_err(r, &err, QC_ERR_INVALID, "QMP socket: no path");
}
END_TEST

START_TEST(connect_watch_gives_up_when_qemu_dies)
{
	static const struct fake_step s[] = {
		NEGOTIATE, {F_EXPECT, "cont", NULL, 0}, REPLY("{}"), {F_WAIT_EOF}, {F_END}};
	char dir[] = "/tmp/check_qmp_client.XXXXXX";
	cleanup_free char *path = NULL, *expect = NULL;
	cleanup_qmp struct qc_qmp *q = NULL;
	struct qc_error err = {0};
	int64_t t0, dt;
	int p[2], r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = qc_xasprintf("%s/qmp.sock", dir);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);

	/* Alive (write end open): the watch does not disturb a normal connect. */
	fake_start_listen(&f, path, 100, s);
	ck_assert_msg(qc_qmp_connect_watch(path, p[0], 5000, &q, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(qc_qmp_execute(q, "cont", NULL, 2000, NULL, &err), 0);
	qc_qmp_close(TAKE_PTR(q));
	fake_finish(&f);

	/* "QEMU" dies (the write end closes): no waiting for the whole timeout. */
	close(p[1]);
	t0 = qc_now_ms();
	r = qc_qmp_connect_watch(path, p[0], 5000, &q, &err);
	dt = qc_now_ms() - t0;
	expect = qc_xasprintf("QMP socket '%s': QEMU exited before accepting connections", path);
	assert_err(r, &err, QC_ERR_EOF, expect);
	ck_assert_int_lt(dt, 1000);
	close(p[0]);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/*
 * Root only: a socket at the QMP path whose listener is another uid (nobody)
 * is refused before a byte is sent; the fake server, which greets like QEMU,
 * reports how many bytes it received: none.
 */
START_TEST(connect_refuses_other_uid)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[] = "/tmp/check_qmp_client.XXXXXX";
	cleanup_free char *path = NULL, *expect = NULL;
	struct qc_qmp *q = NULL;
	struct qc_error err = {0};
	int ready[2], report[2], status, r;
	long got = -1;
	char c;
	pid_t pid;

	if (geteuid() != 0) {
		fprintf(stderr, "NOTE: connect_refuses_other_uid needs root; see "
				"tests/integration/trust-runtime.sh\n");
		return;
	}
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chmod(dir, 0777), 0);
	path = qc_xasprintf("%s/qmp.sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(report, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		static const char greet[] =
			"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, "
			"\"major\": 7}, \"package\": \"\"}, \"capabilities\": []}}\r\n";
		int l, a;
		long n = 0;
		ssize_t k;
		char buf[256];

		signal(SIGPIPE, SIG_IGN); /* the client hangs up on the greeting */
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		l = socket(AF_UNIX, SOCK_STREAM, 0);
		if (l < 0 || bind(l, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(l, 1) < 0)
			_exit(3);
		(void) !write(ready[1], "x", 1);
		a = accept(l, NULL, NULL);
		if (a < 0)
			_exit(4);
		(void) !write(a, greet, strlen(greet));
		while ((k = read(a, buf, sizeof(buf))) > 0)
			n += k;
		(void) !write(report[1], &n, sizeof(n));
		_exit(0);
	}
	close(ready[1]);
	close(report[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	r = qc_qmp_connect(path, 2000, &q, &err);
	expect = qc_xasprintf("QMP socket '%s' is served by uid 65534 (pid %d), not by you "
			      "(uid 0): refusing to talk to it",
		path, (int) pid);
	ck_assert_int_eq(r, -EPERM);
	ck_assert_msg(strstr(err.msg, expect), "%s", err.msg);
	ck_assert_ptr_null(q);
	ck_assert_int_eq(read(report[0], &got, sizeof(got)), (ssize_t) sizeof(got));
	ck_assert_int_eq(got, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	close(ready[0]);
	close(report[0]);
	unlink(path);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

static Suite *qmp_suite(void)
{
	Suite *s = suite_create("qmp");
	TCase *tc;

	tc = unit_tcase(s, "fake-qemu", greeting_and_negotiation, execute_all, error_reply,
		bad_arguments, events_interleaved, wait_event_timeout, read_available_in_poll_loop,
		event_queue_bounded, late_reply_dropped, eof_while_waiting, reply_then_eof,
		huge_message, NULL);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, scripted_failures, 0, QC_ARRAY_SIZE(failure_cases));
	unit_add_tests(tc, large_command_waits_for_room, send_timeout_mid_command, fd_passing,
		raw_passthrough, open_all_sends_before_the_greeting, open_all_bad_arguments,
		connect_all_over_socket, connect_retries_until_socket_exists, connect_errors,
		connect_watch_gives_up_when_qemu_dies, connect_refuses_other_uid, NULL);
	return s;
}

UNIT_MAIN(qmp_suite)
