/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemuctl migrate NAME ssh://[USER@]HOST[:PORT][/ROOT] [--offline]: move a VM
 * to another host's qemuctl; qemuctl migrate-receive: that host's side
 * (hidden: ssh runs it, speaking the migration protocol on stdin/stdout).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>

#include "driver/cli/cli.h"

void cli_migrate_usage(FILE *f, const char *name)
{
	(void) name;
	fputs("usage: qemuctl migrate NAME ssh://[USER@]HOST[:PORT][/ROOT] [--offline]\n"
	      "                       [--copy-storage] [--ssh-option OPT]... [--remote-qemuctl CMD]\n\n"
	      "Move VM NAME to the qemuctl on HOST (state root ROOT there, else its\n"
	      "default) through one ssh connection: your ssh config, keys and agent, no\n"
	      "password prompts (BatchMode), no port opened.  --offline moves a stopped\n"
	      "VM: its definition, disks' overlays, seed and its files, varstore and\n"
	      "keys.  A backing image outside the VM's directory is taken from HOST's\n"
	      "image catalog when it holds the same file (SHA-256), else it is sent and\n"
	      "checked.  Kernel, initrd and firmware files must be at the same paths on\n"
	      "HOST.  The VM here is removed only after HOST committed it; on any\n"
	      "failure it stays here as it was and HOST keeps nothing.\n"
	      "A running VM (without --offline) moves live (pre-copy) while it runs:\n"
	      "HOST makes its writable disks empty on the same backing images, QEMU\n"
	      "here mirrors them there and then migrates its RAM, all through the same\n"
	      "ssh connection; its CPUs stop only for QEMU's last round (no reboot, its\n"
	      "processes go on), HOST runs it, and only then its QEMU here ends.  On a\n"
	      "failure before that (HOST, its QEMU or ssh gone, a signal) the VM runs\n"
	      "on here and HOST keeps nothing.\n"
	      "  --copy-storage       copy the VM's disks (always done: they live in the\n"
	      "                       VM's directory; the explicit spelling)\n"
	      "  --ssh-option OPT     give ssh '-o OPT' (e.g. IdentityFile=KEY)\n"
	      "  --remote-qemuctl CMD the qemuctl command on HOST (default: qemuctl)\n"
	      "  --json               the outcome: bytes sent, total_ms, downtime_ms, and\n"
	      "                       for a running VM QEMU's downtime, RAM and disk bytes\n"
	      "Not moved (refused with the reason): snapshots, shared host directories,\n"
	      "addresses in named networks.\n"
	      "A disk outside the VM's directory (create --disk FILE) is never copied:\n"
	      "it must be the same file at the same path on HOST (shared storage).\n"
	      "HOST checks it as create --disk FILE would, and that it has the same\n"
	      "format and virtual size, before anything is sent.\n"
	      "The same VM defined on HOST (same name and UUID, stopped, no file of its\n"
	      "own there: its disks all on shared storage, as a cluster defines it on\n"
	      "every node) is replaced at the commit, else refused; its definition\n"
	      "stays here too (stopped) when it is all the VM has here.\n"
	      "On a terminal one line shows the progress (phase, bytes sent, rate).\n"
	      "Ctrl-C, SIGTERM or SIGHUP before the commit (a running VM: before its\n"
	      "migration completed) cancel the move: the VM runs on (or stays) here,\n"
	      "HOST keeps nothing, exit 130/143/129; after that the move completes.\n"
	      "On HOST the VM's events begin with QEMUCTL_MIGRATED (where it came from).\n",
		f);
}

/* The signal that cancels the move (its number), set by on_signal. */
static volatile sig_atomic_t migrate_signal;

static void on_signal(int sig)
{
	migrate_signal = sig;
}

static const int cancel_signals[] = {SIGINT, SIGTERM, SIGHUP};

/*
 * SIGINT, SIGTERM and SIGHUP cancel the move (no SA_RESTART: a blocked
 * read or write returns); one ignored (nohup, a script's background job)
 * stays ignored.  old: the actions to restore.
 */
static void catch_signals(
	struct sigaction old[CLI_ARRAY_SIZE(cancel_signals)], void (*handler)(int))
{
	struct sigaction sa = {.sa_handler = handler};

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < CLI_ARRAY_SIZE(cancel_signals); i++)
		if (sigaction(cancel_signals[i], NULL, &old[i]) == 0 &&
			old[i].sa_handler != SIG_IGN)
			sigaction(cancel_signals[i], &sa, NULL);
}

