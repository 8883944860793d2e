/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/argv.c: golden argv per domain kind and arch x accel, error
 * cases, and one real QEMU (x86_64, TCG, -S) that must accept a generated
 * argv and answer QMP.
 */
#include "config.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "driver/domain.h"
#include "tests/unit/domain_golden.h"
#include "tests/unit/unit.h"
#include "tests/unit/check_main.h"

static struct qc_domain *base(const char *name, enum qc_arch arch)
{
	struct qc_domain *d = qc_domain_new();

	d->name = qc_xstrdup(name);
	d->arch = arch;
	ck_assert_int_eq(qc_uuid_parse("3f2a1c4e-8b7d-4e21-9c55-0a1b2c3d4e5f", d->uuid), 0);
	qc_uuid_format(d->uuid, d->uuid_str);
	d->cpus = 2;
	d->memory = 1024 * MiB;
	return d;
}

static struct qc_argv_ctx ctx_for(enum qc_accel accel)
{
	return (struct qc_argv_ctx){
		.accel = accel,
		.qmp_path = "/run/qemuctl/3f2a1c4e/qmp.sock",
		.qmp_event_path = "/run/qemuctl/3f2a1c4e/events.sock",
		.serial_path = "/run/qemuctl/3f2a1c4e/serial.sock",
		.sandbox = true,
	};
}

static void add_seed(struct qc_domain *d)
{
	const struct qc_arch_info *ai = qc_arch_info(d->arch);
	cleanup_free char *path = qc_xasprintf("/var/lib/qemuctl/vms/%s/seed.iso", d->name);
	struct qc_disk *k = golden_add_disk(d, "seed", path, "raw");

	k->role = QC_ROLE_SEED;
	k->device = ai->seed_device;
	k->bus = ai->seed_bus;
	k->readonly = true;
	k->owned = true;
}

static void add_kernel(struct qc_domain *d)
{
	d->kernel = qc_xstrdup("/var/lib/qemuctl/guest/vmlinuz");
	d->initrd = qc_xstrdup("/var/lib/qemuctl/guest/initrd.img");
	d->cmdline = qc_xasprintf("console=%s panic=-1 quiet", qc_arch_info(d->arch)->console);
}

static void add_user_nic(struct qc_domain *d)
{
	struct qc_nic *n = golden_add_nic(d, "net0", QC_NIC_USER, NULL, 0);

	n->model = qc_xstrdup("virtio-net-pci");
}

static void golden_argv(const char *name, const struct qc_domain *d, const struct qc_argv_ctx *ctx)
{
	cleanup_strv char **argv = NULL;
	cleanup_free char *text = NULL, *rel = qc_xasprintf("argv/%s.args", name);
	struct qc_error err = {0};
	char msg[2048];

	ck_assert_qc_ok(qc_build_argv(d, ctx, &argv, &err), &err);
	text = golden_join_argv(argv);
	ck_assert_msg(golden_check(rel, text, msg, sizeof(msg)) == 0, "%s", msg);
}

/*
 * A golden argv case: base(vm) for x86_64 under TCG, made into the VM
 * by build(), must give tests/unit/golden/argv/<golden>.args.
 */
struct golden_case {
	const char *golden, *vm;
	void (*build)(struct qc_domain *d, struct qc_argv_ctx *c);
};

static void build_kernel_minimal(struct qc_domain *d, struct qc_argv_ctx *c)
{
	d->cpus = 1;
	d->memory = 256 * MiB;
	add_kernel(d);
}

static void build_overlay_seed(struct qc_domain *d, struct qc_argv_ctx *c)
{
	golden_add_overlay(d);
	add_seed(d);
	add_user_nic(d);
}

static void build_data_disks(struct qc_domain *d, struct qc_argv_ctx *c)
{
	struct qc_disk *k;

	golden_add_overlay(d);
	k = golden_add_disk(d, "disk1", "/var/lib/qemuctl/vms/db/disk1.qcow2", "qcow2");
	k->owned = true;
	/* a comma QEMU must see doubled */
	k = golden_add_disk(d, "scratch", "/srv/data,2026/scratch.raw", "raw");
	k->bus = QC_BUS_SCSI;
	k = golden_add_disk(d, "a-very-long-disk-name-for-node-names", "/srv/long.raw", "raw");
	k->bus = QC_BUS_SATA;
	k->readonly = true;
	add_seed(d);
}

