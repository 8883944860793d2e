/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemuctl doctor: what this host can run, and why not.  Each check has a
 * status; the report says whether a VM of the chosen architecture can run
 * with the chosen accelerator.  Nothing here changes the host.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "driver/confine.h"
#include "driver/domain.h"
#include "driver/qemuctl.h"
#include "util/util.h"

#define MIN_FREE_BYTES (1ull << 30)

static struct qc_check *add(struct qc_doctor_report *r, const char *name, enum qc_check_status st,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static struct qc_check *add(struct qc_doctor_report *r, const char *name, enum qc_check_status st,
	const char *fmt, ...)
{
	struct qc_check *c;
	va_list ap;

	r->checks = qc_xrealloc(r->checks, (r->n_checks + 1) * sizeof(*r->checks));
	c = &r->checks[r->n_checks++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->status = st;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	return c;
}

/* First line of `prog --version`, or NULL when prog is missing or fails. */
static char *program_version(const char *path)
{
	const char *argv[] = {path, "--version", NULL};
	struct qc_spawn_opts o = {.argv = argv, .out = QC_STDIO_CAPTURE, .timeout_ms = 10000};
	struct qc_spawn_result res = {0};
	char *line = NULL;

	if (qc_spawn_run(&o, &res, NULL) == 0 && res.exit_code == 0 && res.out) {
		size_t n = strcspn(res.out, "\n");
		line = qc_xstrndup(res.out, n);
	}
	qc_spawn_result_free(&res);
	return line;
}

/* Does `binary -device help` list the device? */
static bool has_device(const char *binary, const char *device)
{
	const char *argv[] = {binary, "-device", "help", NULL};
	struct qc_spawn_opts o = {
		.argv = argv, .out = QC_STDIO_CAPTURE, .errout = QC_STDIO_CAPTURE, .timeout_ms = 10000};
	struct qc_spawn_result res = {0};
	cleanup_free char *quoted = qc_xasprintf("\"%s\"", device);
	bool found = false;

	if (qc_spawn_run(&o, &res, NULL) == 0 && res.exit_code == 0 && res.out)
		found = strstr(res.out, quoted) != NULL;
	qc_spawn_result_free(&res);
	return found;
}

static bool have_cap_net_admin(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2] = {{0}};

	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return (d[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32))) != 0;
}

static void check_arch(struct qc_doctor_report *r, enum qc_arch arch, bool chosen,
	enum qc_accel accel, bool *can_run)
{
	const struct qc_arch_info *ai = qc_arch_info(arch);
	cleanup_free char *bin = qc_find_program(ai->qemu_binary);
	cleanup_free char *ver = NULL;
	char name[64], why[512];
	enum qc_check_status missing = chosen ? QC_CHECK_FAIL : QC_CHECK_WARN;

	snprintf(name, sizeof(name), "qemu-%s", ai->name);
	if (!bin) {
		add(r, name, missing, "%s not found in PATH; install %s", ai->qemu_binary,
			arch == QC_ARCH_X86_64    ? "qemu-system-x86"
			: arch == QC_ARCH_AARCH64 ? "qemu-system-arm"
						  : "qemu-system-ppc");
		if (chosen)
			*can_run = false;
		return;
	}
	ver = program_version(bin);
	if (!ver) {
		add(r, name, missing, "%s does not run (%s --version failed)", bin, bin);
		if (chosen)
			*can_run = false;
		return;
	}
	add(r, name, QC_CHECK_OK, "%s: %s", bin, ver);

	snprintf(name, sizeof(name), "accel-%s", ai->name);
	if (qc_kvm_usable(arch, why, sizeof(why)))
		add(r, name, QC_CHECK_OK, "KVM: %s", why);
	else if (chosen && accel == QC_ACCEL_KVM) {
		add(r, name, QC_CHECK_FAIL, "--accel kvm: %s", why);
		*can_run = false;
	} else
		add(r, name, QC_CHECK_WARN, "TCG (software emulation, slower): %s", why);

