/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/domain.c and driver/arch.c: model helpers, validation messages,
 * UUIDs and MACs, the arch table, and the KVM decision (pure, from
 * injected facts, plus the real probe on this host).
 */
#include "config.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "driver/domain.h"
#include "net/net.h"
#include "tests/unit/unit.h"
#include "tests/unit/check_main.h"

static struct qc_domain *valid_domain(void)
{
	struct qc_domain *d = qc_domain_new();
	struct qc_disk *k;
	struct qc_nic *n;
	struct qc_share *s;

	d->name = qc_xstrdup("vm1");
	d->arch = QC_ARCH_X86_64;
	qc_domain_gen_uuid(d);
	k = qc_domain_add_disk(d);
	k->name = qc_xstrdup("disk0");
	k->path = qc_xstrdup("/vms/vm1/disk0.qcow2");
	k->format = qc_xstrdup("qcow2");
	k->backing = qc_xstrdup("/images/base.qcow2");
	k->backing_format = qc_xstrdup("qcow2");
	k->target = qc_xstrdup("vda");
	n = qc_domain_add_nic(d);
	n->name = qc_xstrdup("net0");
	qc_net_mac_gen(d->uuid, 0, n->mac);
	n->fwds = qc_xzalloc(sizeof(*n->fwds));
	n->n_fwds = 1;
	strcpy(n->fwds[0].proto, "tcp");
	n->fwds[0].host_port = 2222;
	n->fwds[0].guest_port = 22;
	s = qc_domain_add_share(d);
	s->tag = qc_xstrdup("src");
	s->path = qc_xstrdup("/home/me/src");
	return d;
}

START_TEST(domain_new_defaults)
{
	cleanup_domain struct qc_domain *d = qc_domain_new();

	ck_assert_int_eq(d->accel, QC_ACCEL_AUTO);
	ck_assert_int_eq(d->cpus, 1);
	ck_assert_int_eq(d->memory, 512 * MiB);
	ck_assert(d->serial_console);
	ck_assert(d->seed.enabled);
	ck_assert_int_eq(
		d->arch, qc_arch_host() == QC_ARCH_INVALID ? QC_ARCH_X86_64 : qc_arch_host());
	ck_assert_int_eq(d->n_disks, 0);
	ck_assert_ptr_null(qc_domain_find_disk(d, "disk0"));
}
END_TEST

START_TEST(domain_add_find_copy)
{
	cleanup_domain struct qc_domain *d = valid_domain();
	cleanup_domain struct qc_domain *c = NULL;
	struct qc_error err = {0};

	ck_assert_ptr_eq(qc_domain_find_disk(d, "disk0"), &d->disks[0]);
	ck_assert_ptr_eq(qc_domain_find_nic(d, "net0"), &d->nics[0]);
	ck_assert_ptr_null(qc_domain_find_nic(d, "net1"));
	d->extras = qc_xzalloc(sizeof(*d->extras));
	d->extras[0].parent = qc_xstrdup("domain");
	d->extras[0].xml = qc_xstrdup("<clock offset=\"utc\"/>");
	d->n_extras = 1;
	d->seed.ssh_keys = qc_xzalloc(2 * sizeof(char *));
	d->seed.ssh_keys[0] = qc_xstrdup("ssh-ed25519 AAAA");

	c = qc_domain_copy(d);
	ck_assert_qc_ok(qc_domain_validate(c, &err), &err);
	/* deep: nothing is shared */
	ck_assert_ptr_ne(c->name, d->name);
	ck_assert_ptr_ne(c->disks, d->disks);
	ck_assert_ptr_ne(c->disks[0].backing, d->disks[0].backing);
	ck_assert_ptr_ne(c->nics[0].fwds, d->nics[0].fwds);
	ck_assert_ptr_ne(c->extras[0].xml, d->extras[0].xml);
	ck_assert_ptr_ne(c->seed.ssh_keys[0], d->seed.ssh_keys[0]);
	ck_assert_str_eq(c->seed.ssh_keys[0], "ssh-ed25519 AAAA");
	ck_assert_ptr_null(c->seed.ssh_keys[1]);
	ck_assert_int_eq(c->nics[0].fwds[0].host_port, 2222);
	c->nics[0].fwds[0].host_port = 1;
	ck_assert_int_eq(d->nics[0].fwds[0].host_port, 2222);
	ck_assert_str_eq(c->uuid_str, d->uuid_str);
	ck_assert_str_eq(c->extras[0].xml, "<clock offset=\"utc\"/>");
	qc_disk_clear(&c->disks[0]);
	ck_assert_ptr_null(c->disks[0].path);
}
END_TEST

START_TEST(domain_uuid)
{
	uint8_t u[16], v[16];
	char s[37];
	struct qc_domain a = {0}, b = {0};

	ck_assert_int_eq(qc_uuid_parse("C7A5FDBD-cdaf-9455-926a-d65c16db1809", u), 0);
	qc_uuid_format(u, s);
	ck_assert_str_eq(s, "c7a5fdbd-cdaf-9455-926a-d65c16db1809");
	ck_assert_int_eq(qc_uuid_parse("c7a5fdbdcdaf9455926ad65c16db1809", v), 0);
	ck_assert_mem_eq(u, v, 16);
	ck_assert_int_eq(qc_uuid_parse("c7a5fdbd-cdaf-9455-926a-d65c16db180", u), -QC_ERR_INVALID);
	ck_assert_int_eq(
		qc_uuid_parse("c7a5fdbd-cdaf-9455-926a-d65c16db18090", u), -QC_ERR_INVALID);
	ck_assert_int_eq(qc_uuid_parse("c7a5fdbdxcdaf-9455-926a-d65c16db1809", u), -QC_ERR_INVALID);
	ck_assert_int_eq(qc_uuid_parse("g7a5fdbd-cdaf-9455-926a-d65c16db1809", u), -QC_ERR_INVALID);
	ck_assert_int_eq(qc_uuid_parse("c7a5fdb-dcdaf-9455-926a-d65c16db1809", u), -QC_ERR_INVALID);
	ck_assert_int_eq(qc_uuid_parse("", u), -QC_ERR_INVALID);
	ck_assert_int_eq(qc_uuid_parse(NULL, u), -QC_ERR_INVALID);

	qc_domain_gen_uuid(&a);
	qc_domain_gen_uuid(&b);
	ck_assert_int_ne(memcmp(a.uuid, b.uuid, 16), 0);
	ck_assert_int_eq(a.uuid[6] >> 4, 4); /* version 4 */
	ck_assert_int_eq(a.uuid[8] & 0xc0, 0x80); /* RFC 4122 variant */
	ck_assert_int_eq(qc_uuid_parse(a.uuid_str, u), 0);
	ck_assert_mem_eq(u, a.uuid, 16);
}
END_TEST

