/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemuctl: the table of every command, and main.
 *   qemuctl [--root DIR] [--json] [-v|-q] [--version] [--help] COMMAND ...
 * Exit codes: 0 ok, 1 error ("qemuctl: error: ..."), 2 usage.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/cli/cli.h"
#include "driver/cli/connect.h"

#define CREATE_OPTS                                                                   \
	(CLI_OPT(OPT_IMAGE) | CLI_OPT(OPT_DISK_IMAGE) | CLI_OPT(OPT_KERNEL) |         \
		CLI_OPT(OPT_INITRD) | CLI_OPT(OPT_APPEND) | CLI_OPT(OPT_ARCH) |       \
		CLI_OPT(OPT_ACCEL) | CLI_OPT(OPT_CPUS) | CLI_OPT(OPT_MEMORY) |        \
		CLI_OPT(OPT_DISK_SIZE) | CLI_OPT(OPT_DISK) | CLI_OPT(OPT_NET) |       \
		CLI_OPT(OPT_SHARE) | CLI_OPT(OPT_HOSTNAME) | CLI_OPT(OPT_SSH_KEY) |   \
		CLI_OPT(OPT_USER_DATA) | CLI_OPT(OPT_NETCFG) | CLI_OPT(OPT_NO_SEED) | \
		CLI_OPT(OPT_SEED_BUS) | CLI_OPT(OPT_USER) | CLI_OPT(OPT_TPM) |        \
		CLI_OPT(OPT_SECURE_BOOT) | CLI_OPT(OPT_DISPLAY))

static const char create_help[] =
	"  --image NAME         boot disk: an overlay on catalog image NAME\n"
	"  --disk-image FILE    boot disk: a qcow2 overlay whose read-only backing is FILE\n"
	"  --kernel F [--initrd F] [--append S]   direct kernel boot\n"
	"  --arch A             x86_64 (default: the host's), aarch64, ppc64le\n"
	"  --accel A            auto (default: KVM when usable, else TCG), kvm, tcg\n"
	"  --cpus N             virtual CPUs (default 1; at most the machine type's:\n"
	"                       q35 288, virt 512, pseries 4096)\n"
	"  --memory SIZE        RAM, e.g. 512M, 2G (default 1G with --image, else 512M;\n"
	"                       not above the host's)\n"
	"  --disk-size SIZE     grow the boot disk to SIZE (default: the image's size;\n"
	"                       with --image at least 10G)\n"
	"  --disk SIZE|FILE, --net SPEC, --share HOSTDIR:TAG[:ro], --hostname H,\n"
	"  --ssh-key FILE, --user-data FILE, --network-config FILE, --no-seed\n"
	"  --seed-bus B         cdrom or virtio: how the seed is attached (default: the\n"
	"                       arch's: cdrom on x86_64, virtio on aarch64 and ppc64le)\n"
	"  --user NAME          the guest user (sudo, keys; 'qemuctl ssh' logs in as it);\n"
	"                       default: your login name ($SUDO_USER under sudo), or\n"
	"                       'debian' as root\n"
	"  --tpm                a TPM 2.0 (a swtpm per VM; its state stays in the VM's\n"
	"                       directory across restarts; x86_64: not with --kernel)\n"
	"  --secure-boot        UEFI Secure Boot with Microsoft's keys enrolled (x86_64:\n"
	"                       q35 with SMM, OVMF_CODE_4M.secboot.fd)\n"
	"  --display D          none (default), vnc: a VNC server on a unix socket in the\n"
	"                       VM's run directory, or vnc=127.0.0.1: on a loopback TCP\n"
	"                       port with a generated password ('qemuctl vnc NAME')\n"
	"  A SIZE has a unit: K, M, G, T (powers of 1024), or B for bytes.\n";

/* A VM command: its help is made from synopsis, summary and option lines; --json also after it. */
#define VM(n, syn, sum, hlp, o, min, max, f, ...)                                         \
	{                                                                                 \
		.name = n, .synopsis = syn, .summary = sum, .help = hlp,                  \
		.opts = (o) | CLI_OPT(OPT_JSON), .min_pos = min, .max_pos = max, .fn = f, \
		__VA_ARGS__                                                               \
	}

#define HOTPLUG(n, l)                                                                     \
	{                                                                                 \
		.name = n, .usage = cli_hotplug_usage, .line = l, .max_pos = CLI_MAX_POS, \
		.style = CLI_STYLE_PREFIX, .fn = cli_hotplug                              \
	}

