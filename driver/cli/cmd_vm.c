/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VM commands: create, run, define, dumpxml, undefine, start, stop, destroy,
 * reboot, pause, resume, delete, list, info, console, log, events, qmp.
 * Only the public API (driver/qemuctl.h) is used.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "driver/cli/cmd_vm.h"
#include "util/util.h"

/* Every option any VM command knows; each command lists the ones it takes. */
enum opt_id {
	O_IMAGE,
	O_DISK_IMAGE,
	O_KERNEL,
	O_INITRD,
	O_APPEND,
	O_ARCH,
	O_ACCEL,
	O_CPUS,
	O_MEMORY,
	O_DISK_SIZE,
	O_DISK,
	O_NET,
	O_SHARE,
	O_HOSTNAME,
	O_SSH_KEY,
	O_USER_DATA,
	O_NETCFG,
	O_NO_SEED,
	O_CONSOLE,
	O_RM,
	O_PAUSED,
	O_TIMEOUT,
	O_FORCE,
	O_FOLLOW,
	O_RAW,
	O_JSON,
	O_WAIT,
	O_SEED_BUS,
	O_COUNT
};

static const struct {
	const char *name;
	bool has_arg, multi;
} optdefs[O_COUNT] = {
	[O_IMAGE] = {"image", true, false},
	[O_DISK_IMAGE] = {"disk-image", true, false},
	[O_KERNEL] = {"kernel", true, false},
	[O_INITRD] = {"initrd", true, false},
	[O_APPEND] = {"append", true, false},
	[O_ARCH] = {"arch", true, false},
	[O_ACCEL] = {"accel", true, false},
	[O_CPUS] = {"cpus", true, false},
	[O_MEMORY] = {"memory", true, false},
	[O_DISK_SIZE] = {"disk-size", true, false},
	[O_DISK] = {"disk", true, true},
	[O_NET] = {"net", true, true},
	[O_SHARE] = {"share", true, true},
	[O_HOSTNAME] = {"hostname", true, false},
	[O_SSH_KEY] = {"ssh-key", true, true},
	[O_USER_DATA] = {"user-data", true, false},
	[O_NETCFG] = {"network-config", true, false},
	[O_NO_SEED] = {"no-seed", false, false},
	[O_CONSOLE] = {"console", false, false},
	[O_RM] = {"rm", false, false},
	[O_PAUSED] = {"paused", false, false},
	[O_TIMEOUT] = {"timeout", true, false},
	[O_FORCE] = {"force", false, false},
	[O_FOLLOW] = {"follow", false, false},
	[O_RAW] = {"raw", false, false},
	[O_JSON] = {"json", false, false}, /* also accepted after the command */
	[O_WAIT] = {"wait", false, false},
	[O_SEED_BUS] = {"seed-bus", true, false},
};

struct args {
	const char *val[O_COUNT];
	bool set[O_COUNT];
	struct qc_strv multi[O_COUNT];
	const char *pos[8];
	int n_pos;
};

static void args_clear(struct args *a)
{
	int i;

	for (i = 0; i < O_COUNT; i++)
		qc_strv_clear(&a->multi[i]);
}

struct cmd {
	const char *name;
	const char *synopsis; /* after the name */
	const char *summary;
	const char *help; /* option text, may be NULL */
	unsigned long long opts; /* bit per enum opt_id */
	int min_pos, max_pos;
	int (*fn)(struct cli *c, const struct cmd *cmd, struct args *a);
};

#define B(x) (1ULL << (x))
#define CREATE_OPTS                                                                            \
	(B(O_IMAGE) | B(O_DISK_IMAGE) | B(O_KERNEL) | B(O_INITRD) | B(O_APPEND) | B(O_ARCH) |  \
		B(O_ACCEL) | B(O_CPUS) | B(O_MEMORY) | B(O_DISK_SIZE) | B(O_DISK) | B(O_NET) | \
		B(O_SHARE) | B(O_HOSTNAME) | B(O_SSH_KEY) | B(O_USER_DATA) | B(O_NETCFG) |     \
		B(O_NO_SEED) | B(O_SEED_BUS))