static int cmp_mac(const void *a, const void *b)
{
	return strcmp(a, b);
}

START_TEST(domain_mac)
{
	struct qc_domain a = {0}, b = {0};
	static char macs[4096][18];
	char m1[18], m2[18];

	ck_assert_int_eq(qc_uuid_parse("c7a5fdbd-cdaf-9455-926a-d65c16db1809", a.uuid), 0);
	ck_assert_int_eq(qc_uuid_parse("c7a5fdbd-cdaf-9455-926a-d65c16db180a", b.uuid), 0);
	for (unsigned i = 0; i < 4096; i++) {
		qc_net_mac_gen(a.uuid, i, macs[i]);
		ck_assert_msg(qc_str_has_prefix(macs[i], "52:54:00:"), "%s", macs[i]);
		ck_assert_int_eq(strlen(macs[i]), 17);
	}
	/* unique per index (an odd step is invertible modulo 2^24) */
	/* deterministic, and depends on the uuid */
	qc_net_mac_gen(a.uuid, 7, m1);
	ck_assert_str_eq(m1, macs[7]);
	qc_net_mac_gen(b.uuid, 0, m2);
	ck_assert_str_ne(m2, macs[0]);
	qsort(macs, 4096, sizeof(macs[0]), cmp_mac);
	for (unsigned i = 1; i < 4096; i++)
		if (strcmp(macs[i - 1], macs[i]) == 0)
			ck_abort_msg("two indices give MAC %s", macs[i]);
}
END_TEST

/* Mutate a valid domain and expect exactly this message. */
#define INVALID(code, mutate, want)                                     \
	do {                                                            \
		cleanup_domain struct qc_domain *d = valid_domain();    \
		struct qc_error err = {0};                              \
		mutate;                                                 \
		ck_assert_int_eq(qc_domain_validate(d, &err), -(code)); \
		ck_assert_str_eq(err.msg, want);                        \
	} while (0)