/* Every command, in the order of `qemuctl --help`. */
static const struct cli_cmd commands[] = {
	VM("create", "NAME [options]", "define a VM (boot disk overlay, kernel)", create_help,
		CREATE_OPTS, 1, 1, cli_vm_create),
	VM("run", "NAME [create options] [--console] [--rm] [--wait [--timeout S]]",
		"create and start a VM",
		"  create options (see 'qemuctl create --help'), and:\n"
		"  --console            attach to the console (Ctrl-] detaches)\n"
		"  --rm                 with --console: delete the VM when the console ends\n"
		"  --wait               return when the guest finished booting\n"
		"  --timeout S          with --wait: seconds to wait (default 300)\n",
		CREATE_OPTS | CLI_OPT(OPT_CONSOLE) | CLI_OPT(OPT_RM) | CLI_OPT(OPT_WAIT) |
			CLI_OPT(OPT_TIMEOUT),
		1, 1, cli_vm_run),
	VM("define", "FILE.xml", "define (or redefine) a VM from domain XML", NULL, 0, 1, 1,
		cli_vm_define, .pos_names = "FILE", .pos_files = "i"),
	VM("dumpxml", "NAME", "print a VM's domain XML", NULL, 0, 1, 1, cli_vm_dumpxml),
	VM("undefine", "NAME", "remove a stopped VM's definition (VMs with disks: delete)", NULL, 0,
		1, 1, cli_vm_simple),
	VM("start", "NAME [--paused] [--fresh] [--wait [--timeout S]]",
		"start a VM (a saved VM resumes where it was)",
		"  --paused             leave the CPUs stopped ('qemuctl resume' starts them)\n"
		"  --fresh              boot anew and discard the state 'qemuctl save' wrote\n"
		"  --wait               return when the guest finished booting\n"
		"  --timeout S          with --wait: seconds to wait (default 300)\n",
		CLI_OPT(OPT_PAUSED) | CLI_OPT(OPT_FRESH) | CLI_OPT(OPT_WAIT) | CLI_OPT(OPT_TIMEOUT),
		1, 1, cli_vm_start),
	VM("stop", "NAME [--timeout S] [--force]", "shut a VM down (ACPI, then quit, then SIGKILL)",
		"  --timeout S          seconds to wait for the guest (default 60)\n"
		"  --force              skip the ACPI power button: quit, then SIGKILL\n",
		CLI_OPT(OPT_TIMEOUT) | CLI_OPT(OPT_FORCE), 1, 1, cli_vm_stop),
	VM("destroy", "NAME", "stop a VM at once (quit, then SIGKILL)", NULL, 0, 1, 1,
		cli_vm_simple),
	VM("reboot", "NAME", "reset a running VM", NULL, 0, 1, 1, cli_vm_simple),
	VM("pause", "NAME", "stop a running VM's CPUs", NULL, 0, 1, 1, cli_vm_simple),
	VM("resume", "NAME", "restart a paused VM's CPUs", NULL, 0, 1, 1, cli_vm_simple),
	VM("save", "NAME", "stop a running VM with its memory state on disk; start resumes it",
		NULL, 0, 1, 1, cli_vm_simple),
	VM("delete", "NAME [--force]",
		"remove a VM with its overlay and seed (never the backing); also: rm",
		"  --force              destroy the VM first when it runs\n", CLI_OPT(OPT_FORCE), 1,
		1, cli_vm_delete, .alias = "rm"),
	VM("list", "", "list VMs and their state; also: ls", NULL, 0, 0, 0, cli_vm_list,
		.alias = "ls"),
	VM("info", "NAME", "show a VM's definition and state", NULL, 0, 1, 1, cli_vm_info),
	VM("console", "NAME", "attach to a running VM's serial console (Ctrl-] detaches)", NULL, 0,
		1, 1, cli_vm_console),
	VM("log", "NAME [--follow] [--raw]", "print the serial console log",
		"  --follow             keep printing new output while the VM runs\n"
		"  --raw                print control sequences as they are, even to a terminal\n"
		"                       (by default a terminal shows them: ^[]52;...)\n",
		CLI_OPT(OPT_FOLLOW) | CLI_OPT(OPT_RAW), 1, 1, cli_vm_log),
	VM("events", "NAME [--follow]", "print the QMP events of a VM (JSON lines with --json)",
		"  --follow             keep printing new events while the VM runs\n",
		CLI_OPT(OPT_FOLLOW), 1, 1, cli_vm_events),
	VM("qmp", "NAME JSON", "send one raw QMP command, print QEMU's reply", NULL, 0, 2, 2,
		cli_vm_qmp, .pos_names = "NAME JSON", .flags = CLI_DASH_ARGS),
	VM("screenshot", "NAME FILE.png", "save a running VM's display as a PNG image",
		"  The VM needs a display: <video><model type='vga'/></video> in its definition.\n",
		0, 2, 2, cli_screenshot, .pos_names = "NAME FILE", .pos_files = "-o"),
	{.name = "vnc",
		.usage = cli_vnc_usage,
		.opts = CLI_OPT(OPT_LISTEN) | CLI_OPT(OPT_JSON),
		.min_pos = 1,
		.max_pos = 1,
		.pos_names = "NAME",
		.style = CLI_STYLE_GETOPT,
		.flags = CLI_LAST_WINS,
		.fn = cli_vnc,
		.line = "  vnc NAME [--listen PORT]      how to reach a VM's VNC display, or "
			"forward a port to it\n"},
	{.name = "image",
		.usage = cli_image_usage,
		.subs = cli_image_cmds,
		.subs_list = "sync, import, list, rm",
		.line = "  image sync|import|list|rm ...  images (see 'qemuctl image --help')\n"},
	{.name = "net",
		.usage = cli_net_usage,
		.subs = cli_net_cmds,
		.subs_list = "create, list, rm",
		.line = "  net create|list|rm ...         networks (see 'qemuctl net --help')\n"},
	{.name = "port",
		.usage = cli_port_usage,
		.subs = cli_port_cmds,
		.subs_list = "add, rm, list",
		.line = "  port add|rm|list NAME ...      host port forwards of a running VM "
			"(see 'qemuctl port --help')\n"},
	{.name = "stats",
		.usage = cli_stats_usage,
		.opts = CLI_OPT(OPT_WATCH) | CLI_OPT(OPT_JSON),
		.max_pos = CLI_MAX_POS,
		.style = CLI_STYLE_PREFIX,
		.flags = CLI_LAST_WINS,
		.fn = cli_stats,
		.line = "  stats [NAME...] [--watch S]    CPU, memory, disk and NIC counters of "
			"running VMs\n"},
	/* cmd_ssh.c parses every word from NAME or the first ssh option on (a->rest) */
	{.name = "ssh",
		.alias = "shell",
		.usage = cli_ssh_usage,
		.opts = CLI_OPT(OPT_IDENTITY) | CLI_OPT(OPT_NO_WAIT) | CLI_OPT(OPT_TIMEOUT),
		.max_pos = 0,
		.style = CLI_STYLE_BARE,
		.flags = CLI_REST | CLI_LAST_WINS | CLI_DASH_ARGS,
		.fn = cli_ssh,
		.hint = " (a command goes after NAME or after --)",
		.line = "  ssh NAME [OPTIONS] [-- CMD...] ssh into a VM (waits while it boots); also: "
			"shell\n"},
	VM("ssh-config", "NAME [--json]", "print an OpenSSH Host block for a VM (scp -F, rsync -e)",
		"  --json               the values and the block as one JSON document\n", 0, 1, 1,
		cli_ssh_config),
	/* cmd_cp.c: cp parses -r and the paths itself (a->rest) */
	{.name = "cp",
		.usage = cli_cp_usage,
		.opts = CLI_OPT(OPT_NO_WAIT) | CLI_OPT(OPT_TIMEOUT),
		.max_pos = 0,
		.style = CLI_STYLE_BARE,
		.flags = CLI_REST | CLI_LAST_WINS | CLI_DASH_ARGS,
		.fn = cli_cp,
		.line = "  cp [-r] [NAME:]SRC... [NAME:]DST  copy files to or from a VM (scp)\n"},
	{.name = "exec",
		.usage = cli_exec_usage,
		.opts = CLI_OPT(OPT_NO_WAIT) | CLI_OPT(OPT_TIMEOUT) | CLI_OPT(OPT_VIA),
		.min_pos = 1,
		.max_pos = 1,
		.pos_names = "NAME",
		.style = CLI_STYLE_BARE,
		.flags = CLI_REST | CLI_LAST_WINS | CLI_DASH_ARGS,
		.fn = cli_exec,
		.line = "  exec NAME [--] CMD...          run a command in a VM, exit with its code\n"},
	{.name = "seed",
		.usage = cli_seed_usage,
		.subs = cli_seed_cmds,
		.subs_list = "build",
		.flags = CLI_ONE_SUBCMD,
		.line = "  seed build ...                 NoCloud seed ISOs (see 'qemuctl seed "
			"--help')\n"},
	{.name = "doctor",
		.usage = cli_doctor_usage,
		.opts = CLI_OPT(OPT_ARCH) | CLI_OPT(OPT_ACCEL),
		.style = CLI_STYLE_GETOPT,
		.flags = CLI_LAST_WINS | CLI_ABBREV,
		.fn = cli_doctor,
		.line = "  doctor                         can this host run VMs, and if not, "
			"why\n"},
	{.name = "autostart",
		.usage = cli_autostart_usage,
		.opts = CLI_OPT(OPT_DISABLE) | CLI_OPT(OPT_RUN) | CLI_OPT(OPT_SHUTDOWN) |
			CLI_OPT(OPT_TIMEOUT) | CLI_OPT(OPT_JSON),
		.max_pos = CLI_MAX_POS,
		.style = CLI_STYLE_GETOPT,
		.flags = CLI_LAST_WINS | CLI_ABBREV,
		.fn = cli_autostart,
		.line = "  autostart NAME|--run|--shutdown  start VMs at boot, stop them at "
			"shutdown\n"},
	{.name = "snapshot",
		.usage = cli_snapshot_usage,
		.opts = CLI_OPT(OPT_FORCE) | CLI_OPT(OPT_NO_QUIESCE) | CLI_OPT(OPT_FRESH),
		.opts_hi = CLI_OPT_HI(OPT_WITH_MEMORY),
		.max_pos = CLI_MAX_POS,
		.style = CLI_STYLE_PREFIX,
		.fn = cli_snapshot,
		.line = "  snapshot create|list|revert|rm NAME [SNAP]  disk (and memory) "
			"snapshots\n"},
	HOTPLUG("attach-disk",
		"  attach-disk|detach-disk|attach-net|detach-net NAME ARG  hot-plug devices\n"),
	HOTPLUG("detach-disk", ""),
	HOTPLUG("attach-net", ""),
	HOTPLUG("detach-net", ""),
	{.name = "wait",
		.usage = cli_wait_usage,
		.opts = CLI_OPT(OPT_TIMEOUT) | CLI_OPT(OPT_JSON),
		.min_pos = 1,
		.max_pos = 1,
		.style = CLI_STYLE_PREFIX,
		.flags = CLI_LAST_WINS,
		.fn = cli_wait,
		.line = "  wait NAME [--timeout S]        wait until the guest finished first "
			"boot\n"},
	{.name = "resize",
		.usage = cli_resize_usage,
		.opts = CLI_OPT(OPT_JSON),
		.min_pos = 3,
		.max_pos = 3,
		.pos_names = "NAME DISK SIZE",
		.style = CLI_STYLE_PREFIX,
		.flags = CLI_DASH_ARGS | CLI_LAST_WINS,
		.fn = cli_resize,
		.line = "  resize NAME DISK SIZE|+SIZE    grow a disk (offline, or online while "
			"running)\n"},
	{.name = "clone",
		.usage = cli_clone_usage,
		.opts = CLI_OPT(OPT_SNAPSHOT) | CLI_OPT(OPT_JSON),
		.min_pos = 2,
		.max_pos = 2,
		.pos_names = "NAME NEW",
		.style = CLI_STYLE_PREFIX,
		.fn = cli_clone,
		.line = "  clone NAME NEW [--snapshot SNAP]  a new VM on NAME's read-only "
			"layers\n"},
	/* the remote end of --connect, run by ssh: not for people */
	{.name = "serve-stdio", .line = "", .style = CLI_STYLE_GETOPT, .fn = cli_serve_stdio},
	{.name = "migrate",
		.usage = cli_migrate_usage,
		.opts = CLI_OPT(OPT_OFFLINE) | CLI_OPT(OPT_SSH_OPTION) |
			CLI_OPT(OPT_REMOTE_QEMUCTL) | CLI_OPT(OPT_JSON),
		.opts_hi = CLI_OPT_HI(OPT_COPY_STORAGE),
		.min_pos = 2,
		.max_pos = 2,
		.pos_names = "NAME ssh://HOST",
		.style = CLI_STYLE_PREFIX,
		.fn = cli_migrate,
		.line = "  migrate NAME ssh://[USER@]HOST[:PORT][/ROOT] [--offline]  move a VM "
			"to another host\n"},
	{.name = "migrate-receive", .max_pos = 0, .style = CLI_STYLE_PREFIX,
		.fn = cli_migrate_receive, .line = ""},
	{0},
};