static void build_user_net_forwards(struct qc_domain *d, struct qc_argv_ctx *c)
{
	static const unsigned ports0[] = {0, 40022};
	static const unsigned *const ports[] = {ports0, NULL};
	struct qc_nic *n;

	add_kernel(d);
	add_user_nic(d);
	n = &d->nics[0];
	n->fwds = qc_xzalloc(2 * sizeof(*n->fwds));
	n->n_fwds = 2;
	strcpy(n->fwds[0].proto, "tcp");
	n->fwds[0].host_port = 8080;
	n->fwds[0].guest_port = 80;
	strcpy(n->fwds[1].proto, "tcp");
	strcpy(n->fwds[1].host_addr, "0.0.0.0");
	n->fwds[1].guest_port = 22; /* host port chosen at start: ctx */
	c->fwd_ports = ports;
}

static void build_tap_net(struct qc_domain *d, struct qc_argv_ctx *c)
{
	static const int fds[] = {3, 4};
	struct qc_nic *n;

	add_kernel(d);
	golden_add_lan_nic(d, "net0", 0);
	n = golden_add_nic(d, "uplink", QC_NIC_BRIDGE, "br0", 1);
	n->model = qc_xstrdup("e1000e");
	c->tap_fds = fds;
	c->n_tap_fds = 2;
}

static void build_shares(struct qc_domain *d, struct qc_argv_ctx *c)
{
	struct qc_share *s;

	add_kernel(d);
	s = golden_add_share(d, "src", "/home/me/src,v2");
	s->readonly = true;
	s = golden_add_share(d, "scratch", "/var/lib/qemuctl/vms/dev/share-scratch");
	s->empty = true;
	s->security_model = qc_xstrdup("none");
}

static void build_pidfile(struct qc_domain *d, struct qc_argv_ctx *c)
{
	add_kernel(d);
	d->serial_console = false;
	c->pidfile = "/run/qemuctl/3f2a1c4e/qemu.pid";
	c->qmp_event_path = NULL;
	c->qemu_binary = "/opt/qemu/bin/qemu-system-x86_64";
}

static void build_no_sandbox(struct qc_domain *d, struct qc_argv_ctx *c)
{
	build_pidfile(d, c);
	c->sandbox = false;
}

/* The sockets the monitor made, as qemuctl start passes them: inherited fds. */
static void inherit_sockets(struct qc_argv_ctx *c)
{
	c->qmp_path = c->qmp_event_path = c->serial_path = NULL;
	c->qmp_fd = 5;
	c->qmp_event_fd = 6;
	c->serial_fd = 7;
}

/* What qemuctl start passes: sockets the monitor made, kernel and initrd as inherited fds. */
static void build_inherited_fds(struct qc_domain *d, struct qc_argv_ctx *c)
{
	add_kernel(d);
	inherit_sockets(c);
	c->kernel_fd = 8;
	c->initrd_fd = 9;
}

/* A start that resumes a saved state: QEMU waits for migrate-incoming. */
static void build_incoming(struct qc_domain *d, struct qc_argv_ctx *c)
{
	build_inherited_fds(d, c);
	c->incoming_defer = true;
}

/*
 * --tpm as qemuctl start passes it: the swtpm socket's directory inherited
 * as fd 3; a disk boot (x86_64 refuses a TPM with a direct kernel boot).
 */
static void build_tpm(struct qc_domain *d, struct qc_argv_ctx *c)
{
	golden_add_overlay(d);
	inherit_sockets(c);
	d->tpm = true;
	c->tpm_dir_fd = 3;
}

