/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/snapshot_meta.c: the snapshot chain kept in domain.xml's
 * <metadata> survives a save + load of the domain, replaces itself, goes
 * away when empty, leaves other metadata alone, and bad metadata is an
 * error naming what is wrong.
 */
#include "config.h"

#include "driver/domain.h"
#include "driver/snapshot_meta.h"
#include "tests/unit/unit.h"
#include "tests/unit/check_main.h"

static const char base_xml[] =
	"<domain type='kvm'><name>t</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>"
	"<metadata><lo:libosinfo xmlns:lo='http://libosinfo.org/xmlns/libvirt/domain/1.0'>"
	"<lo:os id='http://debian.org/debian/12'/></lo:libosinfo></metadata>"
	"<os><type arch='x86_64'>hvm</type></os></domain>";

static struct qc_domain *parse(const char *xml)
{
	struct qc_domain *d = NULL;
	struct qc_error err = {0};

	ck_assert_qc_ok(qc_domain_from_xml(xml, strlen(xml), "t.xml", NULL, NULL, &d, &err), &err);
	return d;
}

/* save + load through the XML text */
static struct qc_domain *round_trip(const struct qc_domain *d)
{
	struct qc_error err = {0};
	cleanup_free char *xml = NULL;

	ck_assert_qc_ok(qc_domain_to_xml(d, &xml, &err), &err);
	return parse(xml);
}

static void add_snap(struct qc_snaps *s, const char *name, int64_t t, bool pending,
	const char *file, const char *backing, const char *new_file)
{
	struct qc_snap *p;

	s->v = qc_xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	p = &s->v[s->n++];
	memset(p, 0, sizeof(*p));
	p->name = qc_xstrdup(name);
	p->created_ms = t;
	p->pending = pending;
	p->disks = qc_xzalloc(sizeof(*p->disks));
	p->n_disks = 1;
	p->disks[0].disk = qc_xstrdup("disk0");
	p->disks[0].file = qc_xstrdup(file);
	p->disks[0].backing = backing ? qc_xstrdup(backing) : NULL;
	p->disks[0].backing_format = backing ? qc_xstrdup("raw") : NULL;
	p->disks[0].new_file = new_file ? qc_xstrdup(new_file) : NULL;
}

START_TEST(chain_round_trip)
{
	struct qc_domain *d = parse(base_xml), *d2, *d3;
	struct qc_snaps s = {0}, got = {0};
	struct qc_error err = {0};
	cleanup_free char *xml = NULL;

	add_snap(&s, "before", 1764061200123, false, "/vms/t/disk0.qcow2", "/img/a&b.raw", NULL);
	add_snap(&s, "mid", 1764061300000, true, "/vms/t/disk0.L1.qcow2", "/vms/t/disk0.qcow2",
		"/vms/t/disk0.L2.qcow2");
	qc_snaps_store(d, &s);
	qc_snaps_store(d, &s); /* replaces, never duplicates */
	d2 = round_trip(d);
	ck_assert_qc_ok(qc_snaps_load(d2, &got, &err), &err);
	ck_assert_uint_eq(got.n, 2);
	ck_assert_str_eq(got.v[0].name, "before");
	ck_assert_int_eq(got.v[0].created_ms, 1764061200123);
	ck_assert(!got.v[0].pending);
	ck_assert_str_eq(got.v[0].disks[0].backing, "/img/a&b.raw");
	ck_assert_str_eq(got.v[0].disks[0].backing_format, "raw");
	ck_assert_ptr_null(got.v[0].disks[0].new_file);
	ck_assert(got.v[1].pending);
	ck_assert_str_eq(got.v[1].disks[0].new_file, "/vms/t/disk0.L2.qcow2");
	ck_assert_ptr_eq(qc_snaps_find(&got, "mid"), &got.v[1]);
	ck_assert_ptr_null(qc_snaps_find(&got, "nope"));
	/* the other application's metadata is still there */
	ck_assert_qc_ok(qc_domain_to_xml(d2, &xml, &err), &err);
	ck_assert_ptr_nonnull(strstr(xml, "libosinfo"));
	ck_assert_ptr_nonnull(strstr(xml, "qcsnap:snapshot name=\"before\""));
	/* removing every snapshot removes the element */
	qc_snap_remove_at(&got, 0);
	qc_snap_remove_at(&got, 0);
	qc_snaps_store(d2, &got);
	d3 = round_trip(d2);
	free(xml);
	xml = NULL;
	ck_assert_qc_ok(qc_domain_to_xml(d3, &xml, &err), &err);
	ck_assert_ptr_null(strstr(xml, "qcsnap"));
	ck_assert_ptr_nonnull(strstr(xml, "libosinfo"));
	qc_snaps_clear(&s);
	qc_snaps_clear(&got);
	qc_domain_free(d);
	qc_domain_free(d2);
	qc_domain_free(d3);
}
END_TEST

