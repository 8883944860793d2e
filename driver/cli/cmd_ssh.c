/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemuctl ssh NAME [SSH OPTIONS] [-- CMD...]: execs ssh to the VM's
 * forwarded port once the guest is up; returns only on failure (CLI_ERROR
 * / CLI_USAGE).  qemuctl ssh-config NAME: the same connection as an
 * OpenSSH Host block.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/cli/cli.h"

#define SSH_HINT " (a command goes after NAME or after --)"

void cli_ssh_usage(FILE *f, const char *name)
{
	(void) name;
	fputs("usage: qemuctl ssh NAME [OPTIONS] [SSH OPTIONS] [[--] CMD...]\n"
	      "\n"
	      "Runs ssh to the VM as its guest user (create --user), with qemuctl's own key,\n"
	      "requiring the host key the VM's seed gave the guest.  A VM still booting is\n"
	      "waited for; a paused or stopped one is refused.\n"
	      "\n"
	      "  -i, --identity FILE  the private key to use (default: qemuctl's own)\n"
	      "  --no-wait            fail at once when the guest is not ready yet\n"
	      "  --timeout S          seconds to wait for a booting guest (default 300)\n"
	      "\n"
	      "SSH OPTIONS passed on: -A -a -C -f -g -N -n -q -T -t -v -X -x -Y,\n"
	      "  -L SPEC, -R SPEC, -D SPEC, -o KEY=VALUE (connection and forwarding\n"
	      "  settings; never the host key check, address, port, user or key).\n"
	      "For scp, rsync, sftp: qemuctl ssh-config NAME prints an OpenSSH Host block:\n"
	      "  qemuctl ssh-config NAME >cfg; scp -F cfg NAME:/etc/hostname .\n",
		f);
}

/* The option words of `qemuctl ssh`, sorted out of a->rest. */
struct ssh_words {
	const char *name, *identity, *timeout;
	bool no_wait, help;
	const char **opts; /* ssh's, NULL-terminated */
	size_t n_opts;
	char *const *cmd; /* NULL-terminated (argv's end), or NULL */
};

static void push_opt(struct ssh_words *w, const char *s)
{
	const char **v = realloc(w->opts, (w->n_opts + 2) * sizeof(*v));

	if (!v)
		abort();
	v[w->n_opts++] = s;
	v[w->n_opts] = NULL;
	w->opts = v;
}

/* --no-wait, --timeout[=]S, --identity[=]F; a usage error for anything else */
static int parse_long(char **v, int n, int *i, struct ssh_words *w)
{
	const char *s = v[*i], *eq = strchr(s, '=');
	size_t len = eq ? (size_t) (eq - s) : strlen(s);
	const char **slot = NULL;

	if (!strcmp(s, "--help")) {
		w->help = true;
		return 0;
	}
	if (!strcmp(s, "--no-wait")) {
		w->no_wait = true;
		return 0;
	}
	if (len == 9 && !strncmp(s, "--timeout", len))
		slot = &w->timeout;
	else if (len == 10 && !strncmp(s, "--identity", len))
		slot = &w->identity;
	if (!slot)
		return cli_usage_error("ssh", "ssh: unknown option '%.*s'" SSH_HINT, (int) len, s);
	if (eq)
		*slot = eq + 1;
	else if (*i + 1 < n)
		*slot = v[++*i];
	else
		return cli_usage_error("ssh", "ssh: %s needs a value", s);
	return 0;
}

/*
 * Options anywhere before the command: qemuctl's own, and ssh's as
 * qc_ssh_option_words takes them; NAME; then the command (after NAME's
 * first non-option word, or after --).
 */