/* --secure-boot: q35 with SMM, the Secure Boot code, a secure varstore flash. */
static void build_secure_boot(struct qc_domain *d, struct qc_argv_ctx *c)
{
	golden_add_overlay(d);
	d->secure_boot = true;
	d->nvram = qc_xstrdup("/var/lib/qemuctl/vms/sb/nvram.fd");
	d->tpm = true;
	c->tpm_path = "/run/qemuctl/sb/swtpm/swtpm.sock";
}

static const struct golden_case golden_cases[] = {
	{"kernel-minimal", "tiny", build_kernel_minimal},
	{"overlay-seed", "web", build_overlay_seed},
	{"data-disks", "db", build_data_disks},
	{"user-net-forwards", "fwd", build_user_net_forwards},
	{"tap-net", "lan", build_tap_net},
	{"shares", "dev", build_shares},
	{"pidfile", "ru", build_pidfile},
	{"no-sandbox", "ru", build_no_sandbox},
	{"inherited-fds", "fds", build_inherited_fds},
	{"incoming-defer", "fds", build_incoming},
	{"tpm", "fds", build_tpm},
	{"secure-boot", "sb", build_secure_boot},
};

START_TEST(argv_golden)
{
	const struct golden_case *g = &golden_cases[_i];
	cleanup_domain struct qc_domain *d = base(g->vm, QC_ARCH_X86_64);
	struct qc_argv_ctx c = ctx_for(QC_ACCEL_TCG);

	g->build(d, &c);
	golden_argv(g->golden, d, &c);
}
END_TEST

/*
 * What qemuctl start passes for files: every disk layer, the seed and the
 * UEFI code and varstore in fd sets; the root disk's chain (active layer,
 * a frozen snapshot layer, the catalog image) as nodes with explicit
 * backing, the bottom one with "backing": null; no file path in argv.
 */
START_TEST(argv_fdsets)
{
	cleanup_domain struct qc_domain *d = base("fdset", QC_ARCH_X86_64);
	struct qc_argv_ctx c = ctx_for(QC_ACCEL_TCG);
	static const struct qc_argv_fd fds[] = {{100, 1, "disk0"}, {101, 2, "disk0.1"},
		{102, 3, "disk0.2"}, {103, 4, "seed"}, {104, 5, "data,1"}, {105, 6, "loader"},
		{106, 7, "nvram"}};
	static const struct qc_argv_layer root[] = {
		{1, "qcow2", "/var/lib/qemuctl/vms/fdset/disk0.L19a4c0d1e2f00.qcow2"},
		{2, "qcow2", "/var/lib/qemuctl/vms/fdset/disk0.qcow2"},
		{3, "qcow2", "/var/lib/qemuctl/images/debian-12.qcow2"}};
	static const struct qc_argv_layer seed[] = {{4, "raw", NULL}};
	static const struct qc_argv_layer data[] = {{5, "qcow2", NULL}};
	static const struct qc_argv_disk disks[] = {{root, 3}, {seed, 1}, {data, 1}};
	cleanup_strv char **argv = NULL;
	cleanup_free char *joined = NULL;
	struct qc_error err = {0};
	struct qc_disk *k;

	golden_add_overlay(d);
	add_seed(d);
	k = golden_add_disk(d, "data", "/srv/data.qcow2", "qcow2");
	k->role = QC_ROLE_DATA;
	d->loader = qc_xstrdup("/usr/share/OVMF/OVMF_CODE_4M.fd");
	d->nvram = qc_xstrdup("/var/lib/qemuctl/vms/fdset/nvram.fd");
	c.fds = fds;
	c.n_fds = QC_ARRAY_SIZE(fds);
	c.disks = disks;
	c.loader_set = 6;
	c.nvram_set = 7;
	c.qga_fd = 4; /* the agent channel, last */
	golden_argv("fdsets", d, &c);

	/* no path of a file QEMU reads or writes is left in argv */
	ck_assert_qc_ok(qc_build_argv(d, &c, &argv, &err), &err);
	joined = golden_join_argv(argv);
	ck_assert_ptr_null(strstr(joined, "/var/lib/qemuctl"));
	ck_assert_ptr_null(strstr(joined, "/srv/"));
	ck_assert_ptr_null(strstr(joined, "/usr/share/OVMF"));

	/* a disk without a descriptor is a bug of the caller, not a path fallback */
	qc_strv_free(TAKE_PTR(argv));
	{
		struct qc_argv_disk none[] = {{root, 3}, {seed, 1}, {data, 0}};

		c.disks = none;
		ck_assert_int_eq(qc_build_argv(d, &c, &argv, &err), -QC_ERR_INTERNAL);
		ck_assert_ptr_nonnull(strstr(err.msg, "disk 'data' has no file descriptor"));
	}
}
END_TEST

