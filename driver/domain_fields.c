/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Checks of the domain's fields that reach QEMU's command line or another
 * program's argv (ssh, cloud-init): each value is refused when it could
 * carry a second option (',' '=' in a QEMU option value, a leading '-' in an
 * argv slot) or a control character; and qc_domain_validate, the check of a
 * whole domain, which runs them.  The XML parser runs the same functions
 * where it reads a value, so its error carries the file and line.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "driver/domain.h"
#include "net/net.h"

#define QC_MAX_MEMORY (UINT64_C(16) << 40) /* 16 TiB: far above anything a host here has */
#define QC_MAX_CPUS 1024

#define QC_WORD_MAX 64
#define QC_PATH_MAX 4096
#define QC_CMDLINE_MAX 4096

static bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A copy of s safe to show in a message: control characters as '?', cut at 64 bytes. */
static const char *shown(const char *s, char buf[80])
{
	size_t i;

	for (i = 0; s[i] && i < 64; i++)
		buf[i] = (unsigned char) s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	buf[i] = 0;
	if (s[i])
		memcpy(buf + i, "...", 4);
	return buf;
}

int qc_domain_check_word(const char *what, const char *v, const char *extra, size_t max,
	struct qc_error *err)
{
	char b[80];

	if (!v || !v[0])
		return qc_error_set(err, QC_ERR_INVALID, "%s is empty", what);
	if (strlen(v) > max)
		return qc_error_set(err, QC_ERR_INVALID,
			"%s '%s' is too long (at most %zu characters)", what, shown(v, b), max);
	if (v[0] == '-')
		return qc_error_set(err, QC_ERR_INVALID,
			"%s '%s' must not begin with '-' (it would read as an option)", what,
			shown(v, b));
	for (const char *s = v; *s; s++)
		if (!alnum(*s) && !strchr(extra, *s))
			return qc_error_set(err, QC_ERR_INVALID,
				"%s '%s' is invalid: only letters, digits and '%s' are allowed",
				what, shown(v, b), extra);
	return 0;
}

int qc_domain_check_text(const char *what, const char *v, size_t max, struct qc_error *err)
{
	char b[80];

	if (strlen(v) > max)
		return qc_error_set(err, QC_ERR_INVALID,
			"%s '%s' is too long (at most %zu bytes)", what, shown(v, b), max);
	for (const char *s = v; *s; s++)
		if ((unsigned char) *s < 0x20 || *s == 0x7f)
			return qc_error_set(err, QC_ERR_INVALID,
				"%s '%s' holds a control character (byte 0x%02x at offset %zu)",
				what, shown(v, b), (unsigned) (unsigned char) *s, (size_t) (s - v));
	if (!qc_utf8_valid(v, strlen(v)))
		return qc_error_set(err, QC_ERR_INVALID, "%s '%s' is not valid UTF-8", what,
			shown(v, b));
	return 0;
}

/* An absolute path whose components are neither empty, "." nor "..". */
static bool normal_path(const char *p)
{
	for (const char *c = p + 1;; c = strchr(c, '/') + 1) {
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (!c[n])
			return true;
	}
}

int qc_domain_check_path(const char *what, const char *p, bool comma_ok, struct qc_error *err)
{
	char b[80];
	int r;

	if (!p || p[0] != '/')
		return qc_error_set(err, QC_ERR_INVALID, "%s must be an absolute path, not '%s'",
			what, p ? shown(p, b) : "");
	if ((r = qc_domain_check_text(what, p, QC_PATH_MAX, err)) < 0)
		return r;
	/* one spelling per file: the state root checks compare paths as strings */
	if (!normal_path(p))
		return qc_error_set(err, QC_ERR_INVALID,
			"%s '%s' is not in normal form: no empty, '.' or '..' component and no "
			"trailing '/'",
			what, shown(p, b));
	if (!comma_ok && strchr(p, ','))
		return qc_error_set(err, QC_ERR_INVALID,
			"%s '%s' holds a ',' (QEMU would read the rest as another option); "
			"rename the file",
			what, shown(p, b));
	return 0;
}