static void restore_signals(const struct sigaction old[CLI_ARRAY_SIZE(cancel_signals)])
{
	for (size_t i = 0; i < CLI_ARRAY_SIZE(cancel_signals); i++)
		sigaction(cancel_signals[i], &old[i], NULL);
}

int cli_migrate(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_migrate_opts o = {
		.offline = a->set[OPT_OFFLINE],
		.ssh_options = a->multi[OPT_SSH_OPTION],
		.remote_qemuctl = a->val[OPT_REMOTE_QEMUCTL],
		.interrupted = &migrate_signal,
	};
	struct sigaction old[CLI_ARRAY_SIZE(cancel_signals)];
	struct qc_migrate_result r = {0};
	struct cli_progress p;
	struct qc_error err = {0};
	qc_ctx *ctx;
	int rc;

	(void) cmd;
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	/* on a terminal the progress line; --json: the final figures only */
	cli_progress_begin(c, ctx, &p, false);
	catch_signals(old, on_signal);
	rc = qc_vm_migrate(ctx, a->pos[0], a->pos[1], &o, &r, &err);
	restore_signals(old);
	cli_progress_end(ctx, &p);
	if (rc < 0) {
		cli_error(&err);
		/* 128 + the signal, as a shell reports a command it ended */
		return err.code == ECANCELED && migrate_signal ? 128 + migrate_signal : CLI_ERROR;
	}
	if (migrate_signal)
		fprintf(stderr,
			"qemuctl: %s came after the target committed VM '%s': the move was "
			"completed\n",
			migrate_signal == SIGINT    ? "SIGINT"
			: migrate_signal == SIGTERM ? "SIGTERM"
						    : "SIGHUP",
			a->pos[0]);
	if (c->json) {
		autojson struct cli_json *g = cli_json_new(true);

		cli_json_map_open(g);
		cli_json_kstring(g, "name", a->pos[0]);
		cli_json_kstring(g, "target", a->pos[1]);
		cli_json_kstring(g, "mode", r.live ? "running" : "offline");
		cli_json_kuint(g, "bytes", r.bytes);
		cli_json_kuint(g, "images_sent", r.images_sent);
		cli_json_kuint(g, "images_reused", r.images_reused);
		cli_json_kint(g, "total_ms", r.total_ms);
		cli_json_kuint_or_null(g, "downtime_ms", r.live, (uint64_t) r.downtime_ms);
		cli_json_kuint_or_null(
			g, "qemu_downtime_ms", r.live, (uint64_t) r.qemu_downtime_ms);
		cli_json_kuint_or_null(g, "ram_bytes", r.live, r.ram_bytes);
		cli_json_kuint_or_null(g, "disk_bytes", r.live, r.disk_bytes);
		cli_json_map_close(g);
		return cli_print_json(g);
	}
	if (c->verbosity >= 0 && r.live)
		printf("VM '%s' runs on %s now (%llu bytes sent, %lld ms, its CPUs stopped %lld "
		       "ms, QEMU's downtime %lld ms)\n",
			a->pos[0], a->pos[1], (unsigned long long) r.bytes, (long long) r.total_ms,
			(long long) r.downtime_ms, (long long) r.qemu_downtime_ms);
	else if (c->verbosity >= 0)
		printf("VM '%s' moved to %s (%llu bytes sent, %lld ms)\n", a->pos[0], a->pos[1],
			(unsigned long long) r.bytes, (long long) r.total_ms);
	return CLI_OK;
}

/* /dev/null, open for on_receive_signal */
static int receive_null_fd = -1;

/* A signal ends the receive as the source's going away does: stdin reads EOF from now on. */
static void on_receive_signal(int sig)
{
	(void) sig;
	(void) dup2(receive_null_fd, STDIN_FILENO);
}

int cli_migrate_receive(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct sigaction old[CLI_ARRAY_SIZE(cancel_signals)];
	struct qc_error err = {0};
	qc_ctx *ctx;

	(void) cmd;
	(void) a;
	/* a source gone is EOF or EPIPE here, and the work directory is removed */
	signal(SIGPIPE, SIG_IGN);
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	/* SIGINT, SIGTERM, SIGHUP here: the same, before the commit nothing stays */
	receive_null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (receive_null_fd >= 0)
		catch_signals(old, on_receive_signal);
	if (qc_vm_migrate_receive(ctx, 0, 1, &err) < 0)
		return cli_error(&err);
	return CLI_OK;
}
