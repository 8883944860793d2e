/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemuctl cp [-r] [NAME:]SRC... [NAME:]DST: files between this host and a
 * VM's guest, by scp over SFTP.  qemuctl exec NAME [--] CMD...: a command
 * in the guest, its exit code qemuctl's, through the guest agent when one
 * answers (qc_vm_exec_agent), else over ssh.  ssh connects as `qemuctl
 * ssh` does (qc_vm_scp_command, qc_vm_ssh_command): the VM's user,
 * qemuctl's key, the host key the seed gave the guest; a booting VM is
 * waited for.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver/cli/cli.h"

/* The exit code of ssh (and of scp) when it failed itself. */
#define SSH_FAILED 255

void cli_cp_usage(FILE *f, const char *name)
{
	(void) name;
	fputs("usage: qemuctl cp [OPTIONS] [-r] [--] [NAME:]SRC... [NAME:]DST\n"
	      "\n"
	      "Copies files between this host and a VM's guest: either every SRC is in the\n"
	      "guest (NAME:PATH, one VM) and DST on this host, or every SRC is here and DST\n"
	      "is NAME:PATH.  A guest PATH that is relative is in the guest user's home;\n"
	      "NAME: alone is the home.  A host path holding ':' before any '/' is written\n"
	      "./PATH.  scp over SFTP copies: names with blanks, quotes, $ or * are taken\n"
	      "as they are.  It connects as 'qemuctl ssh' does; a VM still booting is\n"
	      "waited for, a paused or stopped one is refused.\n"
	      "\n"
	      "  -r                   copy directories and what they hold\n"
	      "  --no-wait            fail at once when the guest is not ready yet\n"
	      "  --timeout S          seconds to wait for a booting guest (default 300)\n"
	      "\n"
	      "Exit: 0 copied, 1 an error (scp's message above it), 2 a usage error.\n",
		f);
}

void cli_exec_usage(FILE *f, const char *name)
{
	(void) name;
	fputs("usage: qemuctl exec [OPTIONS] NAME [--] CMD [ARG...]\n"
	      "\n"
	      "Runs CMD with its ARGs in the VM's guest, each word as given ('$HOME' stays\n"
	      "'$HOME').  When the guest runs qemu-guest-agent, the agent runs it\n"
	      "(guest-exec): CMD is looked up in the guest's PATH, its stdin is empty, and\n"
	      "its stdout and stderr are printed when it exits.  Otherwise ssh runs it,\n"
	      "connecting as 'qemuctl ssh' does, with stdin, stdout and stderr passed\n"
	      "through; a VM still booting is waited for, a paused or stopped one is\n"
	      "refused.\n"
	      "\n"
	      "  --via agent|ssh      only through the guest agent, or only over ssh\n"
	      "                       (default: the agent when one answers, else ssh)\n"
	      "  --no-wait            ssh: fail at once when the guest is not ready yet\n"
	      "  --timeout S          ssh: seconds to wait for a booting guest (default 300)\n"
	      "\n"
	      "Exit: CMD's own exit code, 128+N when signal N ended it (127: no such command\n"
	      "in the guest); 255 when ssh could not connect (or CMD exited 255); 1 or 2\n"
	      "for qemuctl's own errors.\n",
		f);
}

/*
 * Run argv and wait: its exit code, 128 + the signal that ended it, or -1
 * with the error printed.  A terminal's ^C reaches the child, which ends;
 * qemuctl waits for it rather than dying first.
 */
