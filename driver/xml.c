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

static char *strip(char *s)
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
	return strip(qc_buf_steal(&b));
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

/* ------------------------------------------------------------- domain */

static int parse_os(struct qc_xml_parser *p, xmlNodePtr os)
{
	static const char *const elems[] = {
		"type", "kernel", "initrd", "cmdline", "loader", "nvram", NULL};
	struct qc_domain *d = p->d;
	xmlNodePtr t = qc_xml_child(os, "type"), c;
	int r;

	if ((r = qc_xml_walk(p, os, "domain/os", NULL, elems, NULL)) < 0)
		return r;
	if (t) {
		static const char *const ta[] = {"arch", "machine", NULL};
		cleanup_free char *arch = qc_xml_prop(t, "arch"), *kind = qc_xml_text(t);

		if ((r = qc_xml_walk(p, t, "domain/os/type", ta, NULL, NULL)) < 0)
			return r;
		if (strcmp(kind, "hvm") != 0)
			return qc_xml_err(p, t, "OS type '%s' is not supported (hvm)", kind);
		if (arch) {
			d->arch = qc_arch_from_name(arch);
			if (d->arch == QC_ARCH_INVALID)
				return qc_xml_err(p, t,
					"unknown arch '%s' (x86_64, aarch64 or ppc64le)", arch);
		}
		d->machine = qc_xml_prop(t, "machine");
		if (d->machine && (r = qc_xml_at(p, t, qc_domain_check_machine(d->machine, p->err))) < 0)
			return r;
	}
	if ((c = qc_xml_child(os, "kernel"))) {
		if ((r = qc_xml_walk(p, c, "domain/os/kernel", NULL, NULL, NULL)) < 0)
			return r;
		d->kernel = qc_xml_text(c);
		if ((r = qc_xml_at(p, c, qc_domain_check_path("kernel", d->kernel, false, p->err))) < 0)
			return r;
	}
	if ((c = qc_xml_child(os, "initrd"))) {
		if ((r = qc_xml_walk(p, c, "domain/os/initrd", NULL, NULL, NULL)) < 0)
			return r;
		d->initrd = qc_xml_text(c);
		if ((r = qc_xml_at(p, c, qc_domain_check_path("initrd", d->initrd, false, p->err))) < 0)
			return r;
	}
	if ((c = qc_xml_child(os, "cmdline"))) {
		if ((r = qc_xml_walk(p, c, "domain/os/cmdline", NULL, NULL, NULL)) < 0)
			return r;
		d->cmdline = qc_xml_text(c);
		if ((r = qc_xml_at(p, c, qc_domain_check_text("kernel command line", d->cmdline,
					      4096, p->err))) < 0)
			return r;
	}
	if ((c = qc_xml_child(os, "loader"))) {
		static const char *const la[] = {"readonly", "type", NULL};
		cleanup_free char *ro = qc_xml_prop(c, "readonly"), *type = qc_xml_prop(c, "type");

		if ((r = qc_xml_walk(p, c, "domain/os/loader", la, NULL, NULL)) < 0)
			return r;
		if ((ro && strcmp(ro, "yes") != 0) || (type && strcmp(type, "pflash") != 0))
			return qc_xml_err(p, c,
				"only a read-only pflash <loader> is supported (readonly='yes' "
				"type='pflash')");
		d->loader = qc_xml_text(c);
		if ((r = qc_xml_at(p, c, qc_domain_check_path("firmware loader", d->loader, false, p->err))) < 0)
			return r;
	}
	if ((c = qc_xml_child(os, "nvram"))) {
		if ((r = qc_xml_walk(p, c, "domain/os/nvram", NULL, NULL, NULL)) < 0)
			return r;
		d->nvram = qc_xml_text(c);
		if ((r = qc_xml_at(p, c, qc_domain_check_path("nvram", d->nvram, false, p->err))) < 0)
			return r;
		if (p->vm_dir &&
			(r = qc_xml_at(p, c, qc_domain_home_nvram(p->root, p->vm_dir, d->nvram, p->err))) < 0)
			return r;
	}
	return 0;
}