/* Each arch under each accelerator: disk boot with overlay + seed, and kernel boot. */
static const enum qc_arch arches[] = {QC_ARCH_X86_64, QC_ARCH_AARCH64, QC_ARCH_PPC64LE};
static const enum qc_accel accels[] = {QC_ACCEL_KVM, QC_ACCEL_TCG};

START_TEST(argv_arch_accel)
{
	enum qc_arch arch = arches[_i / 2];
	enum qc_accel accel = accels[_i % 2];
	cleanup_domain struct qc_domain *d = base("vm", arch);
	cleanup_domain struct qc_domain *k = base("vm", arch);
	struct qc_argv_ctx c = ctx_for(accel);
	cleanup_free char *n1 = NULL, *n2 = NULL;

	golden_add_overlay(d);
	add_seed(d);
	add_user_nic(d);
	if (arch != QC_ARCH_PPC64LE)
		d->nvram = qc_xasprintf("/var/lib/qemuctl/vms/vm/nvram.fd");
	n1 = qc_xasprintf("%s-%s-disk", qc_arch_name(arch), qc_accel_name(accel));
	golden_argv(n1, d, &c);

	add_kernel(k);
	add_user_nic(k);
	n2 = qc_xasprintf("%s-%s-kernel", qc_arch_name(arch), qc_accel_name(accel));
	golden_argv(n2, k, &c);
}
END_TEST

START_TEST(argv_cpu_choice)
{
	cleanup_domain struct qc_domain *d = base("c", QC_ARCH_AARCH64);
	cleanup_free char *a = NULL, *b = NULL, *e = NULL, *f = NULL, *g = NULL;

	a = qc_argv_cpu(d, QC_ACCEL_KVM);
	b = qc_argv_cpu(d, QC_ACCEL_TCG);
	ck_assert_str_eq(a, "host");
	ck_assert_str_eq(b, "cortex-a57");
	d->cpu_model = qc_xstrdup("max");
	e = qc_argv_cpu(d, QC_ACCEL_TCG);
	ck_assert_str_eq(e, "max,pauth-impdef=on");
	free(d->cpu_model);
	d->cpu_model = qc_xstrdup("host");
	f = qc_argv_cpu(d, QC_ACCEL_TCG); /* host under TCG: the arch default */
	ck_assert_str_eq(f, "cortex-a57");
	d->arch = QC_ARCH_PPC64LE;
	g = qc_argv_cpu(d, QC_ACCEL_TCG);
	ck_assert_str_eq(g, "POWER9");
}
END_TEST

/* The -vnc value of each form, and what the loopback check lets through. */
START_TEST(argv_vnc)
{
	static const struct {
		const char *vnc, *arg;
	} t[] = {
		{"socket", "none"},
		{"127.0.0.1", "127.0.0.1:0,to=99,password=on"},
		{"127.9.8.7", "127.9.8.7:0,to=99,password=on"},
		{"::1", "[::1]:0,to=99,password=on"},
		{"", NULL},
	};
	static const char *const bad[] = {"0.0.0.0", "192.0.2.1", "::", "::ffff:127.0.0.1",
		"localhost", "127.0.0.1,password=off", "", "unix:/tmp/x"};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cleanup_domain struct qc_domain *d = base("v", QC_ARCH_X86_64);
		struct qc_argv_ctx c = ctx_for(QC_ACCEL_TCG);
		cleanup_strv char **argv = NULL;
		struct qc_error err = {0};
		const char *got = NULL;

		snprintf(d->vnc, sizeof(d->vnc), "%s", t[i].vnc);
		ck_assert_int_eq(qc_domain_validate(d, &err), 0);
		ck_assert_int_eq(qc_build_argv(d, &c, &argv, &err), 0);
		for (size_t k = 0; argv[k]; k++)
			if (strcmp(argv[k], "-vnc") == 0)
				got = argv[k + 1];
		ck_assert_pstr_eq(got, t[i].arg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct qc_error err = {0};

		ck_assert_int_eq(qc_domain_check_vnc(bad[i], &err), -QC_ERR_INVALID);
		ck_assert_msg(strstr(err.msg, "is not a loopback address"), "%s", err.msg);
	}
}
END_TEST