static int run_child(const char *cmd, char *const *argv)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
	int status, e;
	pid_t pid, w;

	fflush(stdout);
	fflush(stderr);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	pid = fork();
	if (pid == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		execvp(argv[0], argv);
		e = errno;
		fprintf(stderr, "qemuctl: error: %s: cannot run '%s': %s%s\n", cmd, argv[0],
			strerror(e), e == ENOENT ? " (install openssh-client)" : "");
		_exit(127);
	}
	e = errno;
	while (pid > 0 && (w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	if (pid < 0) {
		cli_error_errno(e, "%s: cannot start %s", cmd, argv[0]);
		return -1;
	}
	if (w < 0) {
		cli_error_errno(errno, "%s: waiting for %s", cmd, argv[0]);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The connection settings cp and exec take: --no-wait, --timeout. */
static int wait_opts(const char *cmd, const struct cli_args *a, struct qc_vm_ssh_opts *o)
{
	o->no_wait = a->set[OPT_NO_WAIT];
	if (a->val[OPT_TIMEOUT] && o->no_wait)
		return cli_usage_error(cmd, "%s: --timeout and --no-wait exclude each other", cmd);
	if (a->val[OPT_TIMEOUT] &&
		cli_parse_wait_timeout(cmd, a->val[OPT_TIMEOUT], &o->wait_timeout_ms) < 0)
		return CLI_USAGE;
	return 0;
}

/* ------------------------------------------------------------------ exec */

/*
 * A way to run a command in the guest: its exit code, or -1 with the error
 * printed; -2 (the agent, when any way will do): no agent answers.
 */
struct exec_transport {
	const char *name;
	int (*run)(struct cli *c, qc_ctx *ctx, const char *vm, char *const *cmd,
		const struct qc_vm_ssh_opts *o, bool chosen);
};

static int exec_ssh(struct cli *c, qc_ctx *ctx, const char *vm, char *const *cmd,
	const struct qc_vm_ssh_opts *o, bool chosen)
{
	struct qc_vm_ssh_opts so = *o;
	struct qc_error err = {0};
	struct cli_spin spin;
	autostrv char **quoted = cli_sh_quote_argv(cmd);
	autostrv char **argv = NULL;
	int rc;

	(void) chosen;
	so.cmd = (const char *const *) quoted;
	cli_spin_begin(c, ctx, vm, &spin);
	rc = qc_vm_ssh_command(ctx, vm, &so, &argv, &err);
	cli_spin_end(&spin);
	if (rc < 0) {
		cli_wait_error(ctx, vm, &err);
		return -1;
	}
	if (c->verbosity > 0) {
		autofree char *line = cli_strv_join(argv, " ");

		fprintf(stderr, "qemuctl: %s\n", line);
	}
	rc = run_child("exec", argv);
	if (rc == SSH_FAILED)
		fprintf(stderr,
			"qemuctl: error: exec: ssh exited 255: the connection to VM '%s' failed "
			"(its message is above), or the command itself exited 255\n",
			vm);
	return rc;
}

static void exec_output(int stream, const char *data, size_t len, void *opaque)
{
	int fd = stream == 2 ? STDERR_FILENO : STDOUT_FILENO;

	(void) opaque;
	(void) cli_write_all(fd, data, len); /* a closed pipe: the rest is not wanted */
}

/* Through the guest agent; unless chosen (--via agent), no agent answering is -2. */
static int exec_agent(struct cli *c, qc_ctx *ctx, const char *vm, char *const *cmd,
	const struct qc_vm_ssh_opts *o, bool chosen)
{
	struct qc_error err = {0};
	int status = 0, rc;

	(void) o;
	fflush(stdout);
	rc = qc_vm_exec_agent(ctx, vm, (const char *const *) cmd, exec_output, NULL, &status, &err);
	/* not running, paused, no agent: ssh says the same in its own words, or works */
	if ((rc == -QC_ERR_UNSUPPORTED || rc == -QC_ERR_STATE) && !chosen) {
		if (c->verbosity > 0)
			fprintf(stderr, "qemuctl: %s; using ssh\n", err.msg);
		return -2;
	}
	if (rc == -QC_ERR_CHILD) {
		cli_error(&err);
		return 127;
	}
	if (rc < 0) {
		cli_error(&err);
		return -1;
	}
	return status;
}

static const struct exec_transport exec_transports[] = {{"agent", exec_agent}, {"ssh", exec_ssh}};

int cli_exec(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_vm_ssh_opts o = {0};
	const char *via = a->val[OPT_VIA];
	qc_ctx *ctx;
	int rc = -2;

	(void) cmd;
	if (a->n_rest == 0)
		return cli_usage_error("exec", "exec: missing CMD (qemuctl exec NAME [--] CMD...)");
	if (via && strcmp(via, "agent") != 0 && strcmp(via, "ssh") != 0)
		return cli_usage_error("exec", "exec: --via '%s': use agent or ssh", via);
	if ((rc = wait_opts("exec", a, &o)) != 0)
		return rc;
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	rc = -2;
	for (size_t i = 0; i < CLI_ARRAY_SIZE(exec_transports) && rc == -2; i++)
		if (!via || strcmp(via, exec_transports[i].name) == 0)
			rc = exec_transports[i].run(c, ctx, a->pos[0], a->rest, &o, via != NULL);
	return rc < 0 ? CLI_ERROR : rc;
}

/* -------------------------------------------------------------------- cp */

/* "NAME:PATH" names a VM: a ':' with something before it and no '/' there. */
static bool guest_side(const char *w, const char **ret_path, size_t *ret_name_len)
{
	const char *colon = strchr(w, ':');

	if (!colon || colon == w || memchr(w, '/', (size_t) (colon - w)))
		return false;
	*ret_name_len = (size_t) (colon - w);
	*ret_path = *(colon + 1) ? colon + 1 : ".";
	return true;
}

int cli_cp(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_vm_ssh_opts o = {0};
	struct qc_error err = {0};
	struct cli_spin spin;
	autofree const char **src = NULL;
	autofree char *name = NULL;
	autostrv char **argv = NULL;
	char **w = a->rest;
	const char *dst, *path;
	size_t n, len;
	unsigned flags = 0;
	bool dst_guest;
	qc_ctx *ctx;
	int rc;

	(void) cmd;
	if ((rc = wait_opts("cp", a, &o)) != 0)
		return rc;
	n = (size_t) a->n_rest;
	/* a->rest points into argv after the command's word: a "--" the parser took
	 * right before it ends the options */
	if (n && strcmp(a->rest[-1], "--") != 0) {
		for (; n && w[0][0] == '-'; w++, n--) {
			if (!strcmp(w[0], "--")) {
				w++, n--;
				break;
			}
			if (!strcmp(w[0], "-r") || !strcmp(w[0], "-R"))
				flags |= QC_SCP_RECURSIVE;
			else
				return cli_usage_error("cp",
					"cp: unknown option '%s' (a path beginning with '-' goes "
					"after "
					"--)",
					w[0]);
		}
	}
	if (n < 2)
		return cli_usage_error("cp", "cp: needs a source and a destination "
					     "(qemuctl cp [-r] [NAME:]SRC... [NAME:]DST)");
	dst = w[n - 1];
	dst_guest = guest_side(dst, &path, &len);
	if (dst_guest) {
		name = strndup(dst, len);
		dst = path;
		flags |= QC_SCP_TO_GUEST;
	}
	if (!(src = calloc(n, sizeof(*src))))
		abort();
	for (size_t i = 0; i + 1 < n; i++) {
		struct stat st;
		bool g = guest_side(w[i], &path, &len);

		if (g && dst_guest)
			return cli_usage_error("cp",
				"cp: both '%s' and '%s' name a VM; one side must be on this host "
				"(copy between VMs through a local directory)",
				w[i], w[n - 1]);
		if (!g && !dst_guest)
			return cli_usage_error("cp",
				"cp: neither '%s' nor '%s' names a VM; write the guest's side as "
				"NAME:PATH",
				w[i], w[n - 1]);
		if (g && name && (strlen(name) != len || strncmp(name, w[i], len)))
			return cli_usage_error("cp",
				"cp: the sources name two VMs, '%s' and '%.*s'; copy from one at a "
				"time",
				name, (int) len, w[i]);
		if (g && !name)
			name = strndup(w[i], len);
		if (g) {
			src[i] = path;
			continue;
		}
		/* a local source: there, and a directory only with -r */
		if (stat(w[i], &st) < 0)
			return cli_error_errno(errno, "cp: source '%s'", w[i]);
		if (S_ISDIR(st.st_mode) && !(flags & QC_SCP_RECURSIVE))
			return cli_error_errno(
				EISDIR, "cp: source '%s' (copy a directory with -r)", w[i]);
		src[i] = w[i];
	}
	if (!name)
		abort();
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	cli_spin_begin(c, ctx, name, &spin);
	rc = qc_vm_scp_command(ctx, name, &o, flags, src, dst, &argv, &err);
	cli_spin_end(&spin);
	if (rc < 0)
		return cli_wait_error(ctx, name, &err);
	if (c->verbosity > 0) {
		autofree char *line = cli_strv_join(argv, " ");

		fprintf(stderr, "qemuctl: %s\n", line);
	}
	rc = run_child("cp", argv);
	if (rc < 0)
		return CLI_ERROR;
	if (rc != 0) {
		fprintf(stderr, "qemuctl: error: cp: scp exited %d%s\n", rc,
			rc == SSH_FAILED
				? ": the connection to the VM failed (its message is above)"
				: " (its message is above)");
		return CLI_ERROR;
	}
	return CLI_OK;
}