int qc_domain_check_user(const char *v, struct qc_error *err)
{
	char b[80];

	/* POSIX-portable user names as useradd(8) takes them by default */
	if (!v || !v[0] || strlen(v) > 32 || !((v[0] >= 'a' && v[0] <= 'z') || v[0] == '_'))
		goto bad;
	for (const char *s = v; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
			    *s == '-'))
			goto bad;
	return 0;
bad:
	return qc_error_set(err, QC_ERR_INVALID,
		"user name '%s' is invalid: 1-32 of a-z 0-9 '_' '-', beginning with a-z or '_'",
		v ? shown(v, b) : "");
}

int qc_domain_check_ssh_key(const char *v, struct qc_error *err)
{
	char b[80];

	if (!v || !v[0])
		return qc_error_set(err, QC_ERR_INVALID, "ssh key line is empty");
	/* one line: authorized_keys allows tabs between fields, nothing else below 0x20 */
	for (const char *s = v; *s; s++)
		if (((unsigned char) *s < 0x20 && *s != '\t') || *s == 0x7f)
			return qc_error_set(err, QC_ERR_INVALID,
				"ssh key line '%s' holds a control character (byte 0x%02x at "
				"offset %zu)",
				shown(v, b), (unsigned) (unsigned char) *s, (size_t) (s - v));
	if (strlen(v) > 16384)
		return qc_error_set(
			err, QC_ERR_INVALID, "ssh key line is too long (at most 16384 bytes)");
	if (!qc_utf8_valid(v, strlen(v)))
		return qc_error_set(err, QC_ERR_INVALID, "ssh key line '%s' is not valid UTF-8",
			shown(v, b));
	if (v[0] == '-' || v[0] == ' ')
		return qc_error_set(err, QC_ERR_INVALID,
			"ssh key line must begin with its type or options, not '%c'", v[0]);
	return 0;
}

int qc_domain_check_machine(const char *v, struct qc_error *err)
{
	return qc_domain_check_word("machine type", v, "._-", QC_WORD_MAX, err);
}

int qc_domain_check_cpu(const char *v, struct qc_error *err)
{
	return qc_domain_check_word("CPU model", v, "._-", QC_WORD_MAX, err);
}

int qc_domain_check_bridge(const char *v, struct qc_error *err)
{
	/* IFNAMSIZ - 1; "." and ".." are not interface names */
	if (v && (strcmp(v, ".") == 0 || strcmp(v, "..") == 0))
		return qc_error_set(err, QC_ERR_INVALID, "bridge name '%s' is invalid", v);
	return qc_domain_check_word("bridge name", v, "._-", 15, err);
}

int qc_domain_check_ready_marker(const char *v, struct qc_error *err)
{
	if (!v[0])
		return qc_error_set(err, QC_ERR_INVALID, "ready marker is empty");
	return qc_domain_check_text("ready marker", v, 256, err);
}

int qc_domain_check_vnc(const char *v, struct qc_error *err)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcmp(v, QC_VNC_SOCKET) == 0)
		return 0;
	if (inet_pton(AF_INET, v, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127)
		return 0;
	if (inet_pton(AF_INET6, v, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6))
		return 0;
	return qc_error_set(err, QC_ERR_INVALID,
		"VNC listen address '%.64s' is not a loopback address: VNC listens on a unix "
		"socket, 127.0.0.1 or ::1 only (from another host: ssh -L, or 'qemuctl vnc "
		"--listen' there)",
		v);
}

static bool hex64(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == 64;
}