START_TEST(argv_escape)
{
	cleanup_free char *a = qc_argv_escape("/a,b,,c"), *b = qc_argv_escape("");

	ck_assert_str_eq(a, "/a,,b,,,,c");
	ck_assert_str_eq(b, "");
}
END_TEST

START_TEST(argv_ids)
{
	cleanup_domain struct qc_domain *d = base("ids", QC_ARCH_X86_64);
	char fmt[32], file[32], dev[80];
	struct qc_disk *k = qc_domain_add_disk(d);

	k->name = qc_xstrdup("abcdefghijklmnopqrstuvwxyz0123456789");
	qc_argv_disk_ids(d, 0, fmt, file, dev);
	ck_assert_str_eq(fmt, "drive--0");
	ck_assert_str_eq(file, "file--0");
	ck_assert_str_eq(dev, "disk-abcdefghijklmnopqrstuvwxyz0123456789");
	free(k->name);
	k->name = qc_xstrdup("disk0");
	qc_argv_disk_ids(d, 0, fmt, file, dev);
	ck_assert_str_eq(fmt, "drive-disk0");
	ck_assert_str_eq(file, "file-disk0");
}
END_TEST

START_TEST(argv_errors)
{
	cleanup_domain struct qc_domain *d = base("bad", QC_ARCH_X86_64);
	struct qc_argv_ctx c = ctx_for(QC_ACCEL_AUTO);
	struct qc_error err = {0};
	char **argv = NULL;
	struct qc_nic *n;

	ck_assert_qc_fail(qc_build_argv(d, &c, &argv, &err), &err, QC_ERR_INTERNAL, NULL);
	ck_assert_str_eq(
		err.msg, "VM 'bad': argv needs a resolved accelerator (kvm or tcg), not 'auto'");
	ck_assert_ptr_null(argv);

	c.accel = QC_ACCEL_TCG;
	n = golden_add_nic(d, "net0", QC_NIC_BRIDGE, "br0", 0);
	ck_assert_qc_fail(qc_build_argv(d, &c, &argv, &err), &err, QC_ERR_INTERNAL, NULL);
	ck_assert_str_eq(err.msg, "VM 'bad': NIC 'net0': no tap device was opened for it");

	n->type = QC_NIC_USER;
	n->fwds = qc_xzalloc(sizeof(*n->fwds));
	n->n_fwds = 1;
	strcpy(n->fwds[0].proto, "tcp");
	n->fwds[0].guest_port = 22;
	ck_assert_qc_fail(qc_build_argv(d, &c, &argv, &err), &err, QC_ERR_INTERNAL, NULL);
	ck_assert_str_eq(err.msg,
		"VM 'bad': NIC 'net0': no host port was chosen for forward to guest port 22");

	d->cpus = 0; /* invalid domains never reach QEMU */
	ck_assert_qc_fail(qc_build_argv(d, &c, &argv, &err), &err, QC_ERR_INVALID, NULL);
	ck_assert_str_eq(err.msg, "VM 'bad': cpus must be between 1 and 1024 (got 0)");
	ck_assert_ptr_null(argv);
}
END_TEST

