/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libxml2 is dlopen()ed on its first use, not linked.  Debian's libxml2
 * pulls in ICU (a 30 MiB data library) and libstdc++, whose loading,
 * relocations and constructors cost every qemuctl process ~1.5 ms of CPU
 * (`qemuctl --version`: 3.39 M instructions linked, 0.44 M not), though
 * stats, list and the lifecycle of a running VM read no XML.  It is bound
 * lazily, as a linked library is: RTLD_NOW would resolve every PLT entry
 * of ICU and libstdc++ at load.
 *
 * This file defines the libxml2 functions driver/ calls, under their own
 * names and with the prototypes of <libxml/...> (the compiler checks each
 * definition against its declaration), as hidden symbols: each loads the
 * library once (pthread_once, which also runs xmlInitParser before any
 * thread parses) and calls the real function.  Hidden, they never
 * interpose libxml2's own symbols, whether it is loaded here or linked
 * by a program that also calls it directly.
 */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#pragma GCC visibility push(hidden)
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#pragma GCC visibility pop

#include "driver/xml_dl.h"

/* The soname of Debian's libxml2, which -dev we build against. */
#define XML_SONAME "libxml2.so.2"
#define XML_PACKAGE "libxml2"

/* X(return type, name, (parameters), (arguments), value when libxml2 is missing) */
#define XML_FUNCTIONS(X, XV)                                                                     \
	X(const xmlChar *, xmlBufferContent, (const xmlBuffer *buf), (buf), NULL)                \
	X(xmlBufferPtr, xmlBufferCreate, (void), (), NULL)                                       \
	XV(xmlBufferFree, (xmlBufferPtr buf), (buf))                                             \
	X(xmlErrorPtr, xmlCtxtGetLastError, (void *ctx), (ctx), NULL)                            \
	X(xmlDocPtr, xmlCtxtReadMemory,                                                          \
		(xmlParserCtxtPtr ctxt, const char *buffer, int size, const char *URL,           \
			const char *encoding, int options),                                      \
		(ctxt, buffer, size, URL, encoding, options), NULL)                              \
	X(xmlNodePtr, xmlDocCopyNode, (xmlNodePtr node, xmlDocPtr doc, int recursive),           \
		(node, doc, recursive), NULL)                                                    \
	X(xmlNodePtr, xmlDocGetRootElement, (const xmlDoc *doc), (doc), NULL)                    \
	X(xmlNodePtr, xmlDocSetRootElement, (xmlDocPtr doc, xmlNodePtr root), (doc, root), NULL) \
	XV(xmlFreeDoc, (xmlDocPtr cur), (cur))                                                   \
	XV(xmlFreeParserCtxt, (xmlParserCtxtPtr ctxt), (ctxt))                                   \
	X(long, xmlGetLineNo, (const xmlNode *node), (node), -1)                                 \
	X(xmlChar *, xmlGetNoNsProp, (const xmlNode *node, const xmlChar *name), (node, name),   \
		NULL)                                                                            \
	X(xmlChar *, xmlGetProp, (const xmlNode *node, const xmlChar *name), (node, name), NULL) \
	X(xmlNodePtr, xmlNewChild,                                                               \
		(xmlNodePtr parent, xmlNsPtr ns, const xmlChar *name, const xmlChar *content),   \
		(parent, ns, name, content), NULL)                                               \
	X(xmlDocPtr, xmlNewDoc, (const xmlChar *version), (version), NULL)                       \
	X(xmlNodePtr, xmlNewDocNode,                                                             \
		(xmlDocPtr doc, xmlNsPtr ns, const xmlChar *name, const xmlChar *content),       \
		(doc, ns, name, content), NULL)                                                  \
	X(xmlNsPtr, xmlNewNs, (xmlNodePtr node, const xmlChar *href, const xmlChar *prefix),     \
		(node, href, prefix), NULL)                                                      \
	X(xmlParserCtxtPtr, xmlNewParserCtxt, (void), (), NULL)                                  \
	X(int, xmlNodeDump,                                                                      \
		(xmlBufferPtr buf, xmlDocPtr doc, xmlNodePtr cur, int level, int format),        \
		(buf, doc, cur, level, format), -1)                                              \
	X(xmlChar *, xmlNodeListGetString, (xmlDocPtr doc, const xmlNode *list, int inLine),     \
		(doc, list, inLine), NULL)                                                       \
	X(xmlDocPtr, xmlReadMemory,                                                              \
		(const char *buffer, int size, const char *URL, const char *encoding,            \
			int options),                                                            \
		(buffer, size, URL, encoding, options), NULL)                                    \
	X(int, xmlReconciliateNs, (xmlDocPtr doc, xmlNodePtr tree), (doc, tree), -1)             \
	XV(xmlSetNs, (xmlNodePtr node, xmlNsPtr ns), (node, ns))                                 \
	X(xmlAttrPtr, xmlSetProp, (xmlNodePtr node, const xmlChar *name, const xmlChar *value),  \
		(node, name, value), NULL)

