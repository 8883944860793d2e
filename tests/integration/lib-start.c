/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Whose child a started VM's qemuctl-monitor is, seen by a program that
 * uses libqemuctl (<qemuctl.h> only), run by lifecycle-example.sh:
 *
 *   lib-start ROOT NAME
 *
 * starts NAME paused twice: first as a long-lived caller would (the
 * default: the monitor detaches and is no child of ours, so a caller's
 * waitpid(-1) cannot take it), then with qc_ctx_set_monitor_as_child (the
 * monitor is our child, in a session of its own, and we reap it after the
 * destroy).  Prints one line per fact; exit 0 when every call worked.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <qemuctl.h>

static pid_t ppid_of(pid_t pid)
{
	char path[64], buf[512], *p;
	int ppid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	if (!(f = fopen(path, "re")))
		return -1;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		(void) sscanf(p + 1, " %*c %d", &ppid);
	fclose(f);
	return ppid;
}

/* Start name paused and say whose child its monitor is; its pid in *ret. */
static int start(qc_ctx *ctx, const char *how, const char *name, pid_t *ret)
{
	struct qc_vm_start_opts o = {.paused = true};
	struct qc_vm_info *info = NULL;
	struct qc_error err = {0};
	pid_t mon, w;

	if (qc_vm_start(ctx, name, &o, &err) < 0 || qc_vm_info(ctx, name, &info, &err) < 0) {
		fprintf(stderr, "lib-start: %s: %s\n", how, err.msg);
		return -1;
	}
	mon = info->monitor_pid;
	qc_vm_info_free(info);
	w = waitpid(-1, NULL, WNOHANG);
	printf("%s: monitor ppid %s\n", how, ppid_of(mon) == getpid() ? "self" : "other");
	printf("%s: children %s\n", how,
		w == 0			   ? "running"
		: w < 0 && errno == ECHILD ? "none"
					   : "reaped");
	printf("%s: session %s\n", how, getsid(mon) == mon ? "own" : "shared");
	*ret = mon;
	return 0;
}

int main(int argc, char **argv)
{
	struct qc_error err = {0};
	qc_ctx *ctx = NULL;
	pid_t mon, w;
	int status = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: lib-start ROOT NAME\n");
		return 2;
	}
	if (qc_ctx_open(argv[1], &ctx, &err) < 0) {
		fprintf(stderr, "lib-start: %s\n", err.msg);
		return 1;
	}
	if (start(ctx, "default", argv[2], &mon) < 0 || qc_vm_destroy(ctx, argv[2], &err) < 0)
		goto fail;
	qc_ctx_set_monitor_as_child(ctx, true);
	if (start(ctx, "as-child", argv[2], &mon) < 0 || qc_vm_destroy(ctx, argv[2], &err) < 0)
		goto fail;
	/* destroy returns once the monitor has exited: ours to reap */
	while ((w = waitpid(mon, &status, 0)) < 0 && errno == EINTR)
		;
	printf("as-child: reaped %s\n", w == mon && WIFEXITED(status)
						? (WEXITSTATUS(status) ? "exit non-zero" : "exit 0")
						: "nothing");
	qc_ctx_close(ctx);
	return 0;
fail:
	if (err.msg[0])
		fprintf(stderr, "lib-start: %s\n", err.msg);
	qc_ctx_close(ctx);
	return 1;
}
