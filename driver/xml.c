/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * domain.xml parser: a libvirt-compatible subset with libxml2.
 *
 * libxml2 runs with network access, external entities and DTD loading off
 * (XML_PARSE_NONET, never NOENT/DTDLOAD), errors silenced (we report them
 * with line numbers), input bounded by QC_XML_MAX_BYTES, and a DOCTYPE
 * that declares entities is refused outright (no entity expansion at all).
 *
 * Everything not understood, at any level, is kept verbatim in d->extras
 * (element or attribute, keyed by the path of the element the writer emits)
 * and reported through the warn callback, so dumpxml after define loses
 * nothing.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "driver/domain.h"
#include "driver/xml_internal.h"

struct px {
	const char *file;
	qc_warn_fn warn;
	void *opaque;
	struct qc_domain *d;
	struct qc_error *err;
	xmlNodePtr meta; /* <qemuctl:domain>, or NULL */
	xmlNodePtr used[1024]; /* metadata entries applied to a device */
	size_t n_used;
};

static long line_of(xmlNodePtr n)
{
	return n ? xmlGetLineNo(n) : 0;
}

static int perr(struct px *p, xmlNodePtr n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int perr(struct px *p, xmlNodePtr n, const char *fmt, ...)
{
	cleanup_free char *m = NULL;
	va_list ap;

	va_start(ap, fmt);
	m = qc_xvasprintf(fmt, ap);
	va_end(ap);
	return qc_error_set(p->err, QC_ERR_XML, "%s:%ld: %s", p->file, line_of(n), m);
}

static void pwarn(struct px *p, xmlNodePtr n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void pwarn(struct px *p, xmlNodePtr n, const char *fmt, ...)
{
	cleanup_free char *m = NULL, *full = NULL;
	va_list ap;

	if (!p->warn)
		return;
	va_start(ap, fmt);
	m = qc_xvasprintf(fmt, ap);
	va_end(ap);
	full = qc_xasprintf("%s:%ld: %s", p->file, line_of(n), m);
	p->warn(full, p->opaque);
}

static bool is(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && !n->ns &&
	       strcmp((const char *) n->name, name) == 0;
}

static bool is_qc(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       strcmp((const char *) n->ns->href, QC_XML_NS) == 0 &&
	       strcmp((const char *) n->name, name) == 0;
}

static char *strip(char *s)
{
	char *e;

	if (!s)
		return NULL;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		memmove(s, s + 1, strlen(s));
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

/* An attribute without namespace, as a fresh (qc-allocated) string, or NULL. */
static char *prop(xmlNodePtr n, const char *name)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *) name);
	char *r;

	if (!v)
		return NULL;
	r = qc_xstrdup((const char *) v);
	xmlFree(v);
	return r;
}

/* The element's text, trimmed. */
static char *text(xmlNodePtr n)
{
	xmlChar *v = xmlNodeGetContent(n);
	char *r = qc_xstrdup(v ? (const char *) v : "");

	xmlFree(v);
	return strip(r);
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (is(c, name))
			return c;
	return NULL;
}

static bool in_list(const char *name, const char *const *list, bool *multi)
{
	size_t l = strlen(name);

	for (; list && *list; list++) {
		size_t k = strlen(*list);
		bool star = k && (*list)[k - 1] == '*';

		if ((star ? k - 1 : k) == l && strncmp(*list, name, l) == 0) {
			if (multi)
				*multi = star;
			return true;
		}
	}
	return false;
}

static void add_extra(struct px *p, const char *path, char *xml)
{
	struct qc_domain *d = p->d;

	d->extras = qc_xrealloc(d->extras, (d->n_extras + 1) * sizeof(*d->extras));
	d->extras[d->n_extras].parent = qc_xstrdup(path);
	d->extras[d->n_extras].xml = xml;
	d->n_extras++;
}

static int depth_of(const char *path)
{
	int n = 1;

	for (; *path; path++)
		n += *path == '/';
	return n;
}

/* Keep an element verbatim under path; its namespaces are declared on it. */
static void keep_elem(struct px *p, xmlNodePtr n, const char *path, bool quiet)
{
	xmlDocPtr tmp = xmlNewDoc((const xmlChar *) "1.0");
	xmlNodePtr copy = xmlDocCopyNode(n, tmp, 1);
	xmlBufferPtr buf = xmlBufferCreate();

	xmlDocSetRootElement(tmp, copy);
	xmlReconciliateNs(tmp, copy);
	xmlNodeDump(buf, tmp, copy, depth_of(path), 1);
	add_extra(p, path, qc_xstrdup((const char *) xmlBufferContent(buf)));
	xmlBufferFree(buf);
	xmlFreeDoc(tmp);
	if (!quiet)
		pwarn(p, n, "<%s%s%s> is not supported; kept as is",
			n->ns && n->ns->prefix ? (const char *) n->ns->prefix : "",
			n->ns && n->ns->prefix ? ":" : "", (const char *) n->name);
}

static void keep_attr(struct px *p, xmlNodePtr owner, xmlAttrPtr a, const char *path, bool quiet)
{
	xmlChar *v = xmlNodeListGetString(owner->doc, a->children, 1);
	const char *prefix = a->ns && a->ns->prefix ? (const char *) a->ns->prefix : NULL;
	struct qc_buf b = {0};

	if (prefix)
		qc_buf_printf(&b, "%s:", prefix);
	qc_buf_printf(&b, "%s=\"", (const char *) a->name);
	for (const char *s = v ? (const char *) v : ""; *s; s++) {
		switch (*s) {
		case '&':
			qc_buf_puts(&b, "&amp;");
			break;
		case '<':
			qc_buf_puts(&b, "&lt;");
			break;
		case '"':
			qc_buf_puts(&b, "&quot;");
			break;
		default:
			qc_buf_putc(&b, *s);
		}
	}
	qc_buf_putc(&b, '"');
	add_extra(p, path, qc_buf_steal(&b));
	if (!quiet)
		pwarn(p, owner, "attribute %s%s%s='%s' of <%s> is not supported; kept as is",
			prefix ? prefix : "", prefix ? ":" : "", (const char *) a->name,
			v ? (const char *) v : "", (const char *) owner->name);
	xmlFree(v);
}