static void bad_meta(const char *inner, const char *want)
{
	cleanup_free char *xml = qc_xasprintf(
		"<domain type='kvm'><name>t</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>"
		"<metadata><qcsnap:snapshots xmlns:qcsnap='" QC_SNAP_NS "'>%s</qcsnap:snapshots>"
		"</metadata><os><type arch='x86_64'>hvm</type></os></domain>",
		inner);
	struct qc_domain *d = parse(xml);
	struct qc_snaps got = {0};
	struct qc_error err = {0};

	ck_assert_qc_fail(qc_snaps_load(d, &got, &err), &err, QC_ERR_XML, want);
	ck_assert_uint_eq(got.n, 0);
	qc_domain_free(d);
}

START_TEST(bad_metadata)
{
	bad_meta("<qcsnap:snapshot name='a' created='1'/><qcsnap:snapshot name='a' created='2'/>",
		"snapshot metadata: 'a' appears twice");
	bad_meta("<qcsnap:snapshot name='../x'/>", "snapshot metadata: bad or missing name");
	bad_meta("<qcsnap:snapshot name='a'><qcsnap:disk name='disk0' file='rel.qcow2'/>"
		 "</qcsnap:snapshot>",
		"snapshot 'a' metadata: a <disk> lacks name, an absolute file or a backing format");
	bad_meta("<qcsnap:snapshot name='a'><qcsnap:disk name='disk0' file='/a' backing='/b'/>"
		 "</qcsnap:snapshot>",
		"lacks name, an absolute file or a backing format");
	/* a memory state file is this snapshot's own, in a known format, of a given size */
	bad_meta("<qcsnap:snapshot name='a' memory='../etc/passwd' memory-format='qemu-migration' "
		 "memory-size='1'/>",
		"snapshot 'a' metadata: memory file '../etc/passwd' is not 'snap-a.state'");
	bad_meta("<qcsnap:snapshot name='a' memory='snap-b.state' memory-format='qemu-migration' "
		 "memory-size='1'/>",
		"memory file 'snap-b.state' is not 'snap-a.state'");
	bad_meta("<qcsnap:snapshot name='a' memory='snap-a.state' memory-format='raw' "
		 "memory-size='1'/>",
		"snapshot 'a' metadata: memory-format 'raw' is not 'qemu-migration'");
	bad_meta("<qcsnap:snapshot name='a' memory='snap-a.state' memory-size='1'/>",
		"memory-format '(none)' is not 'qemu-migration'");
	bad_meta("<qcsnap:snapshot name='a' memory='snap-a.state' memory-format='qemu-migration' "
		 "memory-size='-1'/>",
		"snapshot 'a' metadata: memory-size '-1' is not a byte count");
	bad_meta("<qcsnap:snapshot name='a' memory='snap-a.state' memory-format='qemu-migration' "
		 "memory-size='12k'/>",
		"memory-size '12k' is not a byte count");
	bad_meta("<qcsnap:snapshot name='a' memory='snap-a.state' "
		 "memory-format='qemu-migration'/>",
		"memory-size '(none)' is not a byte count");
	bad_meta("<qcsnap:snapshot name='a' memory-size='5'/>",
		"snapshot 'a' metadata: memory-format or memory-size without memory");
}
END_TEST

START_TEST(memory_round_trip)
{
	struct qc_domain *d = parse(base_xml), *d2;
	struct qc_snaps s = {0}, got = {0};
	struct qc_error err = {0};

	add_snap(&s, "plain", 1, false, "/vms/t/disk0.qcow2", NULL, NULL);
	add_snap(&s, "mem", 2, false, "/vms/t/disk0.L1.qcow2", "/vms/t/disk0.qcow2", NULL);
	add_snap(&s, "going", 3, true, "/vms/t/disk0.L2.qcow2", "/vms/t/disk0.L1.qcow2",
		"/vms/t/disk0.L3.qcow2");
	s.v[1].memory = qc_snap_memory_name("mem");
	s.v[1].memory_size = 18446744073709551615ULL;
	s.v[1].memory_cont = true; /* not pending: not stored */
	s.v[2].memory = qc_snap_memory_name("going");
	s.v[2].memory_size = 0;
	s.v[2].memory_cont = true;
	qc_snaps_store(d, &s);
	d2 = round_trip(d);
	ck_assert_qc_ok(qc_snaps_load(d2, &got, &err), &err);
	ck_assert_uint_eq(got.n, 3);
	ck_assert_ptr_null(got.v[0].memory);
	ck_assert_str_eq(got.v[1].memory, "snap-mem.state");
	ck_assert_uint_eq(got.v[1].memory_size, 18446744073709551615ULL);
	ck_assert(!got.v[1].memory_cont);
	ck_assert_str_eq(got.v[2].memory, "snap-going.state");
	ck_assert_uint_eq(got.v[2].memory_size, 0);
	ck_assert(got.v[2].memory_cont);
	qc_snaps_clear(&s);
	qc_snaps_clear(&got);
	qc_domain_free(d);
	qc_domain_free(d2);
}
END_TEST