static int parse_cpu(struct qc_xml_parser *p, xmlNodePtr cpu)
{
	static const char *const attrs[] = {"mode", NULL};
	static const char *const elems[] = {"model", NULL};
	cleanup_free char *mode = qc_xml_prop(cpu, "mode");
	xmlNodePtr m = qc_xml_child(cpu, "model");
	int r;

	if ((r = qc_xml_walk(p, cpu, "domain/cpu", attrs, elems, NULL)) < 0)
		return r;
	if (m && (r = qc_xml_walk(p, m, "domain/cpu/model", NULL, NULL, NULL)) < 0)
		return r;
	if (!mode || strcmp(mode, "custom") == 0) {
		if (m) {
			p->d->cpu_model = qc_xml_text(m);
			return qc_xml_at(p, m, qc_domain_check_cpu(p->d->cpu_model, p->err));
		} else if (mode)
			return qc_xml_err(p, cpu, "<cpu mode='custom'> needs a <model>");
		return 0;
	}
	if (m)
		return qc_xml_err(p, m, "<model> is only allowed with <cpu mode='custom'>");
	if (strcmp(mode, "host-passthrough") == 0)
		p->d->cpu_model = qc_xstrdup("host");
	else if (strcmp(mode, "host-model") == 0)
		p->d->cpu_model = qc_xstrdup("host-model");
	else if (strcmp(mode, "maximum") == 0)
		p->d->cpu_model = qc_xstrdup("max");
	else
		return qc_xml_err(p, cpu,
			"CPU mode '%s' is not supported (host-passthrough, host-model, maximum or "
			"custom)",
			mode);
	return 0;
}

static int parse_domain(struct qc_xml_parser *p, xmlNodePtr root)
{
	static const char *const attrs[] = {"type", NULL};
	static const char *const elems[] = {"name", "uuid", "title", "metadata", "memory", "vcpu",
		"os", "cpu", "devices", "currentMemory", NULL};
	struct qc_domain *d = p->d;
	cleanup_free char *type = qc_xml_prop(root, "type");
	xmlNodePtr n;
	int r;

	if ((r = qc_xml_walk(p, root, "domain", attrs, elems, NULL)) < 0)
		return r;
	/* currentMemory is understood (the balloon target) but not used: keep it */
	if ((n = qc_xml_child(root, "currentMemory")))
		qc_xml_keep_elem(p, n, "domain", true);
	if (!type)
		return qc_xml_err(p, root, "<domain> has no type (kvm or qemu)");
	if (strcmp(type, "kvm") == 0)
		d->accel = QC_ACCEL_KVM;
	else if (strcmp(type, "qemu") == 0)
		d->accel = QC_ACCEL_TCG;
	else
		return qc_xml_err(p, root, "domain type '%s' is not supported (kvm or qemu)", type);

	if (!(n = qc_xml_child(root, "name")))
		return qc_xml_err(p, root, "missing <name>");
	if ((r = qc_xml_walk(p, n, "domain/name", NULL, NULL, NULL)) < 0)
		return r;
	d->name = qc_xml_text(n);
	if (qc_validate_name("VM", d->name, p->err) < 0)
		return qc_error_prefix(p->err, "%s:%ld", p->file, qc_xml_line(n));
	if (p->root)
		p->vm_dir = qc_domain_home_dir(p->root, d->name);

	if ((n = qc_xml_child(root, "uuid"))) {
		cleanup_free char *u = qc_xml_text(n);

		if ((r = qc_xml_walk(p, n, "domain/uuid", NULL, NULL, NULL)) < 0)
			return r;
		if (qc_uuid_parse(u, d->uuid) < 0)
			return qc_xml_err(p, n, "bad <uuid> '%s' (want 8-4-4-4-12 hex digits)", u);
		qc_uuid_format(d->uuid, d->uuid_str);
	} else {
		qc_domain_gen_uuid(d);
	}
	if ((n = qc_xml_child(root, "title"))) {
		if ((r = qc_xml_walk(p, n, "domain/title", NULL, NULL, NULL)) < 0)
			return r;
		d->title = qc_xml_text(n);
	}
	if (!(n = qc_xml_child(root, "memory")))
		return qc_xml_err(p, root, "missing <memory>");
	else {
		static const char *const ma[] = {"unit", NULL};
		cleanup_free char *v = qc_xml_text(n), *unit = qc_xml_prop(n, "unit");

		if ((r = qc_xml_walk(p, n, "domain/memory", ma, NULL, NULL)) < 0)
			return r;
		if (qc_xml_parse_memory(v, unit, &d->memory, p->err) < 0)
			return qc_error_prefix(p->err, "%s:%ld: <memory>", p->file, qc_xml_line(n));
	}
	if ((n = qc_xml_child(root, "vcpu"))) {
		static const char *const vq[] = {"@placement", NULL};
		cleanup_free char *v = qc_xml_text(n);
		char *end;
		unsigned long x;

		if ((r = qc_xml_walk(p, n, "domain/vcpu", NULL, NULL, vq)) < 0)
			return r;
		errno = 0;
		x = strtoul(v, &end, 10);
		if (!v[0] || *end || errno || v[0] == '-' || x < 1 || x > 1024)
			return qc_xml_err(
				p, n, "<vcpu> must be a number from 1 to 1024, not '%s'", v);
		d->cpus = (unsigned) x;
	}
	if ((n = qc_xml_child(root, "os")) && (r = parse_os(p, n)) < 0)
		return r;
	if ((n = qc_xml_child(root, "cpu")) && (r = parse_cpu(p, n)) < 0)
		return r;
	if ((n = qc_xml_child(root, "metadata"))) {
		for (xmlNodePtr c = n->children; c; c = c->next) {
			if (c->type != XML_ELEMENT_NODE)
				continue;
			if (qc_xml_is_qc(c, "domain") && !p->meta) {
				p->meta = c;
				continue;
			}
			/* kept verbatim it would hold records no check ever read */
			if (qc_xml_is_qc(c, "domain"))
				return qc_xml_err(p, c,
					"duplicate <domain> in qemuctl's namespace in <metadata>; "
					"merge its records into the first");
			/* other applications' metadata (libosinfo...): theirs, kept quietly */
			qc_xml_keep_elem(p, c, "domain/metadata", true);
		}
		qc_xml_walk_attrs(p, n, "domain/metadata", NULL, NULL);
	}
	if ((r = qc_xml_parse_meta(p)) < 0)
		return r;
	d->serial_console = false;
	if ((n = qc_xml_child(root, "devices")) && (r = qc_xml_parse_devices(p, n)) < 0)
		return r;
	return qc_xml_meta_unused(p);
}

