/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guest architectures and accelerators (driver/arch.c): the names, the
 * per-architecture table and the KVM-or-TCG decision.  Below the domain
 * model, which includes it.
 */
#ifndef QC_DRIVER_ARCH_H
#define QC_DRIVER_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

enum qc_arch {
	QC_ARCH_X86_64,
	QC_ARCH_AARCH64,
	QC_ARCH_PPC64LE,
	QC_ARCH_COUNT,
	QC_ARCH_INVALID = -1,
};

enum qc_accel {
	QC_ACCEL_AUTO, /* decided at start: KVM when really usable, else TCG */
	QC_ACCEL_KVM,
	QC_ACCEL_TCG,
	QC_ACCEL_COUNT, /* how many: not an accelerator */
};

enum qc_disk_device {
	QC_DEVICE_DISK,
	QC_DEVICE_CDROM,
};

enum qc_disk_bus {
	QC_BUS_VIRTIO, /* virtio-blk-pci */
	QC_BUS_SCSI,   /* virtio-scsi-pci + scsi-hd / scsi-cd */
	QC_BUS_SATA,   /* ide-hd / ide-cd on q35's AHCI (x86_64 only) */
};

/* "virtio", "scsi", "sata" */
const char *qc_disk_bus_name(enum qc_disk_bus bus);
/* QEMU's cpu-max of machine (NULL: the arch's default), or 0 when not known */
unsigned qc_machine_max_cpus(enum qc_arch arch, const char *machine);
/* cpus more than machine's cpu-max: QC_ERR_INVALID naming the limit */
int qc_machine_check_cpus(
	enum qc_arch arch, const char *machine, unsigned cpus, struct qc_error *err);
/* memory (bytes) more than the host's RAM: QC_ERR_INVALID with both figures */
int qc_host_check_memory(uint64_t memory, struct qc_error *err);

struct qc_arch_info {
	enum qc_arch arch;
	const char *name;          /* "x86_64", "aarch64", "ppc64le" */
	const char *const *aliases; /* "amd64", "arm64", "ppc64el"... NULL-terminated */
	const char *qemu_binary;   /* "qemu-system-x86_64" */
	const char *machine;       /* default machine: "q35", "virt", "pseries" */
	const char *cpu_tcg;       /* default CPU under TCG */
	const char *console;       /* guest console device: "ttyS0", "ttyAMA0", "hvc0" */
	const char *debian_arch;   /* "amd64", "arm64", "ppc64el" */
	/* added after the first version of this header: */
	const char *qemu_arch;     /* QEMU's name (query-target): "x86_64", "aarch64", "ppc64" */
	const char *firmware_code; /* UEFI code for disk boot (NULL: built in, SeaBIOS/SLOF) */
	const char *firmware_vars; /* varstore template the per-VM nvram is copied from */
	bool firmware_required;    /* disk boot needs firmware_code (aarch64: no built-in BIOS) */
	/* how the NoCloud seed is attached: x86_64 ide-cd on q35's AHCI; virt and
	 * pseries a read-only virtio-blk disk (see argv.c for why) */
	enum qc_disk_device seed_device;
	enum qc_disk_bus seed_bus;
	uint64_t memory_align;     /* guest RAM must be a multiple of this (pseries: 256 MiB), or 0 */
	/* UEFI Secure Boot: code built with SMM and a varstore with Microsoft's keys, or NULL */
	const char *firmware_code_secure;
	const char *firmware_vars_secure;
	const char *tpm_device;    /* QEMU's TPM device on the default machine */
};
const struct qc_arch_info *qc_arch_info(enum qc_arch arch);
enum qc_arch qc_arch_from_name(const char *name); /* accepts aliases; QC_ARCH_INVALID */
const char *qc_arch_name(enum qc_arch arch);
enum qc_arch qc_arch_host(void);
const char *qc_accel_name(enum qc_accel accel);   /* "auto", "kvm", "tcg" */
int qc_accel_from_name(const char *name, enum qc_accel *ret);

/*
 * Is KVM really usable for guests of this arch?  Not only "/dev/kvm opens":
 * the arch must match the host, the device must open read-write, answer
 * KVM_GET_API_VERSION == 12 and KVM_CREATE_VM, and on x86 the CPU must
 * advertise vmx or svm.  why (>= 256 bytes) says why not, or why yes.
 */
bool qc_kvm_usable(enum qc_arch arch, char *why, size_t why_size);
/* The facts qc_kvm_usable gathers, so the decision is a pure function a test can feed. */
struct qc_kvm_facts {
	enum qc_arch host;   /* qc_arch_host() */
	int open_errno;      /* 0: /dev/kvm opened O_RDWR, else the errno of open() */
	int api_version;     /* KVM_GET_API_VERSION result, or -errno */
	int create_vm_errno; /* 0: KVM_CREATE_VM returned a VM fd, else errno */
	const char *cpuinfo; /* /proc/cpuinfo text (x86 hosts only), NULL when unreadable */
};
bool qc_kvm_decide(enum qc_arch arch, const struct qc_kvm_facts *f, char *why, size_t why_size);
/* Resolve AUTO; a requested KVM that is not usable is an error naming why. */
int qc_accel_resolve(enum qc_arch arch, enum qc_accel requested, enum qc_accel *ret,
	char *why, size_t why_size, struct qc_error *err);

#endif
