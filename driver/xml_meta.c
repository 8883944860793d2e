/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * domain.xml: qemuctl's own records in <metadata> (<qemuctl:domain>: the
 * accelerator, autostart, ready marker, seed options and the per-device
 * records applied with their devices), and loading a VM's definition from
 * its directory in a state root.  Every value is checked as it is read;
 * with a state root, every file a record names is held to the VM's
 * directory (driver/domain_home.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "driver/domain.h"
#include "driver/driver.h"
#include "driver/xml_meta.h"
#include "driver/xml_node.h"

/* ------------------------------------------------------------- metadata */

/* The metadata entry <qemuctl:KIND key='value'>, marked as used. */
xmlNodePtr qc_xml_meta_find(
	struct qc_xml_parser *p, const char *kind, const char *key, const char *value)
{
	for (xmlNodePtr c = p->meta ? p->meta->children : NULL; c; c = c->next) {
		cleanup_free char *v = NULL;

		if (!qc_xml_is_qc(c, kind))
			continue;
		v = qc_xml_prop(c, key);
		if (v && strcmp(v, value) == 0) {
			p->used = qc_xrealloc(p->used, (p->n_used + 1) * sizeof(*p->used));
			p->used[p->n_used++] = c;
			return c;
		}
	}
	return NULL;
}

int qc_xml_meta_check(struct qc_xml_parser *p, xmlNodePtr n, const char *const *attrs, bool kids)
{
	for (xmlAttrPtr a = n->properties; a; a = a->next)
		if (a->ns || !qc_xml_in_list((const char *) a->name, attrs, NULL))
			return qc_xml_err(p, n, "unknown attribute '%s' in qemuctl metadata <%s>",
				a->name, n->name);
	for (xmlNodePtr c = n->children; c && !kids; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return qc_xml_err(p, c, "unknown element <%s> in qemuctl metadata <%s>",
				c->name, n->name);
	return 0;
}

static int parse_seed(struct qc_xml_parser *p, xmlNodePtr n)
{
	static const char *const attrs[] = {"enabled", "generation", "hash", NULL};
	struct qc_seed_opts *s = &p->d->seed;
	struct qc_strv keys = {0};
	int r;

	if ((r = qc_xml_meta_check(p, n, attrs, true)) < 0 ||
		(r = qc_xml_yesno(p, n, "enabled", &s->enabled)) < 0 ||
		(r = qc_xml_uint_attr(p, n, "generation", UINT32_MAX, &s->generation)) < 0)
		return r;
	s->content_hash = qc_xml_prop(n, "hash");
	for (xmlNodePtr c = n->children; c; c = c->next) {
		char **slot = NULL;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (qc_xml_is_qc(c, "ssh-key")) {
			qc_strv_push_take(&keys, qc_xml_text(c));
			if ((r = qc_xml_at(p, c, qc_domain_check_ssh_key(keys.v[keys.n - 1], p->err))) <
				0) {
				qc_strv_clear(&keys);
				return r;
			}
			continue;
		}
		if (qc_xml_is_qc(c, "hostname"))
			slot = &s->hostname;
		else if (qc_xml_is_qc(c, "user"))
			slot = &s->user;
		else if (qc_xml_is_qc(c, "user-data"))
			slot = &s->user_data;
		else if (qc_xml_is_qc(c, "network-config"))
			slot = &s->network_config;
		if (!slot || *slot) {
			qc_strv_clear(&keys);
			return qc_xml_err(p, c,
				slot ? "duplicate <%s> in qemuctl metadata <seed>"
				     : "unknown element <%s> in qemuctl metadata <seed>",
				c->name);
		}
		*slot = qc_xml_text(c);
		if (slot == &s->hostname)
			r = qc_validate_hostname(*slot, p->err);
		else if (slot == &s->user)
			r = qc_domain_check_user(*slot, p->err);
		else
			r = qc_domain_check_path((const char *) c->name, *slot, true, p->err);
		if (r == 0 && p->vm_dir && (slot == &s->user_data || slot == &s->network_config))
			r = qc_domain_home_seed_file(p->vm_dir, (const char *) c->name, *slot, p->err);
		if (r < 0) {
			qc_strv_clear(&keys);
			return qc_xml_at(p, c, qc_error_prefix(p->err, "qemuctl metadata <seed>"));
		}
	}
	s->ssh_keys = keys.n ? qc_strv_steal(&keys) : NULL;
	if (s->content_hash && (strlen(s->content_hash) != 64 ||
				       strspn(s->content_hash, "0123456789abcdef") != 64))
		return qc_xml_err(p, n, "qemuctl metadata <seed hash='%s'>: not a sha256 in hex",
			s->content_hash);
	return 0;
}

int qc_xml_parse_meta(struct qc_xml_parser *p)
{
	struct qc_domain *d = p->d;
	bool seed = false;
	int r;

	d->seed.enabled = false; /* a libvirt XML has no seed */
	for (xmlNodePtr c = p->meta ? p->meta->children : NULL; c; c = c->next) {
		cleanup_free char *t = NULL;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (qc_xml_is_qc(c, "disk") || qc_xml_is_qc(c, "nic") || qc_xml_is_qc(c, "share"))
			continue; /* applied with their device */
		if (qc_xml_is_qc(c, "accel")) {
			t = qc_xml_text(c);
			if (qc_accel_from_name(t, &d->accel) < 0)
				return qc_xml_err(
					p, c, "unknown accelerator '%s' (auto, kvm or tcg)", t);
		} else if (qc_xml_is_qc(c, "autostart")) {
			t = qc_xml_text(c);
			d->autostart = !t[0] || strcmp(t, "yes") == 0;
		} else if (qc_xml_is_qc(c, "ready-marker")) {
			free(d->ready_marker);
			d->ready_marker = qc_xml_text(c);
			if ((r = qc_xml_at(p, c, qc_domain_check_ready_marker(d->ready_marker,
						      p->err))) < 0)
				return r;
		} else if (qc_xml_is_qc(c, "seed")) {
			if (seed)
				return qc_xml_err(p, c, "duplicate <seed> in qemuctl metadata");
			seed = true;
			if ((r = parse_seed(p, c)) < 0)
				return r;
		} else {
			return qc_xml_err(
				p, c, "unknown element <%s> in qemuctl metadata", c->name);
		}
	}
	return 0;
}

int qc_xml_meta_unused(struct qc_xml_parser *p)
{
	for (xmlNodePtr c = p->meta ? p->meta->children : NULL; c; c = c->next) {
		bool used = false;
		cleanup_free char *name = NULL;

		if (!qc_xml_is_qc(c, "disk") && !qc_xml_is_qc(c, "nic") &&
			!qc_xml_is_qc(c, "share"))
			continue;
		for (size_t i = 0; i < p->n_used; i++)
			used |= p->used[i] == c;
		if (used)
			continue;
		name = qc_xml_prop(c, qc_xml_is_qc(c, "share") ? "tag" : "name");
		return qc_xml_err(p, c,
			"qemuctl metadata names %s '%s', which <devices> does not have", c->name,
			name ? name : "");
	}
	return 0;
}