static int check_seed(const struct qc_seed_opts *s, struct qc_error *err)
{
	int r;

	if (s->hostname && (r = qc_validate_hostname(s->hostname, err)) < 0)
		return r;
	if (s->user && (r = qc_domain_check_user(s->user, err)) < 0)
		return r;
	for (size_t i = 0; s->ssh_keys && s->ssh_keys[i]; i++)
		if ((r = qc_domain_check_ssh_key(s->ssh_keys[i], err)) < 0)
			return r;
	if (s->user_data && (r = qc_domain_check_path("user-data", s->user_data, true, err)) < 0)
		return r;
	if (s->network_config &&
		(r = qc_domain_check_path("network-config", s->network_config, true, err)) < 0)
		return r;
	if (s->content_hash && !hex64(s->content_hash))
		return qc_error_set(err, QC_ERR_INVALID,
			"content hash is not 64 lowercase hex digits (a sha256)");
	return 0;
}

int qc_domain_validate_fields(const struct qc_domain *d, struct qc_error *err)
{
	const char *v = d->name;
	int r;

	if (d->machine && (r = qc_domain_check_machine(d->machine, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", v);
	if (d->cpu_model && (r = qc_domain_check_cpu(d->cpu_model, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", v);
	if ((d->kernel && (r = qc_domain_check_path("kernel", d->kernel, false, err)) < 0) ||
		(d->initrd && (r = qc_domain_check_path("initrd", d->initrd, false, err)) < 0) ||
		(d->loader &&
			(r = qc_domain_check_path("firmware loader", d->loader, false, err)) < 0) ||
		(d->nvram && (r = qc_domain_check_path("nvram", d->nvram, false, err)) < 0))
		return qc_error_prefix(err, "VM '%s'", v);
	if (d->cmdline && (r = qc_domain_check_text("kernel command line", d->cmdline,
				   QC_CMDLINE_MAX, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", v);
	if (d->ready_marker && (r = qc_domain_check_ready_marker(d->ready_marker, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", v);
	if (d->vnc[0] && (r = qc_domain_check_vnc(d->vnc, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", v);
	if ((r = check_seed(&d->seed, err)) < 0)
		return qc_error_prefix(err, "VM '%s': seed", v);
	for (size_t i = 0; i < d->n_disks; i++) {
		const struct qc_disk *k = &d->disks[i];

		if ((r = qc_domain_check_path("path", k->path, true, err)) < 0 ||
			(k->backing &&
				(r = qc_domain_check_path("backing file", k->backing, true, err)) < 0) ||
			(k->backing_image &&
				(r = qc_validate_name("backing image", k->backing_image, err)) < 0) ||
			(k->target && (r = qc_domain_check_word("target", k->target, "", 16, err)) < 0))
			return qc_error_prefix(err, "VM '%s': disk '%s'", v, k->name);
	}
	for (size_t i = 0; i < d->n_nics; i++) {
		const struct qc_nic *n = &d->nics[i];

		if ((n->model &&
			    (r = qc_domain_check_word("model", n->model, "._-", QC_WORD_MAX, err)) <
				    0) ||
			(n->network && (r = qc_validate_name("network", n->network, err)) < 0) ||
			(n->bridge && (r = qc_domain_check_bridge(n->bridge, err)) < 0) ||
			(n->ip && (r = qc_domain_check_word("address", n->ip, "./:", 64, err)) < 0))
			return qc_error_prefix(err, "VM '%s': NIC '%s'", v, n->name);
	}
	for (size_t i = 0; i < d->n_shares; i++) {
		const struct qc_share *s = &d->shares[i];

		if ((r = qc_domain_check_word("share tag", s->tag, "._-", 31, err)) < 0 ||
			(s->path && (r = qc_domain_check_path("share path", s->path, true, err)) < 0))
			return qc_error_prefix(err, "VM '%s'", v);
	}
	return 0;
}

/* ------------------------------------------------------- the whole domain */

static bool chars_ok(const char *s, const char *extra)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			    (*s >= '0' && *s <= '9') || strchr(extra, *s)))
			return false;
	return true;
}

static bool format_ok(const char *f)
{
	return f && (strcmp(f, "qcow2") == 0 || strcmp(f, "raw") == 0);
}

/* The name of device i of VM v, a "disk" or a "NIC": present and valid. */
static int device_name_ok(
	const char *v, const char *what, size_t i, const char *name, struct qc_error *err)
{
	if (!name)
		return qc_error_set(err, QC_ERR_INVALID, "VM '%s': %s %zu has no name", v, what, i);
	if (qc_validate_name(what, name, err) < 0)
		return qc_error_prefix(err, "VM '%s'", v);
	return 0;
}

static int validate_disk(
	const struct qc_domain *d, size_t i, unsigned *n_sata, struct qc_error *err)
{
	const struct qc_disk *k = &d->disks[i];
	const char *v = d->name;
	int r;

	if ((r = device_name_ok(v, "disk", i, k->name, err)) < 0)
		return r;
	for (size_t j = 0; j < i; j++) {
		if (strcmp(d->disks[j].name, k->name) == 0)
			return qc_error_set(err, QC_ERR_INVALID,
				"VM '%s': two disks are named '%s'; disk names must be unique", v,
				k->name);
		if (k->target && d->disks[j].target && strcmp(d->disks[j].target, k->target) == 0)
			return qc_error_set(err, QC_ERR_INVALID,
				"VM '%s': disks '%s' and '%s' both use target '%s'", v,
				d->disks[j].name, k->name, k->target);
	}
	if (!k->path || k->path[0] != '/')
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': disk '%s': path must be absolute, not '%s'", v, k->name,
			k->path ? k->path : "");
	if (!format_ok(k->format))
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': disk '%s': format '%s' is not supported (qcow2 or raw)", v,
			k->name, k->format ? k->format : "");
	if (k->backing && (k->backing[0] != '/' || !format_ok(k->backing_format)))
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': disk '%s': backing file needs an absolute path and a format "
			"(qcow2 or raw)",
			v, k->name);
	if (k->backing && strcmp(k->format, "qcow2") != 0)
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': disk '%s': only a qcow2 disk can have a backing file", v,
			k->name);
	if (k->target && !chars_ok(k->target, ""))
		return qc_error_set(err, QC_ERR_INVALID, "VM '%s': disk '%s': bad target '%s'", v,
			k->name, k->target);
	if (k->device == QC_DEVICE_CDROM && k->bus == QC_BUS_VIRTIO)
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': disk '%s': a cdrom needs bus scsi or sata, not virtio", v,
			k->name);
	if (k->bus == QC_BUS_SATA) {
		if (d->arch != QC_ARCH_X86_64)
			return qc_error_set(err, QC_ERR_INVALID,
				"VM '%s': disk '%s': bus sata needs the q35 machine of x86_64; use "
				"virtio or scsi on %s",
				v, k->name, qc_arch_name(d->arch));
		if (++*n_sata > 6)
			return qc_error_set(err, QC_ERR_INVALID,
				"VM '%s': more than 6 sata disks (q35's AHCI has 6 ports)", v);
	}
	return 0;
}

static int validate_nic(const struct qc_domain *d, size_t i, struct qc_error *err)
{
	const struct qc_nic *n = &d->nics[i];
	const char *v = d->name;
	char mac[18];
	int r;

	if ((r = device_name_ok(v, "NIC", i, n->name, err)) < 0)
		return r;
	if (qc_net_parse_mac("MAC", n->mac, mac, NULL) < 0)
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': NIC '%s': bad MAC address '%s' (want a unicast, non-zero "
			"xx:xx:xx:xx:xx:xx)",
			v, n->name, n->mac);
	for (size_t j = 0; j < i; j++) {
		if (strcmp(d->nics[j].name, n->name) == 0)
			return qc_error_set(err, QC_ERR_INVALID,
				"VM '%s': two NICs are named '%s'; NIC names must be unique", v,
				n->name);
		if (strcasecmp(d->nics[j].mac, n->mac) == 0)
			return qc_error_set(err, QC_ERR_INVALID,
				"VM '%s': NICs '%s' and '%s' have the same MAC %s", v,
				d->nics[j].name, n->name, n->mac);
	}
	if (n->model && !chars_ok(n->model, "-_"))
		return qc_error_set(err, QC_ERR_INVALID, "VM '%s': NIC '%s': bad model '%s'", v,
			n->name, n->model);
	if (n->type == QC_NIC_NETWORK && !n->network)
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': NIC '%s': type network needs a network name", v, n->name);
	if (n->type == QC_NIC_BRIDGE && !n->bridge)
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': NIC '%s': type bridge needs a bridge name", v, n->name);
	if (n->type != QC_NIC_USER && n->n_fwds)
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': NIC '%s': host port forwards need user networking", v, n->name);
	for (size_t f = 0; f < n->n_fwds; f++) {
		const struct qc_hostfwd *w = &n->fwds[f];

		if (strcmp(w->proto, "tcp") != 0 && strcmp(w->proto, "udp") != 0)
			return qc_error_set(err, QC_ERR_INVALID,
				"VM '%s': NIC '%s': forward protocol '%s' is not tcp or udp", v,
				n->name, w->proto);
		if (w->host_port > 65535 || w->guest_port < 1 || w->guest_port > 65535)
			return qc_error_set(err, QC_ERR_INVALID,
				"VM '%s': NIC '%s': forward %u-:%u: ports must be 1..65535", v,
				n->name, w->host_port, w->guest_port);
		/* QEMU 7.2's hostfwd= takes an IPv4 address only */
		if (w->host_addr[0] && !chars_ok(w->host_addr, "."))
			return qc_error_set(err, QC_ERR_INVALID,
				"VM '%s': NIC '%s': bad forward address '%s' (an IPv4 address)", v,
				n->name, w->host_addr);
		for (size_t g = 0; g < f && w->host_port; g++)
			if (n->fwds[g].host_port == w->host_port &&
				strcmp(n->fwds[g].proto, w->proto) == 0 &&
				strcmp(n->fwds[g].host_addr, w->host_addr) == 0)
				return qc_error_set(err, QC_ERR_INVALID,
					"VM '%s': NIC '%s': host port %s/%u is forwarded twice", v,
					n->name, w->proto, w->host_port);
	}
	return 0;
}

static int validate_share(const struct qc_domain *d, size_t i, struct qc_error *err)
{
	const struct qc_share *s = &d->shares[i];
	const char *v = d->name;
	const char *m = s->security_model;

	/* the Linux 9p client copies at most 31 bytes of a mount tag on older kernels */
	if (!s->tag || strlen(s->tag) > 31 || !chars_ok(s->tag, "._-"))
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': share tag '%s' is invalid (1-31 of A-Z a-z 0-9 . _ -)", v,
			s->tag ? s->tag : "");
	for (size_t j = 0; j < i; j++)
		if (strcmp(d->shares[j].tag, s->tag) == 0)
			return qc_error_set(
				err, QC_ERR_INVALID, "VM '%s': two shares use tag '%s'", v, s->tag);
	if (s->path && s->path[0] != '/')
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': share '%s': host path must be absolute, not '%s'", v, s->tag,
			s->path);
	if (!s->path && !s->empty)
		return qc_error_set(
			err, QC_ERR_INVALID, "VM '%s': share '%s' has no host path", v, s->tag);
	if (m && strcmp(m, "mapped-xattr") != 0 && strcmp(m, "passthrough") != 0 &&
		strcmp(m, "none") != 0)
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': share '%s': security model '%s' is not mapped-xattr, "
			"passthrough or none",
			v, s->tag, m);
	return 0;
}

/* Secure Boot: UEFI disk boot on a machine with SMM (x86_64's q35 with OVMF). */
static int validate_secure_boot(const struct qc_domain *d, struct qc_error *err)
{
	const struct qc_arch_info *ai = qc_arch_info(d->arch);
	const char *m = d->machine ? d->machine : ai->machine;

	if (!ai->firmware_code_secure)
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': Secure Boot is not available on %s: qemuctl has Secure Boot "
			"firmware (OVMF with SMM) for x86_64 only; drop --secure-boot",
			d->name, ai->name);
	if (d->kernel)
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': Secure Boot checks what UEFI firmware boots from a disk; a "
			"direct kernel boot bypasses it: drop --kernel or --secure-boot",
			d->name);
	if (!qc_str_has_prefix(m, "q35") && !qc_str_has_prefix(m, "pc-q35"))
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': Secure Boot needs SMM, which qemuctl enables on q35 only, not "
			"machine '%s': use q35",
			d->name, m);
	return 0;
}

