/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one parser of the command line: argv against a struct cli_cmd
 * (main.c's table), usage errors worded as the command's group words them,
 * and the dispatch to a command or a group's subcommand.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/cli/cli.h"

static const struct optdef {
	const char *name;
	char short_name; /* "-i", or 0 */
	bool has_arg, multi;
	bool stops; /* parsing ends here (--version) */
	bool repeats; /* "-vv" gives it twice */
	const char *needs; /* what a missing value is called */
	int clears; /* 1 + the option whose count this resets (-q resets -v), or 0 */
	char file; /* CLI_FILE_IN: the value names a file the command reads (--connect sends it) */
} optdefs[] = {
	[OPT_IMAGE] = {"image", 0, true},
	[OPT_DISK_IMAGE] = {"disk-image", 0, true},
	[OPT_KERNEL] = {"kernel", 0, true},
	[OPT_INITRD] = {"initrd", 0, true},
	[OPT_APPEND] = {"append", 0, true},
	[OPT_ARCH] = {"arch", 0, true},
	[OPT_ACCEL] = {"accel", 0, true},
	[OPT_CPUS] = {"cpus", 0, true},
	[OPT_MEMORY] = {"memory", 0, true},
	[OPT_DISK_SIZE] = {"disk-size", 0, true},
	[OPT_DISK] = {"disk", 0, true, true},
	[OPT_NET] = {"net", 0, true, true},
	[OPT_SHARE] = {"share", 0, true, true},
	[OPT_HOSTNAME] = {"hostname", 0, true},
	[OPT_SSH_KEY] = {"ssh-key", 0, true, true, .file = CLI_FILE_IN},
	[OPT_USER_DATA] = {"user-data", 0, true, .file = CLI_FILE_IN},
	[OPT_NETCFG] = {"network-config", 0, true, .file = CLI_FILE_IN},
	[OPT_NO_SEED] = {"no-seed"},
	[OPT_SEED_BUS] = {"seed-bus", 0, true},
	[OPT_CONSOLE] = {"console"},
	[OPT_RM] = {"rm"},
	[OPT_PAUSED] = {"paused"},
	[OPT_TIMEOUT] = {"timeout", 0, true},
	[OPT_FORCE] = {"force"},
	[OPT_FOLLOW] = {"follow"},
	[OPT_RAW] = {"raw"},
	[OPT_JSON] = {"json"},
	[OPT_WAIT] = {"wait"},
	[OPT_STREAM] = {"stream", 0, true},
	[OPT_NAME] = {"name", 0, true},
	[OPT_MAX_SIZE] = {"max-size", 0, true},
	[OPT_SHA256] = {"sha256", 0, true},
	[OPT_SUBNET] = {"subnet", 0, true},
	[OPT_BRIDGE] = {"bridge", 0, true},
	[OPT_MTU] = {"mtu", 0, true},
	[OPT_META_DATA] = {"meta-data", 0, true, .file = CLI_FILE_IN},
	[OPT_INSTANCE_ID] = {"instance-id", 0, true},
	[OPT_USER] = {"user", 0, true},
	[OPT_NO_DEFAULT_KEYS] = {"no-default-keys"},
	[OPT_NO_QEMUCTL_KEY] = {"no-qemuctl-key"},
	[OPT_IDENTITY] = {"identity", 'i', true, .needs = "a key file"},
	[OPT_NO_WAIT] = {"no-wait"},
	[OPT_DISABLE] = {"disable"},
	[OPT_RUN] = {"run"},
	[OPT_SHUTDOWN] = {"shutdown"},
	[OPT_PERSIST] = {"persist"},
	[OPT_NIC] = {"nic", 0, true},
	[OPT_WATCH] = {"watch", 0, true},
	[OPT_SNAPSHOT] = {"snapshot", 0, true},
	[OPT_NO_QUIESCE] = {"no-quiesce"},
	[OPT_FRESH] = {"fresh"},
	[OPT_TPM] = {"tpm"},
	[OPT_SECURE_BOOT] = {"secure-boot"},
	[OPT_CONNECT] = {"connect", 0, true, .needs = "an ssh:// address"},
	[OPT_VIA] = {"via", 0, true},
	[OPT_DISPLAY] = {"display", 0, true},
	[OPT_LISTEN] = {"listen", 0, true},
	[OPT_OFFLINE] = {"offline"},
	[OPT_SSH_OPTION] = {"ssh-option", 0, true, true},
	[OPT_REMOTE_QEMUCTL] = {"remote-qemuctl", 0, true},
	[OPT_COPY_STORAGE] = {"copy-storage"},
	[OPT_ROOT] = {"root", 0, true, .needs = "a directory"},
	[OPT_QUIET] = {"quiet", 'q', .clears = 1 + OPT_VERBOSE},
	[OPT_VERBOSE] = {"verbose", 'v', .repeats = true},
	[OPT_VERSION] = {"version", .stops = true},
	[OPT_WITH_MEMORY] = {"memory"},
};
_Static_assert(CLI_ARRAY_SIZE(optdefs) == OPT_COUNT, "optdefs: one entry for each OPT_");

/* Does cmd take option k? */
static bool cli_takes(const struct cli_cmd *cmd, int k)
{
	return (cmd->opts & CLI_OPT(k)) || (cmd->opts_hi & CLI_OPT_HI(k));
}

void cli_args_clear(struct cli_args *a)
{
	for (int k = 0; k < OPT_COUNT; k++) {
		free(a->multi[k]);
		a->multi[k] = NULL;
	}
}

static void push_multi(struct cli_args *a, int k, const char *val)
{
	unsigned n = a->count[k]; /* already counts val */
	const char **v = realloc(a->multi[k], (n + 1) * sizeof(*v));

	if (!v)
		abort();
	v[n - 1] = val;
	v[n] = NULL;
	a->multi[k] = v;
}

/* " (did you mean '--force'?)" for a mistyped long option arg of cmd's, or "" */
static const char *opt_hint(const struct cli_cmd *cmd, const char *arg, char *buf, size_t size)
{
	const char *cands[OPT_COUNT + 1], *best;
	char word[64];
	int n = 0;

	buf[0] = 0;
	if (arg[0] != '-' || arg[1] != '-')
		return buf;
	snprintf(word, sizeof(word), "%.*s", (int) strcspn(arg + 2, "="), arg + 2);
	for (int k = 0; k < OPT_COUNT; k++)
		if (cli_takes(cmd, k))
			cands[n++] = optdefs[k].name;
	cands[n] = NULL;
	if ((best = cli_suggest(word, cands)))
		snprintf(buf, size, " (did you mean '--%s'?)", best);
	return buf;
}

/* " (did you mean 'list'?)" for a mistyped command of table, or "" */
static const char *cmd_hint(const struct cli_cmd *table, const char *word, char *buf, size_t size)
{
	const char *cands[128], *best;
	size_t n = 0;

	for (; table->name && n + 2 < CLI_ARRAY_SIZE(cands); table++) {
		cands[n++] = table->name;
		if (table->alias)
			cands[n++] = table->alias;
	}
	cands[n] = NULL;
	buf[0] = 0;
	if ((best = cli_suggest(word, cands)))
		snprintf(buf, size, " (did you mean '%s'?)", best);
	return buf;
}

enum bad { BAD_UNKNOWN, BAD_NEEDS_VALUE, BAD_NO_VALUE, BAD_TWICE, BAD_EXTRA, BAD_MISSING };

/*
 * A usage error in cmd's wording.  arg is the word as typed (BAD_UNKNOWN,
 * BAD_NEEDS_VALUE, BAD_EXTRA), the positional's name (BAD_MISSING), or
 * unused; k is the option (value errors).
 */
static int bad_msg(const struct cli_cmd *cmd, const char *try, const struct cli_args *a,
	enum bad why, const char *arg, int k)
{
	const char *p = a->prefix;
	const char *needs = k >= 0 && optdefs[k].needs ? optdefs[k].needs : "a value";
	char h[64];

	if (cmd->style == CLI_STYLE_GETOPT && why != BAD_EXTRA)
		return cli_usage_error(try, "bad option '%s' for '%s'%s", arg, p,
			why == BAD_UNKNOWN ? opt_hint(cmd, arg, h, sizeof(h)) : "");
	if (why == BAD_NO_VALUE && cmd->style != CLI_STYLE_VM)
		why = BAD_UNKNOWN;
	switch (why) {
	case BAD_UNKNOWN:
		opt_hint(cmd, arg, h, sizeof(h));
		if (cmd->style == CLI_STYLE_GLOBAL)
			return cli_usage_error(try, "unknown global option '%s'%s", arg, h);
		if (cmd->style == CLI_STYLE_VM && arg[1] == '-')
			return cli_usage_error(try, "%s: unknown option '%.*s'%s", p,
				(int) strcspn(arg, "="), arg, h);
		return cli_usage_error(try, "%s: unknown option '%s'%s%s", p, arg,
			cmd->hint ? cmd->hint : "", h);
	case BAD_NEEDS_VALUE:
		if (cmd->style == CLI_STYLE_VM || cmd->style == CLI_STYLE_PREFIX)
			return cli_usage_error(try, "%s: --%s needs %s", p, optdefs[k].name, needs);
		return cli_usage_error(try, "%s needs %s", arg, needs);
	case BAD_NO_VALUE:
		return cli_usage_error(try, "%s: --%s takes no value", p, optdefs[k].name);
	case BAD_TWICE:
		if (cmd->style == CLI_STYLE_BARE)
			return cli_usage_error(try, "--%s given twice", optdefs[k].name);
		return cli_usage_error(try, "%s: --%s given twice", p, optdefs[k].name);
	case BAD_EXTRA:
		if (cmd->style == CLI_STYLE_GETOPT)
			return cli_usage_error(try, "unexpected argument '%s'", arg);
		return cli_usage_error(try, "%s: unexpected argument '%s'", p, arg);
	case BAD_MISSING:
		return cli_usage_error(try, "%s: missing %s", p, arg);
	}
	return CLI_USAGE;
}

/* bad_msg(), then -1 */
static int bad(const struct cli_cmd *cmd, const char *try, const struct cli_args *a, enum bad why,
	const char *arg, int k)
{
	(void) bad_msg(cmd, try, a, why, arg, k);
	return -1;
}

/* The long option s names ("--name" or "--name=..."); -1 when cmd takes none such. */
static int find_long(const struct cli_cmd *cmd, const char *s, size_t nlen)
{
	int k, found = -1;

	for (k = 0; k < OPT_COUNT; k++)
		if (cli_takes(cmd, k) && strlen(optdefs[k].name) == nlen &&
			strncmp(optdefs[k].name, s + 2, nlen) == 0)
			return k;
	if (!(cmd->flags & CLI_ABBREV) || nlen == 0)
		return -1;
	for (k = 0; k < OPT_COUNT; k++)
		if (cli_takes(cmd, k) && strncmp(optdefs[k].name, s + 2, nlen) == 0) {
			if (found >= 0)
				return -1; /* ambiguous */
			found = k;
		}
	return found;
}

static int find_short(const struct cli_cmd *cmd, char ch)
{
	for (int k = 0; k < OPT_COUNT; k++)
		if (cli_takes(cmd, k) && ch && optdefs[k].short_name == ch)
			return k;
	return -1;
}

/* Record option k (val: its value, or NULL); 1: parsing ends here, -1: given twice. */
static int take(const struct cli_cmd *cmd, struct cli_args *a, int k, const char *val)
{
	const struct optdef *d = &optdefs[k];

	if (a->set[k] && !d->multi && !(cmd->flags & CLI_LAST_WINS) &&
		(d->has_arg || cmd->style == CLI_STYLE_VM))
		return -1;
	a->set[k] = true;
	a->val[k] = val;
	a->count[k]++;
	if (d->multi)
		push_multi(a, k, val);
	if (d->clears)
		a->count[d->clears - 1] = 0;
	return d->stops ? 1 : 0;
}

/* "-q", "-vv", "-i FILE": single-dash options; i advances past a value. */
static int parse_short(const struct cli_cmd *cmd, const char *try, int argc, char **argv, int *i,
	struct cli_args *a)
{
	const char *s = argv[*i];
	int k = find_short(cmd, s[1]), r;

	if (k >= 0 && optdefs[k].has_arg) {
		const char *val = s[2] == '=' ? s + 3 : NULL;

		if (s[2] && s[2] != '=')
			return bad(cmd, try, a, BAD_UNKNOWN, s, -1);
		if (!val && *i + 1 >= argc)
			return bad(cmd, try, a, BAD_NEEDS_VALUE, s, k);
		if ((r = take(cmd, a, k, val ? val : argv[++*i])) < 0)
			return bad(cmd, try, a, BAD_TWICE, s, k);
		return r;
	}
	/* a flag: "-q"; one that repeats counts its letters: "-vv" */
	if (k < 0 || (s[2] && !optdefs[k].repeats) ||
		strspn(s + 1, (char[]){s[1], 0}) != strlen(s + 1))
		return bad(cmd, try, a, BAD_UNKNOWN, s, -1);
	for (const char *p = s + 1; *p; p++)
		if ((r = take(cmd, a, k, NULL)) != 0)
			return r < 0 ? bad(cmd, try, a, BAD_TWICE, s, k) : r;
	return 0;
}

static int parse_long(const struct cli_cmd *cmd, const char *try, int argc, char **argv, int *i,
	struct cli_args *a)
{
	const char *s = argv[*i], *eq = strchr(s, '='), *val = NULL;
	size_t nlen = eq ? (size_t) (eq - s - 2) : strlen(s + 2);
	int k = find_long(cmd, s, nlen), r;

	if (k < 0)
		return bad(cmd, try, a, BAD_UNKNOWN, s, -1);
	if (optdefs[k].has_arg) {
		if (eq)
			val = eq + 1;
		else if (*i + 1 < argc)
			val = argv[++*i];
		else
			return bad(cmd, try, a, BAD_NEEDS_VALUE, s, k);
	} else if (eq) {
		return bad(cmd, try, a, BAD_NO_VALUE, s, k);
	}
	if ((r = take(cmd, a, k, val)) < 0)
		return bad(cmd, try, a, BAD_TWICE, s, k);
	return r;
}

static void print_help(const struct cli_cmd *cmd)
{
	if (cmd->usage) {
		cmd->usage(stdout, cmd->name);
		return;
	}
	printf("usage: qemuctl %s %s\n\n%s.\n", cmd->name, cmd->synopsis, cmd->summary);
	if (cmd->help)
		printf("\n%s", cmd->help);
}

/* The n-th word of words ("NAME JSON"), into buf. */
static const char *nth_word(const char *words, int n, char *buf, size_t size)
{
	const char *w = words ? words : "NAME";

	for (; n > 0 && strchr(w, ' '); n--)
		w = strchr(w, ' ') + 1;
	snprintf(buf, size, "%.*s", (int) strcspn(w, " "), w);
	return buf;
}

int cli_parse(const struct cli_cmd *cmd, const char *try, int argc, char **argv, struct cli_args *a)
{
	bool no_more = false;
	int i, r;

	if (!a->prefix[0])
		snprintf(a->prefix, sizeof(a->prefix), "%s", cmd->name);
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (!no_more && (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0)) {
			print_help(cmd);
			return 1;
		}
		if (!no_more && strcmp(s, "--") == 0) {
			if (cmd->flags & CLI_REST) {
				a->rest = &argv[i + 1];
				a->n_rest = argc - i - 1;
				break;
			}
			no_more = true;
			continue;
		}
		if (no_more || s[0] != '-' || !s[1] ||
			(s[1] != '-' && (cmd->flags & CLI_DASH_ARGS))) {
			if (a->n_pos >= cmd->max_pos && (cmd->flags & CLI_REST)) {
				a->rest = &argv[i];
				a->n_rest = argc - i;
				break;
			}
			if (a->n_pos >= cmd->max_pos || a->n_pos >= CLI_MAX_POS)
				return bad(cmd, try, a, BAD_EXTRA, s, -1);
			a->pos[a->n_pos++] = s;
			continue;
		}
		r = s[1] == '-' ? parse_long(cmd, try, argc, argv, &i, a)
				: parse_short(cmd, try, argc, argv, &i, a);
		if (r != 0)
			return r < 0 ? -1 : 0;
	}
	if (a->n_pos < cmd->min_pos) {
		char word[32];

		return bad(cmd, try, a, BAD_MISSING,
			nth_word(cmd->pos_names, a->n_pos, word, sizeof(word)), -1);
	}
	return 0;
}