	snprintf(name, sizeof(name), "firmware-%s", ai->name);
	if (ai->firmware_code) {
		bool code = access(ai->firmware_code, R_OK) == 0;
		bool vars = !ai->firmware_vars || access(ai->firmware_vars, R_OK) == 0;
		if (code && vars)
			add(r, name, QC_CHECK_OK, "%s", ai->firmware_code);
		else
			add(r, name, QC_CHECK_WARN,
				"%s missing: disk boot through UEFI is unavailable (direct kernel "
				"boot still works); install %s",
				code ? ai->firmware_vars : ai->firmware_code,
				arch == QC_ARCH_X86_64 ? "ovmf" : "qemu-efi-aarch64");
	} else {
		add(r, name, QC_CHECK_OK, "built into QEMU (%s)",
			arch == QC_ARCH_PPC64LE ? "SLOF/VOF" : "SeaBIOS");
	}

	if (chosen) {
		if (has_device(bin, "virtio-9p-pci"))
			add(r, "9p", QC_CHECK_OK, "%s has virtio-9p-pci (--share works)", bin);
		else
			add(r, "9p", QC_CHECK_WARN,
				"%s lacks virtio-9p-pci: --share is unavailable", bin);
	}
}

/* --tpm needs swtpm; --secure-boot OVMF's Secure Boot code and Microsoft-keys varstore. */
static void check_tpm_secure_boot(struct qc_doctor_report *r)
{
	const struct qc_arch_info *ai = qc_arch_info(QC_ARCH_X86_64);
	cleanup_free char *swtpm = qc_find_program("swtpm");

	if (swtpm)
		add(r, "swtpm", QC_CHECK_OK, "%s (--tpm works)", swtpm);
	else
		add(r, "swtpm", QC_CHECK_WARN,
			"swtpm not found: --tpm is unavailable; install swtpm swtpm-tools");
	if (access(ai->firmware_code_secure, R_OK) == 0 &&
		access(ai->firmware_vars_secure, R_OK) == 0)
		add(r, "secure-boot", QC_CHECK_OK, "%s, %s (--secure-boot works on x86_64)",
			ai->firmware_code_secure, ai->firmware_vars_secure);
	else
		add(r, "secure-boot", QC_CHECK_WARN,
			"%s or %s missing: --secure-boot is unavailable; install ovmf",
			ai->firmware_code_secure, ai->firmware_vars_secure);
}

/* The nearest existing ancestor of path (path itself when it exists). */
static char *existing_ancestor(const char *path)
{
	char *p = qc_xstrdup(path);
	struct stat st;

	while (stat(p, &st) < 0) {
		char *slash = strrchr(p, '/');
		if (!slash || slash == p) {
			strcpy(p, "/");
			break;
		}
		*slash = '\0';
	}
	return p;
}

/*
 * qc_ctx_open() already refused a root that is not a directory or that
 * others can write, so what is left to judge is ownership and room.
 */
static void check_root(struct qc_doctor_report *r, const char *root, bool *can_run)
{
	cleanup_free char *base = existing_ancestor(root);
	struct statvfs vfs;
	struct stat st;
	char free_s[32];

	if (strcmp(base, root) != 0) {
		add(r, "state-root", QC_CHECK_OK,
			"%s does not exist yet; it is made (mode 0700) on first use", root);
	} else if (stat(root, &st) < 0) {
		add(r, "state-root", QC_CHECK_FAIL, "%s: %s", root, strerror(errno));
		*can_run = false;
		return;
	} else if (st.st_uid != geteuid()) {
		add(r, "state-root", QC_CHECK_WARN, "%s is owned by uid %u, not by you (uid %u)",
			root, (unsigned) st.st_uid, (unsigned) geteuid());
	} else {
		add(r, "state-root", QC_CHECK_OK, "%s (mode %04o)", root,
			(unsigned) (st.st_mode & 07777));
	}
	if (statvfs(base, &vfs) == 0) {
		uint64_t avail = (uint64_t) vfs.f_bavail * vfs.f_frsize;

		qc_format_size(avail, free_s, sizeof(free_s));
		if (avail < MIN_FREE_BYTES)
			add(r, "free-space", QC_CHECK_WARN,
				"only %s free under %s: images and overlays need room", free_s, base);
		else
			add(r, "free-space", QC_CHECK_OK, "%s free under %s", free_s, base);
	}
}

