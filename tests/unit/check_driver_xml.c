/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/xml.c + xml_save.c: golden round trips, a virt-install XML that
 * must survive define + dumpxml with every element and attribute, the
 * warnings it produces, and bad inputs with their exact messages.
 */
#include "config.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <sys/stat.h>

#include "driver/domain.h"
#include "net/net.h"
#include "tests/unit/domain_golden.h"
#include "tests/unit/unit.h"
#include "tests/unit/check_main.h"

#define MiB (UINT64_C(1) << 20)

static void collect_warn(const char *msg, void *opaque)
{
	qc_strv_push(opaque, msg);
}

static struct qc_domain *parse_ok(const char *xml, const char *file, struct qc_strv *warnings)
{
	struct qc_domain *d = NULL;
	struct qc_error err = {0};

	ck_assert_qc_ok(qc_domain_from_xml(xml, strlen(xml), file, warnings ? collect_warn : NULL,
				warnings, &d, &err),
		&err);
	return d;
}

static char *dump(const struct qc_domain *d)
{
	struct qc_error err = {0};
	char *xml = NULL;

	ck_assert_qc_ok(qc_domain_to_xml(d, &xml, &err), &err);
	return xml;
}

/* to_xml(from_xml(x)) == x, with no warnings. */
static void assert_fixpoint(const char *xml)
{
	cleanup_strvec struct qc_strv w = {0};
	cleanup_domain struct qc_domain *d = parse_ok(xml, "fix.xml", &w);
	cleanup_free char *again = dump(d);

	ck_assert_msg(w.n == 0, "unexpected warning: %s", w.n ? w.v[0] : "");
	ck_assert_str_eq(again, xml);
}

static void golden_xml(const char *name, const struct qc_domain *d)
{
	cleanup_free char *xml = dump(d), *rel = qc_xasprintf("xml/%s.xml", name);
	char msg[2048];

	ck_assert_msg(golden_check(rel, xml, msg, sizeof(msg)) == 0, "%s", msg);
	assert_fixpoint(xml);
}

static struct qc_domain *full_domain(void)
{
	struct qc_domain *d = qc_domain_new();
	struct qc_disk *k;
	struct qc_nic *n;
	struct qc_share *s;
	struct qc_strv keys = {0};

	d->name = qc_xstrdup("full");
	d->title = qc_xstrdup("Everything & more <here>");
	ck_assert_int_eq(qc_uuid_parse("0f5b7e4e-1a2b-4c3d-8e9f-a0b1c2d3e4f5", d->uuid), 0);
	qc_uuid_format(d->uuid, d->uuid_str);
	d->arch = QC_ARCH_X86_64;
	d->accel = QC_ACCEL_AUTO;
	d->cpus = 4;
	d->memory = 1536 * MiB;
	d->cpu_model = qc_xstrdup("Skylake-Client");
	d->kernel = qc_xstrdup("/boot/vmlinuz");
	d->initrd = qc_xstrdup("/boot/initrd.img");
	d->cmdline = qc_xstrdup("console=ttyS0 root=/dev/vda1 quiet");
	d->autostart = true;
	d->ready_marker = qc_xstrdup("QEMUCTL-READY");

	golden_add_overlay(d);
	k = golden_add_disk(d, "disk1", "/srv/data.raw", "raw");
	k->role = QC_ROLE_DATA;
	k->bus = QC_BUS_SCSI;
	k = golden_add_disk(d, "seed", "/var/lib/qemuctl/vms/full/seed.iso", "raw");
	k->role = QC_ROLE_SEED;
	k->device = QC_DEVICE_CDROM;
	k->bus = QC_BUS_SATA;
	k->readonly = true;
	k->owned = true;

	n = golden_add_nic(d, "net0", QC_NIC_USER, NULL, 0);
	n->model = qc_xstrdup("virtio-net-pci");
	n->fwds = qc_xzalloc(2 * sizeof(*n->fwds));
	n->n_fwds = 2;
	strcpy(n->fwds[0].proto, "tcp");
	n->fwds[0].guest_port = 22;
	strcpy(n->fwds[1].proto, "udp");
	strcpy(n->fwds[1].host_addr, "0.0.0.0");
	n->fwds[1].host_port = 5353;
	n->fwds[1].guest_port = 53;
	golden_add_lan_nic(d, "lan", 1);
	golden_add_nic(d, "up", QC_NIC_BRIDGE, "br0", 2);

	s = golden_add_share(d, "src", "/home/me/src");
	s->readonly = true;
	s->security_model = qc_xstrdup("mapped-xattr");
	s = golden_add_share(d, "scratch", "/var/lib/qemuctl/vms/full/share-scratch");
	s->empty = true;
	s->security_model = qc_xstrdup("none");