static const char create_help[] =
	"  --image NAME         boot disk: an overlay on catalog image NAME\n"
	"  --disk-image FILE    boot disk: a qcow2 overlay whose read-only backing is FILE\n"
	"  --kernel F [--initrd F] [--append S]   direct kernel boot\n"
	"  --arch A             x86_64 (default: the host's), aarch64, ppc64le\n"
	"  --accel A            auto (default: KVM when usable, else TCG), kvm, tcg\n"
	"  --cpus N             virtual CPUs (default 1)\n"
	"  --memory SIZE        RAM, e.g. 512M, 2G (default 512M)\n"
	"  --disk-size SIZE     grow the boot disk to SIZE\n"
	"  --disk SIZE|FILE, --net SPEC, --share HOSTDIR:TAG[:ro], --hostname H,\n"
	"  --ssh-key FILE, --user-data FILE, --network-config FILE, --no-seed\n"
	"  --seed-bus B         cdrom or virtio: how the seed is attached (default: the\n"
	"                       arch's: cdrom on x86_64, virtio on aarch64 and ppc64le)\n";

static int cmd_create(struct cli *c, const struct cmd *cmd, struct args *a);
static int cmd_run(struct cli *c, const struct cmd *cmd, struct args *a);
static int cmd_define(struct cli *c, const struct cmd *cmd, struct args *a);
static int cmd_dumpxml(struct cli *c, const struct cmd *cmd, struct args *a);
static int cmd_simple(struct cli *c, const struct cmd *cmd, struct args *a);
static int cmd_start(struct cli *c, const struct cmd *cmd, struct args *a);
static int cmd_stop(struct cli *c, const struct cmd *cmd, struct args *a);
static int cmd_delete(struct cli *c, const struct cmd *cmd, struct args *a);
static int cmd_list(struct cli *c, const struct cmd *cmd, struct args *a);
static int cmd_info(struct cli *c, const struct cmd *cmd, struct args *a);
static int cmd_io(struct cli *c, const struct cmd *cmd, struct args *a);
static int cmd_qmp(struct cli *c, const struct cmd *cmd, struct args *a);

static const struct cmd cmds[] = {
	{"create", "NAME [options]", "define a VM (boot disk overlay, kernel)", create_help,
		CREATE_OPTS, 1, 1, cmd_create},
	{"run", "NAME [create options] [--console] [--rm] [--wait [--timeout S]]",
		"create and start a VM",
		"  create options (see 'qemuctl create --help'), and:\n"
		"  --console            attach to the console (Ctrl-] detaches)\n"
		"  --rm                 with --console: delete the VM when the console ends\n"
		"  --wait               return when the guest finished first boot\n"
		"  --timeout S          with --wait: seconds to wait (default 300)\n",
		CREATE_OPTS | B(O_CONSOLE) | B(O_RM) | B(O_WAIT) | B(O_TIMEOUT), 1, 1, cmd_run},
	{"define", "FILE.xml", "define (or redefine) a VM from domain XML", NULL, 0, 1, 1,
		cmd_define},
	{"dumpxml", "NAME", "print a VM's domain XML", NULL, 0, 1, 1, cmd_dumpxml},
	{"undefine", "NAME", "remove a stopped VM's definition (VMs with disks: delete)", NULL, 0,
		1, 1, cmd_simple},
	{"start", "NAME [--paused] [--wait [--timeout S]]", "start a VM",
		"  --paused             leave the CPUs stopped ('qemuctl resume' starts them)\n"
		"  --wait               return when the guest finished first boot\n"
		"  --timeout S          with --wait: seconds to wait (default 300)\n",
		B(O_PAUSED) | B(O_WAIT) | B(O_TIMEOUT), 1, 1, cmd_start},
	{"stop", "NAME [--timeout S] [--force]", "shut a VM down (ACPI, then quit, then SIGKILL)",
		"  --timeout S          seconds to wait for the guest (default 60)\n"
		"  --force              skip the ACPI power button: quit, then SIGKILL\n",
		B(O_TIMEOUT) | B(O_FORCE), 1, 1, cmd_stop},
	{"destroy", "NAME", "stop a VM at once (quit, then SIGKILL)", NULL, 0, 1, 1, cmd_simple},
	{"reboot", "NAME", "reset a running VM", NULL, 0, 1, 1, cmd_simple},
	{"pause", "NAME", "stop a running VM's CPUs", NULL, 0, 1, 1, cmd_simple},
	{"resume", "NAME", "restart a paused VM's CPUs", NULL, 0, 1, 1, cmd_simple},
	{"delete", "NAME [--force]", "remove a VM with its overlay and seed (never the backing)",
		"  --force              destroy the VM first when it runs\n", B(O_FORCE), 1, 1,
		cmd_delete},
	{"list", "", "list VMs and their state", NULL, 0, 0, 0, cmd_list},
	{"info", "NAME", "show a VM's definition and state", NULL, 0, 1, 1, cmd_info},
	{"console", "NAME", "attach to a running VM's serial console (Ctrl-] detaches)", NULL, 0, 1,
		1, cmd_io},
	{"log", "NAME [--follow] [--raw]", "print the serial console log",
		"  --follow             keep printing new output while the VM runs\n"
		"  --raw                print control sequences as they are, even to a terminal\n"
		"                       (by default a terminal shows them: ^[]52;...)\n",
		B(O_FOLLOW) | B(O_RAW), 1, 1, cmd_io},
	{"events", "NAME [--follow]", "print the QMP events of a VM (JSON lines with --json)",
		"  --follow             keep printing new events while the VM runs\n", B(O_FOLLOW),
		1, 1, cmd_io},
	{"qmp", "NAME JSON", "send one raw QMP command, print QEMU's reply", NULL, 0, 2, 2,
		cmd_qmp},
};