/* Who QEMU runs as (driver/confine.c); nothing is created here. */
static void check_qemu_user(struct qc_doctor_report *r, bool *can_run)
{
	struct qc_error e = {0};
	struct qc_confine c;
	cleanup_free char *useradd = qc_find_program("useradd");

	if (qc_driver_confine_user(false, &c, &e) < 0) {
		add(r, "qemu-user", QC_CHECK_FAIL, "%s", e.msg);
		*can_run = false;
	} else if (c.active) {
		add(r, "qemu-user", QC_CHECK_OK,
			"QEMU runs as user '%s' (uid %u, gid %u), sandboxed (set QEMUCTL_USER to "
			"change)",
			c.name, (unsigned) c.uid, (unsigned) c.gid);
	} else if (c.missing) {
		add(r, "qemu-user", useradd ? QC_CHECK_OK : QC_CHECK_WARN,
			"QEMU runs as user '%s', which does not exist yet: %s", c.name,
			useradd ? "the first start creates it (useradd --system)"
				: "useradd is missing; create it by hand");
	} else {
		add(r, "qemu-user", geteuid() == 0 ? QC_CHECK_WARN : QC_CHECK_OK,
			"QEMU runs as uid %u (%s)", (unsigned) geteuid(), c.why);
	}
}

int qc_doctor(qc_ctx *ctx, const char *arch_name, const char *accel_name,
	struct qc_doctor_report **ret, struct qc_error *err)
{
	struct qc_doctor_report *r;
	enum qc_arch arch = arch_name ? qc_arch_from_name(arch_name) : qc_arch_host();
	enum qc_accel accel = QC_ACCEL_AUTO;
	bool can_run = true;
	cleanup_free char *img = NULL, *img_ver = NULL;
	int fd;

	if (arch == QC_ARCH_INVALID)
		return qc_error_set(err, QC_ERR_INVALID,
			"unknown architecture '%s': use x86_64, aarch64 or ppc64le", arch_name);
	if (accel_name && qc_accel_from_name(accel_name, &accel) < 0)
		return qc_error_set(err, QC_ERR_INVALID, "unknown accelerator '%s': use auto, kvm or tcg",
			accel_name);

	r = qc_xzalloc(sizeof(*r));
	snprintf(r->arch, sizeof(r->arch), "%s", qc_arch_name(arch));
	add(r, "host", QC_CHECK_OK, "%s host, VMs checked for %s", qc_arch_name(qc_arch_host()),
		qc_arch_name(arch));

	for (int a = 0; a < QC_ARCH_COUNT; a++)
		check_arch(r, (enum qc_arch) a, (enum qc_arch) a == arch, accel, &can_run);

	img = getenv("QEMUCTL_QEMU_IMG") ? qc_xstrdup(getenv("QEMUCTL_QEMU_IMG"))
					  : qc_find_program("qemu-img");
	if (img && (img_ver = program_version(img)))
		add(r, "qemu-img", QC_CHECK_OK, "%s: %s", img, img_ver);
	else {
		add(r, "qemu-img", QC_CHECK_FAIL, "qemu-img not found or not working; install qemu-utils");
		can_run = false;
	}

	if (access("/usr/lib/ipxe/qemu/efi-virtio.rom", R_OK) == 0)
		add(r, "ipxe", QC_CHECK_OK, "virtio-net option ROM present");
	else
		add(r, "ipxe", QC_CHECK_WARN,
			"/usr/lib/ipxe/qemu/efi-virtio.rom missing: virtio-net-pci needs it; install ipxe-qemu");

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		add(r, "tun", QC_CHECK_OK, "/dev/net/tun opens");
	} else {
		add(r, "tun", QC_CHECK_WARN,
			"/dev/net/tun: %s: bridge networks are unavailable (user-mode networking works)",
			strerror(errno));
	}
	if (have_cap_net_admin())
		add(r, "net-admin", QC_CHECK_OK, "CAP_NET_ADMIN: bridges and taps can be made");
	else
		add(r, "net-admin", QC_CHECK_WARN,
			"no CAP_NET_ADMIN: named networks need root; user-mode networking works");

	check_tpm_secure_boot(r);
	check_qemu_user(r, &can_run);
	if (ctx)
		check_root(r, qc_ctx_root(ctx), &can_run);

	r->can_run = can_run;
	*ret = r;
	return 0;
}

void qc_doctor_report_free(struct qc_doctor_report *r)
{
	if (!r)
		return;
	free(r->checks);
	free(r);
}

const char *qc_check_status_name(enum qc_check_status s)
{
	static const char *const names[] = {
		[QC_CHECK_OK] = "ok",
		[QC_CHECK_WARN] = "warn",
		[QC_CHECK_FAIL] = "fail",
	};
	QC_TABLE_COVERS(names, QC_CHECK_STATUS_COUNT);

	return QC_NAME_OF(names, s, "?");
}