static int parse_words(char **v, int n, struct ssh_words *w)
{
	struct qc_error err = {0};
	int r;

	for (int i = 0; i < n; i++) {
		const char *s = v[i];

		if (!strcmp(s, "--")) {
			w->cmd = &v[i + 1];
			break;
		}
		if (!strncmp(s, "--", 2)) {
			if ((r = parse_long(v, n, &i, w)) != 0)
				return r;
			continue;
		}
		if (!strcmp(s, "-h")) {
			w->help = true;
			continue;
		}
		if (!strncmp(s, "-i", 2)) {
			if (!s[2] && i + 1 >= n)
				return cli_usage_error("ssh", "ssh: -i needs a key file");
			w->identity = s[2] ? s + 2 : v[++i];
			continue;
		}
		if (s[0] == '-' && s[1]) {
			if ((r = qc_ssh_option_words((const char *const *) &v[i], &err)) < 0)
				return cli_usage_error("ssh", "%s", err.msg);
			for (int k = 0; k < r; k++)
				push_opt(w, v[i + k]);
			i += r - 1;
			continue;
		}
		if (!w->name) {
			w->name = s;
			continue;
		}
		w->cmd = &v[i];
		break;
	}
	return 0;
}

int cli_ssh(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct ssh_words w = {.identity = a->val[OPT_IDENTITY],
		.timeout = a->val[OPT_TIMEOUT],
		.no_wait = a->set[OPT_NO_WAIT]};
	struct qc_vm_ssh_opts o = {0};
	struct qc_error err = {0};
	struct cli_spin spin;
	autostrv char **sargv = NULL;
	autofree const char **opts = NULL;
	qc_ctx *ctx;
	int e, rc;

	(void) cmd;
	rc = parse_words(a->rest, a->n_rest, &w);
	opts = w.opts;
	if (rc != 0)
		return rc;
	if (w.help) {
		cli_ssh_usage(stdout, "ssh");
		return CLI_OK;
	}
	if (!w.name)
		return cli_usage_error("ssh", "ssh: missing VM NAME");
	if (w.timeout && w.no_wait)
		return cli_usage_error("ssh", "ssh: --timeout and --no-wait exclude each other");
	if (w.timeout && cli_parse_wait_timeout("ssh", w.timeout, &o.wait_timeout_ms) < 0)
		return CLI_USAGE;
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	o.identity = w.identity;
	o.ssh_options = w.opts;
	o.cmd = (const char *const *) w.cmd;
	o.no_wait = w.no_wait;
	cli_spin_begin(c, ctx, w.name, &spin);
	rc = qc_vm_ssh_command(ctx, w.name, &o, &sargv, &err);
	cli_spin_end(&spin);
	if (rc < 0)
		return cli_wait_error(ctx, w.name, &err);
	if (c->verbosity > 0) {
		autofree char *line = cli_strv_join(sargv, " ");

		fprintf(stderr, "qemuctl: %s\n", line);
	}
	fflush(stdout);
	fflush(stderr);
	execvp(sargv[0], sargv);
	e = errno;
	return cli_error_errno(e, "ssh: cannot run '%s'%s", sargv[0],
		e == ENOENT ? " (install openssh-client)" : "");
}

int cli_ssh_config(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_vm_ssh_config cfg = {0};
	struct qc_error err = {0};
	qc_ctx *ctx;
	int rc;

	(void) cmd;
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	if (qc_vm_ssh_config(ctx, a->pos[0], &cfg, &err) < 0)
		return cli_error(&err);
	if (c->json) {
		autojson struct cli_json *g = cli_json_new(true);

		cli_json_map_open(g);
		cli_json_kstring(g, "name", a->pos[0]);
		cli_json_kstring(g, "host", cfg.host);
		cli_json_kuint(g, "port", cfg.port);
		cli_json_kstring(g, "user", cfg.user);
		cli_json_kstring(g, "identity_file", cfg.identity_file);
		cli_json_kstring(g, "known_hosts", cfg.known_hosts);
		cli_json_kstring(g, "host_key_alias", cfg.host_key_alias);
		cli_json_kstring(g, "strict_host_key_checking", cfg.pinned ? "yes" : "accept-new");
		cli_json_kstring(g, "config", cfg.config);
		cli_json_map_close(g);
		rc = cli_print_json(g);
	} else {
		fputs(cfg.config, stdout);
		rc = CLI_OK;
	}
	qc_vm_ssh_config_clear(&cfg);
	return rc;
}