/*
 * Keep what the caller does not handle: attributes outside attrs, child
 * elements outside elems ("name*" allows repeats, else a repeat is an
 * error).  quiet lists elements ("name") and attributes ("@name") that are
 * kept without a warning because they only restate what qemuctl does.
 */
static void walk_attrs(struct px *p, xmlNodePtr n, const char *path, const char *const *attrs,
	const char *const *quiet)
{
	for (xmlAttrPtr a = n->properties; a; a = a->next) {
		char qa[128];

		if (!a->ns && in_list((const char *) a->name, attrs, NULL))
			continue;
		snprintf(qa, sizeof(qa), "@%s", (const char *) a->name);
		keep_attr(p, n, a, path, in_list(qa, quiet, NULL));
	}
}

static int walk(struct px *p, xmlNodePtr n, const char *path, const char *const *attrs,
	const char *const *elems, const char *const *quiet)
{
	walk_attrs(p, n, path, attrs, quiet);
	for (xmlNodePtr c = n->children; c; c = c->next) {
		bool multi = false;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!c->ns && in_list((const char *) c->name, elems, &multi)) {
			if (multi)
				continue;
			for (xmlNodePtr e = n->children; e != c; e = e->next)
				if (is(e, (const char *) c->name))
					return perr(
						p, c, "duplicate <%s> in <%s>", c->name, n->name);
			continue;
		}
		keep_elem(p, c, path, !c->ns && in_list((const char *) c->name, quiet, NULL));
	}
	return 0;
}

/* ------------------------------------------------------------- values */

int qc_xml_parse_memory(const char *value, const char *unit, uint64_t *ret, struct qc_error *err)
{
	static const struct {
		const char *name;
		uint64_t mult;
	} units[] = {
		{"b", 1},
		{"bytes", 1},
		{"KB", 1000ULL},
		{"k", 1024ULL},
		{"KiB", 1024ULL},
		{"MB", 1000000ULL},
		{"M", 1ULL << 20},
		{"MiB", 1ULL << 20},
		{"GB", 1000000000ULL},
		{"G", 1ULL << 30},
		{"GiB", 1ULL << 30},
		{"TB", 1000000000000ULL},
		{"T", 1ULL << 40},
		{"TiB", 1ULL << 40},
	};
	uint64_t mult = 0, v = 0;

	if (!unit)
		unit = "KiB";
	for (size_t i = 0; i < QC_ARRAY_SIZE(units); i++)
		if (strcmp(units[i].name, unit) == 0)
			mult = units[i].mult;
	if (!mult)
		return qc_error_set(err, QC_ERR_INVALID,
			"unknown unit '%s' (b, bytes, KB, k, KiB, MB, M, MiB, GB, G, GiB, TB, T, "
			"TiB)",
			unit);
	if (value[0] == '-')
		return qc_error_set(
			err, QC_ERR_INVALID, "memory must be greater than 0, not '%s'", value);
	if (!value[0])
		return qc_error_set(err, QC_ERR_INVALID, "no memory size given");
	for (const char *s = value; *s; s++) {
		if (*s < '0' || *s > '9')
			return qc_error_set(
				err, QC_ERR_INVALID, "memory size '%s' is not a number", value);
		if (v > (UINT64_MAX - 9) / 10)
			return qc_error_set(err, QC_ERR_INVALID, "memory size '%s %s' is too large",
				value, unit);
		v = v * 10 + (uint64_t) (*s - '0');
	}
	if (v == 0)
		return qc_error_set(
			err, QC_ERR_INVALID, "memory must be greater than 0, not '%s'", value);
	if (v > UINT64_MAX / mult)
		return qc_error_set(
			err, QC_ERR_INVALID, "memory size '%s %s' is too large", value, unit);
	*ret = v * mult;
	return 0;
}

const char *qc_xml_accessmode_to_model(const char *accessmode)
{
	if (!accessmode || strcmp(accessmode, "passthrough") == 0)
		return "passthrough";
	if (strcmp(accessmode, "mapped") == 0)
		return "mapped-xattr";
	if (strcmp(accessmode, "squash") == 0)
		return "none";
	return NULL;
}

const char *qc_xml_model_to_accessmode(const char *model)
{
	if (!model || strcmp(model, "mapped-xattr") == 0)
		return "mapped";
	if (strcmp(model, "none") == 0)
		return "squash";
	return "passthrough";
}

static int yesno(struct px *p, xmlNodePtr n, const char *attr, bool *ret)
{
	cleanup_free char *v = prop(n, attr);

	if (!v)
		return 0;
	if (strcmp(v, "yes") == 0 || strcmp(v, "no") == 0) {
		*ret = v[0] == 'y';
		return 0;
	}
	return perr(p, n, "<%s %s='%s'>: expected yes or no", n->name, attr, v);
}

static int uint_attr(struct px *p, xmlNodePtr n, const char *attr, unsigned max, unsigned *ret)
{
	cleanup_free char *v = prop(n, attr);
	char *end;
	unsigned long x;

	if (!v)
		return 0;
	errno = 0;
	x = strtoul(v, &end, 10);
	if (!v[0] || *end || errno || v[0] == '-' || x > max)
		return perr(p, n, "<%s %s='%s'>: expected a number from 0 to %u", n->name, attr, v,
			max);
	*ret = (unsigned) x;
	return 0;
}

/* ------------------------------------------------------------- metadata */

/* The metadata entry <qemuctl:KIND key='value'>, marked as used. */
static xmlNodePtr meta_find(struct px *p, const char *kind, const char *key, const char *value)
{
	for (xmlNodePtr c = p->meta ? p->meta->children : NULL; c; c = c->next) {
		cleanup_free char *v = NULL;

		if (!is_qc(c, kind))
			continue;
		v = prop(c, key);
		if (v && strcmp(v, value) == 0) {
			if (p->n_used < QC_ARRAY_SIZE(p->used))
				p->used[p->n_used++] = c;
			return c;
		}
	}
	return NULL;
}

