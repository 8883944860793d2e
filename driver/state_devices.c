/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * state.json "devices": what a run gives its guest, as the start handed it
 * to QEMU and live hot-plug changed it since, so a reader of the run (stats)
 * needs no domain.xml, which describes the next start:
 *
 *   "devices": {"memory": BYTES,
 *               "disks": [{"name": "disk0", "device": "disk-disk0"}, ...],
 *               "nics": [{"name": "net0", "type": "network",
 *                         "tap": "qc1234abcdn0", "mac": "52:54:00:..."}, ...]}
 *
 * ("tap" only for tap NICs).  Read back with every field checked; one bad
 * field refuses the whole record, whose readers then use domain.xml.
 * Linked into qemuctl-monitor too, so this file depends on util/ only.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "driver/domain.h"
#include "driver/driver.h"


void qc_run_devices_free(struct qc_run_devices *d)
{
	if (!d)
		return;
	free(d->disks);
	free(d->nics);
	free(d);
}

/* [A-Za-z0-9][A-Za-z0-9._-]{0,max-1}: names and ids QEMU and the kernel were given. */
static bool id_valid(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum =
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

/* "52:54:00:ab:cd:ef": six pairs of hex digits. */
static bool mac_valid(const char *s)
{
	if (!s || strlen(s) != 17)
		return false;
	for (size_t i = 0; i < 17; i++)
		if (i % 3 == 2 ? s[i] != ':' : !strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	return true;
}

static struct qc_run_disk *find_disk(const struct qc_run_devices *d, const char *name)
{
	for (size_t i = 0; i < d->n_disks; i++)
		if (strcmp(d->disks[i].name, name) == 0)
			return &d->disks[i];
	return NULL;
}

static struct qc_run_nic *find_nic(const struct qc_run_devices *d, const char *name)
{
	for (size_t i = 0; i < d->n_nics; i++)
		if (strcmp(d->nics[i].name, name) == 0)
			return &d->nics[i];
	return NULL;
}

int qc_run_devices_add_disk(
	struct qc_run_devices *d, const char *name, const char *device, struct qc_error *err)
{
	struct qc_run_disk *k;

	if (!id_valid(name, QC_RUN_NAME_MAX) || !id_valid(device, QC_RUN_ID_MAX))
		return qc_error_set(err, QC_ERR_INVALID, "disk '%s': bad name or device id '%s'",
			name ? name : "", device ? device : "");
	if (find_disk(d, name))
		return qc_error_set(err, QC_ERR_INVALID, "disk '%s' twice", name);
	if (d->n_disks >= QC_RUN_MAX_DEVICES)
		return qc_error_set(err, QC_ERR_INVALID, "more than %d disks", QC_RUN_MAX_DEVICES);
	d->disks = qc_xrealloc(d->disks, sizeof(*d->disks) * (d->n_disks + 1));
	k = &d->disks[d->n_disks++];
	memset(k, 0, sizeof(*k));
	strcpy(k->name, name);
	strcpy(k->device, device);
	return 0;
}

int qc_run_devices_add_nic(struct qc_run_devices *d, const char *name, const char *type,
	const char *tap, const char *mac, struct qc_error *err)
{
	struct qc_run_nic *n;
	int t;

	for (t = 0; type && t < QC_NIC_TYPE_COUNT; t++)
		if (strcmp(type, qc_nic_type_name((enum qc_nic_type) t)) == 0)
			break;
	if (!id_valid(name, QC_RUN_NAME_MAX))
		return qc_error_set(
			err, QC_ERR_INVALID, "NIC name '%s' is invalid", name ? name : "");
	if (!type || t == QC_NIC_TYPE_COUNT)
		return qc_error_set(err, QC_ERR_INVALID,
			"NIC '%s': type '%s' is none of user, network, bridge", name,
			type ? type : "");
	/* a user NIC has no tap, any other one has */
	if (t == QC_NIC_USER ? tap != NULL : !id_valid(tap, 15))
		return qc_error_set(
			err, QC_ERR_INVALID, "NIC '%s': bad tap '%s'", name, tap ? tap : "");
	if (!mac_valid(mac))
		return qc_error_set(
			err, QC_ERR_INVALID, "NIC '%s': bad MAC '%s'", name, mac ? mac : "");
	if (find_nic(d, name))
		return qc_error_set(err, QC_ERR_INVALID, "NIC '%s' twice", name);
	if (d->n_nics >= QC_RUN_MAX_DEVICES)
		return qc_error_set(err, QC_ERR_INVALID, "more than %d NICs", QC_RUN_MAX_DEVICES);
	d->nics = qc_xrealloc(d->nics, sizeof(*d->nics) * (d->n_nics + 1));
	n = &d->nics[d->n_nics++];
	memset(n, 0, sizeof(*n));
	strcpy(n->name, name);
	n->type = qc_nic_type_name((enum qc_nic_type) t);
	strcpy(n->tap, tap ? tap : "");
	strcpy(n->mac, mac);
	return 0;
}

bool qc_run_devices_remove(struct qc_run_devices *d, bool nic, const char *name)
{
	struct qc_run_disk *k = nic ? NULL : find_disk(d, name);
	struct qc_run_nic *n = nic ? find_nic(d, name) : NULL;

	if (k)
		memmove(k, k + 1, sizeof(*k) * (size_t) (d->disks + --d->n_disks - k));
	if (n)
		memmove(n, n + 1, sizeof(*n) * (size_t) (d->nics + --d->n_nics - n));
	return k || n;
}

void qc_run_devices_to_jgen(struct qc_jgen *g, const struct qc_run_devices *d)
{
	qc_jgen_map_open(g);
	qc_jgen_kuint(g, "memory", d->memory);
	qc_jgen_key(g, "disks");
	qc_jgen_array_open(g);
	for (size_t i = 0; i < d->n_disks; i++) {
		qc_jgen_map_open(g);
		qc_jgen_kstring(g, "name", d->disks[i].name);
		qc_jgen_kstring(g, "device", d->disks[i].device);
		qc_jgen_map_close(g);
	}
	qc_jgen_array_close(g);
	qc_jgen_key(g, "nics");
	qc_jgen_array_open(g);
	for (size_t i = 0; i < d->n_nics; i++) {
		const struct qc_run_nic *n = &d->nics[i];

		qc_jgen_map_open(g);
		qc_jgen_kstring(g, "name", n->name);
		qc_jgen_kstring(g, "type", n->type);
		if (n->tap[0])
			qc_jgen_kstring(g, "tap", n->tap);
		qc_jgen_kstring(g, "mac", n->mac);
		qc_jgen_map_close(g);
	}
	qc_jgen_array_close(g);
	qc_jgen_map_close(g);
}

/* j's key: absent NULL; present, a string or an error. */
static int opt_str(const qc_json *j, const char *key, const char *what, size_t i, const char **ret,
	struct qc_error *err)
{
	const qc_json *v = qc_json_get(j, key);

	*ret = NULL;
	if (v && !(*ret = qc_json_string(v)))
		return qc_error_set(
			err, QC_ERR_INVALID, "%s #%zu: \"%s\" is not a string", what, i, key);
	return 0;
}

static int list_of(const qc_json *j, const char *key, const qc_json **ret, struct qc_error *err)
{
	*ret = qc_json_get(j, key);
	if (!*ret || qc_json_type(*ret) != QC_JSON_ARRAY)
		return qc_error_set(err, QC_ERR_INVALID, "\"%s\" is not a list", key);
	if (qc_json_len(*ret) > QC_RUN_MAX_DEVICES)
		return qc_error_set(err, QC_ERR_INVALID, "\"%s\": more than %d entries", key,
			QC_RUN_MAX_DEVICES);
	return 0;
}

static int from_json(const qc_json *j, struct qc_run_devices *d, struct qc_error *err)
{
	const qc_json *disks, *nics;
	int rc;

	if (!j || qc_json_type(j) != QC_JSON_OBJECT)
		return qc_error_set(err, QC_ERR_INVALID, "not an object");
	if (!qc_json_as_uint(qc_json_get(j, "memory"), &d->memory) || d->memory == 0 ||
		d->memory > QC_RUN_MEMORY_MAX)
		return qc_error_set(
			err, QC_ERR_INVALID, "\"memory\" is not a size from 1 byte to 16 TiB");
	if ((rc = list_of(j, "disks", &disks, err)) < 0 ||
		(rc = list_of(j, "nics", &nics, err)) < 0)
		return rc;
	for (size_t i = 0; i < qc_json_len(disks); i++) {
		const qc_json *e = qc_json_at(disks, i);
		const char *name, *dev;

		if ((rc = opt_str(e, "name", "disk", i, &name, err)) < 0 ||
			(rc = opt_str(e, "device", "disk", i, &dev, err)) < 0 ||
			(rc = qc_run_devices_add_disk(d, name, dev, err)) < 0)
			return rc;
	}
	for (size_t i = 0; i < qc_json_len(nics); i++) {
		const qc_json *e = qc_json_at(nics, i);
		const char *name, *type, *tap, *mac;

		if ((rc = opt_str(e, "name", "NIC", i, &name, err)) < 0 ||
			(rc = opt_str(e, "type", "NIC", i, &type, err)) < 0 ||
			(rc = opt_str(e, "tap", "NIC", i, &tap, err)) < 0 ||
			(rc = opt_str(e, "mac", "NIC", i, &mac, err)) < 0 ||
			(rc = qc_run_devices_add_nic(d, name, type, tap, mac, err)) < 0)
			return rc;
	}
	return 0;
}

int qc_run_devices_from_json(const qc_json *j, struct qc_run_devices **ret, struct qc_error *err)
{
	struct qc_run_devices *d = qc_xzalloc(sizeof(*d));
	int rc;

	if ((rc = from_json(j, d, err)) < 0) {
		qc_run_devices_free(d);
		return qc_error_prefix(err, "devices");
	}
	*ret = d;
	return 0;
}

int qc_run_devices_parse(
	const char *text, size_t len, struct qc_run_devices **ret, struct qc_error *err)
{
	cleanup_json qc_json *j = NULL;
	int rc;

	if ((rc = qc_json_parse(text, len, &j, err)) < 0)
		return qc_error_prefix(err, "devices");
	return qc_run_devices_from_json(j, ret, err);
}

int qc_run_devices_format(const struct qc_run_devices *d, char **ret, struct qc_error *err)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);

	qc_run_devices_to_jgen(g, d);
	return qc_jgen_finish(g, ret, NULL, err);
}