char cli_opt_file(int k)
{
	return k >= 0 && k < OPT_COUNT ? optdefs[k].file : 0;
}

static const struct cli_cmd *find_cmd(const struct cli_cmd *table, const char *name)
{
	for (; table->name; table++)
		if (strcmp(table->name, name) == 0 || (table->alias && !strcmp(table->alias, name)))
			return table;
	return NULL;
}

const struct cli_cmd *cli_find_cmd(const struct cli_cmd *table, const char *name)
{
	return find_cmd(table, name);
}

int cli_dispatch(struct cli *c, const struct cli_cmd *table, int argc, char **argv)
{
	const struct cli_cmd *cmd = find_cmd(table, argv[0]), *group = NULL;
	struct cli_args a = {0};
	char h[64];
	int rc;

	if (!cmd)
		return cli_usage_error(NULL, "unknown command '%s'%s", argv[0],
			cmd_hint(table, argv[0], h, sizeof(h)));
	if (cmd->subs) {
		bool one = cmd->flags & CLI_ONE_SUBCMD;

		group = cmd;
		if (argc < 2 && one) {
			group->usage(stderr, group->name);
			return CLI_USAGE;
		}
		if (argc < 2)
			return cli_usage_error(group->name, "%s: missing subcommand (%s)",
				group->name, group->subs_list);
		if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
			(!one && !strcmp(argv[1], "help"))) {
			group->usage(stdout, group->name);
			return CLI_OK;
		}
		if (!(cmd = find_cmd(group->subs, argv[1])) && one)
			return cli_usage_error(group->name,
				"unknown %s command '%s' (expected: %s)%s", group->name, argv[1],
				group->subs_list, cmd_hint(group->subs, argv[1], h, sizeof(h)));
		if (!cmd)
			return cli_usage_error(group->name, "%s: unknown subcommand '%s' (%s)%s",
				group->name, argv[1], group->subs_list,
				cmd_hint(group->subs, argv[1], h, sizeof(h)));
		snprintf(a.prefix, sizeof(a.prefix), "%s %s", group->name, cmd->name);
		argc--;
		argv++;
	}
	/* --json anywhere among the command's words: its usage errors are JSON too */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if ((cmd->opts & CLI_OPT(OPT_JSON)) && strcmp(argv[i], "--json") == 0)
			cli_json_errors(true);
	rc = cli_parse(cmd, group ? group->name : cmd->name, argc, argv, &a);
	if (a.set[OPT_JSON])
		c->json = true;
	if (rc == 0)
		rc = cmd->fn(c, cmd, &a);
	else
		rc = rc > 0 ? CLI_OK : CLI_USAGE;
	cli_args_clear(&a);
	return rc;
}

void cli_list_commands(FILE *f, const struct cli_cmd *table)
{
	for (; table->name; table++) {
		char left[64];

		if (table->line) {
			fputs(table->line, f);
			continue;
		}
		snprintf(left, sizeof(left), "%s %s", table->name, table->synopsis);
		if (strlen(left) > 30)
			snprintf(left, sizeof(left), "%s ...", table->name);
		fprintf(f, "  %-30s %s\n", left, table->summary);
	}
}

bool cli_size_lacks_unit(const char *text)
{
	size_t digits = strspn(text, "0123456789");

	return digits > 0 && !text[digits] && strspn(text, "0") != digits;
}

int cli_size_parse(const char *what, const char *text, uint64_t *ret, struct qc_error *err)
{
	/* "1" meant as 1G would be one byte: a bare number must say its unit (0 needs none) */
	if (cli_size_lacks_unit(text)) {
		snprintf(err->msg, sizeof(err->msg), "%s '%s' has no unit: " CLI_SIZE_UNITS, what,
			text, "", text);
		err->code = QC_ERR_INVALID;
		return -QC_ERR_INVALID;
	}
	return qc_size_parse(what, text, ret, err);
}
