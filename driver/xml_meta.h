/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qemuctl's own metadata in domain.xml, <qemuctl:domain> (driver/xml_meta.c). */
#ifndef QC_DRIVER_XML_META_H
#define QC_DRIVER_XML_META_H

#include <stdbool.h>

#include <libxml/tree.h>

#include "driver/xml_node.h"

/* The qemuctl metadata entry <qemuctl:KIND key='value'>, marked as used. */
xmlNodePtr qc_xml_meta_find(
	struct qc_xml_parser *p, const char *kind, const char *key, const char *value);
/* Strict check of a qemuctl metadata element's attributes (and children unless kids). */
int qc_xml_meta_check(struct qc_xml_parser *p, xmlNodePtr n, const char *const *attrs, bool kids);
/* <qemuctl:domain>'s own entries; then: a record no device used is an error. */
int qc_xml_parse_meta(struct qc_xml_parser *p);
int qc_xml_meta_unused(struct qc_xml_parser *p);

#endif
