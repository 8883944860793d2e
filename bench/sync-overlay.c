/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench/sync-overlay DIR [N]: time N overlay creations through the library
 * (qc_img_create_overlay: resolve the backing path, spawn qemu-img with
 * captured output) against N raw `qemu-img create -f qcow2 -F qcow2 -b`
 * spawned directly (posix_spawn, output to /dev/null).  Goal: ratio <= 1.1.
 */
#include "config.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "storage/storage.h"

extern char **environ;

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;

	return x < y ? -1 : x > y;
}

static int raw_create(const char *img, const char *base, const char *ov)
{
	const char *argv[] = {
		img, "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base, ov, NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawn(&pid, img, &fa, NULL, (char *const *) argv, environ) != 0)
		return -1;
	posix_spawn_file_actions_destroy(&fa);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct qc_error err = {0};
	cleanup_free char *img = NULL, *base = NULL;
	int n = argc > 2 ? atoi(argv[2]) : 50;
	int64_t t0, t_raw = 0, t_lib = 0, *raw, *lib;

	if (argc < 2 || n <= 0) {
		fprintf(stderr, "usage: %s DIR [N]\n", argv[0]);
		return 2;
	}
	if (qc_img_program(&img, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	raw = qc_xzalloc((size_t) n * sizeof(*raw));
	lib = qc_xzalloc((size_t) n * sizeof(*lib));
	base = qc_xasprintf("%s/ov-base.qcow2", argv[1]);
	if (qc_img_create(base, "qcow2", 1 << 30, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	/* Interleave the two so drift (other load on the machine) hits both alike. */
	for (int i = 0; i < n; i++) {
		cleanup_free char *a = qc_xasprintf("%s/ov-raw-%d.qcow2", argv[1], i);
		cleanup_free char *b = qc_xasprintf("%s/ov-lib-%d.qcow2", argv[1], i);

		t0 = qc_now_us();
		if (raw_create(img, base, a) < 0) {
			fprintf(stderr, "qemu-img create %s failed\n", a);
			return 1;
		}
		raw[i] = qc_now_us() - t0;
		t_raw += raw[i];
		t0 = qc_now_us();
		if (qc_img_create_overlay(b, base, "qcow2", 0, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		lib[i] = qc_now_us() - t0;
		t_lib += lib[i];
		unlink(a);
		unlink(b);
	}
	unlink(base);
	/* Medians: the machine is shared, a mean is at the mercy of one stall. */
	qsort(raw, (size_t) n, sizeof(*raw), cmp64);
	qsort(lib, (size_t) n, sizeof(*lib), cmp64);
	printf("overlay: %d creations each (median; mean in parentheses)\n", n);
	printf("  qemu-img create (posix_spawn)  %7.2f ms  (%.2f)\n", (double) raw[n / 2] / 1000.0,
		(double) t_raw / n / 1000.0);
	printf("  qc_img_create_overlay          %7.2f ms  (%.2f)\n", (double) lib[n / 2] / 1000.0,
		(double) t_lib / n / 1000.0);
	printf("  ratio library/raw: %.3f median, %.3f mean (goal <= 1.1)\n",
		(double) lib[n / 2] / (double) raw[n / 2], (double) t_lib / (double) t_raw);
	free(raw);
	free(lib);
	return 0;
}
