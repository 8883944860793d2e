/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The domain.xml parser's tools (driver/xml_node.h): errors and warnings
 * with line numbers, element and attribute access, and the walk that keeps
 * everything not understood verbatim in d->extras.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "driver/domain.h"
#include "driver/xml_node.h"

long qc_xml_line(xmlNodePtr n)
{
	return n ? xmlGetLineNo(n) : 0;
}

int qc_xml_err(struct qc_xml_parser *p, xmlNodePtr n, const char *fmt, ...)
{
	cleanup_free char *m = NULL;
	va_list ap;

	va_start(ap, fmt);
	m = qc_xvasprintf(fmt, ap);
	va_end(ap);
	return qc_error_set(p->err, QC_ERR_XML, "%s:%ld: %s", p->file, qc_xml_line(n), m);
}

int qc_xml_at(struct qc_xml_parser *p, xmlNodePtr n, int r)
{
	if (r >= 0)
		return r;
	return qc_error_prefix(p->err, "%s:%ld", p->file, qc_xml_line(n));
}

void qc_xml_warn(struct qc_xml_parser *p, xmlNodePtr n, const char *fmt, ...)
{
	cleanup_free char *m = NULL, *full = NULL;
	va_list ap;

	if (!p->warn)
		return;
	va_start(ap, fmt);
	m = qc_xvasprintf(fmt, ap);
	va_end(ap);
	full = qc_xasprintf("%s:%ld: %s", p->file, qc_xml_line(n), m);
	p->warn(full, p->opaque);
}

bool qc_xml_is(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && !n->ns &&
	       strcmp((const char *) n->name, name) == 0;
}

bool qc_xml_is_qc(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       strcmp((const char *) n->ns->href, QC_XML_NS) == 0 &&
	       strcmp((const char *) n->name, name) == 0;
}

char *qc_xml_strip(char *s)
{
	size_t lead;
	char *e;

	if (!s)
		return NULL;
	lead = strspn(s, " \t\n\r");
	memmove(s, s + lead, strlen(s + lead) + 1);
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

/* An attribute without namespace, as a fresh (qc-allocated) string, or NULL. */
char *qc_xml_prop(xmlNodePtr n, const char *name)
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
char *qc_xml_text(xmlNodePtr n)
{
	struct qc_buf b = {0};

	/* the element's own text: a kept child element keeps its text itself */
	for (xmlNodePtr c = n->children; c; c = c->next)
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
			qc_buf_puts(&b, (const char *) c->content);
	return qc_xml_strip(qc_buf_steal(&b));
}

xmlNodePtr qc_xml_child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (qc_xml_is(c, name))
			return c;
	return NULL;
}

bool qc_xml_in_list(const char *name, const char *const *list, bool *multi)
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

static void add_extra(struct qc_xml_parser *p, const char *path, char *xml, long line)
{
	struct qc_domain *d = p->d;

	d->extras = qc_xrealloc(d->extras, (d->n_extras + 1) * sizeof(*d->extras));
	d->extras[d->n_extras].parent = qc_xstrdup(path);
	d->extras[d->n_extras].xml = xml;
	d->extras[d->n_extras].line = line;
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
void qc_xml_keep_elem(struct qc_xml_parser *p, xmlNodePtr n, const char *path, bool quiet)
{
	xmlDocPtr tmp = xmlNewDoc((const xmlChar *) "1.0");
	xmlNodePtr copy = xmlDocCopyNode(n, tmp, 1);
	xmlBufferPtr buf = xmlBufferCreate();

	xmlDocSetRootElement(tmp, copy);
	xmlReconciliateNs(tmp, copy);
	xmlNodeDump(buf, tmp, copy, depth_of(path), 1);
	add_extra(p, path, qc_xstrdup((const char *) xmlBufferContent(buf)), qc_xml_line(n));
	xmlBufferFree(buf);
	xmlFreeDoc(tmp);
	if (!quiet)
		qc_xml_warn(p, n, "<%s%s%s> is not supported; kept as is",
			n->ns && n->ns->prefix ? (const char *) n->ns->prefix : "",
			n->ns && n->ns->prefix ? ":" : "", (const char *) n->name);
}

static void keep_attr(
	struct qc_xml_parser *p, xmlNodePtr owner, xmlAttrPtr a, const char *path, bool quiet)
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
	add_extra(p, path, qc_buf_steal(&b), qc_xml_line(owner));
	if (!quiet)
		qc_xml_warn(p, owner, "attribute %s%s%s='%s' of <%s> is not supported; kept as is",
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
void qc_xml_walk_attrs(struct qc_xml_parser *p, xmlNodePtr n, const char *path,
	const char *const *attrs, const char *const *quiet)
{
	for (xmlAttrPtr a = n->properties; a; a = a->next) {
		char qa[128];

		if (!a->ns && qc_xml_in_list((const char *) a->name, attrs, NULL))
			continue;
		snprintf(qa, sizeof(qa), "@%s", (const char *) a->name);
		keep_attr(p, n, a, path, qc_xml_in_list(qa, quiet, NULL));
	}
}

int qc_xml_walk(struct qc_xml_parser *p, xmlNodePtr n, const char *path, const char *const *attrs,
	const char *const *elems, const char *const *quiet)
{
	qc_xml_walk_attrs(p, n, path, attrs, quiet);
	for (xmlNodePtr c = n->children; c; c = c->next) {
		bool multi = false;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!c->ns && qc_xml_in_list((const char *) c->name, elems, &multi)) {
			if (multi)
				continue;
			for (xmlNodePtr e = n->children; e != c; e = e->next)
				if (qc_xml_is(e, (const char *) c->name))
					return qc_xml_err(
						p, c, "duplicate <%s> in <%s>", c->name, n->name);
			continue;
		}
		qc_xml_keep_elem(
			p, c, path, !c->ns && qc_xml_in_list((const char *) c->name, quiet, NULL));
	}
	return 0;
}

int qc_xml_walk_child(
	struct qc_xml_parser *p, xmlNodePtr n, const char *path, const char *const *attrs)
{
	cleanup_free char *sub = qc_xasprintf("%s/%s", path, (const char *) n->name);

	return qc_xml_walk(p, n, sub, attrs, NULL, NULL);
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

int qc_xml_yesno(struct qc_xml_parser *p, xmlNodePtr n, const char *attr, bool *ret)
{
	cleanup_free char *v = qc_xml_prop(n, attr);

	if (!v)
		return 0;
	if (strcmp(v, "yes") == 0 || strcmp(v, "no") == 0) {
		*ret = v[0] == 'y';
		return 0;
	}
	return qc_xml_err(p, n, "<%s %s='%s'>: expected yes or no", n->name, attr, v);
}

int qc_xml_uint_attr(
	struct qc_xml_parser *p, xmlNodePtr n, const char *attr, unsigned max, unsigned *ret)
{
	cleanup_free char *v = qc_xml_prop(n, attr);
	char *end;
	unsigned long x;

	if (!v)
		return 0;
	errno = 0;
	x = strtoul(v, &end, 10);
	if (!v[0] || *end || errno || v[0] == '-' || x > max)
		return qc_xml_err(p, n, "<%s %s='%s'>: expected a number from 0 to %u", n->name,
			attr, v, max);
	*ret = (unsigned) x;
	return 0;
}