#define MEMBER(type, name, params, args, fail) __typeof__(name) *name;
#define MEMBER_V(name, params, args) __typeof__(name) *name;
static struct {
	XML_FUNCTIONS(MEMBER, MEMBER_V)
	__typeof__(xmlInitParser) *xmlInitParser;
} fns;

/* libxml2's free(), a variable in <libxml/globals.h>: libxml2's own value once loaded. */
xmlFreeFunc xmlFree;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool loaded;
static char load_error[600];

static void load(void)
{
	__typeof__(fns) t;
	xmlFreeFunc *free_fn;
	void *dl = dlopen(XML_SONAME, RTLD_LAZY | RTLD_LOCAL);

	if (!dl) {
		snprintf(load_error, sizeof(load_error),
			"cannot load libxml2: %s; install the Debian package " XML_PACKAGE
			" (apt-get install " XML_PACKAGE ")",
			dlerror());
		return;
	}
#define RESOLVE(name)                                                                        \
	if (!(t.name = (__typeof__(t.name)) dlsym(dl, #name))) {                             \
		snprintf(load_error, sizeof(load_error),                                     \
			"cannot load libxml2: " XML_SONAME " has no %s; install the Debian " \
			"package " XML_PACKAGE " (>= 2.9)",                                  \
			#name);                                                              \
		dlclose(dl);                                                                 \
		return;                                                                      \
	}
#define RESOLVE_X(type, name, params, args, fail) RESOLVE(name)
#define RESOLVE_XV(name, params, args) RESOLVE(name)
	XML_FUNCTIONS(RESOLVE_X, RESOLVE_XV)
	RESOLVE(xmlInitParser)
	if (!(free_fn = (xmlFreeFunc *) dlsym(dl, "xmlFree")) || !*free_fn) {
		snprintf(load_error, sizeof(load_error),
			"cannot load libxml2: " XML_SONAME " has no xmlFree; install the Debian "
			"package " XML_PACKAGE " (>= 2.9)");
		dlclose(dl);
		return;
	}
	xmlFree = *free_fn;
	fns = t;
	/* Its global set-up, once, before any thread parses. */
	fns.xmlInitParser();
	loaded = true;
}

static bool ready(void)
{
	pthread_once(&once, load);
	return loaded;
}

int qc_xml_load(struct qc_error *err)
{
	if (!ready())
		return qc_error_set(err, QC_ERR_UNSUPPORTED, "%s", load_error);
	return 0;
}

void xmlInitParser(void)
{
	(void) ready();
}

#define DEFINE(type, name, params, args, fail) \
	QC_DL_FORWARD(ready(), fns, type, name, params, args, fail)
#define DEFINE_V(name, params, args) QC_DL_FORWARD_VOID(ready(), fns, name, params, args)
XML_FUNCTIONS(DEFINE, DEFINE_V)
