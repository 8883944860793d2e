/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/migrate_mux.c over socketpairs: two relays back to back carry
 * interleaved streams and their ends; frames split at every byte arrive
 * whole; malformed, oversized, unknown-stream and after-the-end frames are
 * refused; a local reader that stops holds the channel back with a bounded
 * buffer; the cancel flag ends a relay within 250 ms.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "driver/migrate_mux.h"
#include "tests/unit/check_main.h"
#include "tests/unit/unit.h"

static void pair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

/* Read fd to its end (at most cap bytes) into buf; the count. */
static size_t read_all(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while ((n = read(fd, buf + got, cap - got)) > 0)
		got += (size_t) n;
	ck_assert_int_ge(n, 0);
	return got;
}

static void wait_ended(struct qc_mux *m, int ms)
{
	for (int i = 0; i < ms / 10 && qc_mux_alive(m); i++)
		usleep(10000);
	ck_assert_msg(!qc_mux_alive(m), "the relay still runs after %d ms", ms);
}

/*
 * Write w (n bytes) to wfd while reading rfd until it has n bytes: the
 * relays in between hold less than that at once.
 */
static void exchange(int wfd, const char *w, int rfd, char *r, size_t n)
{
	size_t sent = 0, got = 0;

	while (got < n) {
		struct pollfd p[2] = {{.fd = rfd, .events = POLLIN},
			{.fd = wfd, .events = sent < n ? POLLOUT : 0}};

		ck_assert_int_gt(poll(p, 2, 5000), 0);
		if (p[1].revents & POLLOUT) {
			ssize_t k = send(wfd, w + sent, n - sent, MSG_DONTWAIT);

			ck_assert(k > 0 || errno == EAGAIN);
			sent += k > 0 ? (size_t) k : 0;
		}
		if (p[0].revents & POLLIN) {
			ssize_t k = read(rfd, r + got, n - got);

			ck_assert_int_gt(k, 0);
			got += (size_t) k;
		}
	}
}

START_TEST(back_to_back)
{
	enum { N = 3, BIG = 700 * 1024 };
	struct qc_error err = {0};
	struct qc_mux *a = NULL, *b = NULL;
	int chan[2], la[N][2], lb[N][2], fa[N], fb[N];
	char *big = malloc(BIG), *got = malloc(BIG), small[16];

	pair(chan);
	for (int i = 0; i < N; i++) {
		pair(la[i]);
		pair(lb[i]);
		fa[i] = la[i][1];
		fb[i] = lb[i][1];
	}
	for (size_t i = 0; i < BIG; i++)
		big[i] = (char) (i * 7 + i / 251);
	ck_assert_qc_ok(qc_mux_new(chan[0], chan[0], fa, N, NULL, 0, NULL, &a, &err), &err);
	ck_assert_qc_ok(qc_mux_new(chan[1], chan[1], fb, N, NULL, 0, NULL, &b, &err), &err);
	ck_assert_qc_ok(qc_mux_start(a, &err), &err);
	ck_assert_qc_ok(qc_mux_start(b, &err), &err);
	/* interleaved: a big stream each way while small ones pass */
	ck_assert_int_eq(write(la[0][0], "hello", 5), 5);
	exchange(la[1][0], big, lb[1][0], got, BIG);
	ck_assert(memcmp(big, got, BIG) == 0);
	exchange(lb[2][0], big, la[2][0], got, BIG);
	ck_assert(memcmp(big, got, BIG) == 0);
	ck_assert_int_eq(read(lb[0][0], small, sizeof(small)), 5);
	ck_assert(memcmp(small, "hello", 5) == 0);
	ck_assert_uint_eq(qc_mux_bytes_out(a, 1), BIG);
	ck_assert_uint_eq(qc_mux_bytes_in(a, 2), BIG);
	/* each end passes to the other side; both relays end cleanly */
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(shutdown(la[i][0], SHUT_WR), 0);
		ck_assert_uint_eq(read_all(lb[i][0], small, sizeof(small)), 0);
		ck_assert_int_eq(shutdown(lb[i][0], SHUT_WR), 0);
		ck_assert_uint_eq(read_all(la[i][0], small, sizeof(small)), 0);
	}
	wait_ended(a, 2000);
	wait_ended(b, 2000);
	ck_assert_int_eq(qc_mux_status(a, &err), 0);
	ck_assert_int_eq(qc_mux_status(b, &err), 0);
	qc_mux_free(a);
	qc_mux_free(b);
	for (int i = 0; i < N; i++) {
		close(la[i][0]);
		close(lb[i][0]);
	}
	close(chan[0]);
	close(chan[1]);
	free(big);
	free(got);
}
END_TEST

