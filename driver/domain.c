/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The domain model: allocation, deep copy, validation, UUIDs.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "driver/domain.h"

#define MiB (UINT64_C(1) << 20)
#define QC_MAX_MEMORY (UINT64_C(16) << 40) /* 16 TiB: far above anything a host here has */
#define QC_MAX_CPUS 1024

struct qc_domain *qc_domain_new(void)
{
	struct qc_domain *d = qc_xzalloc(sizeof(*d));
	enum qc_arch host = qc_arch_host();

	d->arch = host == QC_ARCH_INVALID ? QC_ARCH_X86_64 : host;
	d->accel = QC_ACCEL_AUTO;
	d->cpus = 1;
	d->memory = 512 * MiB;
	d->serial_console = true;
	d->seed.enabled = true;
	return d;
}

void qc_disk_clear(struct qc_disk *disk)
{
	free(disk->name);
	free(disk->path);
	free(disk->format);
	free(disk->backing);
	free(disk->backing_format);
	free(disk->backing_image);
	free(disk->target);
	memset(disk, 0, sizeof(*disk));
}

void qc_nic_clear(struct qc_nic *nic)
{
	free(nic->name);
	free(nic->model);
	free(nic->network);
	free(nic->bridge);
	free(nic->ip);
	free(nic->fwds);
	memset(nic, 0, sizeof(*nic));
}

void qc_share_clear(struct qc_share *share)
{
	free(share->tag);
	free(share->path);
	free(share->security_model);
	memset(share, 0, sizeof(*share));
}

static void seed_clear(struct qc_seed_opts *s)
{
	free(s->hostname);
	qc_strv_free(s->ssh_keys);
	free(s->user_data);
	free(s->network_config);
	free(s->user);
	free(s->content_hash);
	memset(s, 0, sizeof(*s));
}

void qc_domain_free(struct qc_domain *d)
{
	if (!d)
		return;
	free(d->name);
	free(d->title);
	free(d->machine);
	free(d->cpu_model);
	free(d->kernel);
	free(d->initrd);
	free(d->cmdline);
	free(d->loader);
	free(d->nvram);
	for (size_t i = 0; i < d->n_disks; i++)
		qc_disk_clear(&d->disks[i]);
	free(d->disks);
	for (size_t i = 0; i < d->n_nics; i++)
		qc_nic_clear(&d->nics[i]);
	free(d->nics);
	for (size_t i = 0; i < d->n_shares; i++)
		qc_share_clear(&d->shares[i]);
	free(d->shares);
	seed_clear(&d->seed);
	free(d->ready_marker);
	for (size_t i = 0; i < d->n_extras; i++) {
		free(d->extras[i].parent);
		free(d->extras[i].xml);
	}
	free(d->extras);
	free(d);
}

void qc_domain_freep(struct qc_domain **d)
{
	qc_domain_free(*d);
	*d = NULL;
}

static char *dup0(const char *s)
{
	return s ? qc_xstrdup(s) : NULL;
}

static char **strv_dup(char *const *v)
{
	size_t n = 0;
	char **r;

	if (!v)
		return NULL;
	while (v[n])
		n++;
	r = qc_xzalloc((n + 1) * sizeof(*r));
	for (size_t i = 0; i < n; i++)
		r[i] = qc_xstrdup(v[i]);
	return r;
}

struct qc_domain *qc_domain_copy(const struct qc_domain *s)
{
	struct qc_domain *d = qc_xmalloc(sizeof(*d));

	*d = *s;
	d->name = dup0(s->name);
	d->title = dup0(s->title);
	d->machine = dup0(s->machine);
	d->cpu_model = dup0(s->cpu_model);
	d->kernel = dup0(s->kernel);
	d->initrd = dup0(s->initrd);
	d->cmdline = dup0(s->cmdline);
	d->loader = dup0(s->loader);
	d->nvram = dup0(s->nvram);
	d->ready_marker = dup0(s->ready_marker);

	d->disks = s->n_disks ? qc_xzalloc(s->n_disks * sizeof(*d->disks)) : NULL;
	for (size_t i = 0; i < s->n_disks; i++) {
		const struct qc_disk *a = &s->disks[i];
		struct qc_disk *b = &d->disks[i];

		*b = *a;
		b->name = dup0(a->name);
		b->path = dup0(a->path);
		b->format = dup0(a->format);
		b->backing = dup0(a->backing);
		b->backing_format = dup0(a->backing_format);
		b->backing_image = dup0(a->backing_image);
		b->target = dup0(a->target);
	}
	d->nics = s->n_nics ? qc_xzalloc(s->n_nics * sizeof(*d->nics)) : NULL;
	for (size_t i = 0; i < s->n_nics; i++) {
		const struct qc_nic *a = &s->nics[i];
		struct qc_nic *b = &d->nics[i];

		*b = *a;
		b->name = dup0(a->name);
		b->model = dup0(a->model);
		b->network = dup0(a->network);
		b->bridge = dup0(a->bridge);
		b->ip = dup0(a->ip);
		b->fwds = NULL;
		if (a->n_fwds) {
			b->fwds = qc_xmalloc(a->n_fwds * sizeof(*b->fwds));
			memcpy(b->fwds, a->fwds, a->n_fwds * sizeof(*b->fwds));
		}
	}
	d->shares = s->n_shares ? qc_xzalloc(s->n_shares * sizeof(*d->shares)) : NULL;
	for (size_t i = 0; i < s->n_shares; i++) {
		const struct qc_share *a = &s->shares[i];
		struct qc_share *b = &d->shares[i];

		*b = *a;
		b->tag = dup0(a->tag);
		b->path = dup0(a->path);
		b->security_model = dup0(a->security_model);
	}
	d->seed.hostname = dup0(s->seed.hostname);
	d->seed.ssh_keys = strv_dup(s->seed.ssh_keys);
	d->seed.user_data = dup0(s->seed.user_data);
	d->seed.network_config = dup0(s->seed.network_config);
	d->seed.user = dup0(s->seed.user);
	d->seed.content_hash = dup0(s->seed.content_hash);