/* Each arch's TPM device; Secure Boot refused where there is no firmware for it. */
START_TEST(argv_tpm_secure_boot)
{
	static const char *const devs[] = {[QC_ARCH_X86_64] = "tpm-tis,tpmdev=tpm0,id=tpm-dev0",
		[QC_ARCH_AARCH64] = "tpm-tis-device,tpmdev=tpm0,id=tpm-dev0",
		[QC_ARCH_PPC64LE] = "tpm-spapr,tpmdev=tpm0,id=tpm-dev0"};
	struct qc_argv_ctx c = ctx_for(QC_ACCEL_TCG);
	struct qc_error err = {0};

	for (int a = 0; a < QC_ARCH_COUNT; a++) {
		cleanup_domain struct qc_domain *d = base("t", (enum qc_arch) a);
		cleanup_strv char **argv = NULL;
		cleanup_free char *joined = NULL;

		/* x86_64 refuses a TPM with a direct kernel boot (below): it boots a disk */
		if (a == QC_ARCH_X86_64)
			golden_add_overlay(d);
		else
			add_kernel(d);
		d->tpm = true;
		c.tpm_dir_fd = 0;
		c.tpm_path = NULL;
		ck_assert_qc_fail(qc_build_argv(d, &c, &argv, &err), &err, QC_ERR_INTERNAL, NULL);
		ck_assert_str_eq(
			err.msg, "VM 't': argv needs the swtpm control socket for its TPM");
		c.tpm_dir_fd = 3;
		ck_assert_qc_ok(qc_build_argv(d, &c, &argv, &err), &err);
		joined = golden_join_argv(argv);
		ck_assert_msg(strstr(joined, devs[a]), "%s: no %s in %s", qc_arch_name(a), devs[a],
			joined);
		ck_assert_msg(strstr(joined,
				      "-chardev\nsocket,id=chrtpm,path=/proc/self/fd/3/swtpm.sock\n"
				      "-tpmdev\nemulator,id=tpm0,chardev=chrtpm\n"),
			"%s", joined);
		if (a == QC_ARCH_X86_64)
			continue;
		qc_strv_free(TAKE_PTR(argv));
		free(d->kernel);
		free(d->initrd);
		free(d->cmdline);
		d->kernel = d->initrd = d->cmdline = NULL;
		d->secure_boot = true;
		ck_assert_qc_fail(qc_build_argv(d, &c, &argv, &err), &err, QC_ERR_INVALID, NULL);
		ck_assert_msg(strstr(err.msg, "Secure Boot is not available on") &&
				      strstr(err.msg, "x86_64 only; drop --secure-boot"),
			"%s", err.msg);
	}
	{
		cleanup_domain struct qc_domain *d = base("k", QC_ARCH_X86_64);
		char **argv = NULL;

		add_kernel(d);
		d->secure_boot = true;
		ck_assert_qc_fail(qc_build_argv(d, &c, &argv, &err), &err, QC_ERR_INVALID, NULL);
		ck_assert_str_eq(err.msg,
			"VM 'k': Secure Boot checks what UEFI firmware boots from a disk; a direct "
			"kernel boot bypasses it: drop --kernel or --secure-boot");
		/* a TPM with the kernel: SeaBIOS's TPM setup would corrupt its ACPI tables */
		d->secure_boot = false;
		d->tpm = true;
		ck_assert_qc_fail(qc_build_argv(d, &c, &argv, &err), &err, QC_ERR_INVALID, NULL);
		ck_assert_str_eq(err.msg,
			"VM 'k': a TPM with a direct kernel boot does not work on x86_64: SeaBIOS "
			"runs before the kernel and its TPM setup corrupts the ACPI tables the "
			"kernel reads (the guest runs without ACPI and sees no TPM); boot from a "
			"disk through UEFI firmware instead (no --kernel or <kernel>: with the "
			"ovmf package installed qemuctl boots x86_64 disks through OVMF), or drop "
			"--tpm (<tpm>)");
		d->tpm = false;
		d->secure_boot = true;
		free(d->kernel);
		free(d->initrd);
		free(d->cmdline);
		d->kernel = d->initrd = d->cmdline = NULL;
		d->machine = qc_xstrdup("pc");
		ck_assert_qc_fail(qc_build_argv(d, &c, &argv, &err), &err, QC_ERR_INVALID, NULL);
		ck_assert_str_eq(err.msg, "VM 'k': Secure Boot needs SMM, which qemuctl enables on "
					  "q35 only, not machine 'pc': use q35");
		ck_assert_ptr_null(argv);
	}
}
END_TEST

