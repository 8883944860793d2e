/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A scripted fake QEMU for the QMP client tests: a thread on the other end
 * of a socketpair() (or of a listening unix socket) that sends scripted
 * lines, reads our commands and checks them.  Every read and write of the
 * fake has a 5 s socket timeout, so a broken client fails, never hangs.
 */
#ifndef QC_CHECK_QMP_FAKE_H
#define QC_CHECK_QMP_FAKE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

enum fake_op {
	F_END = 0,
	F_SEND, /* arg + "\n"; "$ID" becomes the last command's id */
	F_SEND_RAW, /* arg as is (no newline) */
	F_SEND_BIG, /* an event line with a string of n bytes */
	F_EXPECT, /* a command: execute == arg, arguments dump == arg2 (NULL: any) */
	F_EXPECT_FD, /* like F_EXPECT, and an fd arrived with it that reads "hello-fd" */
	F_SLEEP, /* n ms */
	F_CLOSE, /* close our end now */
	F_WAIT_EOF, /* read until the client closes */
	F_EVENTS, /* n events named arg, "data": {"i": k} */
};

struct fake_step {
	enum fake_op op;
	const char *arg, *arg2;
	size_t n;
};

struct fake {
	int cfd, sfd, lfd;
	const char *listen_path;
	int listen_delay_ms;
	pthread_t th;
	bool started;
	const struct fake_step *script;
	char last_id[64];
	char buf[256 * 1024];
	size_t len;
	int fds[8];
	size_t n_fds;
	char fail[512]; /* "" when the script ran as expected */
};

#define GREETING                                                                          \
	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 2, \"minor\": 2, \"major\": 7}, " \
	"\"package\": \"Debian 1:7.2+dfsg-7\"}, \"capabilities\": [\"oob\"]}}"
/* The reply to the command just expected, returning value (JSON text). */
#define REPLY(value)                                                    \
	{                                                               \
		F_SEND, "{\"return\": " value ", \"id\": $ID}", NULL, 0 \
	}
#define NEGOTIATE \
	{F_SEND, GREETING, NULL, 0}, {F_EXPECT, "qmp_capabilities", "none", 0}, REPLY("{}")

/* Start the fake on a socketpair; f->cfd is the client's end. */
void fake_start(struct fake *f, const struct fake_step *script);
/* Start the fake listening at path after delay_ms; it serves one client. */
void fake_start_listen(
	struct fake *f, const char *path, int delay_ms, const struct fake_step *script);
/* Join the thread (after the client closed) and fail the test if the script failed. */
void fake_finish(struct fake *f);

#endif