/* Every split of the channel's bytes (read ahead, then the rest) gives the same streams. */
START_TEST(split_at_every_byte)
{
	static const unsigned char frames[] = {0, 0, 0, 3, 'a', 'b', 'c', 1, 0, 0, 2, 'x', 'y', 0,
		1, 0, 0, 1, 0, 0, 1, 'z', 1, 1, 0, 0};
	struct qc_error err = {0};

	for (size_t k = 0; k <= sizeof(frames); k++) {
		int chan[2], l0[2], l1[2], fds[2];
		struct qc_mux *m = NULL;
		char b0[8], b1[8];

		pair(chan);
		pair(l0);
		pair(l1);
		fds[0] = l0[1];
		fds[1] = l1[1];
		ck_assert_qc_ok(
			qc_mux_new(chan[1], chan[1], fds, 2, frames, k, NULL, &m, &err), &err);
		ck_assert_int_eq(write(chan[0], frames + k, sizeof(frames) - k),
			(ssize_t) (sizeof(frames) - k));
		ck_assert_int_eq(shutdown(chan[0], SHUT_WR), 0);
		ck_assert_int_eq(shutdown(l0[0], SHUT_WR), 0);
		ck_assert_int_eq(shutdown(l1[0], SHUT_WR), 0);
		ck_assert_msg(qc_mux_run(m, &err) == 0, "split at %zu: %s", k, err.msg);
		ck_assert_uint_eq(read_all(l0[0], b0, sizeof(b0)), 3);
		ck_assert_uint_eq(read_all(l1[0], b1, sizeof(b1)), 3);
		ck_assert(memcmp(b0, "abc", 3) == 0 && memcmp(b1, "xyz", 3) == 0);
		/* the local ends went back as end frames */
		ck_assert_uint_eq(read_all(chan[0], b0, sizeof(b0)), 8);
		qc_mux_free(m);
		close(chan[0]);
		close(chan[1]);
		close(l0[0]);
		close(l1[0]);
	}
}
END_TEST

/* bytes from the channel end the relay with code and a message containing what. */
static void refused(const void *bytes, size_t n, int code, const char *what)
{
	struct qc_error err = {0};
	int chan[2], l0[2], l1[2], fds[2];
	struct qc_mux *m = NULL;
	char b[8];

	pair(chan);
	pair(l0);
	pair(l1);
	fds[0] = l0[1];
	fds[1] = l1[1];
	ck_assert_qc_ok(qc_mux_new(chan[1], chan[1], fds, 2, bytes, n, NULL, &m, &err), &err);
	ck_assert_int_eq(shutdown(chan[0], SHUT_WR), 0);
	ck_assert_qc_fail(qc_mux_run(m, &err), &err, code, what);
	/* the local sockets are closed: their readers see the end */
	ck_assert_int_ge(read_all(l0[0], b, sizeof(b)), 0);
	ck_assert_int_eq(read(l1[0], b, sizeof(b)), 0);
	qc_mux_free(m);
	close(chan[0]);
	close(chan[1]);
	close(l0[0]);
	close(l1[0]);
}

START_TEST(bad_frames_refused)
{
	static const unsigned char unknown[] = {2, 0, 0, 1, 'x'}, kind[] = {0, 7, 0, 0},
				   oversized[] = {1, 0, 0x80, 0x01}, empty[] = {0, 0, 0, 0},
				   after_end[] = {0, 1, 0, 0, 0, 0, 0, 1, 'x'},
				   end_len[] = {0, 1, 0, 1}, twice[] = {1, 1, 0, 0, 1, 1, 0, 0},
				   cut[] = {0, 0, 0, 1, 'x', 1, 0, 0, 9, 'y'};

	refused(unknown, sizeof(unknown), QC_ERR_PROTO, "a frame of stream 2 (the channel has 2)");
	refused(kind, sizeof(kind), QC_ERR_PROTO, "stream 0: a frame of kind 7");
	refused(oversized, sizeof(oversized), QC_ERR_PROTO, "stream 1: a frame of 32769 bytes");
	refused(empty, sizeof(empty), QC_ERR_PROTO, "stream 0: a frame of 0 bytes");
	refused(after_end, sizeof(after_end), QC_ERR_PROTO, "stream 0: data after its end");
	refused(end_len, sizeof(end_len), QC_ERR_PROTO, "stream 0: a malformed end of stream");
	refused(twice, sizeof(twice), QC_ERR_PROTO, "stream 1: a malformed end of stream");
	/* the channel closing with streams open (a frame cut short) */
	refused(cut, sizeof(cut), QC_ERR_EOF, "the connection closed with stream 0 open");
}
END_TEST