void cli_vm_list_commands(FILE *f)
{
	size_t i;

	for (i = 0; i < QC_ARRAY_SIZE(cmds); i++) {
		char left[64];

		snprintf(left, sizeof(left), "%s %s", cmds[i].name, cmds[i].synopsis);
		if (strlen(left) > 30)
			snprintf(left, sizeof(left), "%s ...", cmds[i].name);
		fprintf(f, "  %-30s %s\n", left, cmds[i].summary);
	}
}

static void cmd_help(const struct cmd *cmd)
{
	printf("usage: qemuctl %s %s\n\n%s.\n", cmd->name, cmd->synopsis, cmd->summary);
	if (cmd->help)
		printf("\n%s", cmd->help);
}

/* 1: --help was printed; 0: parsed; < 0: usage error printed (return CLI_USAGE). */
static int parse_args(const struct cmd *cmd, int argc, char **argv, struct args *a)
{
	bool no_more = false;
	int i, k;

	for (i = 1; i < argc; i++) {
		const char *s = argv[i], *eq, *val = NULL;
		size_t nlen;

		if (!no_more && (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0)) {
			cmd_help(cmd);
			return 1;
		}
		if (!no_more && strcmp(s, "--") == 0) {
			no_more = true;
			continue;
		}
		if (no_more || s[0] != '-' || !s[1] || (s[1] != '-' && cmd->max_pos > 1)) {
			if (a->n_pos >= cmd->max_pos || a->n_pos >= (int) QC_ARRAY_SIZE(a->pos)) {
				cli_usage_error(
					cmd->name, "%s: unexpected argument '%s'", cmd->name, s);
				return -1;
			}
			a->pos[a->n_pos++] = s;
			continue;
		}
		if (s[1] != '-') {
			cli_usage_error(cmd->name, "%s: unknown option '%s'", cmd->name, s);
			return -1;
		}
		eq = strchr(s, '=');
		nlen = eq ? (size_t) (eq - s - 2) : strlen(s + 2);
		for (k = 0; k < O_COUNT; k++)
			if (strlen(optdefs[k].name) == nlen &&
				strncmp(optdefs[k].name, s + 2, nlen) == 0)
				break;
		if (k == O_COUNT || (k != O_JSON && !(cmd->opts & B(k)))) {
			cli_usage_error(cmd->name, "%s: unknown option '%.*s'", cmd->name,
				(int) nlen + 2, s);
			return -1;
		}
		if (optdefs[k].has_arg) {
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else {
				cli_usage_error(cmd->name, "%s: --%s needs a value", cmd->name,
					optdefs[k].name);
				return -1;
			}
		} else if (eq) {
			cli_usage_error(
				cmd->name, "%s: --%s takes no value", cmd->name, optdefs[k].name);
			return -1;
		}
		if (a->set[k] && !optdefs[k].multi) {
			cli_usage_error(
				cmd->name, "%s: --%s given twice", cmd->name, optdefs[k].name);
			return -1;
		}
		a->set[k] = true;
		a->val[k] = val;
		if (optdefs[k].multi)
			qc_strv_push(&a->multi[k], val);
	}
	if (a->n_pos < cmd->min_pos) {
		cli_usage_error(cmd->name, "%s: missing %s", cmd->name,
			a->n_pos == 0 && cmd->min_pos >= 1
				? (strstr(cmd->synopsis, "FILE") == cmd->synopsis ? "FILE" : "NAME")
				: "JSON");
		return -1;
	}
	return 0;
}