	d->seed.enabled = true;
	d->seed.hostname = qc_xstrdup("full-host");
	d->seed.user = qc_xstrdup("qemuctl");
	qc_strv_push(&keys, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG5 me@laptop");
	qc_strv_push(&keys, "ssh-rsa AAAAB3Nza 'quoted' <key>");
	d->seed.ssh_keys = qc_strv_steal(&keys);
	d->seed.user_data = qc_xstrdup("/home/me/user-data.yaml");
	d->seed.generation = 3;
	d->seed.content_hash =
		qc_xstrdup("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
	return d;
}

START_TEST(xml_golden_full)
{
	cleanup_domain struct qc_domain *d = full_domain();
	cleanup_free char *xml = dump(d), *again = NULL;
	cleanup_domain struct qc_domain *back = parse_ok(xml, "full.xml", NULL);

	golden_xml("full", d);
	/* the model survives, not only the text */
	ck_assert_str_eq(back->title, "Everything & more <here>");
	ck_assert_int_eq(back->accel, QC_ACCEL_AUTO);
	ck_assert_int_eq(back->memory, 1536 * MiB);
	ck_assert_int_eq(back->n_disks, 3);
	ck_assert_int_eq(back->disks[2].role, QC_ROLE_SEED);
	ck_assert(back->disks[0].owned && !back->disks[1].owned);
	ck_assert_str_eq(back->disks[0].backing_image, "debian-12");
	ck_assert_int_eq(back->nics[0].n_fwds, 2);
	ck_assert_str_eq(back->nics[0].fwds[1].host_addr, "0.0.0.0");
	ck_assert_int_eq(back->nics[0].fwds[1].host_port, 5353);
	ck_assert_str_eq(back->nics[1].ip, "10.77.0.5/24");
	ck_assert_str_eq(back->nics[1].bridge, "qc-lan");
	ck_assert(back->shares[1].empty && back->shares[0].readonly);
	ck_assert_str_eq(back->seed.ssh_keys[1], "ssh-rsa AAAAB3Nza 'quoted' <key>");
	ck_assert_ptr_null(back->seed.ssh_keys[2]);
	ck_assert_int_eq(back->seed.generation, 3);
	ck_assert(back->autostart && back->serial_console && back->seed.enabled);
	ck_assert_str_eq(back->ready_marker, "QEMUCTL-READY");
	again = dump(back);
	ck_assert_str_eq(again, xml);
}
END_TEST

/* A domain with only a name, a UUID, an arch and an accelerator. */
static struct qc_domain *named_domain(
	const char *name, const char *uuid, enum qc_arch arch, enum qc_accel accel)
{
	struct qc_domain *d = qc_domain_new();

	d->name = qc_xstrdup(name);
	ck_assert_int_eq(qc_uuid_parse(uuid, d->uuid), 0);
	qc_uuid_format(d->uuid, d->uuid_str);
	d->arch = arch;
	d->accel = accel;
	return d;
}

START_TEST(xml_golden_small)
{
	cleanup_domain struct qc_domain *d = named_domain(
		"tiny", "00112233445566778899aabbccddeeff", QC_ARCH_X86_64, QC_ACCEL_TCG);
	cleanup_domain struct qc_domain *a = qc_domain_new();
	struct qc_disk *k;

	d->memory = 256 * MiB + 512; /* not a KiB multiple: written in bytes */
	d->serial_console = false;
	d->seed.enabled = false;
	golden_xml("tiny-bytes", d);

	a->name = qc_xstrdup("arm");
	ck_assert_int_eq(qc_uuid_parse("6a1c9d2e-3b4f-4a5b-8c6d-7e8f9a0b1c2d", a->uuid), 0);
	qc_uuid_format(a->uuid, a->uuid_str);
	a->arch = QC_ARCH_AARCH64;
	a->accel = QC_ACCEL_KVM;
	a->machine = qc_xstrdup("virt-7.2");
	a->cpu_model = qc_xstrdup("host");
	a->loader = qc_xstrdup("/usr/share/AAVMF/AAVMF_CODE.fd");
	a->nvram = qc_xstrdup("/var/lib/qemuctl/vms/arm/nvram.fd");
	k = golden_add_disk(a, "disk0", "/var/lib/qemuctl/vms/arm/disk0.qcow2", "qcow2");
	k->role = QC_ROLE_ROOT;
	k->owned = true; /* no target: the writer picks vda */
	golden_xml("aarch64-uefi", a);
}
END_TEST

/* -------------------------------------------- a libvirt XML loses nothing */

/* "path@attr=value" and "path#text" for every element of the tree. */
static void signatures(xmlNodePtr n, const char *parent, struct qc_strv *out)
{
	for (; n; n = n->next) {
		cleanup_free char *path = NULL;
		bool has_kids = false;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		path = qc_xasprintf("%s/%s%s%s", parent,
			n->ns && n->ns->prefix ? (const char *) n->ns->prefix : "",
			n->ns && n->ns->prefix ? ":" : "", (const char *) n->name);
		qc_strv_push(out, path);
		for (xmlAttrPtr a = n->properties; a; a = a->next) {
			xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);

			qc_strv_pushf(out, "%s@%s=%s", path, a->name, v ? (const char *) v : "");
			xmlFree(v);
		}
		for (xmlNodePtr c = n->children; c; c = c->next)
			has_kids |= c->type == XML_ELEMENT_NODE;
		if (!has_kids) {
			xmlChar *t = xmlNodeGetContent(n);

			if (t && *t)
				qc_strv_pushf(out, "%s#%s", path, (const char *) t);
			xmlFree(t);
		}
		signatures(n->children, path, out);
	}
}

static void doc_signatures(const char *xml, struct qc_strv *out)
{
	xmlDocPtr doc = xmlReadMemory(xml, (int) strlen(xml), "x.xml", NULL,
		XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);

	ck_assert_ptr_nonnull(doc);
	signatures(xmlDocGetRootElement(doc), "", out);
	xmlFreeDoc(doc);
}

START_TEST(xml_libvirt_lossless)
{
	cleanup_free char *in = golden_read("xml/libvirt-web.in.xml"), *out = NULL, *again = NULL;
	cleanup_strvec struct qc_strv w = {0}, sin = {0}, sout = {0};
	cleanup_domain struct qc_domain *d = NULL;
	cleanup_free char *joined = NULL;
	char msg[2048];
	static const char *const want_warnings[] = {
		"web.xml:6: <description> is not supported; kept as is",
		"web.xml:19: <features> is not supported; kept as is",
		"web.xml:25: <clock> is not supported; kept as is",
		"web.xml:30: <on_poweroff> is not supported; kept as is",
		"web.xml:31: <on_reboot> is not supported; kept as is",
		"web.xml:32: <on_crash> is not supported; kept as is",
		"web.xml:33: <pm> is not supported; kept as is",
		"web.xml:114: <qemu:commandline> is not supported; kept as is",
		"web.xml:17: <boot> is not supported; kept as is",
		"web.xml:24: attribute check='none' of <cpu> is not supported; kept as is",
		"web.xml:24: attribute migratable='on' of <cpu> is not supported; kept as is",
		"web.xml:38: <emulator> is not supported; kept as is",
		"web.xml:62: <controller> is not supported; kept as is",
		"web.xml:65: <controller> is not supported; kept as is",
		"web.xml:95: <channel> is not supported; kept as is",
		"web.xml:99: <input> is not supported; kept as is",
		"web.xml:102: <graphics> is not supported; kept as is",
		"web.xml:106: <video> is not supported; kept as is",
		"web.xml:109: <memballoon> is not supported; kept as is",
		"web.xml:110: <rng> is not supported; kept as is",
		"web.xml:48: <address> is not supported; kept as is",
		"web.xml:40: attribute discard='unmap' of <driver> is not supported; kept as is",
		"web.xml:55: <address> is not supported; kept as is",
		"web.xml:57: <disk type='block'> is not supported (only type='file'); kept as is",
		"web.xml:70: <address> is not supported; kept as is",
		"web.xml:75: <target> is not supported; kept as is",
		("web.xml:78: <interface type='direct'> is not supported (user, network or "
		 "bridge); "
		 "kept as is"),
		"web.xml:82: <driver> is not supported; kept as is",
	};

	ck_assert_ptr_nonnull(in);
	d = parse_ok(in, "web.xml", &w);
	out = dump(d);
	ck_assert_msg(golden_check("xml/libvirt-web.xml", out, msg, sizeof(msg)) == 0, "%s", msg);
	joined = qc_strv_join(w.v, "\n");
	ck_assert_msg(w.n == QC_ARRAY_SIZE(want_warnings), "%zu warnings:\n%s", w.n, joined);
	for (size_t i = 0; i < QC_ARRAY_SIZE(want_warnings); i++)
		ck_assert_str_eq(w.v[i], want_warnings[i]);

	/* what the model understood */
	ck_assert_int_eq(d->accel, QC_ACCEL_KVM);
	ck_assert_str_eq(d->machine, "pc-q35-7.2");
	ck_assert_str_eq(d->cpu_model, "host");
	ck_assert_int_eq(d->memory, 2048 * MiB);
	ck_assert_int_eq(d->cpus, 2);
	ck_assert_int_eq(d->n_disks, 2);
	ck_assert_str_eq(d->disks[0].backing, "/var/lib/libvirt/images/debian-12-base.qcow2");
	ck_assert_int_eq(d->disks[0].role, QC_ROLE_ROOT);
	ck_assert(!d->disks[0].owned);
	ck_assert_int_eq(d->disks[1].device, QC_DEVICE_CDROM);
	ck_assert_int_eq(d->disks[1].bus, QC_BUS_SATA);
	ck_assert_int_eq(d->n_nics, 2);
	ck_assert_str_eq(d->nics[0].network, "default");
	ck_assert_str_eq(d->nics[1].model, "e1000e");
	ck_assert_int_eq(d->n_shares, 1);
	ck_assert_str_eq(d->shares[0].security_model, "mapped-xattr");
	ck_assert(d->serial_console && !d->seed.enabled);

	/* every element, attribute and text of the input is in the output */
	doc_signatures(in, &sin);
	doc_signatures(out, &sout);
	for (size_t i = 0; i < sin.n; i++) {
		bool found = false;

		for (size_t j = 0; j < sout.n && !found; j++)
			found = strcmp(sin.v[i], sout.v[j]) == 0;
		ck_assert_msg(found, "'%s' was lost by define + dumpxml", sin.v[i]);
	}

	/* and the output is stable */
	{
		cleanup_domain struct qc_domain *d2 = parse_ok(out, "web.xml", NULL);

		again = dump(d2);
		ck_assert_str_eq(again, out);
	}
}
END_TEST

/* ------------------------------------------------------------ bad input */


static void bad(const char *xml, const char *want)
{
	struct qc_domain *d = NULL;
	struct qc_error err = {0};
	int r = qc_domain_from_xml(xml, strlen(xml), "t.xml", NULL, NULL, &d, &err);

	ck_assert_msg(r < 0, "accepted: %s", xml);
	ck_assert_ptr_null(d);
	ck_assert_str_eq(err.msg, want);
}

#define HEAD "<domain type='qemu'>\n  <name>t</name>\n"

/* --tpm and --secure-boot: <tpm> and <loader secure='yes'>, round trip and refusals. */
START_TEST(xml_tpm_secure_boot)
{
	cleanup_domain struct qc_domain *d = named_domain(
		"sb", "00112233445566778899aabbccddeeff", QC_ARCH_X86_64, QC_ACCEL_TCG);
	cleanup_domain struct qc_domain *back = NULL, *bare = NULL;
	cleanup_free char *xml = NULL;
	struct qc_disk *k;

	d->memory = 512 * MiB;
	d->secure_boot = true;
	d->tpm = true;
	d->loader = qc_xstrdup("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");
	d->nvram = qc_xstrdup("/var/lib/qemuctl/vms/sb/nvram.fd");
	k = golden_add_disk(d, "disk0", "/var/lib/qemuctl/vms/sb/disk0.qcow2", "qcow2");
	k->role = QC_ROLE_ROOT;
	k->owned = true;
	golden_xml("tpm-secure-boot", d);
	xml = dump(d);
	back = parse_ok(xml, "sb.xml", NULL);
	ck_assert(back->tpm && back->secure_boot);

	/* libvirt's firmware autoselection form: the arch's Secure Boot code */
	bare = parse_ok(HEAD "  <memory unit='MiB'>64</memory>\n  <os>\n    <type>hvm</type>\n"
			     "    <loader secure='yes'/>\n  </os>\n</domain>\n",
		"b.xml", NULL);
	ck_assert(bare->secure_boot);
	ck_assert_ptr_null(bare->loader);
	ck_assert_str_eq(qc_argv_firmware_code(bare), "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");

#define DEV(x) HEAD "  <memory unit='MiB'>64</memory>\n  <devices>\n" x "  </devices>\n</domain>\n"
	bad(DEV("    <tpm model='tpm-tis'>\n      <backend type='passthrough'/>\n    </tpm>\n"),
		"t.xml:5: <tpm> needs <backend type='emulator' version='2.0'/> (a per-VM swtpm); "
		"host TPM passthrough is not supported");
	bad(DEV("    <tpm model='tpm-tis'/>\n"),
		"t.xml:5: <tpm> needs <backend type='emulator' version='2.0'/> (a per-VM swtpm); "
		"host TPM passthrough is not supported");
	bad(DEV("    <tpm model='tpm-crb'>\n      <backend type='emulator'/>\n    </tpm>\n"),
		"t.xml:5: <tpm model='tpm-crb'>: x86_64 VMs get model 'tpm-tis'");
	bad(DEV("    <tpm>\n      <backend type='emulator' version='1.2'/>\n    </tpm>\n"),
		"t.xml:6: <tpm> backend version '1.2': only TPM 2.0 ('2.0')");
	bad(DEV("    <tpm><backend type='emulator'/></tpm>\n"
		"    <tpm><backend type='emulator'/></tpm>\n"),
		"t.xml:6: a second <tpm>: a VM has at most one TPM");
#undef DEV
	/* virt: libvirt's "tpm-tis" is the TIS device virt has; dumpxml names it */
	{
		cleanup_strvec struct qc_strv w = {0};
		cleanup_domain struct qc_domain *arm =
			parse_ok(HEAD "  <memory unit='MiB'>64</memory>\n  <os>\n"
				      "    <type arch='aarch64'>hvm</type>\n  </os>\n  <devices>\n"
				      "    <tpm model='tpm-tis'><backend type='emulator'/></tpm>\n"
				      "  </devices>\n</domain>\n",
				"arm.xml", &w);
		cleanup_free char *out = dump(arm);

		ck_assert(arm->tpm);
		ck_assert_uint_eq(w.n, 0);
		unit_assert_contains(out, "<tpm model='tpm-tis-device'>");
	}
	bad(HEAD "  <memory unit='MiB'>64</memory>\n  <os>\n    <type>hvm</type>\n"
		 "    <loader secure='maybe'/>\n  </os>\n</domain>\n",
		"t.xml:6: <loader secure='maybe'>: expected yes or no");
	bad(HEAD "  <memory unit='MiB'>64</memory>\n  <os>\n    <type arch='aarch64'>hvm</type>\n"
		 "    <loader secure='yes'/>\n  </os>\n</domain>\n",
		"t.xml: VM 't': Secure Boot is not available on aarch64: qemuctl has Secure Boot "
		"firmware (OVMF with SMM) for x86_64 only; drop --secure-boot");
}
END_TEST

/* <tpm> with <kernel> on x86_64: refused at the <tpm>'s line, wherever <os> stands. */
START_TEST(xml_tpm_kernel)
{
#define OS(arch) "  <os>\n    <type arch='" arch "'>hvm</type>\n    <kernel>/k</kernel>\n  </os>\n"
#define TPM "  <devices>\n    <tpm><backend type='emulator'/></tpm>\n  </devices>\n"
#define WHY                                                                                      \
	"VM 't': a TPM with a direct kernel boot does not work on x86_64: SeaBIOS runs before "   \
	"the kernel and its TPM setup corrupts the ACPI tables the kernel reads (the guest runs " \
	"without ACPI and sees no TPM); boot from a disk through UEFI firmware instead (no "       \
	"--kernel or <kernel>: with the ovmf package installed qemuctl boots x86_64 disks "       \
	"through OVMF), or drop --tpm (<tpm>)"
	bad(HEAD "  <memory unit='MiB'>64</memory>\n" OS("x86_64") TPM "</domain>\n",
		"t.xml:9: " WHY);
	bad(HEAD "  <memory unit='MiB'>64</memory>\n" TPM OS("x86_64") "</domain>\n",
		"t.xml:5: " WHY);
	/* no SeaBIOS before an aarch64 kernel: its TPM stays */
	{
		cleanup_domain struct qc_domain *arm = parse_ok(
			HEAD "  <memory unit='MiB'>64</memory>\n" OS("aarch64") TPM "</domain>\n",
			"arm.xml", NULL);

		ck_assert(arm->tpm && arm->kernel);
	}
#undef WHY
#undef TPM
#undef OS
}
END_TEST

START_TEST(xml_bad_inputs)
{
	bad("<domain type='qemu'>\n  <name>x</name>\n</domian>\n",
		"t.xml:3: malformed XML: Opening and ending tag mismatch: domain line 1 and "
		"domian");
	bad("", "t.xml:1: malformed XML: Document is empty");
	bad("<domain type='qemu'>\n  <name>x<name>\n", "t.xml:3: malformed XML: Premature end of "
						       "data in tag name line 2");
	bad("<vm/>", "t.xml:1: root element is <vm>, expected <domain>");
	bad("<domain type='qemu'>\n  <name>x</name>\n  <metadata>\n    <qemuctl:domain/>\n"
	    "  </metadata>\n</domain>\n",
		"t.xml:4: malformed XML: Namespace prefix qemuctl on domain is not defined");
	bad("<domain type='xen'><name>x</name></domain>",
		"t.xml:1: domain type 'xen' is not supported (kvm or qemu)");
	bad("<domain>\n<name>x</name></domain>", "t.xml:1: <domain> has no type (kvm or qemu)");
	bad("<domain type='qemu'>\n  <memory>1</memory>\n</domain>", "t.xml:1: missing <name>");
	bad("<domain type='qemu'>\n  <name>t</name>\n  <name>u</name>\n</domain>",
		"t.xml:3: duplicate <name> in <domain>");
	bad("<domain type='qemu'>\n  <name>../x</name>\n</domain>",
		"t.xml:2: VM name '../x' is invalid: only letters, digits, '.', '_' and '-' are "
		"allowed, starting with a letter or digit, at most 63 characters");
	bad(HEAD "  <uuid>not-a-uuid</uuid>\n</domain>",
		"t.xml:3: bad <uuid> 'not-a-uuid' (want 8-4-4-4-12 hex digits)");
	bad(HEAD "</domain>", "t.xml:1: missing <memory>");
	bad(HEAD "  <memory unit='MiB'>-512</memory>\n</domain>",
		"t.xml:3: <memory>: memory must be greater than 0, not '-512'");
	bad(HEAD "  <memory>0</memory>\n</domain>",
		"t.xml:3: <memory>: memory must be greater than 0, not '0'");
	bad(HEAD "  <memory unit='XB'>5</memory>\n</domain>",
		"t.xml:3: <memory>: unknown unit 'XB' (b, bytes, KB, k, KiB, MB, M, MiB, GB, G, "
		"GiB, "
		"TB, T, TiB)");
	bad(HEAD "  <memory>12abc</memory>\n</domain>",
		"t.xml:3: <memory>: memory size '12abc' is not a number");
	bad(HEAD "  <memory unit='TiB'>99999999</memory>\n</domain>",
		"t.xml:3: <memory>: memory size '99999999 TiB' is too large");
	bad(HEAD "  <memory unit='KiB'>100</memory>\n</domain>",
		"t.xml: VM 't': memory must be at least 1 MiB (got 102400 bytes)");
	bad(HEAD "  <memory unit='MiB'>64</memory>\n  <vcpu>0</vcpu>\n</domain>",
		"t.xml:4: <vcpu> must be a number from 1 to 1024, not '0'");
	bad(HEAD "  <memory unit='MiB'>64</memory>\n  <vcpu>1025</vcpu>\n</domain>",
		"t.xml:4: <vcpu> must be a number from 1 to 1024, not '1025'");
	bad(HEAD "  <memory unit='MiB'>64</memory>\n  <os>\n    <type arch='sparc64'>hvm</type>\n"
		 "  </os>\n</domain>",
		"t.xml:5: unknown arch 'sparc64' (x86_64, aarch64 or ppc64le)");
	bad(HEAD "  <memory unit='MiB'>64</memory>\n  <devices>\n"
		 "    <disk type='file' device='disk'>\n      <source file='/a.img'/>\n"
		 "      <target dev='vda' bus='virtio'/>\n    </disk>\n"
		 "    <disk type='file' device='disk'>\n      <source file='/b.img'/>\n"
		 "      <target dev='vda' bus='virtio'/>\n    </disk>\n  </devices>\n</domain>",
		"t.xml:11: duplicate disk target 'vda'");
	bad(HEAD "  <memory unit='MiB'>64</memory>\n  <devices>\n"
		 "    <disk type='file'>\n      <driver name='qemu' type='vmdk'/>\n"
		 "      <source file='/a.img'/>\n      <target dev='vda'/>\n    </disk>\n"
		 "  </devices>\n</domain>",
		"t.xml:6: disk 'vda': format 'vmdk' is not supported (qcow2 or raw)");
	bad(HEAD "  <memory unit='MiB'>64</memory>\n  <devices>\n"
		 "    <disk type='file'>\n      <source file='/a.img'/>\n    </disk>\n"
		 "  </devices>\n</domain>",
		"t.xml:5: <disk> has no <target dev>");
	bad(HEAD "  <memory unit='MiB'>64</memory>\n  <devices>\n"
		 "    <interface type='network'/>\n  </devices>\n</domain>",
		"t.xml:5: <interface type='network'> needs <source network='NAME'/>");
	bad(HEAD "  <memory unit='MiB'>64</memory>\n  <devices>\n    <interface type='user'>\n"
		 "      <mac address='52:54:00:zz'/>\n    </interface>\n  </devices>\n</domain>",
		"t.xml:6: bad MAC address '52:54:00:zz'");
	bad(HEAD "  <memory unit='MiB'>64</memory>\n  <devices>\n"
		 "    <filesystem accessmode='mapped'>\n      <source dir='/srv'/>\n"
		 "    </filesystem>\n  </devices>\n</domain>",
		"t.xml:5: <filesystem> has no <target dir='TAG'/>");
	bad(HEAD "  <memory unit='MiB'>64</memory>\n  <metadata>\n"
		 "    <qemuctl:domain xmlns:qemuctl='https://qemuctl.dev/xmlns/domain/1'>\n"
		 "      <qemuctl:accel>fast</qemuctl:accel>\n    </qemuctl:domain>\n"
		 "  </metadata>\n</domain>",
		"t.xml:6: unknown accelerator 'fast' (auto, kvm or tcg)");
	bad(HEAD "  <memory unit='MiB'>64</memory>\n  <metadata>\n"
		 "    <qemuctl:domain xmlns:qemuctl='https://qemuctl.dev/xmlns/domain/1'>\n"
		 "      <qemuctl:disk name='disk7' role='data'/>\n    </qemuctl:domain>\n"
		 "  </metadata>\n</domain>",
		"t.xml:6: qemuctl metadata names disk 'disk7', which <devices> does not have");
	/* a second block under another prefix would be kept, never checked */
	bad(HEAD "  <memory unit='MiB'>64</memory>\n  <metadata>\n"
		 "    <qemuctl:domain xmlns:qemuctl='https://qemuctl.dev/xmlns/domain/1'/>\n"
		 "    <q:domain xmlns:q='https://qemuctl.dev/xmlns/domain/1'><q:seed enabled='yes'>"
		 "<q:user-data>/etc/shadow</q:user-data></q:seed></q:domain>\n"
		 "  </metadata>\n</domain>",
		"t.xml:6: duplicate <domain> in qemuctl's namespace in <metadata>; merge its "
		"records into the first");
	bad(HEAD "  <memory unit='MiB'>64</memory>\n  <cpu mode='host-model'>\n"
		 "    <model>qemu64</model>\n  </cpu>\n</domain>",
		"t.xml:5: <model> is only allowed with <cpu mode='custom'>");
}
END_TEST

/* With a state root, records naming files are held to vms/NAME/, each with its line. */
static void bad_at(const char *xml, const char *want)
{
	struct qc_domain *d = NULL;
	struct qc_error err = {0};
	int r = qc_domain_from_xml_at(xml, strlen(xml), "t.xml", "/r", NULL, NULL, &d, &err);

	ck_assert_msg(r < 0, "accepted: %s", xml);
	ck_assert_ptr_null(d);
	ck_assert_str_eq(err.msg, want);
}

#define QMETA "  <metadata><qemuctl:domain xmlns:qemuctl='https://qemuctl.dev/xmlns/domain/1'>\n"
#define QDISK(file, backing)                                                                       \
	"  <devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>\n"          \
	"    <source file='" file "'/>" backing "<target dev='vda'/></disk></devices>\n"
#define TAIL "  <memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os>\n"

START_TEST(xml_records_held_to_vm_dir)
{
	struct qc_domain *d = NULL;
	struct qc_error err = {0};
	const char *good = HEAD QMETA "    <qemuctl:disk name='disk0' role='root' owned='yes' "
				     "backing-image='img'/>\n  </qemuctl:domain></metadata>\n" TAIL
		QDISK("/r/vms/t/disk0.qcow2", "<backingStore type='file'><format type='qcow2'/>"
					       "<source file='/r/images/img.qcow2'/></backingStore>")
			"</domain>\n";
	const char *user = HEAD "  <devices><disk type='file' device='disk'><driver name='qemu' "
				"type='raw'/>\n    <source file='/dev/sdb'/><target dev='vda'/></disk>"
				"</devices>\n" TAIL "</domain>\n";

	ck_assert_qc_ok(qc_domain_from_xml_at(good, strlen(good), "t.xml", "/r", NULL, NULL, &d,
				&err),
		&err);
	qc_domain_free(d);
	d = NULL;
	/* a user's disk, not owned: anywhere */
	ck_assert_qc_ok(qc_domain_from_xml_at(user, strlen(user), "t.xml", "/r", NULL, NULL, &d,
				&err),
		&err);
	qc_domain_free(d);
	/* without a root (pure parse) the records are not held to a directory */
	d = NULL;
	ck_assert_qc_ok(qc_domain_from_xml(good, strlen(good), "t.xml", NULL, NULL, &d, &err), &err);
	qc_domain_free(d);

	bad_at(HEAD QMETA "    <qemuctl:disk name='disk0' owned='yes'/>\n"
			  "  </qemuctl:domain></metadata>\n" TAIL QDISK("/tmp/victim", "") "</domain>\n",
		"t.xml:4: disk 'disk0': owned disk '/tmp/victim' is not a file of this VM: it "
		"must be a plain file name directly in /r/vms/t/");
	bad_at(HEAD QMETA "    <qemuctl:disk name='disk0' owned='yes'/>\n"
			  "  </qemuctl:domain></metadata>\n" TAIL QDISK("/r/vms/t/../u/d.qcow2", "")
			  "</domain>\n",
		"t.xml:4: disk 'disk0': owned disk '/r/vms/t/../u/d.qcow2' is not a file of this "
		"VM: it must be a plain file name directly in /r/vms/t/");
	bad_at(HEAD QMETA "    <qemuctl:disk name='disk0' owned='yes' backing-image='img'/>\n"
			  "  </qemuctl:domain></metadata>\n" TAIL
				  QDISK("/r/vms/t/disk0.qcow2",
					  "<backingStore type='file'><format type='qcow2'/>"
					  "<source file='/etc/shadow'/></backingStore>") "</domain>\n",
		"t.xml:4: disk 'disk0': backing file '/etc/shadow' is not catalog image 'img' "
		"(/r/images/img.qcow2) it was made from");
	bad_at(HEAD QMETA "    <qemuctl:seed enabled='yes'>\n"
			  "      <qemuctl:user-data>/etc/shadow</qemuctl:user-data>\n"
			  "    </qemuctl:seed>\n  </qemuctl:domain></metadata>\n" TAIL "</domain>\n",
		"t.xml:5: qemuctl metadata <seed>: user-data '/etc/shadow' is not a file of this "
		"VM: it must be a plain file name directly in /r/vms/t/; to keep it, copy it to "
		"/r/vms/t/user-data and name the copy in <qemuctl:user-data>");
}
END_TEST

/* Fields that would smuggle options are refused where they are read, with the line. */
START_TEST(xml_fields_with_line)
{
	bad(HEAD "  <memory unit='MiB'>64</memory>\n"
		 "  <os><type arch='x86_64' machine='q35,accel=kvm'>hvm</type></os>\n</domain>\n",
		"t.xml:4: machine type 'q35,accel=kvm' is invalid: only letters, digits and '._-' "
		"are allowed");
	bad(HEAD "  <memory unit='MiB'>64</memory>\n  <os><type arch='x86_64'>hvm</type></os>\n"
		 "  <cpu mode='custom'>\n    <model>max,+vmx</model>\n  </cpu>\n</domain>\n",
		"t.xml:6: CPU model 'max,+vmx' is invalid: only letters, digits and '._-' are "
		"allowed");
	bad(HEAD QMETA "    <qemuctl:seed enabled='yes'>\n"
		       "      <qemuctl:user>-oProxyCommand=x</qemuctl:user>\n"
		       "    </qemuctl:seed>\n  </qemuctl:domain></metadata>\n" TAIL "</domain>\n",
		"t.xml:5: qemuctl metadata <seed>: user name '-oProxyCommand=x' is invalid: 1-32 of "
		"a-z 0-9 '_' '-', beginning with a-z or '_'");
	bad(HEAD "  <memory unit='MiB'>64</memory>\n  <os><type arch='x86_64'>hvm</type>\n"
		 "    <kernel>/boot/k</kernel>\n    <initrd>/boot/i,if=none</initrd>\n  </os>\n"
		 "</domain>\n",
		"t.xml:6: initrd '/boot/i,if=none' holds a ',' (QEMU would read the rest as another "
		"option); rename the file");
	bad(HEAD "  <memory unit='MiB'>64</memory>\n  <os><type arch='x86_64'>hvm</type></os>\n"
		 "  <devices><interface type='bridge'>\n"
		 "    <source bridge='br0,x=y'/></interface></devices>\n</domain>\n",
		"t.xml:6: bridge name 'br0,x=y' is invalid: only letters, digits and "
		"'._-' are allowed");
	bad(HEAD "  <memory unit='MiB'>64</memory>\n  <os><type arch='x86_64'>hvm</type></os>\n"
		 "  <devices><interface type='network'>\n"
		 "    <source network='../../etc/x'/></interface></devices>\n</domain>\n",
		"t.xml:6: network name '../../etc/x' is invalid: only letters, digits, '.', '_' and "
		"'-' are allowed, starting with a letter or digit, at most 63 characters");
}
END_TEST

START_TEST(xml_entities_refused)
{
	/* billion laughs: never expanded, refused before anything reads it */
	bad("<?xml version='1.0'?>\n<!DOCTYPE domain [\n  <!ENTITY a 'aaaaaaaaaa'>\n"
	    "  <!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>\n]>\n"
	    "<domain type='qemu'><name>&b;</name><memory>1</memory></domain>",
		"t.xml:2: a DOCTYPE that declares entities is not accepted");
	/* XXE: an external entity is not fetched (XML_PARSE_NONET, no NOENT) and refused */
	bad("<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>\n"
	    "<domain type='qemu'><name>&x;</name><memory>1</memory></domain>",
		"t.xml:1: a DOCTYPE that declares entities is not accepted");
	/* parameter entities count too (never loaded: no DTDLOAD) */
	bad("<!DOCTYPE domain [<!ENTITY % p SYSTEM 'file:///etc/passwd'> %p;]>\n"
	    "<domain type='qemu'><name>x</name><memory>1</memory></domain>",
		"t.xml:1: a DOCTYPE that declares entities is not accepted");
	/* an external DTD is neither fetched nor needed */
	{
		const char *x =
			"<!DOCTYPE domain SYSTEM 'http://127.0.0.1:9/none.dtd'>\n"
			"<domain type='qemu'><name>x</name><memory>1048576</memory></domain>";
		cleanup_domain struct qc_domain *d = parse_ok(x, "t.xml", NULL);

		ck_assert_str_eq(d->name, "x");
	}
	/* an undefined entity is a syntax error */
	bad("<domain type='qemu'><name>&x;</name></domain>",
		"t.xml:1: malformed XML: Entity 'x' not defined");
}
END_TEST

START_TEST(xml_too_big)
{
	size_t len = QC_XML_MAX_BYTES + 1;
	char *big = qc_xmalloc(len + 1);
	struct qc_domain *d = NULL;
	struct qc_error err = {0};

	memset(big, ' ', len);
	big[len] = 0;
	ck_assert_int_eq(
		qc_domain_from_xml(big, len, "big.xml", NULL, NULL, &d, &err), -QC_ERR_XML);
	ck_assert_str_eq(err.msg, "big.xml: 4194305 bytes is more than the 4 MiB allowed");
	free(big);
}
END_TEST

START_TEST(xml_units)
{
	static const struct {
		const char *v, *unit;
		uint64_t want;
	} ok[] = {
		{"1", "b", 1},
		{"7", "bytes", 7},
		{"2", "KB", 2000},
		{"2", "k", 2048},
		{"2", "KiB", 2048},
		{"3", NULL, 3072},
		{"1", "MB", 1000000},
		{"1", "M", 1 << 20},
		{"1", "MiB", 1 << 20},
		{"1", "GB", 1000000000},
		{"1", "G", 1 << 30},
		{"1", "GiB", 1 << 30},
		{"1", "TB", 1000000000000ULL},
		{"1", "T", 1ULL << 40},
		{"1", "TiB", 1ULL << 40},
	};
	struct qc_error err = {0};
	uint64_t v;

	for (size_t i = 0; i < QC_ARRAY_SIZE(ok); i++) {
		ck_assert_qc_ok(qc_xml_parse_memory(ok[i].v, ok[i].unit, &v, &err), &err);
		ck_assert_msg(v == ok[i].want, "%s %s -> %llu", ok[i].v, ok[i].unit,
			(unsigned long long) v);
	}
	ck_assert_int_lt(qc_xml_parse_memory("1", "kib", &v, &err), 0); /* case matters */
	ck_assert_int_lt(qc_xml_parse_memory("18446744073709551615", "KiB", &v, &err), 0);
}
END_TEST

START_TEST(xml_warnings_and_defaults)
{
	cleanup_strvec struct qc_strv w = {0};
	cleanup_domain struct qc_domain *d = parse_ok(
		"<domain type='qemu' id='5'>\n  <name>t</name>\n  <memory unit='GiB'>1</memory>\n"
		"  <devices>\n    <disk type='file' device='disk'>\n"
		"      <source file='/a.qcow2' startupPolicy='optional'/>\n"
		"      <target dev='sdb'/>\n    </disk>\n"
		"    <interface type='user'/>\n  </devices>\n</domain>\n",
		"t.xml", &w);

	ck_assert_int_eq(w.n, 2);
	ck_assert_str_eq(
		w.v[0], "t.xml:1: attribute id='5' of <domain> is not supported; kept as is");
	ck_assert_str_eq(w.v[1], "t.xml:6: attribute startupPolicy='optional' of <source> is not "
				 "supported; kept as is");
	ck_assert_int_eq(d->accel, QC_ACCEL_TCG);
	ck_assert_int_eq(d->cpus, 1);
	ck_assert_int_eq(d->disks[0].bus, QC_BUS_SCSI); /* libvirt: sd* means scsi */
	ck_assert_str_eq(d->disks[0].format, "raw");
	ck_assert_str_eq(d->disks[0].name, "disk0");
	ck_assert_str_eq(d->nics[0].name, "net0");
	{
		char mac[18];

		qc_net_mac_gen(d->uuid, 0, mac); /* no <mac>: derived from the uuid */
		ck_assert_str_eq(d->nics[0].mac, mac);
	}
	ck_assert(!d->serial_console);
	ck_assert(d->uuid_str[0]); /* generated */
}
END_TEST

/* Move full_domain's files from /var/lib/qemuctl into the state root root. */
static void rehome(struct qc_domain *d, const char *root)
{
	static const char old[] = "/var/lib/qemuctl";
	char **paths[] = {&d->disks[0].path, &d->disks[0].backing, &d->disks[2].path,
		&d->shares[1].path};

	for (size_t i = 0; i < QC_ARRAY_SIZE(paths); i++) {
		char *p = *paths[i];

		ck_assert(qc_str_has_prefix(p, old));
		*paths[i] = qc_xasprintf("%s%s", root, p + strlen(old));
		free(p);
	}
	free(d->seed.user_data);
	d->seed.user_data = qc_xasprintf("%s/vms/full/user-data", root);
}

START_TEST(xml_save_load)
{
	char *root = unit_mkdtemp();
	cleanup_free char *dir = qc_xasprintf("%s/vms/full", root);
	cleanup_domain struct qc_domain *d = full_domain();
	cleanup_domain struct qc_domain *back = NULL;
	cleanup_free char *path = qc_xasprintf("%s/domain.xml", dir), *a = NULL, *b = NULL;
	cleanup_free char *vms = qc_xasprintf("%s/vms", root);
	struct qc_error err = {0};
	struct stat st;
	int dfd;

	rehome(d, root);
	ck_assert_int_eq(mkdir(vms, 0700), 0);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ck_assert_int_ge(dfd, 0);
	ck_assert_qc_ok(qc_domain_save(d, dfd, "domain.xml", &err), &err);
	close(dfd);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_qc_ok(qc_domain_load(path, NULL, NULL, &back, &err), &err);
	a = dump(d);
	b = dump(back);
	ck_assert_str_eq(a, b);
	free(path);
	path = qc_xasprintf("%s/missing.xml", dir);
	ck_assert_int_lt(qc_domain_load(path, NULL, NULL, &back, &err), 0);
	unit_assert_contains(err.msg, "missing.xml");
	unit_rmdir(root);
}
END_TEST

START_TEST(xml_invalid_domain_not_written)
{
	cleanup_domain struct qc_domain *d = full_domain();
	struct qc_error err = {0};
	char *xml = NULL;

	d->cpus = 2000;
	ck_assert_int_eq(qc_domain_to_xml(d, &xml, &err), -QC_ERR_INVALID);
	ck_assert_ptr_null(xml);
	ck_assert_str_eq(err.msg, "VM 'full': cpus must be between 1 and 1024 (got 2000)");
}
END_TEST

static Suite *xml_suite(void)
{
	Suite *s = suite_create("xml");

	unit_tcase(s, "golden", xml_golden_full, xml_records_held_to_vm_dir, xml_fields_with_line,
		xml_golden_small, xml_libvirt_lossless, xml_tpm_secure_boot, xml_tpm_kernel, NULL);
	unit_tcase(s, "input", xml_bad_inputs, xml_entities_refused, xml_too_big, xml_units,
		xml_warnings_and_defaults, xml_save_load, xml_invalid_domain_not_written, NULL);
	return s;
}

UNIT_MAIN(xml_suite)