/* A local reader that stops: the relay stops reading the channel, its buffer bounded. */
START_TEST(reader_stops)
{
	struct qc_error err = {0};
	int chan[2], l0[2], small = 16 * 1024, pending = 0;
	struct qc_mux *m = NULL;
	unsigned char frame[QC_MUX_HEADER + 4096] = {0, 0, 4096 >> 8, 0};
	uint64_t written = 0, in;
	char *buf;
	size_t got;

	pair(chan);
	pair(l0);
	ck_assert_int_eq(setsockopt(chan[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	ck_assert_int_eq(setsockopt(l0[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	ck_assert_qc_ok(qc_mux_new(chan[1], chan[1], &l0[1], 1, NULL, 0, NULL, &m, &err), &err);
	ck_assert_qc_ok(qc_mux_start(m, &err), &err);
	/* write frames until the channel stays full for 300 ms */
	for (;;) {
		struct pollfd p = {.fd = chan[0], .events = POLLOUT};

		if (poll(&p, 1, 300) == 0)
			break;
		ck_assert_int_eq(send(chan[0], frame, sizeof(frame), 0), (ssize_t) sizeof(frame));
		written += 4096;
		ck_assert_msg(
			written < 64 * 1024 * 1024, "the relay took 64 MiB for a stuck reader");
	}
	ck_assert(qc_mux_alive(m));
	/* what left the channel for the stream: its buffer plus what its socket holds */
	in = qc_mux_bytes_in(m, 0);
	ck_assert_int_eq(ioctl(l0[0], FIONREAD, &pending), 0);
	ck_assert_msg(in - (uint64_t) pending <= QC_MUX_BUFFER, "%llu bytes buffered",
		(unsigned long long) (in - (uint64_t) pending));
	/* the reader goes on: everything arrives, then the stream's end */
	buf = malloc(written);
	for (got = 0; got < written;) {
		ssize_t n = read(l0[0], buf + got, written - got);

		ck_assert_int_gt(n, 0);
		got += (size_t) n;
	}
	ck_assert_int_eq(send(chan[0], "\0\1\0\0", 4, 0), 4);
	ck_assert_uint_eq(read_all(l0[0], buf, written), 0);
	ck_assert_int_eq(shutdown(l0[0], SHUT_WR), 0);
	wait_ended(m, 2000);
	ck_assert_int_eq(qc_mux_status(m, &err), 0);
	free(buf);
	qc_mux_free(m);
	close(chan[0]);
	close(chan[1]);
	close(l0[0]);
}
END_TEST

START_TEST(cancel_ends_relay)
{
	static volatile sig_atomic_t cancel;
	struct qc_error err = {0};
	int chan[2], l0[2];
	struct qc_mux *m = NULL;
	int64_t t0;

	pair(chan);
	pair(l0);
	cancel = 0;
	ck_assert_qc_ok(qc_mux_new(chan[1], chan[1], &l0[1], 1, NULL, 0, &cancel, &m, &err), &err);
	ck_assert_qc_ok(qc_mux_start(m, &err), &err);
	usleep(50000);
	ck_assert(qc_mux_alive(m));
	t0 = qc_now_ms();
	cancel = 1;
	wait_ended(m, 1000);
	ck_assert_int_le(qc_now_ms() - t0, 400);
	ck_assert_qc_fail(qc_mux_status(m, &err), &err, ECANCELED, "cancelled");
	qc_mux_free(m);
	close(chan[0]);
	close(chan[1]);
	close(l0[0]);
}
END_TEST

static Suite *mux_suite(void)
{
	Suite *s = suite_create("migrate_mux");

	unit_tcase(s, "mux", back_to_back, split_at_every_byte, bad_frames_refused, reader_stops,
		cancel_ends_relay, NULL);
	return s;
}

UNIT_MAIN(mux_suite)
