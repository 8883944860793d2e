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
	qc_free_all(disk->name, disk->path, disk->format, disk->backing, disk->backing_format,
		disk->backing_image, disk->target);
	memset(disk, 0, sizeof(*disk));
}

void qc_nic_clear(struct qc_nic *nic)
{
	qc_free_all(nic->name, nic->model, nic->network, nic->bridge, nic->ip, nic->fwds);
	memset(nic, 0, sizeof(*nic));
}

const char *qc_nic_type_name(enum qc_nic_type t)
{
	static const char *const names[] = {
		[QC_NIC_USER] = "user", [QC_NIC_NETWORK] = "network", [QC_NIC_BRIDGE] = "bridge"};
	QC_TABLE_COVERS(names, QC_NIC_TYPE_COUNT);

	return QC_NAME_OF(names, t, "unknown");
}

void qc_share_clear(struct qc_share *share)
{
	qc_free_all(share->tag, share->path, share->security_model);
	memset(share, 0, sizeof(*share));
}

static void seed_clear(struct qc_seed_opts *s)
{
	qc_strv_free(s->ssh_keys);
	qc_free_all(s->hostname, s->user_data, s->network_config, s->user, s->content_hash);
	memset(s, 0, sizeof(*s));
}

void qc_domain_free(struct qc_domain *d)
{
	if (!d)
		return;
	qc_free_all(d->name, d->title, d->machine, d->cpu_model, d->kernel, d->initrd, d->cmdline,
		d->loader, d->nvram);
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
	for (size_t i = 0; i < d->n_extras; i++)
		qc_free_all(d->extras[i].parent, d->extras[i].xml);
	free(d->extras);
	free(d);
}

QC_DEFINE_CLEANUP_FUNC(qc_domain_freep, struct qc_domain, qc_domain_free)

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
