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
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "driver/domain.h"
#include "driver/driver.h"
#include "driver/xml_devices.h"
#include "driver/xml_dl.h"
#include "driver/xml_meta.h"
#include "driver/xml_node.h"

/* ------------------------------------------------------------- domain */

/* <os><NAME>, a file's path: walked, taken into *ret and checked; 1 when present. */
static int os_path(
	struct qc_xml_parser *p, xmlNodePtr os, const char *name, char **ret, xmlNodePtr *ret_node)
{
	xmlNodePtr c = qc_xml_child(os, name);
	int r;

	if (!c)
		return 0;
	if ((r = qc_xml_walk_child(p, c, "domain/os", NULL)) < 0)
		return r;
	*ret = qc_xml_text(c);
	*ret_node = c;
	if ((r = qc_xml_at(p, c, qc_domain_check_path(name, *ret, false, p->err))) < 0)
		return r;
	return 1;
}

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
	if ((r = os_path(p, os, "kernel", &d->kernel, &c)) < 0)
		return r;
	if ((r = os_path(p, os, "initrd", &d->initrd, &c)) < 0)
		return r;
	if ((c = qc_xml_child(os, "cmdline"))) {
		if ((r = qc_xml_walk(p, c, "domain/os/cmdline", NULL, NULL, NULL)) < 0)
			return r;
		d->cmdline = qc_xml_text(c);
		if ((r = qc_xml_at(p, c, qc_domain_check_text("kernel command line", d->cmdline,
					      4096, p->err))) < 0)
			return r;
	}
	if ((c = qc_xml_child(os, "loader"))) {
		static const char *const la[] = {"readonly", "type", "secure", NULL};
		cleanup_free char *ro = qc_xml_prop(c, "readonly"), *type = qc_xml_prop(c, "type");

		if ((r = qc_xml_walk(p, c, "domain/os/loader", la, NULL, NULL)) < 0 ||
			(r = qc_xml_yesno(p, c, "secure", &d->secure_boot)) < 0)
			return r;
		if ((ro && strcmp(ro, "yes") != 0) || (type && strcmp(type, "pflash") != 0))
			return qc_xml_err(p, c,
				"only a read-only pflash <loader> is supported (readonly='yes' "
				"type='pflash')");
		d->loader = qc_xml_text(c);
		if (d->secure_boot && (!d->loader || !d->loader[0])) {
			/* <loader secure='yes'/>: the arch's Secure Boot code */
			free(d->loader);
			d->loader = NULL;
		}
		if (d->loader && (r = qc_xml_at(p, c,
					  qc_domain_check_path("firmware loader", d->loader, false,
						  p->err))) < 0)
			return r;
	}
	if ((r = os_path(p, os, "nvram", &d->nvram, &c)) < 0)
		return r;
	if (r && p->vm_dir &&
		(r = qc_xml_at(p, c, qc_domain_home_nvram(p->root, p->vm_dir, d->nvram, p->err))) < 0)
		return r;
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
	if ((r = qc_xml_load(err)) < 0)
		return qc_error_prefix(err, "%s", p.file);
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

		qc_xml_strip(m);
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

/* The parse of path (st: its stat before the read) kept in its directory's cache. */
static void cache_after_parse(const char *path, const struct qc_domain *d, const struct stat *st)
{
	cleanup_free char *dir = qc_xstrndup(path, strlen(path) - strlen("/" QC_VM_DOMAIN));
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (dfd >= 0)
		(void) qc_domain_cache_write(dfd, d, st, NULL);
}

/*
 * path is ROOT/vms/NAME/domain.xml: the definition of VM NAME in state root
 * ROOT, read from its cache (driver/domain_cache.c) while that is current
 * and passes the same checks, else parsed and the cache rewritten; held to what a VM's definition may name (driver/domain_home.c).
 */
int qc_domain_load(const char *path, qc_warn_fn warn, void *opaque, struct qc_domain **ret,
	struct qc_error *err)
{
	static const char tail[] = "/" QC_VM_DOMAIN;
	cleanup_domain struct qc_domain *d = NULL;
	cleanup_free char *buf = NULL, *root = NULL, *name = NULL;
	size_t len, n = strlen(path);
	struct qc_error why = {0};
	struct stat st;
	bool have_st;
	char *slash;
	int r;

	if (n <= strlen(tail) || strcmp(path + n - strlen(tail), tail) != 0)
		return qc_error_set(err, QC_ERR_INTERNAL,
			"'%s' is not a VM definition in a state root (ROOT/vms/NAME/%s)", path,
			QC_VM_DOMAIN);
	root = qc_xstrndup(path, n - strlen(tail));
	slash = strrchr(root, '/');
	if (!slash || slash - root < 4 || strncmp(slash - 4, "/vms", 4) != 0)
		return qc_error_set(err, QC_ERR_INTERNAL,
			"'%s' is not a VM definition in a state root (ROOT/vms/NAME/%s)", path,
			QC_VM_DOMAIN);
	name = qc_xstrdup(slash + 1);
	slash[-4] = 0;
	/*
	 * Stat before reading: a cache written below describes this version
	 * of the file or an older one, never a newer one it was not made from.
	 */
	have_st = lstat(path, &st) == 0 && S_ISREG(st.st_mode);
	if (have_st && qc_domain_cache_load(root, name, &st, &d, &why) == 0) {
		*ret = TAKE_PTR(d);
		return 0;
	}
	if (have_st)
		qc_debug("VM '%s': %s not used: %s", name, QC_VM_DOMAIN_CACHE, why.msg);
	r = qc_read_file(AT_FDCWD, path, QC_XML_MAX_BYTES, &buf, &len, err);
	if (r < 0)
		return r;
	if ((r = qc_domain_from_xml_at(buf, len, path, root, warn, opaque, &d, err)) < 0)
		return r;
	if (strcmp(d->name, name) != 0)
		return qc_error_set(err, QC_ERR_INVALID,
			"%s: defines VM '%s' but lies in the directory of VM '%s'", path, d->name,
			name);
	if (have_st && st.st_uid == geteuid())
		cache_after_parse(path, d, &st);
	*ret = TAKE_PTR(d);
	return 0;
}