/* ---------------------------------------------- QEMU accepts our argv */

static int qmp_connect(const char *path, int timeout_ms)
{
	int64_t deadline = qc_deadline_ms(timeout_ms);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		ck_assert_int_ge(fd, 0);
		if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0)
			return fd;
		close(fd);
		if (qc_time_left_ms(deadline) == 0)
			return -1;
		qc_sleep_ms(20);
	}
}

/* Read one QMP line (bounded, with a deadline) into buf. */
static bool qmp_line(int fd, char *buf, size_t size, int timeout_ms)
{
	int64_t deadline = qc_deadline_ms(timeout_ms);
	size_t n = 0;

	while (n + 1 < size) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&p, 1, qc_time_left_ms(deadline)) <= 0)
			return false;
		r = read(fd, buf + n, 1);
		if (r <= 0)
			return false;
		if (buf[n] == '\n') {
			buf[n] = 0;
			return true;
		}
		n++;
	}
	return false;
}

/* The reply to the last command, skipping events. */
static bool qmp_cmd(int fd, const char *cmd, char *buf, size_t size)
{
	if (write(fd, cmd, strlen(cmd)) != (ssize_t) strlen(cmd))
		return false;
	while (qmp_line(fd, buf, size, 10000))
		if (!strstr(buf, "\"event\""))
			return true;
	return false;
}

/* Greeting, capabilities, -S state, the escaped disk path, quit.  NULL = all good. */
static const char *qmp_session(const char *path, char *buf, size_t size)
{
	cleanup_close int fd = qmp_connect(path, 10000);

	if (fd < 0)
		return "QEMU did not open its QMP socket";
	if (!qmp_line(fd, buf, size, 10000) || !strstr(buf, "\"QMP\""))
		return "no QMP greeting";
	if (!qmp_cmd(fd, "{\"execute\":\"qmp_capabilities\"}\n", buf, size) ||
		!strstr(buf, "\"return\""))
		return "qmp_capabilities failed";
	if (!qmp_cmd(fd, "{\"execute\":\"query-status\"}\n", buf, size) ||
		!strstr(buf, "\"prelaunch\""))
		return "QEMU is not paused in prelaunch (-S)";
	if (!qmp_cmd(fd, "{\"execute\":\"query-block\"}\n", buf, size) ||
		!strstr(buf, "a,b/data.raw"))
		return "the disk path with a comma did not reach QEMU intact";
	if (!qmp_cmd(fd, "{\"execute\":\"quit\"}\n", buf, size) || !strstr(buf, "\"return\""))
		return "quit failed";
	return NULL;
}

