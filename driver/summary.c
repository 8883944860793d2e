/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vms/<name>/summary.json: what `list` shows of domain.xml, written after
 * every save of domain.xml and read by list while its stamp still matches.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "driver/domain.h"
#include "driver/driver.h"

#define QC_VM_SUMMARY "summary.json"

static bool xml_stamp(int dfd, char *out, size_t size)
{
	struct stat st;

	if (fstatat(dfd, QC_VM_DOMAIN, &st, 0) < 0)
		return false;
	snprintf(out, size, "%llu:%llu:%lld.%09ld", (unsigned long long) st.st_ino,
		(unsigned long long) st.st_size, (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	return true;
}

void qc_driver_summary_save(int vm_dfd, const struct qc_domain *d)
{
	cleanup_jgen struct qc_jgen *g = qc_jgen_new(false);
	cleanup_free char *text = NULL;
	char stamp[96];
	size_t len;

	if (!xml_stamp(vm_dfd, stamp, sizeof(stamp)))
		return;
	qc_jgen_map_open(g);
	qc_jgen_kstring(g, "stamp", stamp);
	qc_jgen_kstring(g, "name", d->name);
	qc_jgen_kstring(g, "uuid", d->uuid_str);
	qc_jgen_kstring(g, "arch", qc_arch_name(d->arch));
	qc_jgen_kstring(g, "machine", d->machine ? d->machine : qc_arch_info(d->arch)->machine);
	qc_jgen_kstring(g, "accel", qc_accel_name(d->accel));
	qc_jgen_kuint(g, "cpus", d->cpus);
	qc_jgen_kuint(g, "memory", d->memory);
	if (d->kernel)
		qc_jgen_kstring(g, "kernel", d->kernel);
	qc_jgen_map_close(g);
	if (qc_jgen_finish(g, &text, &len, NULL) == 0)
		(void) qc_write_atomic_at(
			vm_dfd, QC_VM_SUMMARY, text, len, 0600, QC_WRITE_NOSYNC, NULL);
}

/* The list fields from summary.json, when it still describes domain.xml. */
bool qc_driver_summary_load(int dfd, struct qc_vm_info *i)
{
	cleanup_free char *text = NULL;
	cleanup_json qc_json *j = NULL;
	const char *stamp, *name, *uuid, *arch, *machine, *accel, *kernel;
	char now[96];
	uint64_t cpus, mem;
	size_t len;

	if (qc_read_file(dfd, QC_VM_SUMMARY, 65536, &text, &len, NULL) < 0 ||
		qc_json_parse(text, len, &j, NULL) < 0 || !xml_stamp(dfd, now, sizeof(now)))
		return false;
	stamp = qc_json_string(qc_json_get(j, "stamp"));
	name = qc_json_string(qc_json_get(j, "name"));
	uuid = qc_json_string(qc_json_get(j, "uuid"));
	arch = qc_json_string(qc_json_get(j, "arch"));
	machine = qc_json_string(qc_json_get(j, "machine"));
	accel = qc_json_string(qc_json_get(j, "accel"));
	if (!stamp || strcmp(stamp, now) != 0 || !name || !uuid || !arch || !machine || !accel ||
		!qc_json_as_uint(qc_json_get(j, "cpus"), &cpus) ||
		!qc_json_as_uint(qc_json_get(j, "memory"), &mem))
		return false;
	i->name = qc_xstrdup(name);
	i->uuid = qc_xstrdup(uuid);
	i->arch = qc_xstrdup(arch);
	i->machine = qc_xstrdup(machine);
	i->accel_requested = qc_xstrdup(accel);
	i->cpus = (unsigned) cpus;
	i->memory = mem;
	kernel = qc_json_string(qc_json_get(j, "kernel"));
	i->kernel = kernel ? qc_xstrdup(kernel) : NULL;
	return true;
}
