/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The domain.xml parser's tools (driver/xml_node.c), shared by the parser
 * (driver/xml*.c) and the writer (driver/xml_save.c).  Internal to driver/.
 */
#ifndef QC_DRIVER_XML_NODE_H
#define QC_DRIVER_XML_NODE_H

#include <libxml/tree.h>

#include "driver/domain.h"

/* Namespace of qemuctl's own data inside <metadata>. */
#define QC_XML_NS "https://qemuctl.dev/xmlns/domain/1"

/* Paths of the elements the writer emits; extras hang off these. */
#define QC_XP_DISK "domain/devices/disk[%zu]"
#define QC_XP_NIC "domain/devices/interface[%zu]"
#define QC_XP_SHARE "domain/devices/filesystem[%zu]"

/*
 * Mapping between QEMU's 9p security_model and libvirt's accessmode.
 * libvirt: passthrough (default), mapped (= mapped-xattr), squash (= none).
 */
const char *qc_xml_accessmode_to_model(const char *accessmode);
const char *qc_xml_model_to_accessmode(const char *model);

/* Parser state shared by driver/xml.c, driver/xml_meta.c and driver/xml_devices.c. */
struct qc_xml_parser {
	const char *file;
	qc_warn_fn warn;
	void *opaque;
	struct qc_domain *d;
	struct qc_error *err;
	xmlNodePtr meta; /* <qemuctl:domain>, or NULL */
	xmlNodePtr *used; /* metadata entries applied to a device */
	size_t n_used;
	/*
	 * Loading from a state root (NULL: no context): records naming the VM's
	 * own files are checked against vm_dir = <root>/vms/<name> as they are
	 * read (driver/domain_home.c).
	 */
	const char *root;
	char *vm_dir;
};

long qc_xml_line(xmlNodePtr n);
/* "FILE:LINE: message", QC_ERR_XML; returns -QC_ERR_XML. */
int qc_xml_err(struct qc_xml_parser *p, xmlNodePtr n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* r, or r with "FILE:LINE" of n put before the message when r < 0. */
int qc_xml_at(struct qc_xml_parser *p, xmlNodePtr n, int r);
void qc_xml_warn(struct qc_xml_parser *p, xmlNodePtr n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* An element without namespace / in qemuctl's namespace, named name. */
bool qc_xml_is(xmlNodePtr n, const char *name);
bool qc_xml_is_qc(xmlNodePtr n, const char *name);
/* s without leading and trailing white space, in place (NULL stays NULL). */
char *qc_xml_strip(char *s);
/* Fresh strings (free()), NULL when absent; text is trimmed. */
char *qc_xml_prop(xmlNodePtr n, const char *name);
char *qc_xml_text(xmlNodePtr n);
xmlNodePtr qc_xml_child(xmlNodePtr n, const char *name);
/* name in a NULL-terminated list; "x*" entries allow repeats (*multi). */
bool qc_xml_in_list(const char *name, const char *const *list, bool *multi);
/* Keep n verbatim in d->extras under path; warn unless quiet. */
void qc_xml_keep_elem(struct qc_xml_parser *p, xmlNodePtr n, const char *path, bool quiet);
/* Keep attributes not in attrs ("@name" in quiet: without a warning). */
void qc_xml_walk_attrs(struct qc_xml_parser *p, xmlNodePtr n, const char *path,
	const char *const *attrs, const char *const *quiet);
/* Same plus child elements not in elems; a repeated singleton is an error. */
int qc_xml_walk(struct qc_xml_parser *p, xmlNodePtr n, const char *path, const char *const *attrs,
	const char *const *elems, const char *const *quiet);
/* qc_xml_walk of n, a child with attributes only of the element at path. */
int qc_xml_walk_child(
	struct qc_xml_parser *p, xmlNodePtr n, const char *path, const char *const *attrs);
int qc_xml_yesno(struct qc_xml_parser *p, xmlNodePtr n, const char *attr, bool *ret);
int qc_xml_uint_attr(
	struct qc_xml_parser *p, xmlNodePtr n, const char *attr, unsigned max, unsigned *ret);

#endif