int cli_vm_main(struct cli *c, int argc, char **argv)
{
	struct args a = {0};
	size_t i;
	int rc;

	for (i = 0; i < QC_ARRAY_SIZE(cmds); i++)
		if (strcmp(cmds[i].name, argv[0]) == 0)
			break;
	if (i == QC_ARRAY_SIZE(cmds))
		return cli_usage_error(NULL, "unknown command '%s'", argv[0]);
	rc = parse_args(&cmds[i], argc, argv, &a);
	if (a.set[O_JSON])
		c->json = true;
	if (rc == 0)
		rc = cmds[i].fn(c, &cmds[i], &a);
	else
		rc = rc > 0 ? CLI_OK : CLI_USAGE;
	args_clear(&a);
	return rc;
}

/* ------------------------------------------------------------- create */

static const char *const *multi(struct args *a, enum opt_id k)
{
	return a->multi[k].n ? (const char *const *) a->multi[k].v : NULL;
}

static int create_from_args(struct cli *c, const struct cmd *cmd, struct args *a)
{
	struct qc_vm_create_opts o = {0};
	struct qc_error err = {0};
	uint64_t v;
	qc_ctx *ctx;

	o.name = a->pos[0];
	o.image = a->val[O_IMAGE];
	o.disk_image = a->val[O_DISK_IMAGE];
	o.kernel = a->val[O_KERNEL];
	o.initrd = a->val[O_INITRD];
	o.append = a->val[O_APPEND];
	o.arch = a->val[O_ARCH];
	o.accel = a->val[O_ACCEL];
	if (a->set[O_CPUS]) {
		if (qc_parse_uint("--cpus", a->val[O_CPUS], 1, 1024, &v, &err) < 0)
			return cli_usage_error(cmd->name, "%s", err.msg);
		o.cpus = (unsigned) v;
	}
	if (a->set[O_MEMORY] && qc_parse_size("--memory", a->val[O_MEMORY], &o.memory, &err) < 0)
		return cli_usage_error(cmd->name, "%s", err.msg);
	/* 0 means "the default" to the API; from the user it is a mistake. */
	if (a->set[O_MEMORY] && o.memory == 0)
		return cli_usage_error(cmd->name, "--memory '%s': too small, at least 16M",
			a->val[O_MEMORY]);
	if (a->set[O_DISK_SIZE] &&
		qc_parse_size("--disk-size", a->val[O_DISK_SIZE], &o.disk_size, &err) < 0)
		return cli_usage_error(cmd->name, "%s", err.msg);
	if (a->set[O_DISK_SIZE] && o.disk_size == 0)
		return cli_usage_error(cmd->name,
			"--disk-size '%s': must be larger than 0 (leave it out to keep the image's size)",
			a->val[O_DISK_SIZE]);
	o.disks = multi(a, O_DISK);
	o.nets = multi(a, O_NET);
	o.shares = multi(a, O_SHARE);
	o.hostname = a->val[O_HOSTNAME];
	o.ssh_keys = multi(a, O_SSH_KEY);
	o.user_data = a->val[O_USER_DATA];
	o.network_config = a->val[O_NETCFG];
	o.no_seed = a->set[O_NO_SEED];
	o.seed_bus = a->val[O_SEED_BUS];
	if (o.seed_bus && strcmp(o.seed_bus, "cdrom") != 0 && strcmp(o.seed_bus, "virtio") != 0)
		return cli_usage_error(
			cmd->name, "--seed-bus '%s': use cdrom or virtio", o.seed_bus);
	if (o.seed_bus && o.no_seed)
		return cli_usage_error(cmd->name, "--seed-bus has no effect with --no-seed");
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	if (qc_vm_create(ctx, &o, &err) < 0)
		return cli_error(&err);
	return CLI_OK;
}