static int meta_check(struct px *p, xmlNodePtr n, const char *const *attrs, bool kids)
{
	for (xmlAttrPtr a = n->properties; a; a = a->next)
		if (a->ns || !in_list((const char *) a->name, attrs, NULL))
			return perr(p, n, "unknown attribute '%s' in qemuctl metadata <%s>",
				a->name, n->name);
	for (xmlNodePtr c = n->children; c && !kids; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return perr(p, c, "unknown element <%s> in qemuctl metadata <%s>", c->name,
				n->name);
	return 0;
}

static int parse_seed(struct px *p, xmlNodePtr n)
{
	static const char *const attrs[] = {"enabled", "generation", "hash", NULL};
	struct qc_seed_opts *s = &p->d->seed;
	struct qc_strv keys = {0};
	int r;

	if ((r = meta_check(p, n, attrs, true)) < 0 ||
		(r = yesno(p, n, "enabled", &s->enabled)) < 0 ||
		(r = uint_attr(p, n, "generation", UINT32_MAX, &s->generation)) < 0)
		return r;
	s->content_hash = prop(n, "hash");
	for (xmlNodePtr c = n->children; c; c = c->next) {
		char **slot = NULL;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_qc(c, "ssh-key")) {
			qc_strv_push_take(&keys, text(c));
			continue;
		}
		if (is_qc(c, "hostname"))
			slot = &s->hostname;
		else if (is_qc(c, "user"))
			slot = &s->user;
		else if (is_qc(c, "user-data"))
			slot = &s->user_data;
		else if (is_qc(c, "network-config"))
			slot = &s->network_config;
		if (!slot || *slot) {
			qc_strv_clear(&keys);
			return perr(p, c,
				slot ? "duplicate <%s> in qemuctl metadata <seed>"
				     : "unknown element <%s> in qemuctl metadata <seed>",
				c->name);
		}
		*slot = text(c);
	}
	s->ssh_keys = keys.n ? qc_strv_steal(&keys) : NULL;
	return 0;
}

static int parse_meta_domain(struct px *p)
{
	struct qc_domain *d = p->d;
	bool seed = false;
	int r;

	d->seed.enabled = false; /* a libvirt XML has no seed */
	for (xmlNodePtr c = p->meta ? p->meta->children : NULL; c; c = c->next) {
		cleanup_free char *t = NULL;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_qc(c, "disk") || is_qc(c, "nic") || is_qc(c, "share"))
			continue; /* applied with their device */
		if (is_qc(c, "accel")) {
			t = text(c);
			if (qc_accel_from_name(t, &d->accel) < 0)
				return perr(p, c, "unknown accelerator '%s' (auto, kvm or tcg)", t);
		} else if (is_qc(c, "autostart")) {
			t = text(c);
			d->autostart = !t[0] || strcmp(t, "yes") == 0;
		} else if (is_qc(c, "ready-marker")) {
			free(d->ready_marker);
			d->ready_marker = text(c);
		} else if (is_qc(c, "seed")) {
			if (seed)
				return perr(p, c, "duplicate <seed> in qemuctl metadata");
			seed = true;
			if ((r = parse_seed(p, c)) < 0)
				return r;
		} else {
			return perr(p, c, "unknown element <%s> in qemuctl metadata", c->name);
		}
	}
	return 0;
}

static int meta_unused(struct px *p)
{
	for (xmlNodePtr c = p->meta ? p->meta->children : NULL; c; c = c->next) {
		bool used = false;
		cleanup_free char *name = NULL;

		if (!is_qc(c, "disk") && !is_qc(c, "nic") && !is_qc(c, "share"))
			continue;
		for (size_t i = 0; i < p->n_used; i++)
			used |= p->used[i] == c;
		if (used)
			continue;
		name = prop(c, is_qc(c, "share") ? "tag" : "name");
		return perr(p, c, "qemuctl metadata names %s '%s', which <devices> does not have",
			c->name, name ? name : "");
	}
	return 0;
}

/* ------------------------------------------------------------- devices */

static void remember(xmlNodePtr **arr, size_t n, xmlNodePtr node)
{
	*arr = qc_xrealloc(*arr, (n + 1) * sizeof(**arr));
	(*arr)[n] = node;
}

/* The first <alias name='ua-X'/> names the device X; other aliases are kept quietly. */
static int parse_alias(struct px *p, xmlNodePtr n, const char *path, const char *what, char **name)
{
	static const char *const aa[] = {"name", NULL};

	for (xmlNodePtr c = n->children; c; c = c->next) {
		cleanup_free char *v = NULL, *ap = NULL;

		if (!is(c, "alias"))
			continue;
		v = prop(c, "name");
		if (*name || !v || !qc_str_has_prefix(v, "ua-")) {
			keep_elem(p, c, path, true);
			continue;
		}
		if (qc_validate_name(what, v + 3, p->err) < 0)
			return qc_error_prefix(p->err, "%s:%ld: <alias>", p->file, line_of(c));
		ap = qc_xasprintf("%s/alias", path);
		walk_attrs(p, c, ap, aa, NULL);
		*name = qc_xstrdup(v + 3);
	}
	return 0;
}

static void keep_device(
	struct px *p, xmlNodePtr n, const char *what, const char *value, const char *why)
{
	keep_elem(p, n, "domain/devices", true);
	if (value)
		pwarn(p, n, "<%s %s='%s'> is not supported%s; kept as is", n->name, what, value,
			why);
	else
		pwarn(p, n, "<%s> %s is not supported%s; kept as is", n->name, what, why);
}

