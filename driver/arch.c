/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-architecture knowledge (one table) and the accelerator decision.
 *
 * KVM is chosen only when it really works.  A /dev/kvm that opens is not
 * proof: on nested hosts without virtualisation extensions exposed to the
 * L1 guest the device opens and even answers KVM_CREATE_VM, yet a vCPU
 * never makes progress (QEMU hangs in KVM_RUN).  On x86 the CPU must
 * advertise vmx (Intel) or svm (AMD) in /proc/cpuinfo for KVM to run
 * anything, so that flag is the decisive check there.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "driver/arch.h"

static const char *const x86_aliases[] = {"amd64", "x86-64", NULL};
static const char *const arm_aliases[] = {"arm64", NULL};
static const char *const ppc_aliases[] = {"ppc64el", "ppc64", NULL};

static const struct qc_arch_info arch_table[] = {
	[QC_ARCH_X86_64] =
		{
			.arch = QC_ARCH_X86_64,
			.name = "x86_64",
			.aliases = x86_aliases,
			.qemu_binary = "qemu-system-x86_64",
			.machine = "q35",
			/* qemu64 lacks x86-64-v2, which current distributions require */
			.cpu_tcg = "max",
			.console = "ttyS0",
			.debian_arch = "amd64",
			.qemu_arch = "x86_64",
			.firmware_code = "/usr/share/OVMF/OVMF_CODE_4M.fd",
			.firmware_vars = "/usr/share/OVMF/OVMF_VARS_4M.fd",
			.firmware_required = false, /* SeaBIOS is built in */
			.seed_device = QC_DEVICE_CDROM,
			.seed_bus = QC_BUS_SATA,
			.firmware_code_secure = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd",
			.firmware_vars_secure = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd",
			.tpm_device = "tpm-tis",
		},
	[QC_ARCH_AARCH64] =
		{
			.arch = QC_ARCH_AARCH64,
			.name = "aarch64",
			.aliases = arm_aliases,
			.qemu_binary = "qemu-system-aarch64",
			.machine = "virt",
			/*
		 * Not "max": under TCG it emulates pointer authentication with
		 * the architected QARMA algorithm and boots ~3x slower
		 * ("max,pauth-impdef=on" avoids that; see qc_argv_cpu).
		 */
			.cpu_tcg = "cortex-a57",
			.console = "ttyAMA0",
			.debian_arch = "arm64",
			.qemu_arch = "aarch64",
			.firmware_code = "/usr/share/AAVMF/AAVMF_CODE.fd",
			.firmware_vars = "/usr/share/AAVMF/AAVMF_VARS.fd",
			.firmware_required = true,
			.seed_device = QC_DEVICE_DISK,
			.seed_bus = QC_BUS_VIRTIO,
			.tpm_device = "tpm-tis-device",
		},
	[QC_ARCH_PPC64LE] =
		{
			.arch = QC_ARCH_PPC64LE,
			.name = "ppc64le",
			.aliases = ppc_aliases,
			.qemu_binary = "qemu-system-ppc64",
			.machine = "pseries",
			.cpu_tcg = "POWER9",
			.console = "hvc0",
			.debian_arch = "ppc64el",
			.qemu_arch = "ppc64",
			.firmware_code =
				NULL, /* SLOF (disk boot) or VOF (kernel boot) are built in */
			.firmware_vars = NULL,
			.firmware_required = false,
			.seed_device = QC_DEVICE_DISK,
			.seed_bus = QC_BUS_VIRTIO,
			/* QEMU: "Memory size 0x8000000 is not aligned to 256 MiB" (spapr LMB size) */
			.memory_align = 256 << 20,
			.tpm_device = "tpm-spapr",
		},
};
QC_TABLE_COVERS(arch_table, QC_ARCH_COUNT);

const struct qc_arch_info *qc_arch_info(enum qc_arch arch)
{
	if ((int) arch < 0 || arch >= QC_ARCH_COUNT)
		return NULL;
	return &arch_table[arch];
}