static int cmd_create(struct cli *c, const struct cmd *cmd, struct args *a)
{
	int rc = create_from_args(c, cmd, a);

	if (rc == CLI_OK && c->verbosity >= 0 && !c->json)
		printf("created VM '%s'\n", a->pos[0]);
	return rc;
}

static int cmd_run(struct cli *c, const struct cmd *cmd, struct args *a)
{
	struct qc_error err = {0};
	int rc;

	int wait_ms = 0;

	if (a->set[O_RM] && !a->set[O_CONSOLE])
		return cli_usage_error(cmd->name, "run: --rm needs --console");
	if (a->set[O_WAIT] && a->set[O_CONSOLE])
		return cli_usage_error(cmd->name, "run: --wait and --console exclude each other");
	if (a->set[O_TIMEOUT] && !a->set[O_WAIT])
		return cli_usage_error(cmd->name, "run: --timeout needs --wait");
	if (a->set[O_WAIT] && a->set[O_NO_SEED])
		return cli_usage_error(cmd->name,
			"run: --wait needs the seed's ready marker; a VM made with --no-seed has "
			"none");
	if (a->set[O_TIMEOUT] && cli_parse_wait_timeout(cmd->name, a->val[O_TIMEOUT], &wait_ms) < 0)
		return CLI_USAGE;
	if ((rc = create_from_args(c, cmd, a)) != CLI_OK)
		return rc;
	if (qc_vm_start(c->ctx, a->pos[0], NULL, &err) < 0) {
		rc = cli_error(&err);
		if (a->set[O_RM])
			(void) qc_vm_delete(c->ctx, a->pos[0], true, NULL);
		return rc;
	}
	if (!a->set[O_CONSOLE]) {
		if (c->verbosity >= 0 && !a->set[O_WAIT])
			printf("started VM '%s'\n", a->pos[0]);
		return a->set[O_WAIT] ? cli_wait_ready(c, a->pos[0], wait_ms) : CLI_OK;
	}
	rc = cli_cmd_console(c, a->pos[0]);
	if (a->set[O_RM] && qc_vm_delete(c->ctx, a->pos[0], true, &err) < 0)
		return cli_error(&err);
	return rc;
}

/* ----------------------------------------------------- define, dumpxml */

static void print_warning(const char *msg, void *opaque)
{
	cleanup_free char *shown = cli_shown(msg);

	(void) opaque;
	fprintf(stderr, "qemuctl: warning: %s\n", shown);
}

static int cmd_define(struct cli *c, const struct cmd *cmd, struct args *a)
{
	struct qc_error err = {0};
	cleanup_free char *name = NULL;
	qc_ctx *ctx = cli_ctx(c);

	(void) cmd;
	if (!ctx)
		return CLI_ERROR;
	if (qc_vm_define(ctx, a->pos[0], print_warning, NULL, &name, &err) < 0)
		return cli_error(&err);
	if (c->verbosity >= 0)
		printf("defined VM '%s'\n", name);
	return CLI_OK;
}

static int cmd_dumpxml(struct cli *c, const struct cmd *cmd, struct args *a)
{
	struct qc_error err = {0};
	cleanup_free char *xml = NULL;
	qc_ctx *ctx = cli_ctx(c);

	(void) cmd;
	if (!ctx)
		return CLI_ERROR;
	if (qc_vm_dumpxml(ctx, a->pos[0], &xml, &err) < 0)
		return cli_error(&err);
	fputs(xml, stdout);
	if (xml[0] && xml[strlen(xml) - 1] != '\n')
		putchar('\n');
	return CLI_OK;
}

/* ------------------------------------------------------------ lifecycle */

static int cmd_simple(struct cli *c, const struct cmd *cmd, struct args *a)
{
	struct qc_error err = {0};
	qc_ctx *ctx = cli_ctx(c);
	const char *n = a->pos[0];
	int rc;

	if (!ctx)
		return CLI_ERROR;
	if (strcmp(cmd->name, "destroy") == 0)
		rc = qc_vm_destroy(ctx, n, &err);
	else if (strcmp(cmd->name, "reboot") == 0)
		rc = qc_vm_reboot(ctx, n, &err);
	else if (strcmp(cmd->name, "pause") == 0)
		rc = qc_vm_pause(ctx, n, &err);
	else if (strcmp(cmd->name, "resume") == 0)
		rc = qc_vm_resume(ctx, n, &err);
	else
		rc = qc_vm_undefine(ctx, n, &err);
	return rc < 0 ? cli_error(&err) : CLI_OK;
}

