/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/cli/connect_frame.c: --connect's frames read back whole from any
 * split of the byte stream, a length over the limit refused, hellos
 * parsed (and a peer's version shown only when it is plain text).
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/cli/connect.h"
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

int main(void)
{
	Suite *s = suite_create("cli-connect");

	unit_tcase(s, "frames", frames_split_anywhere, frame_over_limit, hello_parse, NULL);
	return unit_run(s, NULL);
}
