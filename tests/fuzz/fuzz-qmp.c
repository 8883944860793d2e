/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The QMP client as it reads a server: the input is everything "QEMU" says
 * (greeting, replies, events, garbage), written into one end of a
 * socketpair() and followed by EOF; the client on the other end connects,
 * negotiates, runs two commands, a raw command and reads events.  Whatever
 * arrives, every call must end (EOF is always there: no call may wait for
 * its timeout), errors must be sticky once the connection is dead (the
 * same code and reason, named after the command that met it), and events
 * must come out whole.
 */
#include "config.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qmp/qmp.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cleanup_qmp struct qc_qmp *q = NULL;
	struct qc_error err = {0}, err2 = {0};
	cleanup_json qc_json *ret = NULL;
	cleanup_free char *reply = NULL;
	struct qc_qmp_event *ev = NULL;
	int sv[2], r;
	size_t off = 0;

	if (size > 128 * 1024) /* below the socket buffer: the writes never block */
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	{
		int sz = 512 * 1024;

		(void) setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	while (off < size) {
		ssize_t n = write(sv[1], data + off, size - off);

		FUZZ_CHECK(n > 0, "write to the socketpair failed");
		off += (size_t) n;
	}
	shutdown(sv[1], SHUT_WR);

	r = qc_qmp_open_fd(sv[0], 2000, &q, &err);
	fuzz_check_error(r, &err);
	if (r < 0) {
		close(sv[1]);
		return 0;
	}
	r = qc_qmp_execute(q, "query-status", NULL, 2000, &ret, &err);
	fuzz_check_error(r, &err);
	FUZZ_CHECK(r != -ETIMEDOUT, "query-status waited for its timeout: %s", err.msg);
	qc_json_free(TAKE_PTR(ret));
	r = qc_qmp_execute_text(
		q, "human-monitor-command", "{\"command-line\":\"info\"}", 2000, &ret, &err);
	fuzz_check_error(r, &err);
	FUZZ_CHECK(r != -ETIMEDOUT, "second command waited for its timeout: %s", err.msg);
	r = qc_qmp_raw(q, "{\"execute\":\"query-name\",\"id\":\"user-1\"}", 2000, &reply, &err);
	fuzz_check_error(r, &err);
	FUZZ_CHECK(r != -ETIMEDOUT, "raw command waited for its timeout: %s", err.msg);
	(void) qc_qmp_read_available(q, &err);

	/* The connection has seen EOF by now: dead, and the error sticks. */
	r = qc_qmp_check_alive(q, &err);
	FUZZ_CHECK(r < 0, "connection alive after EOF");
	fuzz_check_error(r, &err);
	FUZZ_CHECK(qc_qmp_execute(q, "stop", NULL, 2000, NULL, &err2) == r,
		"error not sticky: %d then %s", r, err2.msg);
	/* the same reason, named after the command that met it: "QMP 'stop': " */
	FUZZ_CHECK(strncmp(err.msg, "QMP: ", 5) == 0, "check_alive's message: '%s'", err.msg);
	FUZZ_CHECK(strncmp(err2.msg, "QMP 'stop': ", 12) == 0 &&
			   strcmp(err2.msg + 12, err.msg + 5) == 0,
		"sticky reason changed: '%s' then '%s'", err.msg, err2.msg);

	while (qc_qmp_pop_event(q, &ev) == 1) {
		FUZZ_CHECK(ev->name && ev->json && ev->line, "event without name/json/line");
		qc_qmp_event_free(ev);
	}
	close(sv[1]);
	return 0;
}