static int cmd_start(struct cli *c, const struct cmd *cmd, struct args *a)
{
	struct qc_vm_start_opts o = {.paused = a->set[O_PAUSED]};
	struct qc_error err = {0};
	qc_ctx *ctx;
	int wait_ms = 0;

	if (a->set[O_WAIT] && a->set[O_PAUSED])
		return cli_usage_error(cmd->name, "start: --wait and --paused exclude each other");
	if (a->set[O_TIMEOUT] && !a->set[O_WAIT])
		return cli_usage_error(cmd->name, "start: --timeout needs --wait");
	if (a->set[O_TIMEOUT] && cli_parse_wait_timeout(cmd->name, a->val[O_TIMEOUT], &wait_ms) < 0)
		return CLI_USAGE;
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	/* a VM without a ready marker could be started but never waited for: refuse first */
	if (a->set[O_WAIT] && qc_vm_wait(ctx, a->pos[0], 1, NULL, &err) < 0 &&
		err.code == QC_ERR_UNSUPPORTED)
		return cli_error(&err);
	err = (struct qc_error){0};
	if (qc_vm_start(ctx, a->pos[0], &o, &err) < 0)
		return cli_error(&err);
	return a->set[O_WAIT] ? cli_wait_ready(c, a->pos[0], wait_ms) : CLI_OK;
}

static int cmd_stop(struct cli *c, const struct cmd *cmd, struct args *a)
{
	struct qc_error err = {0};
	struct cli_spin spin = {.name = a->pos[0]};
	uint64_t secs = 0;
	qc_ctx *ctx;
	int rc;

	if (a->set[O_TIMEOUT] &&
		qc_parse_uint("--timeout", a->val[O_TIMEOUT], 1, 86400, &secs, &err) < 0)
		return cli_usage_error(cmd->name, "%s", err.msg);
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	spin.ctx = ctx;
	if (isatty(STDERR_FILENO) && !c->json && c->verbosity >= 0)
		qc_ctx_set_progress(ctx, cli_spin_progress, &spin);
	rc = qc_vm_stop(ctx, a->pos[0], (int) secs * 1000, a->set[O_FORCE], &err);
	qc_ctx_set_progress(ctx, NULL, NULL);
	if (spin.drawn)
		fputs("\r\033[K", stderr);
	if (rc < 0)
		return cli_error(&err);
	return CLI_OK;
}

static int cmd_delete(struct cli *c, const struct cmd *cmd, struct args *a)
{
	struct qc_error err = {0};
	qc_ctx *ctx = cli_ctx(c);

	(void) cmd;
	if (!ctx)
		return CLI_ERROR;
	if (qc_vm_delete(ctx, a->pos[0], a->set[O_FORCE], &err) < 0)
		return cli_error(&err);
	return CLI_OK;
}

/* ------------------------------------------------------------ list, info */

static void fmt_time(int64_t ms, char *buf, size_t size)
{
	if (ms <= 0)
		snprintf(buf, size, "-");
	else
		qc_format_time_utc(ms, buf, size);
}

static const char *state_text(const struct qc_vm_info *i, char *buf, size_t size)
{
	if ((i->state == QC_VM_STOPPED || i->state == QC_VM_CRASHED) && i->exit_reason)
		snprintf(buf, size, "%s (%s%s%s)", qc_vm_state_name(i->state), i->exit_reason,
			i->exit_detail ? ": " : "", i->exit_detail ? i->exit_detail : "");
	else if (i->ready)
		snprintf(buf, size, "%s (ready after %.1f s)", qc_vm_state_name(i->state),
			(double) i->ready_after_ms / 1000.0);
	else
		snprintf(buf, size, "%s", qc_vm_state_name(i->state));
	return buf;
}