	d->extras = s->n_extras ? qc_xzalloc(s->n_extras * sizeof(*d->extras)) : NULL;
	for (size_t i = 0; i < s->n_extras; i++) {
		d->extras[i].parent = dup0(s->extras[i].parent);
		d->extras[i].xml = dup0(s->extras[i].xml);
		d->extras[i].line = s->extras[i].line;
	}
	return d;
}

/* Grow an array of n elements of size sz by one zeroed element. */
static void *append(void **arr, size_t *n, size_t sz)
{
	char *p = qc_xrealloc(*arr, (*n + 1) * sz);

	memset(p + *n * sz, 0, sz);
	*arr = p;
	return p + (*n)++ * sz;
}

struct qc_disk *qc_domain_add_disk(struct qc_domain *d)
{
	return append((void **) &d->disks, &d->n_disks, sizeof(*d->disks));
}

struct qc_nic *qc_domain_add_nic(struct qc_domain *d)
{
	return append((void **) &d->nics, &d->n_nics, sizeof(*d->nics));
}

struct qc_share *qc_domain_add_share(struct qc_domain *d)
{
	return append((void **) &d->shares, &d->n_shares, sizeof(*d->shares));
}

struct qc_disk *qc_domain_find_disk(const struct qc_domain *d, const char *name)
{
	for (size_t i = 0; i < d->n_disks; i++)
		if (d->disks[i].name && strcmp(d->disks[i].name, name) == 0)
			return &d->disks[i];
	return NULL;
}

struct qc_nic *qc_domain_find_nic(const struct qc_domain *d, const char *name)
{
	for (size_t i = 0; i < d->n_nics; i++)
		if (d->nics[i].name && strcmp(d->nics[i].name, name) == 0)
			return &d->nics[i];
	return NULL;
}

/* ------------------------------------------------------------------ uuid */

void qc_domain_gen_uuid(struct qc_domain *d)
{
	size_t got = 0;

	while (got < sizeof(d->uuid)) {
		ssize_t r = getrandom(d->uuid + got, sizeof(d->uuid) - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			abort(); /* getrandom cannot fail on Linux >= 3.17 once the pool is ready */
		got += (size_t) r;
	}
	d->uuid[6] = (d->uuid[6] & 0x0f) | 0x40; /* version 4 */
	d->uuid[8] = (d->uuid[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	qc_uuid_format(d->uuid, d->uuid_str);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * "8-4-4-4-12" hex digits with dashes, or 32 hex digits without (libvirt
 * accepts both).  Returns 0 or -QC_ERR_INVALID.
 */
int qc_uuid_parse(const char *s, uint8_t out[16])
{
	uint8_t u[16];
	size_t len, k = 0;
	bool dashes;

	if (!s)
		return -QC_ERR_INVALID;
	len = strlen(s);
	if (len != 36 && len != 32)
		return -QC_ERR_INVALID;
	dashes = len == 36;
	for (size_t i = 0; i < len;) {
		int hi, lo;

		if (dashes && (i == 8 || i == 13 || i == 18 || i == 23)) {
			if (s[i] != '-')
				return -QC_ERR_INVALID;
			i++;
			continue;
		}
		hi = hexval(s[i]);
		lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0 || k >= 16)
			return -QC_ERR_INVALID;
		u[k++] = (uint8_t) (hi << 4 | lo);
		i += 2;
	}
	if (k != 16)
		return -QC_ERR_INVALID;
	memcpy(out, u, 16);
	return 0;
}

void qc_uuid_format(const uint8_t u[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		u[13], u[14], u[15]);
}

/* ---------------------------------------------------------------- validate */

static bool mac_valid(const char *m)
{
	if (strlen(m) != 17)
		return false;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (m[i] != ':')
				return false;
		} else if (hexval(m[i]) < 0) {
			return false;
		}
	}
	return (hexval(m[1]) & 1) == 0; /* unicast */
}

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

static int validate_disk(
	const struct qc_domain *d, size_t i, unsigned *n_sata, struct qc_error *err)
{
	const struct qc_disk *k = &d->disks[i];
	const char *v = d->name;

	if (!k->name)
		return qc_error_set(err, QC_ERR_INVALID, "VM '%s': disk %zu has no name", v, i);
	if (qc_validate_name("disk", k->name, err) < 0)
		return qc_error_prefix(err, "VM '%s'", v);
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

	if (!n->name)
		return qc_error_set(err, QC_ERR_INVALID, "VM '%s': NIC %zu has no name", v, i);
	if (qc_validate_name("NIC", n->name, err) < 0)
		return qc_error_prefix(err, "VM '%s'", v);
	if (!mac_valid(n->mac))
		return qc_error_set(err, QC_ERR_INVALID,
			"VM '%s': NIC '%s': bad MAC address '%s' (want a unicast "
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
