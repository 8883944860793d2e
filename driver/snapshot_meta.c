/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The snapshot chain in domain.xml's <metadata> (format: driver/snapshot_meta.h).
 * Pure: reads and writes d->extras only.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "driver/snapshot_meta.h"

#define META_PARENT "domain/metadata"

static void snap_clear(struct qc_snap *s)
{
	for (size_t i = 0; i < s->n_disks; i++)
		qc_free_all(s->disks[i].disk, s->disks[i].file, s->disks[i].backing,
			s->disks[i].backing_format, s->disks[i].new_file);
	free(s->disks);
	free(s->name);
	free(s->memory);
	memset(s, 0, sizeof(*s));
}

void qc_snaps_clear(struct qc_snaps *s)
{
	for (size_t i = 0; i < s->n; i++)
		snap_clear(&s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

struct qc_snap *qc_snaps_find(const struct qc_snaps *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

void qc_snap_remove_at(struct qc_snaps *s, size_t i)
{
	snap_clear(&s->v[i]);
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
	s->n--;
}

char *qc_snap_memory_name(const char *snap)
{
	return qc_xasprintf("snap-%s.state", snap);
}

static bool is_snap_elem(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       strcmp((const char *) n->ns->href, QC_SNAP_NS) == 0 &&
	       strcmp((const char *) n->name, name) == 0;
}

static char *prop(xmlNodePtr n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *) name);
	char *s = v ? qc_xstrdup((const char *) v) : NULL;

	xmlFree(v);
	return s;
}

/* memory, memory-format, memory-size: the state file is this snapshot's, of a known format. */
static int parse_memory(xmlNodePtr n, struct qc_snap *s, struct qc_error *err)
{
	cleanup_free char *fmt = prop(n, "memory-format"), *size = prop(n, "memory-size"),
			  *cont = prop(n, "cont"), *want = NULL;
	char *end = NULL;

	if (!(s->memory = prop(n, "memory")))
		return fmt || size ? qc_error_set(err, QC_ERR_XML,
					     "snapshot '%s' metadata: memory-format or "
					     "memory-size without memory",
					     s->name)
				   : 0;
	want = qc_snap_memory_name(s->name);
	if (strcmp(s->memory, want) != 0)
		return qc_error_set(err, QC_ERR_XML,
			"snapshot '%s' metadata: memory file '%s' is not '%s'", s->name, s->memory,
			want);
	if (!fmt || strcmp(fmt, QC_SNAP_MEMORY_FORMAT) != 0)
		return qc_error_set(err, QC_ERR_XML,
			"snapshot '%s' metadata: memory-format '%s' is not '" QC_SNAP_MEMORY_FORMAT
			"'",
			s->name, fmt ? fmt : "(none)");
	errno = 0;
	if (size)
		s->memory_size = strtoull(size, &end, 10);
	if (!size || !size[0] || size[0] == '-' || *end || errno)
		return qc_error_set(err, QC_ERR_XML,
			"snapshot '%s' metadata: memory-size '%s' is not a byte count", s->name,
			size ? size : "(none)");
	s->memory_cont = s->pending && cont && strcmp(cont, "yes") == 0;
	return 0;
}

static ssize_t find_extra(const struct qc_domain *d)
{
	for (size_t i = 0; i < d->n_extras; i++)
		if (strcmp(d->extras[i].parent, META_PARENT) == 0 &&
			strstr(d->extras[i].xml, QC_SNAP_NS))
			return (ssize_t) i;
	return -1;
}

static int parse_snap(xmlNodePtr n, struct qc_snap *s, struct qc_error *err)
{
	cleanup_free char *created = NULL, *pending = NULL;
	int rc;

	s->name = prop(n, "name");
	if (!s->name || qc_validate_name("snapshot", s->name, err) < 0)
		return qc_error_set(err, QC_ERR_XML, "snapshot metadata: bad or missing name");
	created = prop(n, "created");
	s->created_ms = created ? strtoll(created, NULL, 10) : 0;
	pending = prop(n, "pending");
	s->pending = pending && strcmp(pending, "yes") == 0;
	if ((rc = parse_memory(n, s, err)) < 0)
		return rc;
	for (xmlNodePtr c = n->children; c; c = c->next) {
		struct qc_snap_disk *k;

		if (!is_snap_elem(c, "disk"))
			continue;
		s->disks = qc_xrealloc(s->disks, (s->n_disks + 1) * sizeof(*s->disks));
		k = &s->disks[s->n_disks++];
		memset(k, 0, sizeof(*k));
		k->disk = prop(c, "name");
		k->file = prop(c, "file");
		k->backing = prop(c, "backing");
		k->backing_format = prop(c, "backing-format");
		k->new_file = prop(c, "new");
		if (!k->disk || !k->file || k->file[0] != '/' ||
			(k->backing && (k->backing[0] != '/' || !k->backing_format)))
			return qc_error_set(err, QC_ERR_XML,
				"snapshot '%s' metadata: a <disk> lacks name, an absolute file or "
				"a "
				"backing format",
				s->name);
		if (qc_validate_name("disk", k->disk, err) < 0)
			return qc_error_prefix(err, "snapshot '%s' metadata", s->name);
		if (k->backing_format && strcmp(k->backing_format, "qcow2") != 0 &&
			strcmp(k->backing_format, "raw") != 0)
			return qc_error_set(err, QC_ERR_XML,
				"snapshot '%s' metadata: disk '%s': backing format '%s' is not "
				"qcow2 or raw",
				s->name, k->disk, k->backing_format);
	}
	return 0;
}

int qc_snaps_load(const struct qc_domain *d, struct qc_snaps *ret, struct qc_error *err)
{
	ssize_t x = find_extra(d);
	struct qc_snaps s = {0};
	xmlDocPtr doc;
	xmlNodePtr root;
	int rc = 0;

	memset(ret, 0, sizeof(*ret));
	if (x < 0)
		return 0;
	doc = xmlReadMemory(d->extras[x].xml, (int) strlen(d->extras[x].xml), "snapshots", NULL,
		XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return qc_error_set(err, QC_ERR_XML, "snapshot metadata is not well-formed XML");
	root = xmlDocGetRootElement(doc);
	if (!root || !is_snap_elem(root, "snapshots")) {
		xmlFreeDoc(doc);
		return qc_error_set(err, QC_ERR_XML, "snapshot metadata: no <snapshots> element");
	}
	for (xmlNodePtr c = root->children; c && rc == 0; c = c->next) {
		if (!is_snap_elem(c, "snapshot"))
			continue;
		s.v = qc_xrealloc(s.v, (s.n + 1) * sizeof(*s.v));
		memset(&s.v[s.n], 0, sizeof(s.v[s.n]));
		s.n++;
		rc = parse_snap(c, &s.v[s.n - 1], err);
		if (rc == 0 && qc_snaps_find(&s, s.v[s.n - 1].name) != &s.v[s.n - 1])
			rc = qc_error_set(err, QC_ERR_XML, "snapshot metadata: '%s' appears twice",
				s.v[s.n - 1].name);
	}
	xmlFreeDoc(doc);
	if (rc < 0) {
		qc_snaps_clear(&s);
		return rc;
	}
	*ret = s;
	return 0;
}

static void set(xmlNodePtr n, const char *k, const char *v)
{
	if (v)
		xmlSetProp(n, (const xmlChar *) k, (const xmlChar *) v);
}

void qc_snaps_store(struct qc_domain *d, const struct qc_snaps *s)
{
	ssize_t x = find_extra(d);
	xmlDocPtr doc;
	xmlNodePtr root;
	xmlNsPtr ns;
	xmlBufferPtr buf;

	if (x >= 0) {
		free(d->extras[x].parent);
		free(d->extras[x].xml);
		memmove(&d->extras[x], &d->extras[x + 1],
			(d->n_extras - (size_t) x - 1) * sizeof(*d->extras));
		d->n_extras--;
	}
	if (s->n == 0)
		return;
	doc = xmlNewDoc((const xmlChar *) "1.0");
	root = xmlNewDocNode(doc, NULL, (const xmlChar *) "snapshots", NULL);
	ns = xmlNewNs(root, (const xmlChar *) QC_SNAP_NS, (const xmlChar *) "qcsnap");
	xmlSetNs(root, ns);
	xmlDocSetRootElement(doc, root);
	for (size_t i = 0; i < s->n; i++) {
		const struct qc_snap *p = &s->v[i];
		xmlNodePtr sn = xmlNewChild(root, ns, (const xmlChar *) "snapshot", NULL);
		char created[24];

		snprintf(created, sizeof(created), "%lld", (long long) p->created_ms);
		set(sn, "name", p->name);
		set(sn, "created", created);
		if (p->pending)
			set(sn, "pending", "yes");
		if (p->memory) {
			char size[24];

			snprintf(size, sizeof(size), "%llu", (unsigned long long) p->memory_size);
			set(sn, "memory", p->memory);
			set(sn, "memory-format", QC_SNAP_MEMORY_FORMAT);
			set(sn, "memory-size", size);
			if (p->pending && p->memory_cont)
				set(sn, "cont", "yes");
		}
		for (size_t k = 0; k < p->n_disks; k++) {
			const struct qc_snap_disk *dk = &p->disks[k];
			xmlNodePtr dn = xmlNewChild(sn, ns, (const xmlChar *) "disk", NULL);

			set(dn, "name", dk->disk);
			set(dn, "file", dk->file);
			set(dn, "backing", dk->backing);
			set(dn, "backing-format", dk->backing ? dk->backing_format : NULL);
			set(dn, "new", dk->new_file);
		}
	}
	buf = xmlBufferCreate();
	xmlNodeDump(buf, doc, root, 2, 1);
	d->extras = qc_xrealloc(d->extras, (d->n_extras + 1) * sizeof(*d->extras));
	d->extras[d->n_extras].parent = qc_xstrdup(META_PARENT);
	d->extras[d->n_extras].xml = qc_xstrdup((const char *) xmlBufferContent(buf));
	d->n_extras++;
	xmlBufferFree(buf);
	xmlFreeDoc(doc);
}

/* One record's files: layers of the VM, the base of an owned disk of the domain. */
static int check_snap_disk(const struct qc_domain *d, const char *root, const char *vm_dir,
	const struct qc_snap *s, const struct qc_snap_disk *k, struct qc_error *err)
{
	const struct qc_disk *disk = qc_domain_find_disk(d, k->disk);
	int r;

	if (!disk || !disk->owned)
		return qc_error_set(err, QC_ERR_INVALID,
			"snapshot '%s' names disk '%s', which is not an owned disk of VM '%s'",
			s->name, k->disk, d->name);
	if ((r = qc_domain_home_file(vm_dir, "layer", k->file, false, err)) < 0 ||
		(k->new_file &&
			(r = qc_domain_home_file(vm_dir, "new layer", k->new_file, false, err)) < 0) ||
		(k->backing && (r = qc_domain_home_backing(
					root, vm_dir, disk->backing_image, k->backing, err)) < 0))
		return qc_error_prefix(err, "snapshot '%s': disk '%s'", s->name, k->disk);
	return 0;
}

int qc_domain_check_snapshots(
	const struct qc_domain *d, const char *root, long *ret_line, struct qc_error *err)
{
	cleanup_free char *vm_dir = qc_domain_home_dir(root, d->name);
	struct qc_snaps snaps = {0};
	ssize_t x = find_extra(d);
	int r = 0;

	*ret_line = x >= 0 ? d->extras[x].line : 0;
	if ((r = qc_snaps_load(d, &snaps, err)) < 0)
		return qc_error_prefix(err, "VM '%s'", d->name);
	for (size_t i = 0; i < snaps.n && r == 0; i++)
		for (size_t j = 0; j < snaps.v[i].n_disks && r == 0; j++)
			r = check_snap_disk(d, root, vm_dir, &snaps.v[i], &snaps.v[i].disks[j], err);
	qc_snaps_clear(&snaps);
	return r < 0 ? qc_error_prefix(err, "VM '%s'", d->name) : 0;
}