enum qc_arch qc_arch_from_name(const char *name)
{
	if (!name)
		return QC_ARCH_INVALID;
	for (int a = 0; a < QC_ARCH_COUNT; a++) {
		if (strcmp(arch_table[a].name, name) == 0)
			return (enum qc_arch) a;
		for (const char *const *al = arch_table[a].aliases; *al; al++)
			if (strcmp(*al, name) == 0)
				return (enum qc_arch) a;
	}
	return QC_ARCH_INVALID;
}

const char *qc_arch_name(enum qc_arch arch)
{
	const struct qc_arch_info *i = qc_arch_info(arch);

	return i ? i->name : "unknown";
}

enum qc_arch qc_arch_host(void)
{
	struct utsname u;

	if (uname(&u) < 0)
		return QC_ARCH_INVALID;
	/* a big-endian ppc64 host cannot run ppc64le guests under KVM-PR/HV anyway */
	if (strcmp(u.machine, "ppc64") == 0)
		return QC_ARCH_INVALID;
	return qc_arch_from_name(u.machine);
}

static const char *const accel_names[] = {
	[QC_ACCEL_AUTO] = "auto",
	[QC_ACCEL_KVM] = "kvm",
	[QC_ACCEL_TCG] = "tcg",
};
QC_TABLE_COVERS(accel_names, QC_ACCEL_COUNT);

const char *qc_accel_name(enum qc_accel accel)
{
	return QC_NAME_OF(accel_names, accel, "unknown");
}

int qc_accel_from_name(const char *name, enum qc_accel *ret)
{
	for (size_t i = 0; name && i < QC_ARRAY_SIZE(accel_names); i++)
		if (accel_names[i] && strcmp(name, accel_names[i]) == 0) {
			*ret = (enum qc_accel) i;
			return 0;
		}
	return -QC_ERR_INVALID;
}

/* ---------------------------------------------------------------- KVM */

static bool say(char *why, size_t size, bool result, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static bool say(char *why, size_t size, bool result, const char *fmt, ...)
{
	va_list ap;

	if (why && size) {
		va_start(ap, fmt);
		vsnprintf(why, size, fmt, ap);
		va_end(ap);
	}
	return result;
}

/* Does a "flags" line of cpuinfo carry the word? */
static bool cpuinfo_has_flag(const char *info, const char *flag)
{
	size_t fl = strlen(flag);

	for (const char *line = info; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t) (end - line) : strlen(line);

		if (qc_str_has_prefix(line, "flags")) {
			const char *colon = memchr(line, ':', len);

			for (const char *p = colon; p && p < line + len;) {
				while (p < line + len && (*p == ' ' || *p == '\t' || *p == ':'))
					p++;
				const char *w = p;

				while (p < line + len && *p != ' ' && *p != '\t')
					p++;
				if ((size_t) (p - w) == fl && memcmp(w, flag, fl) == 0)
					return true;
				if (p == w)
					break;
			}
		}
		line = end ? end + 1 : NULL;
	}
	return false;
}

/*
 * Does an x86 CPU advertise vmx or svm (other arches: nothing to check)?
 * false with why filled in when it does not.
 */
static bool cpu_can(
	enum qc_arch arch, const struct qc_kvm_facts *f, const char **flag, char *why, size_t size)
{
	*flag = NULL;
	if (arch != QC_ARCH_X86_64)
		return true;
	if (!f->cpuinfo)
		return say(why, size, false,
			"KVM unusable: cannot read /proc/cpuinfo to check for vmx/svm");
	if (cpuinfo_has_flag(f->cpuinfo, "vmx"))
		*flag = "vmx";
	else if (cpuinfo_has_flag(f->cpuinfo, "svm"))
		*flag = "svm";
	else
		return say(why, size, false,
			"KVM unusable: CPU advertises neither vmx nor svm (nested "
			"virtualisation off?)");
	return true;
}