int qc_domain_from_xml(const char *xml, size_t len, const char *file, qc_warn_fn warn, void *opaque,
	struct qc_domain **ret, struct qc_error *err)
{
	return qc_domain_from_xml_at(xml, len, file, NULL, warn, opaque, ret, err);
}

int qc_domain_from_xml_at(const char *xml, size_t len, const char *file, const char *root,
	qc_warn_fn warn, void *opaque, struct qc_domain **ret, struct qc_error *err)
{
	cleanup_domain struct qc_domain *d = NULL;
	struct qc_xml_parser p = {.file = file ? file : "domain XML",
		.warn = warn,
		.opaque = opaque,
		.err = err,
		.root = root};
	long snap_line = 0;
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;
	xmlNodePtr xroot;
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
	/*
	 * A prefix bound to no namespace (<qemuctl:domain> without its xmlns)
	 * is refused too: kept as an unknown element, it would gain qemuctl's
	 * namespace once written next to qemuctl's own records.
	 */
	if (!doc || !ctxt->wellFormed || !ctxt->nsWellFormed) {
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
	xroot = xmlDocGetRootElement(doc);
	if (!qc_xml_is(xroot, "domain")) {
		r = qc_error_set(err, QC_ERR_XML, "%s:%ld: root element is <%s>, expected <domain>",
			p.file, qc_xml_line(xroot), xroot ? (const char *) xroot->name : "");
		xmlFreeDoc(doc);
		return r;
	}
	d = p.d = qc_domain_new();
	r = parse_domain(&p, xroot);
	free(p.used);
	free(p.vm_dir);
	xmlFreeDoc(doc);
	if (r < 0)
		return r;
	r = qc_domain_validate(d, err);
	if (r < 0)
		return qc_error_prefix(err, "%s", p.file);
	/* what the parser checked record by record, plus the snapshot chain */
	if (root && (r = qc_domain_check_snapshots(d, root, &snap_line, err)) < 0)
		return qc_error_prefix(err, "%s:%ld", p.file, snap_line);
	if (root && (r = qc_domain_check_owned(d, root, err)) < 0)
		return qc_error_prefix(err, "%s", p.file);
	*ret = TAKE_PTR(d);
	return 0;
}