START_TEST(argv_qemu_accepts)
{
	char *dir = unit_mkdtemp();
	cleanup_free char *sub = qc_xasprintf("%s/a,b", dir); /* commas reach QEMU escaped */
	cleanup_free char *qmp = qc_xasprintf("%s/qmp.sock", sub);
	cleanup_free char *ev = qc_xasprintf("%s/ev.sock", sub);
	cleanup_free char *ser = qc_xasprintf("%s/serial.sock", sub);
	cleanup_free char *qga = qc_xasprintf("%s/qga.sock", sub);
	cleanup_free char *disk = qc_xasprintf("%s/data.raw", sub);
	cleanup_free char *share = qc_xasprintf("%s/share", sub);
	cleanup_free char *errpath = qc_xasprintf("%s/stderr", dir);
	cleanup_free char *seed = qc_xasprintf("%s/seed.raw", sub);
	enum qc_arch arch = arches[_i];
	const struct qc_arch_info *ai = qc_arch_info(arch);
	cleanup_free char *qemu = qc_find_program(ai->qemu_binary);
	cleanup_domain struct qc_domain *d = base("accept", arch);
	struct qc_argv_ctx c = ctx_for(QC_ACCEL_TCG);
	cleanup_strv char **argv = NULL;
	struct qc_error err = {0};
	struct qc_spawn_opts o = {0};
	cleanup_close int errfd = -1, fd = -1;
	cleanup_free char *stderr_text = NULL;
	const char *problem;
	char buf[4096] = "";
	int status = 0;
	pid_t pid;
	struct qc_disk *k;
	struct qc_share *s;

	ck_assert_msg(qemu != NULL,
		"%s is not installed (apt-get install qemu-system-x86 "
		"qemu-system-arm qemu-system-ppc)",
		ai->qemu_binary);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	ck_assert_int_eq(mkdir(share, 0700), 0);
	for (int i = 0; i < 2; i++) {
		fd = open(i ? seed : disk, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
		close(TAKE_FD(fd));
	}

	d->memory = 256 * MiB;
	d->cpus = 1;
	k = golden_add_disk(d, "data", disk, "raw");
	k->role = QC_ROLE_ROOT; /* disk boot: firmware where the arch needs it (AAVMF) */
	k = golden_add_disk(d, "seed", seed, "raw");
	k->role = QC_ROLE_SEED;
	k->device = ai->seed_device;
	k->bus = ai->seed_bus;
	k->readonly = true;
	add_user_nic(d);
	s = golden_add_share(d, "share", share);
	s->readonly = true;
	c.qmp_path = qmp;
	c.qmp_event_path = ev;
	c.serial_path = ser;
	c.qga_path = qga; /* the guest agent's virtio-serial port */
	ck_assert_qc_ok(qc_build_argv(d, &c, &argv, &err), &err);

	errfd = open(errpath, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ck_assert_int_ge(errfd, 0);
	o.argv = (const char *const *) argv;
	o.errout = QC_STDIO_FD;
	o.err_fd = errfd;
	o.pdeathsig = SIGKILL; /* a crashed test never leaves QEMU behind */
	ck_assert_qc_ok(qc_spawn_start(&o, &pid, NULL, &err), &err);

	/* talk first, assert after QEMU is gone, so a failure never leaks the process */
	problem = qmp_session(qmp, buf, sizeof(buf));
	if (problem)
		kill(pid, SIGKILL);
	for (int64_t deadline = qc_deadline_ms(10000);;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (qc_time_left_ms(deadline) == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			problem = problem ? problem : "QEMU did not exit after quit";
			break;
		}
		qc_sleep_ms(10);
	}
	qc_read_file(AT_FDCWD, errpath, 65536, &stderr_text, NULL, NULL);
	unit_rmdir(dir);
	ck_assert_msg(!problem, "%s (last QMP line: %s; QEMU stderr: %s)", problem, buf,
		stderr_text ? stderr_text : "");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "QEMU status %d, stderr: %s",
		status, stderr_text ? stderr_text : "");
}
END_TEST

static Suite *argv_suite(void)
{
	Suite *s = suite_create("argv");
	TCase *tc;

	tc = unit_tcase(s, "golden", NULL);
	tcase_add_loop_test(tc, argv_golden, 0, QC_ARRAY_SIZE(golden_cases));
	unit_add_tests(tc, argv_fdsets, NULL);
	tcase_add_loop_test(tc, argv_arch_accel, 0, 6);
	unit_tcase(s, "pure", argv_cpu_choice, argv_vnc, argv_escape, argv_ids, argv_errors,
		argv_tpm_secure_boot, NULL);
	tc = unit_tcase(s, "qemu", NULL);
	tcase_set_timeout(tc, 60);
	/* one QEMU per arch (TCG, -S, ~0.3 s each), killed and reaped before asserting */
	tcase_add_loop_test(tc, argv_qemu_accepts, 0, QC_ARCH_COUNT);
	return s;
}

UNIT_MAIN(argv_suite)