static bool empty_elem(xmlNodePtr n)
{
	if (n->properties)
		return false;
	for (xmlNodePtr c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return false;
	return true;
}

static int parse_backing(struct px *p, xmlNodePtr bs, const char *dpath, struct qc_disk *k)
{
	static const char *const attrs[] = {"type", NULL};
	static const char *const elems[] = {"format", "source", "backingStore", NULL};
	static const char *const quiet[] = {"@index", NULL};
	static const char *const fa[] = {"type", NULL};
	static const char *const sa[] = {"file", NULL};
	cleanup_free char *path = qc_xasprintf("%s/backingStore", dpath), *sub = NULL;
	cleanup_free char *type = prop(bs, "type");
	xmlNodePtr f = child(bs, "format"), s = child(bs, "source"),
		   next = child(bs, "backingStore");
	int r;

	if (empty_elem(bs))
		return 0; /* <backingStore/>: no backing file */
	if ((r = walk(p, bs, path, attrs, elems, quiet)) < 0)
		return r;
	if (type && strcmp(type, "file") != 0)
		return perr(p, bs, "<backingStore type='%s'> is not supported (file)", type);
	if (!s || !(k->backing = prop(s, "file")))
		return perr(p, bs, "<backingStore> has no <source file>");
	sub = qc_xasprintf("%s/source", path);
	if ((r = walk(p, s, sub, sa, NULL, NULL)) < 0)
		return r;
	if (f) {
		free(sub);
		sub = qc_xasprintf("%s/format", path);
		if ((r = walk(p, f, sub, fa, NULL, NULL)) < 0)
			return r;
		k->backing_format = prop(f, "type");
	}
	if (!k->backing_format)
		return perr(p, bs, "<backingStore> has no <format type> (qcow2 or raw)");
	/* a deeper chain is QEMU's business (it reads it from the image): keep it */
	if (next && !empty_elem(next))
		keep_elem(p, next, path, true);
	return 0;
}

static int parse_disk(struct px *p, xmlNodePtr n, xmlNodePtr **nodes)
{
	static const char *const attrs[] = {"type", "device", NULL};
	static const char *const elems[] = {
		"driver", "source", "backingStore", "target", "readonly", "alias*", NULL};
	static const char *const da[] = {"name", "type", NULL};
	static const char *const sa[] = {"file", NULL};
	static const char *const ta[] = {"dev", "bus", NULL};
	struct qc_domain *d = p->d;
	cleanup_free char *type = prop(n, "type"), *device = prop(n, "device");
	xmlNodePtr drv = child(n, "driver"), src = child(n, "source"), tgt = child(n, "target"), c;
	cleanup_free char *file = src ? prop(src, "file") : NULL;
	cleanup_free char *dev = tgt ? prop(tgt, "dev") : NULL,
			  *bus = tgt ? prop(tgt, "bus") : NULL;
	cleanup_free char *path = NULL, *sub = NULL, *dname = NULL, *dtype = NULL;
	enum qc_disk_bus b;
	struct qc_disk *k;
	size_t idx = d->n_disks;
	int r;

	if (type && strcmp(type, "file") != 0) {
		keep_device(p, n, "type", type, " (only type='file')");
		return 0;
	}
	if (device && strcmp(device, "disk") != 0 && strcmp(device, "cdrom") != 0) {
		keep_device(p, n, "device", device, " (disk or cdrom)");
		return 0;
	}
	if (!file) {
		keep_device(p, n, "without <source file> (an empty cdrom?)", NULL, "");
		return 0;
	}
	if (!dev)
		return perr(p, n, "<disk> has no <target dev>");
	if (!bus)
		bus = qc_xstrdup(qc_str_has_prefix(dev, "vd")	? "virtio"
				 : qc_str_has_prefix(dev, "sd") ? "scsi"
								: "ide");
	if (strcmp(bus, "virtio") == 0) {
		b = QC_BUS_VIRTIO;
	} else if (strcmp(bus, "scsi") == 0) {
		b = QC_BUS_SCSI;
	} else if (strcmp(bus, "sata") == 0) {
		b = QC_BUS_SATA;
	} else {
		keep_device(p, n, "on bus", NULL, "");
		return 0;
	}
	for (size_t i = 0; i < d->n_disks; i++)
		if (strcmp(d->disks[i].target, dev) == 0)
			return perr(p, tgt, "duplicate disk target '%s'", dev);
	if (drv) {
		dname = prop(drv, "name");
		dtype = prop(drv, "type");
		if (dname && strcmp(dname, "qemu") != 0)
			return perr(p, drv, "disk '%s': driver '%s' is not supported (qemu)", dev,
				dname);
		if (dtype && strcmp(dtype, "qcow2") != 0 && strcmp(dtype, "raw") != 0)
			return perr(p, drv,
				"disk '%s': format '%s' is not supported (qcow2 or raw)", dev,
				dtype);
	}

	k = qc_domain_add_disk(d);
	remember(nodes, idx, n);
	path = qc_xasprintf(QC_XP_DISK, idx);
	k->device = device && strcmp(device, "cdrom") == 0 ? QC_DEVICE_CDROM : QC_DEVICE_DISK;
	k->bus = b;
	k->role = QC_ROLE_DATA;
	k->path = TAKE_PTR(file);
	k->target = TAKE_PTR(dev);
	k->format = qc_xstrdup(dtype ? dtype : "raw");
	k->readonly = child(n, "readonly") != NULL;
	if ((r = walk(p, n, path, attrs, elems, NULL)) < 0)
		return r;
	if (drv) {
		sub = qc_xasprintf("%s/driver", path);
		if ((r = walk(p, drv, sub, da, NULL, NULL)) < 0)
			return r;
	}
	free(sub);
	sub = qc_xasprintf("%s/source", path);
	if ((r = walk(p, src, sub, sa, NULL, NULL)) < 0)
		return r;
	free(sub);
	sub = qc_xasprintf("%s/target", path);
	if ((r = walk(p, tgt, sub, ta, NULL, NULL)) < 0)
		return r;
	if ((c = child(n, "readonly"))) {
		free(sub);
		sub = qc_xasprintf("%s/readonly", path);
		if ((r = walk(p, c, sub, NULL, NULL, NULL)) < 0)
			return r;
	}
	if ((c = child(n, "backingStore")) && (r = parse_backing(p, c, path, k)) < 0)
		return r;
	return parse_alias(p, n, path, "disk", &k->name);
}

static int parse_nic(struct px *p, xmlNodePtr n, xmlNodePtr **nodes)
{
	static const char *const attrs[] = {"type", NULL};
	static const char *const elems[] = {"mac", "source", "model", "alias*", NULL};
	static const char *const ma[] = {"address", NULL};
	static const char *const mo[] = {"type", NULL};
	static const char *const models[] = {"e1000", "e1000e", "rtl8139", NULL};
	struct qc_domain *d = p->d;
	cleanup_free char *type = prop(n, "type"), *path = NULL, *sub = NULL;
	xmlNodePtr mac = child(n, "mac"), src = child(n, "source"), model = child(n, "model");
	enum qc_nic_type t;
	size_t idx = d->n_nics;
	struct qc_nic *k;
	int r;

	if (type && strcmp(type, "user") == 0) {
		t = QC_NIC_USER;
	} else if (type && strcmp(type, "network") == 0) {
		t = QC_NIC_NETWORK;
	} else if (type && strcmp(type, "bridge") == 0) {
		t = QC_NIC_BRIDGE;
	} else {
		keep_device(p, n, "type", type ? type : "", " (user, network or bridge)");
		return 0;
	}
	k = qc_domain_add_nic(d);
	remember(nodes, idx, n);
	k->type = t;
	path = qc_xasprintf(QC_XP_NIC, idx);
	if ((r = walk(p, n, path, attrs, elems, NULL)) < 0)
		return r;
	if (mac) {
		cleanup_free char *a = prop(mac, "address");

		sub = qc_xasprintf("%s/mac", path);
		if ((r = walk(p, mac, sub, ma, NULL, NULL)) < 0)
			return r;
		if (!a || strlen(a) != 17)
			return perr(p, mac, "bad MAC address '%s'", a ? a : "");
		for (char *s = a; *s; s++)
			*s = (char) (*s >= 'A' && *s <= 'F' ? *s - 'A' + 'a' : *s);
		memcpy(k->mac, a, 18);
	} else {
		qc_domain_mac(d, (unsigned) idx, k->mac);
	}
	if (src && t == QC_NIC_USER) {
		keep_elem(p, src, path, false);
	} else if (src) {
		static const char *const na[] = {"network", "bridge", NULL};
		static const char *const ba[] = {"bridge", NULL};

		free(sub);
		sub = qc_xasprintf("%s/source", path);
		if ((r = walk(p, src, sub, t == QC_NIC_NETWORK ? na : ba, NULL, NULL)) < 0)
			return r;
		k->network = t == QC_NIC_NETWORK ? prop(src, "network") : NULL;
		k->bridge = prop(src, "bridge");
	}
	if (t == QC_NIC_NETWORK && !k->network)
		return perr(p, n, "<interface type='network'> needs <source network='NAME'/>");
	if (t == QC_NIC_BRIDGE && !k->bridge)
		return perr(p, n, "<interface type='bridge'> needs <source bridge='NAME'/>");
	if (model) {
		cleanup_free char *m = prop(model, "type");

		free(sub);
		sub = qc_xasprintf("%s/model", path);
		if ((r = walk(p, model, sub, mo, NULL, NULL)) < 0)
			return r;
		if (m && strcmp(m, "virtio") == 0)
			k->model = qc_xstrdup("virtio-net-pci");
		else if (m && in_list(m, models, NULL))
			k->model = qc_xstrdup(m);
		else
			return perr(p, model,
				"NIC model '%s' is not supported (virtio, e1000, e1000e or "
				"rtl8139)",
				m ? m : "");
	}
	return parse_alias(p, n, path, "NIC", &k->name);
}

static int parse_share(struct px *p, xmlNodePtr n, xmlNodePtr **nodes)
{
	static const char *const attrs[] = {"type", "accessmode", NULL};
	static const char *const elems[] = {"source", "target", "readonly", NULL};
	static const char *const da[] = {"dir", NULL};
	struct qc_domain *d = p->d;
	cleanup_free char *type = prop(n, "type"), *mode = prop(n, "accessmode");
	cleanup_free char *path = NULL, *sub = NULL;
	xmlNodePtr src = child(n, "source"), tgt = child(n, "target"), ro = child(n, "readonly");
	cleanup_free char *tag = tgt ? prop(tgt, "dir") : NULL;
	const char *model = qc_xml_accessmode_to_model(mode);
	size_t idx = d->n_shares;
	struct qc_share *s;
	int r;

	if (type && strcmp(type, "mount") != 0) {
		keep_device(p, n, "type", type, " (mount)");
		return 0;
	}
	if (!model)
		return perr(p, n,
			"accessmode '%s' is not supported (passthrough, mapped or squash)", mode);
	if (!tag)
		return perr(p, n, "<filesystem> has no <target dir='TAG'/>");
	for (size_t i = 0; i < d->n_shares; i++)
		if (strcmp(d->shares[i].tag, tag) == 0)
			return perr(p, tgt, "duplicate filesystem target '%s'", tag);
	s = qc_domain_add_share(d);
	remember(nodes, idx, n);
	s->tag = TAKE_PTR(tag);
	s->security_model = qc_xstrdup(model);
	s->readonly = ro != NULL;
	path = qc_xasprintf(QC_XP_SHARE, idx);
	if ((r = walk(p, n, path, attrs, elems, NULL)) < 0)
		return r;
	if (src) {
		sub = qc_xasprintf("%s/source", path);
		if ((r = walk(p, src, sub, da, NULL, NULL)) < 0)
			return r;
		s->path = prop(src, "dir");
	}
	free(sub);
	sub = qc_xasprintf("%s/target", path);
	if ((r = walk(p, tgt, sub, da, NULL, NULL)) < 0)
		return r;
	if (ro) {
		free(sub);
		sub = qc_xasprintf("%s/readonly", path);
		if ((r = walk(p, ro, sub, NULL, NULL, NULL)) < 0)
			return r;
	}
	return 0;
}

/* Names for unnamed devices, then the qemuctl metadata of each device. */
static int apply_disk_meta(struct px *p, size_t i, xmlNodePtr node)
{
	static const char *const attrs[] = {"name", "role", "owned", "backing-image", NULL};
	struct qc_disk *k = &p->d->disks[i];
	xmlNodePtr m = meta_find(p, "disk", "name", k->name);
	cleanup_free char *role = NULL;
	int r;

	if (!m) {
		/* libvirt XML: the first plain disk is what boots; nothing is ours */
		bool first = true;

		for (size_t j = 0; j < i; j++)
			first &= p->d->disks[j].device != QC_DEVICE_DISK;
		k->role = first && k->device == QC_DEVICE_DISK ? QC_ROLE_ROOT : QC_ROLE_DATA;
		(void) node;
		return 0;
	}
	if ((r = meta_check(p, m, attrs, false)) < 0 || (r = yesno(p, m, "owned", &k->owned)) < 0)
		return r;
	role = prop(m, "role");
	if (!role || strcmp(role, "data") == 0)
		k->role = QC_ROLE_DATA;
	else if (strcmp(role, "root") == 0)
		k->role = QC_ROLE_ROOT;
	else if (strcmp(role, "seed") == 0)
		k->role = QC_ROLE_SEED;
	else
		return perr(
			p, m, "disk '%s': unknown role '%s' (root, data or seed)", k->name, role);
	k->backing_image = prop(m, "backing-image");
	return 0;
}

static int apply_nic_meta(struct px *p, size_t i)
{
	static const char *const attrs[] = {"name", "ip", NULL};
	static const char *const fa[] = {"proto", "host-address", "host-port", "guest-port", NULL};
	struct qc_nic *k = &p->d->nics[i];
	xmlNodePtr m = meta_find(p, "nic", "name", k->name);
	int r;

	if (!m)
		return 0;
	if ((r = meta_check(p, m, attrs, true)) < 0)
		return r;
	k->ip = prop(m, "ip");
	for (xmlNodePtr c = m->children; c; c = c->next) {
		cleanup_free char *proto = NULL, *addr = NULL;
		struct qc_hostfwd *f;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!is_qc(c, "hostfwd"))
			return perr(
				p, c, "unknown element <%s> in qemuctl metadata <nic>", c->name);
		if ((r = meta_check(p, c, fa, false)) < 0)
			return r;
		k->fwds = qc_xrealloc(k->fwds, (k->n_fwds + 1) * sizeof(*k->fwds));
		f = &k->fwds[k->n_fwds++];
		memset(f, 0, sizeof(*f));
		proto = prop(c, "proto");
		addr = prop(c, "host-address");
		if (!proto || strlen(proto) >= sizeof(f->proto) ||
			(addr && strlen(addr) >= sizeof(f->host_addr)))
			return perr(p, c, "NIC '%s': bad <hostfwd> protocol or address", k->name);
		strcpy(f->proto, proto);
		if (addr)
			strcpy(f->host_addr, addr);
		if ((r = uint_attr(p, c, "host-port", 65535, &f->host_port)) < 0 ||
			(r = uint_attr(p, c, "guest-port", 65535, &f->guest_port)) < 0)
			return r;
	}
	return 0;
}