static void json_info(struct qc_jgen *g, const struct qc_vm_info *i)
{
	size_t k;

	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "name", i->name);
	qc_jgen_kstring(g, "uuid", i->uuid);
	qc_jgen_kstring(g, "state", qc_vm_state_name(i->state));
	qc_jgen_kstring(g, "arch", i->arch);
	qc_jgen_kstring(g, "machine", i->machine);
	qc_jgen_kuint(g, "cpus", i->cpus);
	qc_jgen_kuint(g, "memory", i->memory);
	qc_jgen_kstring(g, "accel_requested", i->accel_requested);
	qc_jgen_kstring(g, "accel", i->accel);
	qc_jgen_kstring(g, "accel_why", i->accel_why);
	qc_jgen_kint(g, "qemu_pid", i->qemu_pid);
	qc_jgen_kint(g, "monitor_pid", i->monitor_pid);
	qc_jgen_kint(g, "started_at_ms", i->started_at_ms);
	qc_jgen_kint(g, "stopped_at_ms", i->stopped_at_ms);
	qc_jgen_kbool(g, "ready", i->ready);
	if (i->ready)
		qc_jgen_kint(g, "ready_after_ms", i->ready_after_ms);
	qc_jgen_key(g, "last_exit");
	if (i->exit_reason) {
		qc_jgen_map_open(g);
		qc_jgen_kstring(g, "reason", i->exit_reason);
		qc_jgen_kstring(g, "detail", i->exit_detail);
		qc_jgen_map_close(g);
	} else {
		qc_jgen_null(g);
	}
	qc_jgen_kstring(g, "kernel", i->kernel);
	qc_jgen_kstring(g, "vm_dir", i->vm_dir);
	qc_jgen_kstring(g, "console_log", i->console_log);
	qc_jgen_kstring(g, "qmp_socket", i->qmp_socket);
	if (i->nics) {
		qc_jgen_key(g, "nics");
		qc_jgen_array_open(g);
		for (k = 0; i->nics[k]; k++)
			qc_jgen_string(g, i->nics[k]);
		qc_jgen_array_close(g);
	}
	if (i->disks) {
		qc_jgen_kbool(g, "autostart", i->autostart);
		qc_jgen_key(g, "disks");
		qc_jgen_array_open(g);
		for (k = 0; i->disks[k]; k++)
			qc_jgen_string(g, i->disks[k]);
		qc_jgen_array_close(g);
	}
	qc_jgen_map_close(g);
}

static int cmd_list(struct cli *c, const struct cmd *cmd, struct args *a)
{
	struct qc_error err = {0};
	struct qc_vm_info **v = NULL;
	size_t n = 0, k;
	qc_ctx *ctx = cli_ctx(c);
	int rc = CLI_OK;

	(void) cmd;
	(void) a;
	if (!ctx)
		return CLI_ERROR;
	if (qc_vm_list(ctx, &v, &n, &err) < 0)
		return cli_error(&err);
	if (c->json) {
		cleanup_jgen struct qc_jgen *g = qc_jgen_new(true);

		qc_jgen_array_open(g);
		for (k = 0; k < n; k++)
			json_info(g, v[k]);
		qc_jgen_array_close(g);
		rc = cli_print_json(g);
	} else {
		printf("%-20s %-8s %-7s %4s %10s  %s\n", "NAME", "ARCH", "ACCEL", "CPUS", "MEMORY",
			"STATE");
		for (k = 0; k < n; k++) {
			char mem[32], st[512];

			qc_format_size(v[k]->memory, mem, sizeof(mem));
			printf("%-20s %-8s %-7s %4u %10s  %s\n", v[k]->name, v[k]->arch,
				v[k]->accel ? v[k]->accel : v[k]->accel_requested, v[k]->cpus, mem,
				state_text(v[k], st, sizeof(st)));
		}
	}
	qc_vm_list_free(v, n);
	return rc;
}