/* Every file a snapshot record names is a layer of the VM or an owned disk's base. */
static void snap_check(const char *disk_meta, const char *inner, const char *want)
{
	cleanup_free char *xml = qc_xasprintf(
		"<domain type='kvm'><name>t</name><memory unit='MiB'>256</memory>\n"
		"<metadata><qemuctl:domain xmlns:qemuctl='https://qemuctl.dev/xmlns/domain/1'>%s"
		"</qemuctl:domain>\n"
		"<qcsnap:snapshots xmlns:qcsnap='" QC_SNAP_NS "'>%s</qcsnap:snapshots>"
		"</metadata><os><type arch='x86_64'>hvm</type></os><devices>"
		"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
		"<source file='/r/vms/t/disk0.L1.qcow2'/><target dev='vda'/></disk></devices>"
		"</domain>",
		disk_meta, inner);
	struct qc_domain *d = parse(xml);
	struct qc_error err = {0};
	long line = 0;

	if (want) {
		ck_assert_qc_fail(
			qc_domain_check_snapshots(d, "/r", &line, &err), &err, QC_ERR_INVALID, want);
		ck_assert_int_eq(line, 3); /* where <qcsnap:snapshots> begins */
	} else {
		ck_assert_qc_ok(qc_domain_check_snapshots(d, "/r", &line, &err), &err);
	}
	qc_domain_free(d);
}

START_TEST(snapshot_records_held_to_vm_dir)
{
	static const char owned[] = "<qemuctl:disk name='disk0' owned='yes' backing-image='img'/>";

	snap_check(owned,
		"<qcsnap:snapshot name='s'><qcsnap:disk name='disk0' file='/r/vms/t/disk0.qcow2' "
		"backing='/r/images/img.qcow2' backing-format='qcow2'/></qcsnap:snapshot>",
		NULL);
	snap_check(owned,
		"<qcsnap:snapshot name='s'><qcsnap:disk name='disk0' file='/etc/passwd'/>"
		"</qcsnap:snapshot>",
		"VM 't': snapshot 's': disk 'disk0': layer '/etc/passwd' is not a file of this VM");
	snap_check(owned,
		"<qcsnap:snapshot name='s' pending='yes'><qcsnap:disk name='disk0' "
		"file='/r/vms/t/disk0.qcow2' new='/r/vms/t/../u/x.qcow2'/></qcsnap:snapshot>",
		"new layer '/r/vms/t/../u/x.qcow2' is not a file of this VM");
	snap_check(owned,
		"<qcsnap:snapshot name='s'><qcsnap:disk name='disk0' file='/r/vms/t/disk0.qcow2' "
		"backing='/r/images/other.qcow2' backing-format='qcow2'/></qcsnap:snapshot>",
		"backing file '/r/images/other.qcow2' is not catalog image 'img'");
	/* a disk that is not the VM's is never rebased or removed through a snapshot */
	snap_check("<qemuctl:disk name='disk0' owned='no'/>",
		"<qcsnap:snapshot name='s'><qcsnap:disk name='disk0' file='/r/vms/t/disk0.qcow2'/>"
		"</qcsnap:snapshot>",
		"snapshot 's' names disk 'disk0', which is not an owned disk of VM 't'");
	snap_check(owned,
		"<qcsnap:snapshot name='s'><qcsnap:disk name='disk7' file='/r/vms/t/disk7.qcow2'/>"
		"</qcsnap:snapshot>",
		"snapshot 's' names disk 'disk7', which is not an owned disk of VM 't'");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("snapshot_meta");

	unit_tcase(
		s, "core", chain_round_trip, bad_metadata, memory_round_trip, snapshot_records_held_to_vm_dir, NULL);
	return s;
}

UNIT_MAIN(suite)