static void gen_name(char **name, const char *prefix,
	bool (*taken)(struct qc_domain *, const char *), struct qc_domain *d)
{
	for (unsigned n = 0; !*name; n++) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%s%u", prefix, n);
		if (!taken(d, buf))
			*name = qc_xstrdup(buf);
	}
}

static bool disk_taken(struct qc_domain *d, const char *name)
{
	return qc_domain_find_disk(d, name) != NULL;
}

static bool nic_taken(struct qc_domain *d, const char *name)
{
	return qc_domain_find_nic(d, name) != NULL;
}

static int parse_console(struct px *p, xmlNodePtr n, const char *path)
{
	static const char *const attrs[] = {"type", NULL};
	/* the console plumbing qemuctl replaces with its own socket: kept quietly */
	static const char *const quiet[] = {"target", "source", "log", "alias", "protocol", NULL};

	return walk(p, n, path, attrs, NULL, quiet);
}

static int parse_devices(struct px *p, xmlNodePtr devs)
{
	static const char *const elems[] = {
		"disk*", "interface*", "filesystem*", "serial*", "console*", NULL};
	struct qc_domain *d = p->d;
	cleanup_free xmlNodePtr *disks = NULL, *nics = NULL, *shares = NULL;
	bool serial = false, console = false;
	int r;

	if ((r = walk(p, devs, "domain/devices", NULL, elems, NULL)) < 0)
		return r;
	for (xmlNodePtr c = devs->children; c; c = c->next) {
		r = 0;
		if (is(c, "disk")) {
			r = parse_disk(p, c, &disks);
		} else if (is(c, "interface")) {
			r = parse_nic(p, c, &nics);
		} else if (is(c, "filesystem")) {
			r = parse_share(p, c, &shares);
		} else if (is(c, "serial") || is(c, "console")) {
			bool *seen = is(c, "serial") ? &serial : &console;

			if (*seen) {
				keep_elem(p, c, "domain/devices", false);
				continue;
			}
			*seen = true;
			r = parse_console(p, c,
				is(c, "serial") ? "domain/devices/serial"
						: "domain/devices/console");
		}
		if (r < 0)
			return r;
	}
	d->serial_console = serial || console;
	for (size_t i = 0; i < d->n_disks; i++) {
		gen_name(&d->disks[i].name, "disk", disk_taken, d);
		if ((r = apply_disk_meta(p, i, disks[i])) < 0)
			return r;
	}
	for (size_t i = 0; i < d->n_nics; i++) {
		gen_name(&d->nics[i].name, "net", nic_taken, d);
		if ((r = apply_nic_meta(p, i)) < 0)
			return r;
	}
	for (size_t i = 0; i < d->n_shares; i++) {
		struct qc_share *s = &d->shares[i];
		static const char *const sa[] = {"tag", "empty", NULL};
		xmlNodePtr m = meta_find(p, "share", "tag", s->tag);

		if (m && ((r = meta_check(p, m, sa, false)) < 0 ||
				 (r = yesno(p, m, "empty", &s->empty)) < 0))
			return r;
		if (!s->path && !s->empty)
			return perr(p, shares[i], "<filesystem> '%s' has no <source dir>", s->tag);
	}
	return 0;
}