int qc_domain_check_tpm_boot(const struct qc_domain *d, struct qc_error *err)
{
	if (!d->tpm || !d->kernel || d->arch != QC_ARCH_X86_64)
		return 0;
	return qc_error_set(err, QC_ERR_INVALID,
		"VM '%s': a TPM with a direct kernel boot does not work on x86_64: SeaBIOS "
		"runs before the kernel and its TPM setup corrupts the ACPI tables the "
		"kernel reads (the guest runs without ACPI and sees no TPM); boot from a "
		"disk through UEFI firmware instead (no --kernel or <kernel>: with the "
		"ovmf package installed qemuctl boots x86_64 disks through OVMF), or drop "
		"--tpm (<tpm>)",
		d->name);
}

int qc_domain_validate(const struct qc_domain *d, struct qc_error *err)
{
	const char *v = d->name;
	unsigned n_sata = 0;
	int r;

	if (!v)
		return qc_error_set(err, QC_ERR_INVALID, "VM has no name");
	r = qc_validate_name("VM", v, err);
	if (r < 0)
		return r;
	if (!qc_arch_info(d->arch))
		return qc_error_set(err, QC_ERR_INVALID, "VM '%s': unknown arch", v);
	if (d->accel != QC_ACCEL_AUTO && d->accel != QC_ACCEL_KVM && d->accel != QC_ACCEL_TCG)
		return qc_error_set(err, QC_ERR_INVALID, "VM '%s': unknown accelerator", v);
	if (d->memory < MiB)
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': memory must be at least 1 MiB (got %llu bytes)", v,
			(unsigned long long) d->memory);
	if (d->memory > QC_MAX_MEMORY)
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': memory must be at most 16 TiB (got %llu bytes)", v,
			(unsigned long long) d->memory);
	if (qc_arch_info(d->arch)->memory_align && d->memory % qc_arch_info(d->arch)->memory_align)
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': %s guests need memory in multiples of %llu MiB (got %llu bytes)",
			v, qc_arch_name(d->arch),
			(unsigned long long) (qc_arch_info(d->arch)->memory_align / MiB),
			(unsigned long long) d->memory);
	if (d->cpus < 1 || d->cpus > QC_MAX_CPUS)
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': cpus must be between 1 and %d (got %u)", v, QC_MAX_CPUS, d->cpus);
	if ((d->initrd || d->cmdline) && !d->kernel)
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': an initrd or kernel command line needs a kernel", v);
	if (d->kernel && d->kernel[0] != '/')
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': kernel path must be absolute, not '%s'", v, d->kernel);
	if (d->initrd && d->initrd[0] != '/')
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': initrd path must be absolute, not '%s'", v, d->initrd);
	if ((d->loader || d->nvram) && d->arch == QC_ARCH_PPC64LE)
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': pseries boots with its built-in SLOF; a firmware loader or "
			"nvram is not supported on ppc64le",
			v);
	if ((d->loader && d->loader[0] != '/') || (d->nvram && d->nvram[0] != '/'))
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': firmware loader and nvram paths must be absolute", v);
	if (d->secure_boot && (r = validate_secure_boot(d, err)) < 0)
		return r;
	if ((r = qc_domain_check_tpm_boot(d, err)) < 0)
		return r;
	for (size_t i = 0; i < d->n_disks; i++)
		if ((r = validate_disk(d, i, &n_sata, err)) < 0)
			return r;
	for (size_t i = 0; i < d->n_nics; i++)
		if ((r = validate_nic(d, i, err)) < 0)
			return r;
	for (size_t i = 0; i < d->n_shares; i++)
		if ((r = validate_share(d, i, err)) < 0)
			return r;
	return qc_domain_validate_fields(d, err);
}