bool qc_kvm_decide(enum qc_arch arch, const struct qc_kvm_facts *f, char *why, size_t size)
{
	const char *flag = NULL;

	if (!qc_arch_info(arch))
		return say(why, size, false, "KVM unusable: unknown guest arch");
	if (f->host != arch)
		return say(why, size, false,
			"KVM unusable: guest arch %s differs from host arch %s (TCG emulates it)",
			qc_arch_name(arch), qc_arch_name(f->host));
	/*
	 * The CPU first: without vmx/svm nothing the device says matters (it
	 * may even open and answer KVM_CREATE_VM, as in a VM without nested
	 * virtualisation), and qc_kvm_usable() then does not probe it.
	 */
	if (!cpu_can(arch, f, &flag, why, size))
		return false;
	if (f->open_errno == ENOENT || f->open_errno == ENODEV || f->open_errno == ENXIO)
		return say(why, size, false,
			"KVM unusable: /dev/kvm does not exist (kvm module not loaded, or no "
			"hardware virtualisation)");
	if (f->open_errno == EACCES || f->open_errno == EPERM)
		return say(why, size, false,
			"KVM unusable: no permission to open /dev/kvm read-write (add the user "
			"to group 'kvm')");
	if (f->open_errno)
		return say(why, size, false, "KVM unusable: cannot open /dev/kvm: %s",
			strerror(f->open_errno));
	if (f->api_version < 0)
		return say(why, size, false, "KVM unusable: KVM_GET_API_VERSION failed: %s",
			strerror(-f->api_version));
	if (f->api_version != KVM_API_VERSION)
		return say(why, size, false, "KVM unusable: /dev/kvm speaks API version %d, not %d",
			f->api_version, KVM_API_VERSION);
	if (f->create_vm_errno)
		return say(why, size, false, "KVM unusable: KVM_CREATE_VM failed: %s",
			strerror(f->create_vm_errno));
	return say(why, size, true, "KVM usable: /dev/kvm answers (API %d, KVM_CREATE_VM)%s%s",
		f->api_version, flag ? " and the CPU advertises " : "", flag ? flag : "");
}

bool qc_kvm_usable(enum qc_arch arch, char *why, size_t why_size)
{
	struct qc_kvm_facts f = {.host = qc_arch_host()};
	cleanup_free char *cpuinfo = NULL;
	const char *flag;
	cleanup_close int fd = -1;

	/* no device access at all for a foreign arch */
	if (f.host != arch || !qc_arch_info(arch))
		return qc_kvm_decide(arch, &f, why, why_size);
	/* 0.04 ms for cpuinfo against 0.4 ms for KVM_CREATE_VM: the cheap fact first */
	if (arch == QC_ARCH_X86_64 &&
		qc_read_file(AT_FDCWD, "/proc/cpuinfo", 16u << 20, &cpuinfo, NULL, NULL) == 0)
		f.cpuinfo = cpuinfo;
	if (!cpu_can(arch, &f, &flag, NULL, 0))
		return qc_kvm_decide(arch, &f, why, why_size);
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		f.open_errno = errno;
	} else {
		int v = ioctl(fd, KVM_GET_API_VERSION, 0);

		f.api_version = v < 0 ? -errno : v;
		if (v == KVM_API_VERSION) {
			int vm = ioctl(fd, KVM_CREATE_VM, 0);

			f.create_vm_errno = vm < 0 ? errno : 0;
			if (vm >= 0)
				close(vm);
		}
	}
	return qc_kvm_decide(arch, &f, why, why_size);
}