/* ------------------------------------------------------------- domain */

static int parse_os(struct px *p, xmlNodePtr os)
{
	static const char *const elems[] = {
		"type", "kernel", "initrd", "cmdline", "loader", "nvram", NULL};
	struct qc_domain *d = p->d;
	xmlNodePtr t = child(os, "type"), c;
	int r;

	if ((r = walk(p, os, "domain/os", NULL, elems, NULL)) < 0)
		return r;
	if (t) {
		static const char *const ta[] = {"arch", "machine", NULL};
		cleanup_free char *arch = prop(t, "arch"), *kind = text(t);

		if ((r = walk(p, t, "domain/os/type", ta, NULL, NULL)) < 0)
			return r;
		if (strcmp(kind, "hvm") != 0)
			return perr(p, t, "OS type '%s' is not supported (hvm)", kind);
		if (arch) {
			d->arch = qc_arch_from_name(arch);
			if (d->arch == QC_ARCH_INVALID)
				return perr(p, t, "unknown arch '%s' (x86_64, aarch64 or ppc64le)",
					arch);
		}
		d->machine = prop(t, "machine");
	}
	if ((c = child(os, "kernel"))) {
		if ((r = walk(p, c, "domain/os/kernel", NULL, NULL, NULL)) < 0)
			return r;
		d->kernel = text(c);
	}
	if ((c = child(os, "initrd"))) {
		if ((r = walk(p, c, "domain/os/initrd", NULL, NULL, NULL)) < 0)
			return r;
		d->initrd = text(c);
	}
	if ((c = child(os, "cmdline"))) {
		if ((r = walk(p, c, "domain/os/cmdline", NULL, NULL, NULL)) < 0)
			return r;
		d->cmdline = text(c);
	}
	if ((c = child(os, "loader"))) {
		static const char *const la[] = {"readonly", "type", NULL};
		cleanup_free char *ro = prop(c, "readonly"), *type = prop(c, "type");

		if ((r = walk(p, c, "domain/os/loader", la, NULL, NULL)) < 0)
			return r;
		if ((ro && strcmp(ro, "yes") != 0) || (type && strcmp(type, "pflash") != 0))
			return perr(p, c,
				"only a read-only pflash <loader> is supported (readonly='yes' "
				"type='pflash')");
		d->loader = text(c);
	}
	if ((c = child(os, "nvram"))) {
		if ((r = walk(p, c, "domain/os/nvram", NULL, NULL, NULL)) < 0)
			return r;
		d->nvram = text(c);
	}
	return 0;
}