START_TEST(domain_validate_messages)
{
	cleanup_domain struct qc_domain *ok = valid_domain();
	struct qc_error e0 = {0};

	ck_assert_qc_ok(qc_domain_validate(ok, &e0), &e0);

	INVALID(QC_ERR_INVALID, (free(d->name), d->name = NULL), "VM has no name");
	INVALID(QC_ERR_INVALID, d->memory = 0,
		"VM 'vm1': memory must be at least 1 MiB (got 0 bytes)");
	INVALID(QC_ERR_INVALID, d->memory = UINT64_C(17) << 40,
		"VM 'vm1': memory must be at most 16 TiB (got 18691697672192 bytes)");
	INVALID(QC_ERR_INVALID, (d->arch = QC_ARCH_PPC64LE, d->memory = 384 * MiB),
		"VM 'vm1': ppc64le guests need memory in multiples of 256 MiB (got 402653184 "
		"bytes)");
	INVALID(QC_ERR_INVALID, d->cpus = 0, "VM 'vm1': cpus must be between 1 and 1024 (got 0)");
	INVALID(QC_ERR_INVALID, d->cpus = 1025,
		"VM 'vm1': cpus must be between 1 and 1024 (got 1025)");
	INVALID(QC_ERR_INVALID, d->arch = QC_ARCH_INVALID, "VM 'vm1': unknown arch");
	INVALID(QC_ERR_INVALID, d->initrd = qc_xstrdup("/boot/initrd"),
		"VM 'vm1': an initrd or kernel command line needs a kernel");
	INVALID(QC_ERR_INVALID, d->kernel = qc_xstrdup("vmlinuz"),
		"VM 'vm1': kernel path must be absolute, not 'vmlinuz'");
	INVALID(QC_ERR_INVALID, d->cpu_model = qc_xstrdup("max;rm"),
		"VM 'vm1': CPU model 'max;rm' is invalid: only letters, digits and '._-' are allowed");
	INVALID(QC_ERR_INVALID, (d->arch = QC_ARCH_PPC64LE, d->loader = qc_xstrdup("/x.fd")),
		"VM 'vm1': pseries boots with its built-in SLOF; a firmware loader or nvram is not "
		"supported on ppc64le");
	INVALID(QC_ERR_INVALID,
		(free(d->disks[0].path), d->disks[0].path = qc_xstrdup("rel.qcow2")),
		"VM 'vm1': disk 'disk0': path must be absolute, not 'rel.qcow2'");
	INVALID(QC_ERR_INVALID, (free(d->disks[0].format), d->disks[0].format = qc_xstrdup("vmdk")),
		"VM 'vm1': disk 'disk0': format 'vmdk' is not supported (qcow2 or raw)");
	INVALID(QC_ERR_INVALID, d->disks[0].device = QC_DEVICE_CDROM,
		"VM 'vm1': disk 'disk0': a cdrom needs bus scsi or sata, not virtio");
	INVALID(QC_ERR_INVALID, (d->arch = QC_ARCH_AARCH64, d->disks[0].bus = QC_BUS_SATA),
		"VM 'vm1': disk 'disk0': bus sata needs the q35 machine of x86_64; use virtio or "
		"scsi on aarch64");
	INVALID(QC_ERR_INVALID, ({
		struct qc_disk *k = qc_domain_add_disk(d);
		k->name = qc_xstrdup("disk0");
		k->path = qc_xstrdup("/x.raw");
		k->format = qc_xstrdup("raw");
	}),
		"VM 'vm1': two disks are named 'disk0'; disk names must be unique");
	INVALID(QC_ERR_INVALID, ({
		struct qc_disk *k = qc_domain_add_disk(d);
		k->name = qc_xstrdup("disk1");
		k->path = qc_xstrdup("/x.raw");
		k->format = qc_xstrdup("raw");
		k->target = qc_xstrdup("vda");
	}),
		"VM 'vm1': disks 'disk0' and 'disk1' both use target 'vda'");
	/* the rules of qc_net_parse_mac: QEMU and Linux refuse these on a NIC */
	static const char *const bad_macs[] = {
		"53:54:00:00:00:01", "00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "52-54-00-00-00-01"};
	for (size_t i = 0; i < QC_ARRAY_SIZE(bad_macs); i++) {
		cleanup_free char *want =
			qc_xasprintf("VM 'vm1': NIC 'net0': bad MAC address '%s' "
				     "(want a unicast, non-zero xx:xx:xx:xx:xx:xx)",
				bad_macs[i]);
		INVALID(QC_ERR_INVALID, strcpy(d->nics[0].mac, bad_macs[i]), want);
	}
	INVALID(QC_ERR_INVALID, ({
		struct qc_nic *n = qc_domain_add_nic(d);
		n->name = qc_xstrdup("net1");
		strcpy(n->mac, "52:54:00:00:00:01");
		strcpy(d->nics[0].mac, "52:54:00:00:00:01");
	}),
		"VM 'vm1': NICs 'net0' and 'net1' have the same MAC 52:54:00:00:00:01");
	INVALID(QC_ERR_INVALID, d->nics[0].type = QC_NIC_NETWORK,
		"VM 'vm1': NIC 'net0': type network needs a network name");
	INVALID(QC_ERR_INVALID, d->nics[0].fwds[0].guest_port = 0,
		"VM 'vm1': NIC 'net0': forward 2222-:0: ports must be 1..65535");
	INVALID(QC_ERR_INVALID, strcpy(d->nics[0].fwds[0].host_addr, "::1"),
		"VM 'vm1': NIC 'net0': bad forward address '::1' (an IPv4 address)");
	INVALID(QC_ERR_INVALID, strcpy(d->nics[0].fwds[0].proto, "ftp"),
		"VM 'vm1': NIC 'net0': forward protocol 'ftp' is not tcp or udp");
	INVALID(QC_ERR_INVALID, (free(d->shares[0].tag), d->shares[0].tag = qc_xstrdup("a/b")),
		"VM 'vm1': share tag 'a/b' is invalid (1-31 of A-Z a-z 0-9 . _ -)");
	INVALID(QC_ERR_INVALID, (free(d->shares[0].path), d->shares[0].path = NULL),
		"VM 'vm1': share 'src' has no host path");
	INVALID(QC_ERR_INVALID, d->shares[0].security_model = qc_xstrdup("mapped-file"),
		"VM 'vm1': share 'src': security model 'mapped-file' is not mapped-xattr, "
		"passthrough or none");
}
END_TEST

/* Values that would reach QEMU's or ssh's argv as more than one option. */
START_TEST(domain_validate_smuggling)
{
	INVALID(QC_ERR_INVALID, d->machine = qc_xstrdup("q35,accel=kvm"),
		"VM 'vm1': machine type 'q35,accel=kvm' is invalid: only letters, digits and '._-' "
		"are allowed");
	INVALID(QC_ERR_INVALID, d->machine = qc_xstrdup("pc=1"),
		"VM 'vm1': machine type 'pc=1' is invalid: only letters, digits and '._-' are "
		"allowed");
	INVALID(QC_ERR_INVALID, d->machine = qc_xstrdup("-bios"),
		"VM 'vm1': machine type '-bios' must not begin with '-' (it would read as an "
		"option)");
	INVALID(QC_ERR_INVALID, d->cpu_model = qc_xstrdup("max,+vmx"),
		"VM 'vm1': CPU model 'max,+vmx' is invalid: only letters, digits and '._-' are "
		"allowed");
	INVALID(QC_ERR_INVALID, d->seed.user = qc_xstrdup("-oProxyCommand=x"),
		"VM 'vm1': seed: user name '-oProxyCommand=x' is invalid: 1-32 of a-z 0-9 '_' '-', "
		"beginning with a-z or '_'");
	INVALID(QC_ERR_INVALID, d->seed.user = qc_xstrdup("a b"),
		"VM 'vm1': seed: user name 'a b' is invalid: 1-32 of a-z 0-9 '_' '-', beginning "
		"with a-z or '_'");
	INVALID(QC_ERR_INVALID, d->seed.hostname = qc_xstrdup("-o"),
		"VM 'vm1': seed: host name '-o' is invalid: a label cannot start or end with '-'");
	INVALID(QC_ERR_INVALID, ({
		d->seed.ssh_keys = qc_xzalloc(2 * sizeof(char *));
		d->seed.ssh_keys[0] = qc_xstrdup("ssh-ed25519 AAAA x\nruncmd: [x]");
	}),
		"VM 'vm1': seed: ssh key line 'ssh-ed25519 AAAA x?runcmd: [x]' holds a control "
		"character (byte 0x0a at offset 18)");
	{
		struct qc_error e = {0};

		/* tabs separate authorized_keys fields: allowed */
		ck_assert_qc_ok(qc_domain_check_ssh_key("ssh-ed25519\tAAAA\tme@host", &e), &e);
	}
	INVALID(QC_ERR_INVALID, d->seed.content_hash = qc_xstrdup("abc"),
		"VM 'vm1': seed: content hash is not 64 lowercase hex digits (a sha256)");
	INVALID(QC_ERR_INVALID,
		(d->kernel = qc_xstrdup("/boot/vmlinuz"),
			d->initrd = qc_xstrdup("/boot/initrd,if=none")),
		"VM 'vm1': initrd '/boot/initrd,if=none' holds a ',' (QEMU would read the rest as "
		"another option); rename the file");
	INVALID(QC_ERR_INVALID, d->loader = qc_xstrdup("/fw/CODE.fd,readonly=off"),
		"VM 'vm1': firmware loader '/fw/CODE.fd,readonly=off' holds a ',' (QEMU would "
		"read the rest as another option); rename the file");
	INVALID(QC_ERR_INVALID, d->nvram = qc_xstrdup("/fw/VARS\x1b[2J.fd"),
		"VM 'vm1': nvram '/fw/VARS?[2J.fd' holds a control character (byte 0x1b at "
		"offset 8)");
	INVALID(QC_ERR_INVALID, (d->kernel = qc_xstrdup("/k"), d->cmdline = qc_xstrdup("a\nb")),
		"VM 'vm1': kernel command line 'a?b' holds a control character (byte 0x0a at "
		"offset 1)");
	INVALID(QC_ERR_INVALID, d->ready_marker = qc_xstrdup(""), "VM 'vm1': ready marker is empty");
	INVALID(QC_ERR_INVALID, (free(d->nics[0].model), d->nics[0].model = qc_xstrdup("-x")),
		"VM 'vm1': NIC 'net0': model '-x' must not begin with '-' (it would read as an "
		"option)");
	INVALID(QC_ERR_INVALID,
		(d->nics[0].n_fwds = 0, d->nics[0].type = QC_NIC_NETWORK,
			d->nics[0].network = qc_xstrdup("../n")),
		"VM 'vm1': NIC 'net0': network name '../n' is invalid: only letters, digits, '.', "
		"'_' and '-' are allowed, starting with a letter or digit, at most 63 characters");
	INVALID(QC_ERR_INVALID,
		(d->nics[0].n_fwds = 0, d->nics[0].type = QC_NIC_BRIDGE,
			d->nics[0].bridge = qc_xstrdup("br0,script=/x")),
		"VM 'vm1': NIC 'net0': bridge name 'br0,script=/x' is invalid: only letters, "
		"digits and '._-' are allowed");
	INVALID(QC_ERR_INVALID,
		(free(d->disks[0].path), d->disks[0].path = qc_xstrdup("/vms/vm1/d\x01.qcow2")),
		"VM 'vm1': disk 'disk0': path '/vms/vm1/d?.qcow2' holds a control character (byte "
		"0x01 at offset 10)");
	INVALID(QC_ERR_INVALID, d->disks[0].backing_image = qc_xstrdup("../x"),
		"VM 'vm1': disk 'disk0': backing image name '../x' is invalid: only letters, digits, "
		"'.', '_' and '-' are allowed, starting with a letter or digit, at most 63 "
		"characters");
}
END_TEST

/*
 * *slot (a path of d) becomes path (taken); qc_domain_check_owned() then
 * fails with QC_ERR_INVALID and a message that holds msg and also (NULL: -).
 */
static void owned_refused(struct qc_domain *d, const char *root, char **slot, char *path,
	const char *msg, const char *also)
{
	struct qc_error err = {0};

	free(*slot);
	*slot = path;
	ck_assert_qc_fail(qc_domain_check_owned(d, root, &err), &err, QC_ERR_INVALID, msg);
	unit_assert_contains(err.msg, also);
}

/* Files a definition may name as the VM's own (driver/domain_home.c). */
START_TEST(domain_home_rules)
{
	char *root = unit_mkdtemp();
	cleanup_free char *vm = qc_xasprintf("%s/vms/a", root), *vms = qc_xasprintf("%s/vms", root);
	cleanup_free char *p = NULL, *img = qc_xasprintf("%s/images/base.qcow2", root);
	static const char *const bad[] = {"/vms/a/../b/disk0.qcow2", "/vms/a/", "/vms/a/.hidden",
		"/vms/a/sub/x", "/vms/ab/x", "/vms/a//x", "/vms/a/-x", "/vms/a/..", "/tmp/victim",
		"/vms/a/x..y"};
	cleanup_domain struct qc_domain *d = valid_domain();
	struct qc_error err = {0};

	ck_assert_int_eq(mkdir(vms, 0700), 0);
	ck_assert_int_eq(mkdir(vm, 0700), 0);
	for (size_t i = 0; i < QC_ARRAY_SIZE(bad); i++) {
		free(p);
		p = bad[i][0] == '/' && bad[i][1] == 'v' ? qc_xasprintf("%s%s", root, bad[i])
							  : qc_xstrdup(bad[i]);
		ck_assert_msg(qc_domain_home_file(vm, "owned disk", p, false, &err) ==
				      -QC_ERR_INVALID,
			"%s accepted", p);
		unit_assert_contains(err.msg, "is not a file of this VM");
	}
	/* missing or a regular file: fine; a symlink, a directory or a FIFO: refused */
	free(p);
	p = qc_xasprintf("%s/disk0.qcow2", vm);
	ck_assert_qc_ok(qc_domain_home_file(vm, "owned disk", p, false, &err), &err);
	ck_assert_qc_ok(qc_write_atomic(AT_FDCWD, p, "x", 1, 0600, &err), &err);
	ck_assert_qc_ok(qc_domain_home_file(vm, "owned disk", p, false, &err), &err);
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(symlink("/etc/passwd", p), 0);
	ck_assert_qc_fail(qc_domain_home_file(vm, "owned disk", p, false, &err), &err,
		QC_ERR_INVALID, "is a symbolic link; a VM's own files are never links");
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	ck_assert_qc_fail(qc_domain_home_file(vm, "owned disk", p, false, &err), &err,
		QC_ERR_INVALID, "is not a regular file");
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	ck_assert_qc_fail(qc_domain_home_file(vm, "owned disk", p, false, &err), &err,
		QC_ERR_INVALID, "is not a regular file");
	ck_assert_qc_ok(qc_domain_home_file(vm, "scratch directory", p, true, &err), &err);

	/* backings: a layer of the VM, the catalog image named, else outside the root */
	ck_assert_qc_ok(qc_domain_home_backing(root, vm, "base", img, &err), &err);
	ck_assert_qc_fail(qc_domain_home_backing(root, vm, "other", img, &err), &err,
		QC_ERR_INVALID, "is not catalog image 'other'");
	ck_assert_qc_fail(qc_domain_home_backing(root, vm, "base", "/etc/shadow", &err), &err,
		QC_ERR_INVALID, "backing file '/etc/shadow' is not catalog image 'base'");
	ck_assert_qc_fail(qc_domain_home_backing(root, vm, NULL, img, &err), &err, QC_ERR_INVALID,
		"lies in the state root but is neither a file of this VM nor a catalog image");
	ck_assert_qc_ok(qc_domain_home_backing(root, vm, NULL, "/srv/golden.qcow2", &err), &err);

	/* the whole domain: owned disks and the seed inside, user disks anywhere */
	free(d->name);
	d->name = qc_xstrdup("a");
	free(d->disks[0].path);
	d->disks[0].path = qc_xasprintf("%s/disk1.qcow2", vm);
	d->disks[0].owned = true;
	free(d->disks[0].backing);
	d->disks[0].backing = qc_xstrdup(img);
	d->disks[0].backing_image = qc_xstrdup("base");
	ck_assert_qc_ok(qc_domain_check_owned(d, root, &err), &err);
	d->disks[0].owned = false;
	owned_refused(d, root, &d->disks[0].path, qc_xstrdup("/srv/data.raw"),
		"VM 'a': disk 'disk0': a backing image is recorded only for an owned disk", NULL);
	free(d->disks[0].backing_image);
	d->disks[0].backing_image = NULL;
	ck_assert_qc_ok(qc_domain_check_owned(d, root, &err), &err);
	/* a user's disk QEMU may write: never the catalog or another VM's files */
	owned_refused(d, root, &d->disks[0].path, qc_xstrdup(img), "lies in the state root", NULL);
	owned_refused(d, root, &d->disks[0].path, qc_xasprintf("%s/vms/b/disk0.qcow2", root),
		"but is not a disk this VM owns", NULL);
	free(d->disks[0].path);
	d->disks[0].path = qc_xstrdup("/srv/data.raw");
	owned_refused(
		d, root, &d->shares[0].path, qc_xstrdup(root), "VM 'a': share 'src': '", NULL);
	free(d->shares[0].path);
	d->shares[0].path = qc_xstrdup("/home/me/src");
	d->disks[0].owned = true;
	ck_assert_qc_fail(qc_domain_check_owned(d, root, &err), &err, QC_ERR_INVALID,
		"VM 'a': disk 'disk0': owned disk '/srv/data.raw' is not a file of this VM");
	d->disks[0].owned = false;
	d->disks[0].role = QC_ROLE_SEED;
	ck_assert_qc_fail(qc_domain_check_owned(d, root, &err), &err, QC_ERR_INVALID,
		"the seed disk is always owned by the VM");
	d->disks[0].role = QC_ROLE_DATA;
	d->seed.user_data = qc_xstrdup("/etc/shadow");
	ck_assert_qc_fail(qc_domain_check_owned(d, root, &err), &err, QC_ERR_INVALID,
		"VM 'a': seed: user-data '/etc/shadow' is not a file of this VM");
	/* the seed reads only the copy create makes, not a disk of the VM */
	owned_refused(d, root, &d->seed.user_data, qc_xasprintf("%s/disk1.qcow2", vm),
		"seed: user-data '", "disk1.qcow2' must be ");
	free(d->seed.user_data);
	d->seed.user_data = qc_xasprintf("%s/user-data", vm);
	/* qemuctl's own records are never a disk of the VM (QEMU would write them) */
	{
		static const char *const own[] = {"domain.xml", "state.json", "lock",
			"monitor.lock", "summary.json", "domain.cache.json", "console.log",
			"console.log.1", "events.jsonl", "qemu.log", "network.json",
			"forwards.json", "known_hosts", "known_hosts.tofu", "ssh_host_ed25519_key",
			"ssh_host_ed25519_key.pub", "saved.state"};

		for (size_t i = 0; i < QC_ARRAY_SIZE(own); i++) {
			free(p);
			p = qc_xasprintf("%s/%s", vm, own[i]);
			ck_assert_qc_fail(qc_domain_home_file(vm, "owned disk", p, false, &err),
				&err, QC_ERR_INVALID, "is one of qemuctl's own records of the VM");
		}
	}
	/* nvram in the VM's directory is ours (never a link); elsewhere the user's */
	d->nvram = qc_xasprintf("%s/nvram.fd", vm);
	ck_assert_int_eq(symlink("/etc/passwd", d->nvram), 0);
	ck_assert_qc_fail(qc_domain_check_owned(d, root, &err), &err, QC_ERR_INVALID,
		"nvram.fd' is a symbolic link");
	owned_refused(d, root, &d->nvram, qc_xasprintf("%s/vms/b/nvram.fd", root),
		"lies in the state root", NULL);
	free(d->nvram);
	d->nvram = qc_xstrdup("/var/lib/libvirt/qemu/nvram/a_VARS.fd");
	ck_assert_qc_ok(qc_domain_check_owned(d, root, &err), &err);
	unit_rmdir(root);
}
END_TEST

/* Every path has one spelling; what it resolves to is checked against the root. */
START_TEST(domain_home_resolved)
{
	char *root = unit_mkdtemp(), *out = unit_mkdtemp();
	cleanup_free char *vms = qc_xasprintf("%s/vms", root), *b = qc_xasprintf("%s/vms/b", root);
	cleanup_free char *link = qc_xasprintf("%s/link", out), *p = NULL;
	cleanup_domain struct qc_domain *d = valid_domain();
	static const char *const odd[] = {"//vms/b/disk0.qcow2", "/./vms/b/disk0.qcow2",
		"/x/../vms/b/disk0.qcow2", "/vms/b/disk0.qcow2/", "/vms/b/.", "/vms/b/.."};
	struct qc_error err = {0};

	ck_assert_int_eq(mkdir(vms, 0700), 0);
	ck_assert_int_eq(mkdir(b, 0700), 0);
	ck_assert_int_eq(symlink(root, link), 0);
	free(d->name);
	d->name = qc_xstrdup("a");
	d->disks[0].owned = false;
	/* '//' '.' '..' and a trailing '/' would slip past the string check on the root */
	for (size_t i = 0; i < QC_ARRAY_SIZE(odd); i++) {
		free(d->disks[0].path);
		d->disks[0].path = qc_xasprintf("%s%s", root, odd[i]);
		ck_assert_qc_fail(qc_domain_validate_fields(d, &err), &err, QC_ERR_INVALID,
			"is not in normal form");
	}
	ck_assert_qc_fail(qc_domain_check_path("kernel", "/boot/../etc/shadow", false, &err), &err,
		QC_ERR_INVALID, "kernel '/boot/../etc/shadow' is not in normal form");
	ck_assert_qc_fail(qc_domain_check_path("kernel", "/", false, &err), &err, QC_ERR_INVALID,
		"is not in normal form");
	ck_assert_qc_ok(qc_domain_check_path("kernel", "/boot/vmlinuz-6.1..x", false, &err), &err);

	/* a symlink outside leading into the root: another VM's disk, now or later */
	free(d->disks[0].path);
	d->disks[0].path = qc_xasprintf("%s/vms/b/disk0.qcow2", link);
	ck_assert_qc_ok(qc_write_atomic(AT_FDCWD, d->disks[0].path, "x", 1, 0600, &err), &err);
	ck_assert_qc_fail(qc_domain_check_owned(d, root, &err), &err, QC_ERR_INVALID,
		"disk 'disk0': disk '");
	unit_assert_contains(err.msg, "in the state root");
	owned_refused(d, root, &d->disks[0].path, qc_xasprintf("%s/vms/c/disk0.qcow2", link),
		"in the state root", NULL);
	free(p);
	p = qc_xasprintf("%s/dangling", out);
	ck_assert_int_eq(symlink(d->disks[0].path, p), 0);
	owned_refused(d, root, &d->disks[0].path, qc_xstrdup(p),
		"is a symbolic link to a missing file", NULL);
	owned_refused(d, root, &d->disks[0].path,
		qc_xasprintf("/proc/self/root%s/vms/b/disk0.qcow2", root),
		"names a file through a process's own view", NULL);
	owned_refused(d, root, &d->disks[0].path, qc_xstrdup("/dev/fd/0"),
		"names a file through a process's own view", NULL);
	/* sysfs and procfs files are regular files, but not disks */
	owned_refused(d, root, &d->disks[0].path,
		qc_xstrdup("/sys/kernel/mm/transparent_hugepage/enabled"),
		"is a file of a kernel pseudo file system", NULL);
	/* a disk of type 'file' is a regular file: never a device */
	owned_refused(d, root, &d->disks[0].path, qc_xstrdup("/dev/null"),
		"disk '/dev/null' is not a regular file", NULL);
	free(d->disks[0].path);
	d->disks[0].path = qc_xasprintf("%s/missing/data.raw", out);
	ck_assert_qc_ok(qc_domain_check_owned(d, root, &err), &err);
	/* shares, nvram and backings the same */
	owned_refused(d, root, &d->shares[0].path, qc_xasprintf("%s/vms", link),
		"VM 'a': share 'src': shared directory '", NULL);
	/* a directory above the root shares the root too */
	owned_refused(d, root, &d->shares[0].path, qc_xstrdup("/"),
		"VM 'a': share 'src': '/' holds the state root", NULL);
	owned_refused(d, root, &d->shares[0].path, qc_xasprintf("%s/..", link),
		"holds the state root", NULL);
	free(d->shares[0].path);
	d->shares[0].path = qc_xstrdup(out);
	d->nvram = qc_xasprintf("%s/vms/b/disk0.qcow2", link);
	ck_assert_qc_fail(qc_domain_check_owned(d, root, &err), &err, QC_ERR_INVALID,
		"nvram '");
	unit_assert_contains(err.msg, "in the state root");
	ck_assert_qc_fail(qc_domain_home_backing(root, b, NULL, d->nvram, &err), &err,
		QC_ERR_INVALID, "backing file '");
	unit_assert_contains(err.msg, "in the state root");
	/* the firmware the guest reads: not another VM's file, by name or link */
	free(d->nvram);
	d->nvram = NULL;
	d->loader = qc_xasprintf("%s/vms/b/disk0.qcow2", link);
	ck_assert_qc_fail(qc_domain_check_owned(d, root, &err), &err, QC_ERR_INVALID,
		"VM 'a': firmware loader '");
	unit_assert_contains(err.msg, "in the state root");
	owned_refused(d, root, &d->loader, qc_xasprintf("%s/vms/b/disk0.qcow2", root),
		"lies in the state root", NULL);
	free(d->loader);
	d->loader = qc_xstrdup("/usr/share/OVMF/OVMF_CODE.fd");
	ck_assert_qc_ok(qc_domain_check_owned(d, root, &err), &err);
	unit_rmdir(root);
	unit_rmdir(out);
}
END_TEST

START_TEST(domain_validate_prefixed)
{
	cleanup_domain struct qc_domain *d = valid_domain();
	struct qc_error err = {0};

	free(d->name);
	d->name = qc_xstrdup("../x");
	ck_assert_int_eq(qc_domain_validate(d, &err), -QC_ERR_INVALID);
	unit_assert_contains(err.msg, "VM name '../x' is invalid");
	free(d->name);
	d->name = qc_xstrdup("ok");
	free(d->disks[0].name);
	d->disks[0].name = qc_xstrdup("bad name");
	ck_assert_int_eq(qc_domain_validate(d, &err), -QC_ERR_INVALID);
	ck_assert(qc_str_has_prefix(err.msg, "VM 'ok': disk name 'bad name' is invalid"));
}
END_TEST

/* ------------------------------------------------------------- arch */

START_TEST(arch_table)
{
	static const struct {
		const char *name;
		enum qc_arch arch;
	} names[] = {
		{"x86_64", QC_ARCH_X86_64},
		{"amd64", QC_ARCH_X86_64},
		{"aarch64", QC_ARCH_AARCH64},
		{"arm64", QC_ARCH_AARCH64},
		{"ppc64le", QC_ARCH_PPC64LE},
		{"ppc64el", QC_ARCH_PPC64LE},
		{"ppc64", QC_ARCH_PPC64LE},
		{"i386", QC_ARCH_INVALID},
		{"", QC_ARCH_INVALID},
		{"X86_64", QC_ARCH_INVALID},
		{NULL, QC_ARCH_INVALID},
	};
	const struct qc_arch_info *x = qc_arch_info(QC_ARCH_X86_64);
	const struct qc_arch_info *a = qc_arch_info(QC_ARCH_AARCH64);
	const struct qc_arch_info *p = qc_arch_info(QC_ARCH_PPC64LE);
	enum qc_accel acc;

	for (size_t i = 0; i < QC_ARRAY_SIZE(names); i++)
		ck_assert_msg(qc_arch_from_name(names[i].name) == names[i].arch, "%s",
			names[i].name ? names[i].name : "NULL");
	ck_assert_ptr_null(qc_arch_info(QC_ARCH_INVALID));
	ck_assert_ptr_null(qc_arch_info(QC_ARCH_COUNT));
	ck_assert_str_eq(qc_arch_name(QC_ARCH_INVALID), "unknown");
	for (int i = 0; i < QC_ARCH_COUNT; i++) {
		ck_assert_int_eq(qc_arch_info(i)->arch, i);
		ck_assert_int_eq(qc_arch_from_name(qc_arch_info(i)->name), i);
		ck_assert_int_eq(qc_arch_from_name(qc_arch_info(i)->debian_arch), i);
	}
	ck_assert_str_eq(x->qemu_binary, "qemu-system-x86_64");
	ck_assert_str_eq(x->machine, "q35");
	ck_assert_str_eq(x->console, "ttyS0");
	ck_assert_int_eq(x->seed_bus, QC_BUS_SATA);
	ck_assert_str_eq(a->qemu_binary, "qemu-system-aarch64");
	ck_assert_str_eq(a->machine, "virt");
	ck_assert_str_eq(a->cpu_tcg, "cortex-a57");
	ck_assert_str_eq(a->console, "ttyAMA0");
	ck_assert(a->firmware_required);
	ck_assert_str_eq(p->qemu_binary, "qemu-system-ppc64");
	ck_assert_str_eq(p->machine, "pseries");
	ck_assert_str_eq(p->cpu_tcg, "POWER9");
	ck_assert_str_eq(p->console, "hvc0");
	ck_assert_ptr_null(p->firmware_code);

	ck_assert_int_eq(qc_accel_from_name("kvm", &acc), 0);
	ck_assert_int_eq(acc, QC_ACCEL_KVM);
	ck_assert_int_eq(qc_accel_from_name("tcg", &acc), 0);
	ck_assert_int_eq(acc, QC_ACCEL_TCG);
	ck_assert_int_eq(qc_accel_from_name("auto", &acc), 0);
	ck_assert_int_eq(acc, QC_ACCEL_AUTO);
	ck_assert_int_eq(qc_accel_from_name("hvf", &acc), -QC_ERR_INVALID);
	ck_assert_str_eq(qc_accel_name(QC_ACCEL_TCG), "tcg");
	/* every value has its own name: a hole in a table is caught here */
	for (int v = 0; v < QC_ACCEL_COUNT; v++) {
		ck_assert_int_eq(qc_accel_from_name(qc_accel_name((enum qc_accel) v), &acc), 0);
		ck_assert_int_eq(acc, v);
	}
	for (int t = 0; t < QC_NIC_TYPE_COUNT; t++) {
		ck_assert_str_ne(qc_nic_type_name((enum qc_nic_type) t), "unknown");
		for (int u = 0; u < t; u++)
			ck_assert_str_ne(qc_nic_type_name((enum qc_nic_type) t),
				qc_nic_type_name((enum qc_nic_type) u));
	}
	ck_assert_str_eq(qc_nic_type_name(QC_NIC_BRIDGE), "bridge");
}
END_TEST

START_TEST(arch_host)
{
	struct utsname u;

	ck_assert_int_eq(uname(&u), 0);
	ck_assert_int_eq(qc_arch_host(), qc_arch_from_name(u.machine));
}
END_TEST

/* QEMU's cpu-max per machine type; a versioned type is its family's. */
START_TEST(arch_machine_cpus)
{
	struct qc_error err = {0};

	ck_assert_uint_eq(qc_machine_max_cpus(QC_ARCH_X86_64, NULL), 288); /* q35 */
	ck_assert_uint_eq(qc_machine_max_cpus(QC_ARCH_X86_64, "q35"), 288);
	ck_assert_uint_eq(qc_machine_max_cpus(QC_ARCH_X86_64, "pc-q35-7.2"), 288);
	ck_assert_uint_eq(qc_machine_max_cpus(QC_ARCH_X86_64, "pc"), 255);
	ck_assert_uint_eq(qc_machine_max_cpus(QC_ARCH_X86_64, "pc-i440fx-7.2"), 255);
	ck_assert_uint_eq(qc_machine_max_cpus(QC_ARCH_AARCH64, NULL), 512);
	ck_assert_uint_eq(qc_machine_max_cpus(QC_ARCH_PPC64LE, "pseries-7.2"), 4096);
	/* unknown types and another arch's type: no limit known */
	ck_assert_uint_eq(qc_machine_max_cpus(QC_ARCH_X86_64, "microvm"), 0);
	ck_assert_uint_eq(qc_machine_max_cpus(QC_ARCH_X86_64, "virt"), 0);
	ck_assert_uint_eq(qc_machine_max_cpus(QC_ARCH_X86_64, "pcx"), 0);
	ck_assert_int_eq(qc_machine_check_cpus(QC_ARCH_X86_64, NULL, 288, &err), 0);
	ck_assert_int_eq(qc_machine_check_cpus(QC_ARCH_X86_64, NULL, 289, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "289 vCPUs: machine type 'q35' allows at most 288 (QEMU's "
				  "cpu-max); give 288 or fewer");
	ck_assert_int_eq(qc_machine_check_cpus(QC_ARCH_X86_64, "microvm", 9999, &err), 0);
	/* this host's RAM is more than 1 MiB and less than 1 EiB */
	ck_assert_int_eq(qc_host_check_memory(1 << 20, &err), 0);
	ck_assert_int_eq(qc_host_check_memory(1ULL << 60, &err), -QC_ERR_INVALID);
	ck_assert_msg(strstr(err.msg, "memory 1 EiB is more than this host's RAM (") != NULL, "%s",
		err.msg);
}
END_TEST

/* --------------------------------------------------- KVM decision (pure) */

#define FLAGS_VMX "processor\t: 0\nflags\t\t: fpu vme de pse tsc msr vmx sse2\n\n"
#define FLAGS_SVM "processor\t: 0\nflags\t\t: fpu svm lm\nbugs\t\t: vmx_x\n"
#define FLAGS_NONE                                                                        \
	"processor\t: 0\nmodel name\t: vmx svm in a name\nflags\t\t: fpu vme hypervisor " \
	"vmxx xsvm\nvmx flags\t: vnmi\n"

static void decide(enum qc_arch arch, struct qc_kvm_facts f, bool want, const char *why_want)
{
	char why[256];

	ck_assert_int_eq(qc_kvm_decide(arch, &f, why, sizeof(why)), want);
	ck_assert_str_eq(why, why_want);
}

START_TEST(kvm_decide_facts)
{
	const struct qc_kvm_facts good = {
		.host = QC_ARCH_X86_64, .api_version = KVM_API_VERSION, .cpuinfo = FLAGS_VMX};
	struct qc_kvm_facts f;

	decide(QC_ARCH_X86_64, good, true,
		"KVM usable: /dev/kvm answers (API 12, KVM_CREATE_VM) and the CPU advertises vmx");
	f = good;
	f.cpuinfo = FLAGS_SVM;
	decide(QC_ARCH_X86_64, f, true,
		"KVM usable: /dev/kvm answers (API 12, KVM_CREATE_VM) and the CPU advertises svm");
	/* this machine: the device works, the CPU lacks the extensions */
	f.cpuinfo = FLAGS_NONE;
	decide(QC_ARCH_X86_64, f, false,
		"KVM unusable: CPU advertises neither vmx nor svm (nested virtualisation off?)");
	f.cpuinfo = NULL;
	decide(QC_ARCH_X86_64, f, false,
		"KVM unusable: cannot read /proc/cpuinfo to check for vmx/svm");
	f = good;
	decide(QC_ARCH_AARCH64, f, false,
		"KVM unusable: guest arch aarch64 differs from host arch x86_64 (TCG emulates it)");
	f.open_errno = ENOENT;
	decide(QC_ARCH_X86_64, f, false,
		"KVM unusable: /dev/kvm does not exist (kvm module not loaded, or no hardware "
		"virtualisation)");
	f.open_errno = EACCES;
	decide(QC_ARCH_X86_64, f, false,
		"KVM unusable: no permission to open /dev/kvm read-write (add the user to group "
		"'kvm')");
	f.open_errno = EBUSY;
	decide(QC_ARCH_X86_64, f, false,
		"KVM unusable: cannot open /dev/kvm: Device or resource busy");
	f = good;
	f.api_version = 11;
	decide(QC_ARCH_X86_64, f, false, "KVM unusable: /dev/kvm speaks API version 11, not 12");
	f.api_version = -ENOTTY;
	decide(QC_ARCH_X86_64, f, false,
		"KVM unusable: KVM_GET_API_VERSION failed: Inappropriate ioctl for device");
	f = good;
	f.create_vm_errno = EINVAL;
	decide(QC_ARCH_X86_64, f, false, "KVM unusable: KVM_CREATE_VM failed: Invalid argument");
	/* the CPU is judged first: without vmx/svm the device facts are not even read */
	f = good;
	f.cpuinfo = FLAGS_NONE;
	f.open_errno = ENOENT;
	decide(QC_ARCH_X86_64, f, false,
		"KVM unusable: CPU advertises neither vmx nor svm (nested virtualisation off?)");
	/* no cpuinfo flag check on other hosts */
	f = (struct qc_kvm_facts){.host = QC_ARCH_AARCH64, .api_version = 12};
	decide(QC_ARCH_AARCH64, f, true, "KVM usable: /dev/kvm answers (API 12, KVM_CREATE_VM)");
}
END_TEST

/* The real probe on this host: TCG unless the CPU really has vmx/svm. */
START_TEST(kvm_probe_this_host)
{
	cleanup_free char *info = NULL;
	struct qc_error err = {0};
	char why[256], why2[512];
	bool ext, usable;
	enum qc_accel acc;

	ck_assert_qc_ok(
		qc_read_file(AT_FDCWD, "/proc/cpuinfo", 16u << 20, &info, NULL, &err), &err);
	ext = strstr(info, " vmx") || strstr(info, " svm");
	/* is /dev/kvm opened by the probe?  inotify sees every open of the node */
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC), wd = -1;
	char evbuf[4096];
	ssize_t evlen;

	ck_assert_int_ge(in, 0);
	if (access("/dev/kvm", F_OK) == 0)
		wd = inotify_add_watch(in, "/dev/kvm", IN_OPEN);
	usable = qc_kvm_usable(QC_ARCH_X86_64, why, sizeof(why));
	evlen = read(in, evbuf, sizeof(evbuf));
	if (qc_arch_host() == QC_ARCH_X86_64 && !ext)
		/* a CPU without vmx/svm settles it: the device is not opened (0.4 ms) */
		ck_assert_msg(wd < 0 || evlen < 0, "/dev/kvm was opened without vmx/svm");
	else if (wd >= 0 && qc_arch_host() == QC_ARCH_X86_64)
		ck_assert_msg(evlen > 0, "/dev/kvm was not probed on a CPU with vmx/svm");
	close(in);
	if (qc_arch_host() == QC_ARCH_X86_64 && !ext) {
		/* the CI machine: /dev/kvm opens, yet guests would hang */
		ck_assert_msg(!usable, "KVM said usable without vmx/svm: %s", why);
		ck_assert_str_eq(why, "KVM unusable: CPU advertises neither vmx nor svm (nested "
				      "virtualisation off?)");
		ck_assert_int_eq(qc_accel_resolve(QC_ARCH_X86_64, QC_ACCEL_AUTO, &acc, why2,
					 sizeof(why2), &err),
			0);
		ck_assert_int_eq(acc, QC_ACCEL_TCG);
		ck_assert_str_eq(why2, "TCG: KVM unusable: CPU advertises neither vmx nor svm "
				       "(nested virtualisation off?)");
		ck_assert_int_eq(qc_accel_resolve(QC_ARCH_X86_64, QC_ACCEL_KVM, &acc, why2,
					 sizeof(why2), &err),
			-QC_ERR_UNSUPPORTED);
		ck_assert_str_eq(err.msg,
			"accel kvm: KVM unusable: CPU advertises neither vmx nor "
			"svm (nested virtualisation off?); use tcg or auto (create --accel, or "
			"<qemuctl:accel> in the domain XML)");
	} else {
		ck_assert_msg(
			qc_str_has_prefix(why, usable ? "KVM usable" : "KVM unusable"), "%s", why);
	}
	/* a foreign arch never uses KVM, whatever the host */
	ck_assert(!qc_kvm_usable(QC_ARCH_PPC64LE, why, sizeof(why)) ||
		  qc_arch_host() == QC_ARCH_PPC64LE);
	ck_assert_int_eq(
		qc_accel_resolve(QC_ARCH_AARCH64, QC_ACCEL_TCG, &acc, why2, sizeof(why2), &err), 0);
	ck_assert_int_eq(acc, QC_ACCEL_TCG);
	ck_assert_str_eq(why2, "TCG requested");
}
END_TEST

static Suite *domain_suite(void)
{
	Suite *s = suite_create("domain");

	unit_tcase(s, "model", domain_new_defaults, domain_add_find_copy, domain_uuid, domain_mac,
		domain_validate_messages, domain_validate_prefixed, domain_validate_smuggling,
		domain_home_rules, domain_home_resolved, NULL);
	unit_tcase(s, "arch", arch_table, arch_host, arch_machine_cpus, kvm_decide_facts,
		kvm_probe_this_host, NULL);
	return s;
}

UNIT_MAIN(domain_suite)