static void usage(FILE *f, const char *name)
{
	(void) name;
	fputs("usage: qemuctl [--root DIR|--connect URL] [--json] [-v|-q] COMMAND [ARGS...]\n"
	      "\n"
	      "A QEMU driver without a daemon.  Global options:\n"
	      "  --root DIR   state root (default: $QEMUCTL_ROOT, /var/lib/qemuctl for root,\n"
	      "               ~/.local/share/qemuctl for users); DIR must exist\n"
	      "  --connect ssh://[USER@]HOST[:PORT][/ROOT]\n"
	      "               run the command on HOST's qemuctl through ssh (default:\n"
	      "               $QEMUCTL_CONNECT); the files it reads or writes travel along\n"
	      "  --json       machine-readable output (one JSON document; errors as\n"
	      "               {\"error\": ...} on stderr; see qemuctl(1))\n"
	      "  -v, -q       more or less chatter on stderr\n"
	      "  --version, --help\n"
	      "\n"
	      "Commands:\n",
		f);
	cli_list_commands(f, commands);
	fputs("\n'qemuctl COMMAND --help' describes one command.\n", f);
}

/* The global options before the command: up to the first word that is not one. */
static const struct cli_cmd global = {
	.name = "qemuctl",
	.usage = usage,
	.opts = CLI_OPT(OPT_ROOT) | CLI_OPT(OPT_CONNECT) | CLI_OPT(OPT_JSON) | CLI_OPT(OPT_QUIET) |
		CLI_OPT(OPT_VERBOSE) | CLI_OPT(OPT_VERSION),
	.style = CLI_STYLE_GLOBAL,
	.flags = CLI_REST | CLI_LAST_WINS,
};