static int cmd_info(struct cli *c, const struct cmd *cmd, struct args *a)
{
	struct qc_error err = {0};
	struct qc_vm_info *i = NULL;
	qc_ctx *ctx = cli_ctx(c);
	char buf[64], st[512];
	size_t k;
	int rc = CLI_OK;

	(void) cmd;
	if (!ctx)
		return CLI_ERROR;
	if (qc_vm_info(ctx, a->pos[0], &i, &err) < 0)
		return cli_error(&err);
	if (c->json) {
		cleanup_jgen struct qc_jgen *g = qc_jgen_new(true);

		json_info(g, i);
		rc = cli_print_json(g);
		qc_vm_info_free(i);
		return rc;
	}
	printf("Name:         %s\n", i->name);
	printf("UUID:         %s\n", i->uuid);
	printf("State:        %s\n", state_text(i, st, sizeof(st)));
	printf("Arch:         %s (machine %s)\n", i->arch, i->machine);
	printf("CPUs:         %u\n", i->cpus);
	qc_format_size(i->memory, buf, sizeof(buf));
	printf("Memory:       %s\n", buf);
	if (i->accel)
		printf("Accel:        %s (requested %s): %s\n", i->accel, i->accel_requested,
			i->accel_why ? i->accel_why : "");
	else
		printf("Accel:        %s (decided at start)\n", i->accel_requested);
	if (i->qemu_pid)
		printf("QEMU pid:     %d (monitor pid %d)\n", (int) i->qemu_pid,
			(int) i->monitor_pid);
	fmt_time(i->started_at_ms, buf, sizeof(buf));
	printf("Started:      %s\n", buf);
	if (i->stopped_at_ms) {
		fmt_time(i->stopped_at_ms, buf, sizeof(buf));
		printf("Stopped:      %s\n", buf);
	}
	if (i->exit_reason)
		printf("Last exit:    %s%s%s\n", i->exit_reason, i->exit_detail ? ": " : "",
			i->exit_detail ? i->exit_detail : "");
	printf("Autostart:    %s\n", i->autostart ? "yes (started at boot)" : "no");
	if (i->kernel)
		printf("Kernel:       %s\n", i->kernel);
	for (k = 0; i->disks && i->disks[k]; k++)
		printf("%s%s\n", k == 0 ? "Disks:        " : "              ", i->disks[k]);
	if (i->disks && !i->disks[0])
		printf("Disks:        (none)\n");
	for (k = 0; i->nics && i->nics[k]; k++)
		printf("%s%s\n", k == 0 ? "NICs:         " : "              ", i->nics[k]);
	printf("Directory:    %s\n", i->vm_dir);
	printf("Console log:  %s\n", i->console_log);
	if (i->qmp_socket)
		printf("QMP socket:   %s\n", i->qmp_socket);
	qc_vm_info_free(i);
	return rc;
}

/* ------------------------------------------------------- console, log, qmp */

static int cmd_io(struct cli *c, const struct cmd *cmd, struct args *a)
{
	if (strcmp(cmd->name, "console") == 0)
		return cli_cmd_console(c, a->pos[0]);
	if (strcmp(cmd->name, "log") == 0)
		return cli_cmd_log(c, a->pos[0], a->set[O_FOLLOW], a->set[O_RAW]);
	return cli_cmd_events(c, a->pos[0], a->set[O_FOLLOW]);
}

static int cmd_qmp(struct cli *c, const struct cmd *cmd, struct args *a)
{
	struct qc_error err = {0};
	cleanup_free char *reply = NULL;
	qc_ctx *ctx = cli_ctx(c);

	(void) cmd;
	/*
	 * Check the command's shape before looking at the VM: a typo is a usage
	 * error whatever state the VM is in (qc_qmp_raw checks it again).
	 */
	{
		cleanup_json qc_json *j = NULL;
		const char *ex;

		if (qc_json_parse(a->pos[1], strlen(a->pos[1]), &j, &err) < 0)
			return cli_usage_error("qmp", "qmp: command '%s' is not valid JSON: %s", a->pos[1],
				err.msg);
		ex = qc_json_string(qc_json_get(j, "execute"));
		if (qc_json_type(j) != QC_JSON_OBJECT || !ex || !*ex)
			return cli_usage_error("qmp",
				"qmp: command '%s': use a JSON object with \"execute\", like "
				"'{\"execute\": \"query-status\"}'",
				a->pos[1]);
	}
	if (!ctx)
		return CLI_ERROR;
	if (qc_vm_qmp(ctx, a->pos[0], a->pos[1], &reply, &err) < 0) {
		if (err.code == QC_ERR_INVALID)
			return cli_usage_error("qmp", "%s", err.msg);
		return cli_error(&err);
	}
	puts(reply);
	/* QEMU answered with an error: print it, and say so in the exit code. */
	return strstr(reply, "\"error\"") && !strstr(reply, "\"return\"") ? CLI_ERROR : CLI_OK;
}