static int parse_cpu(struct px *p, xmlNodePtr cpu)
{
	static const char *const attrs[] = {"mode", NULL};
	static const char *const elems[] = {"model", NULL};
	cleanup_free char *mode = prop(cpu, "mode");
	xmlNodePtr m = child(cpu, "model");
	int r;

	if ((r = walk(p, cpu, "domain/cpu", attrs, elems, NULL)) < 0)
		return r;
	if (m && (r = walk(p, m, "domain/cpu/model", NULL, NULL, NULL)) < 0)
		return r;
	if (!mode || strcmp(mode, "custom") == 0) {
		if (m)
			p->d->cpu_model = text(m);
		else if (mode)
			return perr(p, cpu, "<cpu mode='custom'> needs a <model>");
		return 0;
	}
	if (m)
		return perr(p, m, "<model> is only allowed with <cpu mode='custom'>");
	if (strcmp(mode, "host-passthrough") == 0)
		p->d->cpu_model = qc_xstrdup("host");
	else if (strcmp(mode, "host-model") == 0)
		p->d->cpu_model = qc_xstrdup("host-model");
	else if (strcmp(mode, "maximum") == 0)
		p->d->cpu_model = qc_xstrdup("max");
	else
		return perr(p, cpu,
			"CPU mode '%s' is not supported (host-passthrough, host-model, maximum or "
			"custom)",
			mode);
	return 0;
}

