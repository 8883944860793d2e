/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* domain.xml's <devices> (driver/xml_devices.c). */
#ifndef QC_DRIVER_XML_DEVICES_H
#define QC_DRIVER_XML_DEVICES_H

#include <libxml/tree.h>

#include "driver/xml_node.h"

/* <devices>: disks, NICs, shares, serial/console, then their metadata. */
int qc_xml_parse_devices(struct qc_xml_parser *p, xmlNodePtr devs);

#endif