/* The command on another host: the global options that travel, then the command's words. */
static int connect_main(struct cli *c, const char *url, const struct cli_args *g)
{
	char **v;
	int n = 0, n_global, rc;

	if (c->root)
		return cli_usage_error(NULL, "--root names a local state root: with --connect, "
					     "give the remote one in the address (ssh://HOST/ROOT)");
	if (!(v = calloc((size_t) g->n_rest + 16, sizeof(char *))))
		abort();
	if (c->json)
		v[n++] = "--json";
	if (c->verbosity < 0)
		v[n++] = "-q";
	for (int i = 0; i < c->verbosity && i < 8; i++)
		v[n++] = "-v";
	n_global = n;
	for (int i = 0; i < g->n_rest; i++)
		v[n++] = g->rest[i];
	rc = cli_connect(c, url, commands, n, v, n_global);
	free(v);
	return rc;
}

int main(int argc, char **argv)
{
	struct cli_args g = {0};
	struct cli c = {0};
	const char *url;
	int rc;

	c.tty = isatty(STDOUT_FILENO);
	/* --json among the global options: even their usage errors are JSON */
	for (int i = 1; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			cli_json_errors(true);
	rc = cli_parse(&global, NULL, argc, argv, &g);
	if (rc != 0) {
		cli_args_clear(&g);
		return rc > 0 ? CLI_OK : CLI_USAGE;
	}
	if (g.set[OPT_VERSION]) {
		printf("qemuctl %s\n", PACKAGE_VERSION);
		return CLI_OK;
	}
	c.root = g.val[OPT_ROOT];
	c.json = g.set[OPT_JSON];
	cli_json_errors(c.json);
	c.verbosity = (g.set[OPT_QUIET] ? -1 : 0) + (int) g.count[OPT_VERBOSE];
	url = g.val[OPT_CONNECT] ? g.val[OPT_CONNECT] : getenv("QEMUCTL_CONNECT");
	cli_args_clear(&g);
	if (c.root && !c.root[0])
		return cli_usage_error(NULL, "--root: empty directory name");
	if (g.n_rest == 0) {
		usage(stderr, NULL);
		return CLI_USAGE;
	}
	if (url && url[0] && strcmp(g.rest[0], "serve-stdio") != 0)
		return connect_main(&c, url, &g);
	qc_log_handler_set(cli_log_to_stderr, NULL,
		c.verbosity < 0	   ? QC_LOG_LEVEL_ERROR
		: c.verbosity == 0 ? QC_LOG_LEVEL_WARNING
		: c.verbosity == 1 ? QC_LOG_LEVEL_INFO
				   : QC_LOG_LEVEL_DEBUG);
	rc = cli_dispatch(&c, commands, g.n_rest, g.rest);
	fflush(stdout);
	if (ferror(stdout) && rc == CLI_OK) {
		fprintf(stderr, "qemuctl: error: writing to stdout: %s\n", strerror(errno));
		rc = CLI_ERROR;
	}
	qc_ctx_close(c.ctx);
	return rc;
}