static int parse_domain(struct px *p, xmlNodePtr root)
{
	static const char *const attrs[] = {"type", NULL};
	static const char *const elems[] = {"name", "uuid", "title", "metadata", "memory", "vcpu",
		"os", "cpu", "devices", "currentMemory", NULL};
	struct qc_domain *d = p->d;
	cleanup_free char *type = prop(root, "type");
	xmlNodePtr n;
	int r;

	if ((r = walk(p, root, "domain", attrs, elems, NULL)) < 0)
		return r;
	/* currentMemory is understood (the balloon target) but not used: keep it */
	if ((n = child(root, "currentMemory")))
		keep_elem(p, n, "domain", true);
	if (!type)
		return perr(p, root, "<domain> has no type (kvm or qemu)");
	if (strcmp(type, "kvm") == 0)
		d->accel = QC_ACCEL_KVM;
	else if (strcmp(type, "qemu") == 0)
		d->accel = QC_ACCEL_TCG;
	else
		return perr(p, root, "domain type '%s' is not supported (kvm or qemu)", type);

	if (!(n = child(root, "name")))
		return perr(p, root, "missing <name>");
	if ((r = walk(p, n, "domain/name", NULL, NULL, NULL)) < 0)
		return r;
	d->name = text(n);
	if (qc_validate_name("VM", d->name, p->err) < 0)
		return qc_error_prefix(p->err, "%s:%ld", p->file, line_of(n));

	if ((n = child(root, "uuid"))) {
		cleanup_free char *u = text(n);

		if ((r = walk(p, n, "domain/uuid", NULL, NULL, NULL)) < 0)
			return r;
		if (qc_uuid_parse(u, d->uuid) < 0)
			return perr(p, n, "bad <uuid> '%s' (want 8-4-4-4-12 hex digits)", u);
		qc_uuid_format(d->uuid, d->uuid_str);
	} else {
		qc_domain_gen_uuid(d);
	}
	if ((n = child(root, "title"))) {
		if ((r = walk(p, n, "domain/title", NULL, NULL, NULL)) < 0)
			return r;
		d->title = text(n);
	}
	if (!(n = child(root, "memory")))
		return perr(p, root, "missing <memory>");
	else {
		static const char *const ma[] = {"unit", NULL};
		cleanup_free char *v = text(n), *unit = prop(n, "unit");

		if ((r = walk(p, n, "domain/memory", ma, NULL, NULL)) < 0)
			return r;
		if (qc_xml_parse_memory(v, unit, &d->memory, p->err) < 0)
			return qc_error_prefix(p->err, "%s:%ld: <memory>", p->file, line_of(n));
	}
	if ((n = child(root, "vcpu"))) {
		static const char *const vq[] = {"@placement", NULL};
		cleanup_free char *v = text(n);
		char *end;
		unsigned long x;

		if ((r = walk(p, n, "domain/vcpu", NULL, NULL, vq)) < 0)
			return r;
		errno = 0;
		x = strtoul(v, &end, 10);
		if (!v[0] || *end || errno || v[0] == '-' || x < 1 || x > 1024)
			return perr(p, n, "<vcpu> must be a number from 1 to 1024, not '%s'", v);
		d->cpus = (unsigned) x;
	}
	if ((n = child(root, "os")) && (r = parse_os(p, n)) < 0)
		return r;
	if ((n = child(root, "cpu")) && (r = parse_cpu(p, n)) < 0)
		return r;
	if ((n = child(root, "metadata"))) {
		for (xmlNodePtr c = n->children; c; c = c->next) {
			if (c->type != XML_ELEMENT_NODE)
				continue;
			if (is_qc(c, "domain") && !p->meta) {
				p->meta = c;
				continue;
			}
			/* other applications' metadata (libosinfo...): theirs, kept quietly */
			keep_elem(p, c, "domain/metadata", true);
		}
		walk_attrs(p, n, "domain/metadata", NULL, NULL);
	}
	if ((r = parse_meta_domain(p)) < 0)
		return r;
	d->serial_console = false;
	if ((n = child(root, "devices")) && (r = parse_devices(p, n)) < 0)
		return r;
	return meta_unused(p);
}

int qc_domain_from_xml(const char *xml, size_t len, const char *file, qc_warn_fn warn, void *opaque,
	struct qc_domain **ret, struct qc_error *err)
{
	cleanup_domain struct qc_domain *d = NULL;
	struct px p = {
		.file = file ? file : "domain XML", .warn = warn, .opaque = opaque, .err = err};
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;
	xmlNodePtr root;
	int r;

	if (len > QC_XML_MAX_BYTES)
		return qc_error_set(err, QC_ERR_XML,
			"%s: %zu bytes is more than the %u MiB allowed", p.file, len,
			QC_XML_MAX_BYTES >> 20);
	xmlInitParser();
	ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return qc_error_set(err, ENOMEM, "%s: cannot allocate an XML parser", p.file);
	doc = xmlCtxtReadMemory(ctxt, xml, (int) len, p.file, NULL,
		XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS |
			XML_PARSE_BIG_LINES);
	if (!doc || !ctxt->wellFormed) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		cleanup_free char *m = qc_xstrdup(e && e->message ? e->message : "unknown error");

		strip(m);
		r = qc_error_set(
			err, QC_ERR_XML, "%s:%d: malformed XML: %s", p.file, e ? e->line : 0, m);
		xmlFreeDoc(doc);
		xmlFreeParserCtxt(ctxt);
		return r;
	}
	xmlFreeParserCtxt(ctxt);
	if (doc->intSubset && (doc->intSubset->entities || doc->intSubset->pentities)) {
		/* libxml2 keeps no line for a DTD node: count up to "<!DOCTYPE" */
		const char *dt = memmem(xml, len, "<!DOCTYPE", 9);
		long line = 1;

		for (const char *c = xml; dt && c < dt; c++)
			line += *c == '\n';
		r = qc_error_set(err, QC_ERR_XML,
			"%s:%ld: a DOCTYPE that declares entities is not accepted", p.file, line);
		xmlFreeDoc(doc);
		return r;
	}
	root = xmlDocGetRootElement(doc);
	if (!is(root, "domain")) {
		r = qc_error_set(err, QC_ERR_XML, "%s:%ld: root element is <%s>, expected <domain>",
			p.file, line_of(root), root ? (const char *) root->name : "");
		xmlFreeDoc(doc);
		return r;
	}
	d = p.d = qc_domain_new();
	r = parse_domain(&p, root);
	xmlFreeDoc(doc);
	if (r < 0)
		return r;
	r = qc_domain_validate(d, err);
	if (r < 0)
		return qc_error_prefix(err, "%s", p.file);
	*ret = TAKE_PTR(d);
	return 0;
}

int qc_domain_load(const char *path, qc_warn_fn warn, void *opaque, struct qc_domain **ret,
	struct qc_error *err)
{
	cleanup_free char *buf = NULL;
	size_t len;
	int r;

	r = qc_read_file(AT_FDCWD, path, QC_XML_MAX_BYTES, &buf, &len, err);
	if (r < 0)
		return r;
	return qc_domain_from_xml(buf, len, path, warn, opaque, ret, err);
}
