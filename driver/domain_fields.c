/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Checks of the domain's fields that reach QEMU's command line or another
 * program's argv (ssh, cloud-init): each value is refused when it could
 * carry a second option (',' '=' in a QEMU option value, a leading '-' in an
 * argv slot) or a control character.  qc_domain_validate runs them on every
 * domain; the XML parser runs the same functions where it reads a value, so
 * its error carries the file and line.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "driver/domain.h"

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