int qc_accel_resolve(enum qc_arch arch, enum qc_accel requested, enum qc_accel *ret, char *why,
	size_t why_size, struct qc_error *err)
{
	char buf[512];

	switch (requested) {
	case QC_ACCEL_TCG:
		say(why, why_size, true, "TCG requested");
		*ret = QC_ACCEL_TCG;
		return 0;
	case QC_ACCEL_KVM:
		if (!qc_kvm_usable(arch, buf, sizeof(buf)))
			/* also met at start, where no --accel is taken: name both places */
			return qc_error_set(err, QC_ERR_UNSUPPORTED,
				"accel kvm: %s; use tcg or auto (create --accel, or "
				"<qemuctl:accel> in the domain XML)",
				buf);
		say(why, why_size, true, "%s", buf);
		*ret = QC_ACCEL_KVM;
		return 0;
	case QC_ACCEL_AUTO:
		if (qc_kvm_usable(arch, buf, sizeof(buf))) {
			say(why, why_size, true, "%s", buf);
			*ret = QC_ACCEL_KVM;
		} else {
			say(why, why_size, true, "TCG: %s", buf);
			*ret = QC_ACCEL_TCG;
		}
		return 0;
	case QC_ACCEL_COUNT:
		break;
	}
	return qc_error_set(err, QC_ERR_INVALID, "unknown accelerator %d", (int) requested);
}

const char *qc_disk_bus_name(enum qc_disk_bus bus)
{
	return bus == QC_BUS_SCSI ? "scsi" : bus == QC_BUS_SATA ? "sata" : "virtio";
}

/*
 * QEMU's cpu-max (query-machines, QEMU 7.2) of the machine types qemuctl
 * starts: a VM with more vCPUs is refused when defined, not by QEMU at
 * its first start.  A versioned type ("pc-q35-7.2") is its family's.
 */
static const struct {
	enum qc_arch arch;
	const char *family; /* "q35" and "pc-q35-*" */
	const char *versioned;
	unsigned max;
} machine_cpus[] = {
	{QC_ARCH_X86_64, "q35", "pc-q35-", 288},
	{QC_ARCH_X86_64, "pc", "pc-i440fx-", 255},
	{QC_ARCH_AARCH64, "virt", "virt-", 512}, /* GICv3 (argv.c) */
	{QC_ARCH_PPC64LE, "pseries", "pseries-", 4096},
};

unsigned qc_machine_max_cpus(enum qc_arch arch, const char *machine)
{
	const struct qc_arch_info *a = qc_arch_info(arch);

	if (!machine && a)
		machine = a->machine;
	for (size_t i = 0; machine && i < sizeof(machine_cpus) / sizeof(*machine_cpus); i++)
		if (machine_cpus[i].arch == arch &&
			(strcmp(machine, machine_cpus[i].family) == 0 ||
				strncmp(machine, machine_cpus[i].versioned,
					strlen(machine_cpus[i].versioned)) == 0))
			return machine_cpus[i].max;
	return 0;
}

int qc_machine_check_cpus(
	enum qc_arch arch, const char *machine, unsigned cpus, struct qc_error *err)
{
	const struct qc_arch_info *a = qc_arch_info(arch);
	unsigned max = qc_machine_max_cpus(arch, machine);

	if (max && cpus > max)
		return qc_error_set(err, QC_ERR_INVALID,
			"%u vCPUs: machine type '%s' allows at most %u (QEMU's cpu-max); give "
			"%u or fewer",
			cpus, machine ? machine : a->machine, max, max);
	return 0;
}

/* MemTotal of /proc/meminfo in bytes, or 0 when unknown. */
static uint64_t host_memory(void)
{
	cleanup_free char *text = NULL;
	const char *p;
	unsigned long long kib;

	if (qc_read_file(AT_FDCWD, "/proc/meminfo", 1 << 16, &text, NULL, NULL) < 0 ||
		!(p = strstr(text, "MemTotal:")) || sscanf(p, "MemTotal: %llu kB", &kib) != 1)
		return 0;
	return (uint64_t) kib * 1024;
}

int qc_host_check_memory(uint64_t memory, struct qc_error *err)
{
	uint64_t host = host_memory();
	char want[32], have[32];

	if (!host || memory <= host)
		return 0;
	qc_format_size(memory, want, sizeof(want));
	qc_format_size(host, have, sizeof(have));
	return qc_error_set(err, QC_ERR_INVALID,
		"memory %s is more than this host's RAM (%s); QEMU would fail to allocate it or "
		"the host would swap: give the VM less (qemuctl dumpxml, edit <memory>, qemuctl "
		"define)",
		want, have);
}
