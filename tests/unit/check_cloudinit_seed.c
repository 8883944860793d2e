/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cloudinit/seed.c and yaml.c: YAML quoting of hostile strings (checked by
 * PyYAML, the parser cloud-init itself uses), meta-data, the #cloud-config
 * document, the network-config v2 shape the test guest parses, the
 * acceptance table for verbatim user-data, and the checks on verbatim
 * network-config and ssh key files; sshd host keys in the #cloud-config
 * and which verbatim user-data leave them in place.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cloudinit/cloudinit.h"
#include "tests/unit/check_main.h"
#include "tests/unit/unit.h"

static char *scalar(const char *s)
{
	struct qc_buf b = {0};

	qc_cloudinit_yaml_scalar(&b, s);
	return qc_buf_steal(&b);
}

START_TEST(yaml_scalar_table)
{
	static const struct unit_case t[] = {
		{"simple", "simple"},
		{"web-1.example.com", "web-1.example.com"},
		{"/mnt/data", "\"/mnt/data\""},
		{"yes", "\"yes\""},
		{"Off", "\"Off\""},
		{"null", "\"null\""},
		{"123", "\"123\""},
		{"1e5", "\"1e5\""},
		{"a:b", "\"a:b\""},
		{"a b", "\"a b\""},
		{"#x", "\"#x\""},
		{"a\"b", "\"a\\\"b\""},
		{"back\\slash", "\"back\\\\slash\""},
		{"two\nlines", "\"two\\nlines\""},
		{"tab\there", "\"tab\\there\""},
		{"cr\r", "\"cr\\r\""},
		{"ctl\x01", "\"ctl\\x01\""},
		{"del\x7f", "\"del\\x7f\""},
		{"ls\xe2\x80\xa8", "\"ls\\L\""},
		{"nel\xc2\x85", "\"nel\\N\""},
		{"ünï", "\"ünï\""},
		{"", "\"\""},
		{"-dash", "\"-dash\""},
	};

	for (size_t i = 0; i < QC_ARRAY_SIZE(t); i++) {
		cleanup_free char *s = scalar(t[i].in);

		ck_assert_msg(
			!strcmp(s, t[i].want), "scalar(%s) = %s, expected %s", t[i].in, s, t[i].want);
	}
}
END_TEST

/* Parse YAML with PyYAML (cloud-init's parser) and return it as JSON. */
static qc_json *pyyaml(const char *doc)
{
	cleanup_free char *py = qc_find_program("python3");

	ck_assert_msg(
		py != NULL, "python3 is needed for the YAML checks (apt-get install python3-yaml)");
	const char *argv[] = {py, "-c",
		"import sys, json, yaml\n"
		"print(json.dumps(yaml.safe_load(sys.stdin.read()), default=str))",
		NULL};
	struct qc_spawn_opts o = {.argv = argv,
		.in = QC_STDIO_CAPTURE,
		.input = doc,
		.input_len = strlen(doc),
		.out = QC_STDIO_CAPTURE,
		.errout = QC_STDIO_CAPTURE,
		.timeout_ms = 30000};
	struct qc_spawn_result res = {0};
	struct qc_error err = {0};
	qc_json *j = NULL;

	ck_assert_msg(
		qc_spawn_check(&o, &res, &err) == 0, "PyYAML rejected:\n%s\n%s", doc, err.msg);
	ck_assert_msg(qc_json_parse(res.out, res.out_len, &j, &err) == 0, "%s", err.msg);
	qc_spawn_result_free(&res);
	return j;
}

static const char *const hostile_keys[] = {
	"ssh-ed25519 AAAAC3Nza \"quoted\" key: with colon # and hash",
	"ssh-rsa AAAAB3 back\\slash 'single' {brace} [bracket] & * ! | > %",
	"ssh-ed25519 AAAA\ttab ünïcödé 日本 \xe2\x80\xa8 line-sep",
	"no-pty,command=\"echo hi\" ssh-ed25519 AAAA user@host",
	NULL,
};

START_TEST(user_data_hostile_keys)
{
	struct qc_seed_share shares[] = {{"data", false}, {"ro-share", true}};
	struct qc_seed_config c = {.instance_id = "iid-x",
		.hostname = "h1",
		.ssh_keys = hostile_keys,
		.shares = shares,
		.n_shares = 2};
	struct qc_error err = {0};
	cleanup_free char *ud = NULL;

	ck_assert_msg(qc_cloudinit_user_data(&c, &ud, &err) == 0, "%s", err.msg);
	ck_assert(qc_str_has_prefix(ud, "#cloud-config\n"));
	cleanup_json qc_json *j = pyyaml(ud);
	const char *s;

	ck_assert_int_eq(qc_json_get_string(j, "hostname", &s, &err), 0);
	ck_assert_str_eq(s, "h1");
	const qc_json *users = qc_json_get(j, "users");

	ck_assert_uint_eq(qc_json_len(users), 2);
	ck_assert_str_eq(qc_json_string(qc_json_at(users, 0)), "default");
	const qc_json *u = qc_json_at(users, 1);

	ck_assert_int_eq(qc_json_get_string(u, "name", &s, &err), 0);
	ck_assert_str_eq(s, "qemuctl");
	ck_assert_int_eq(qc_json_get_string(u, "sudo", &s, &err), 0);
	ck_assert_str_eq(s, "ALL=(ALL) NOPASSWD:ALL");
	const qc_json *k = qc_json_get(u, "ssh_authorized_keys");
	const qc_json *top = qc_json_get(j, "ssh_authorized_keys");

	ck_assert_uint_eq(qc_json_len(k), 4);
	ck_assert_uint_eq(qc_json_len(top), 4);
	for (size_t i = 0; i < 4; i++) {
		ck_assert_str_eq(qc_json_string(qc_json_at(k, i)), hostile_keys[i]);
		ck_assert_str_eq(qc_json_string(qc_json_at(top, i)), hostile_keys[i]);
	}
	const qc_json *m = qc_json_get(j, "mounts");

	ck_assert_uint_eq(qc_json_len(m), 2);
	ck_assert_str_eq(qc_json_string(qc_json_at(qc_json_at(m, 0), 0)), "data");
	ck_assert_str_eq(qc_json_string(qc_json_at(qc_json_at(m, 0), 1)), "/mnt/data");
	ck_assert_str_eq(qc_json_string(qc_json_at(qc_json_at(m, 0), 2)), "9p");
	ck_assert_str_eq(qc_json_string(qc_json_at(qc_json_at(m, 0), 3)),
		"trans=virtio,version=9p2000.L,nofail");
	ck_assert_str_eq(qc_json_string(qc_json_at(qc_json_at(m, 1), 3)),
		"trans=virtio,version=9p2000.L,nofail,ro");
	ck_assert_int_eq(qc_json_get_string(j, "growpart/mode", &s, &err), 0);
	ck_assert_str_eq(s, "auto");
	/* the ready marker: a per-boot script (every boot), not a runcmd (first boot only) */
	ck_assert_ptr_null(qc_json_get(j, "runcmd"));
	const qc_json *wf = qc_json_get(j, "write_files");

	ck_assert_uint_eq(qc_json_len(wf), 1);
	ck_assert_int_eq(qc_json_get_string(qc_json_at(wf, 0), "path", &s, &err), 0);
	ck_assert_str_eq(s, "/var/lib/cloud/scripts/per-boot/qemuctl-ready");
	ck_assert_int_eq(qc_json_get_string(qc_json_at(wf, 0), "permissions", &s, &err), 0);
	ck_assert_str_eq(s, "0755");
	ck_assert_int_eq(qc_json_get_string(qc_json_at(wf, 0), "content", &s, &err), 0);
	ck_assert_str_eq(s, "#!/bin/sh\n"
			    "# qemuctl: the end of this boot, for `qemuctl wait`\n"
			    "echo \"QEMUCTL-READY $(cat /run/cloud-init/.instance-id 2>/dev/null || "
			    "cat /var/lib/cloud/data/instance-id)\" >/dev/console\n");
}
END_TEST

START_TEST(user_data_bad_options)
{
	struct qc_error err = {0};
	char *ud = NULL;
	const char *nl_key[] = {"ssh-ed25519 AAAA\nruncmd: [reboot]", NULL};
	struct qc_seed_config c = {.instance_id = "i", .ssh_keys = nl_key};

	ck_assert_int_eq(qc_cloudinit_user_data(&c, &ud, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "ssh key 1: must be one line of UTF-8 text");
	c.ssh_keys = NULL;
	c.hostname = "bad_host\"name";
	ck_assert_int_eq(qc_cloudinit_user_data(&c, &ud, &err), -QC_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err.msg, "bad_host\"name"));
	ck_assert_int_eq(qc_cloudinit_meta_data(&c, &ud, &err), -QC_ERR_INVALID);
	c.hostname = "ok";
	c.user = "Root!";
	ck_assert_int_eq(qc_cloudinit_user_data(&c, &ud, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "user name 'Root!': use 1..32 characters of [a-z0-9_-], starting "
				  "with a letter or '_'");
	c.user = NULL;
	struct qc_seed_share sh = {"../etc", false};

	c.shares = &sh;
	c.n_shares = 1;
	ck_assert_int_eq(qc_cloudinit_user_data(&c, &ud, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "share tag '../etc': use 1..31 characters of [A-Za-z0-9._-] (it "
				  "becomes /mnt/<tag>)");
	ck_assert_ptr_null(ud);
}
END_TEST

START_TEST(meta_data_text)
{
	struct qc_seed_config c = {
		.instance_id = "iid-6f1c2e1e-0000-4000-8000-000000000001-3", .hostname = "h1"};
	struct qc_error err = {0};
	cleanup_free char *md = NULL;
	cleanup_free char *md2 = NULL;

	ck_assert_int_eq(qc_cloudinit_meta_data(&c, &md, &err), 0);
	ck_assert_str_eq(md, "instance-id: iid-6f1c2e1e-0000-4000-8000-000000000001-3\n"
			     "local-hostname: h1\n");
	/* an all-digit host name stays a string */
	c.hostname = "123";
	ck_assert_int_eq(qc_cloudinit_meta_data(&c, &md2, &err), 0);
	cleanup_json qc_json *j = pyyaml(md2);

	ck_assert_int_eq(qc_json_type(qc_json_get(j, "local-hostname")), QC_JSON_STRING);
	c.instance_id = "has space";
	ck_assert_int_eq(qc_cloudinit_meta_data(&c, &md2, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(
		err.msg, "instance id 'has space': only printable ASCII without blanks is allowed");
}
END_TEST

START_TEST(network_config_shape)
{
	struct qc_seed_nic nic = {"52:54:00:12:34:56", "10.77.0.5/24", "10.77.0.1", NULL};
	struct qc_seed_config c = {.instance_id = "i", .nics = &nic, .n_nics = 1};
	struct qc_error err = {0};
	cleanup_free char *nc = NULL;

	ck_assert_int_eq(qc_cloudinit_network_config(&c, &nc, &err), 0);
	ck_assert_str_eq(nc, "version: 2\n"
			     "ethernets:\n"
			     "  net0:\n"
			     "    match:\n"
			     "      macaddress: \"52:54:00:12:34:56\"\n"
			     "    set-name: eth0\n"
			     "    addresses:\n"
			     "      - 10.77.0.5/24\n"
			     "    routes:\n"
			     "      - to: default\n"
			     "        via: 10.77.0.1\n");
	cleanup_json qc_json *j = pyyaml(nc);
	const char *s;

	ck_assert_int_eq(qc_json_get_string(j, "ethernets/net0/match/macaddress", &s, &err), 0);
	ck_assert_str_eq(s, "52:54:00:12:34:56");
}
END_TEST

START_TEST(network_config_mixed)
{
	const char *dns[] = {"10.77.0.1", "fd00::1", NULL};
	struct qc_seed_nic nics[] = {
		{"52:54:00:00:00:01", NULL, NULL, NULL},
		{"52:54:00:00:00:02", "fd00::5/64", "fd00::1", dns},
	};
	struct qc_seed_config c = {.instance_id = "i", .nics = nics, .n_nics = 2};
	struct qc_error err = {0};
	cleanup_free char *nc = NULL;
	char *none = (char *) "x";

	ck_assert_int_eq(qc_cloudinit_network_config(&c, &nc, &err), 0);
	cleanup_json qc_json *j = pyyaml(nc);
	bool dhcp;
	const char *s;

	ck_assert_int_eq(qc_json_get_bool(j, "ethernets/net0/dhcp4", &dhcp, &err), 0);
	ck_assert(dhcp);
	ck_assert_int_eq(qc_json_get_string(j, "ethernets/net1/set-name", &s, &err), 0);
	ck_assert_str_eq(s, "eth1");
	ck_assert_str_eq(qc_json_string(qc_json_at(
				 qc_json_path(j, "ethernets/net1/nameservers/addresses"), 1)),
		"fd00::1");
	/* no static address: no network-config at all */
	c.n_nics = 1;
	ck_assert_int_eq(qc_cloudinit_network_config(&c, &none, &err), 0);
	ck_assert_ptr_null(none);
	/* bad values never reach the YAML */
	struct qc_seed_nic bad[] = {{"52:54:00:00:00:0g", "10.0.0.5/24", NULL, NULL}};

	c.nics = bad;
	ck_assert_int_eq(qc_cloudinit_network_config(&c, &none, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "MAC address '52:54:00:00:00:0g': expected xx:xx:xx:xx:xx:xx");
	bad[0].mac = "52:54:00:00:00:01";
	bad[0].address = "10.0.0.5";
	ck_assert_int_eq(qc_cloudinit_network_config(&c, &none, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "address '10.0.0.5': expected an IP address with a /prefix "
				  "(10.0.0.5/24)");
	bad[0].address = "10.0.0.5/24\nx: y";
	ck_assert_int_eq(qc_cloudinit_network_config(&c, &none, &err), -QC_ERR_INVALID);
	bad[0].address = "10.0.0.5/33";
	ck_assert_int_eq(qc_cloudinit_network_config(&c, &none, &err), -QC_ERR_INVALID);
	bad[0].address = "10.0.0.5/24";
	bad[0].gateway = "10.0.0.1 # x";
	ck_assert_int_eq(qc_cloudinit_network_config(&c, &none, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "gateway '10.0.0.1 # x': expected an IP address");
}
END_TEST

/* An input a seed file check refuses: len bytes (0: strlen) and the whole message (NULL: any). */
struct bad_input {
	const char *text, *msg;
	size_t len;
};

/* check (what) accepts every good text and refuses every bad one with QC_ERR_INVALID. */
static void assert_checker(int (*check)(const char *, const char *, size_t, struct qc_error *),
	const char *what, const char *const *good, size_t n_good, const struct bad_input *bad,
	size_t n_bad)
{
	struct qc_error err = {0};

	for (size_t i = 0; i < n_good; i++)
		ck_assert_msg(check(what, good[i], strlen(good[i]), &err) == 0, "%s: %s", good[i],
			err.msg);
	for (size_t i = 0; i < n_bad; i++) {
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);

		ck_assert_int_eq(check(what, bad[i].text, len, &err), -QC_ERR_INVALID);
		if (bad[i].msg)
			ck_assert_str_eq(err.msg, bad[i].msg);
	}
}

START_TEST(user_data_acceptance)
{
	static const char *const good[] = {
		"#cloud-config\nhostname: x\n",
		"#Cloud-Config\n",
		"#cloud-config-archive\n- type: text/x-shellscript\n",
		"#!/bin/sh\necho hi\n",
		"#include\nhttp://example.com/ud\n",
		"#include-once\nhttp://example.com/ud\n",
		"#cloud-boothook\n#!/bin/sh\n",
		"## template: jinja\n#cloud-config\n",
		"#part-handler\n",
		"Content-Type: multipart/mixed; boundary=\"x\"\n",
		"content-type: MULTIPART/mixed\n",
	};
	static const struct bad_input bad[] = {
		{"hello: world\n",
			"user-data 'u': starts with 'hello: world', which cloud-init does not "
			"recognise; the first line must be '#cloud-config', '#!<interpreter>', "
			"'#include', '#cloud-boothook', '## template: jinja' or "
			"'Content-Type: multipart/...'",
			13},
		{" #cloud-config\n", NULL, 15},
		{"", "user-data 'u': empty; start it with '#cloud-config' or '#!'", 0},
		{"#cloud-config\n\0\1\2",
			"user-data 'u': binary data (a NUL byte at offset 14), expected text", 17},
		{"#!/bin/sh\n\xff\xfe", "user-data 'u': not valid UTF-8 text", 12},
		{"\x7f"
		 "ELF\x02\x01",
			NULL, 6},
	};
	struct qc_error err = {0};

	assert_checker(qc_cloudinit_check_user_data, "user-data 'u'", good, QC_ARRAY_SIZE(good),
		bad, QC_ARRAY_SIZE(bad));
	/* over 16 MiB */
	size_t big = QC_SEED_USER_DATA_MAX + 1;
	char *text = qc_xmalloc(big);

	memset(text, 'a', big);
	memcpy(text, "#!/bin/sh\n", 10);
	ck_assert_int_eq(
		qc_cloudinit_check_user_data("user-data 'big'", text, big, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "user-data 'big': 16777217 bytes is over the 16384 KiB limit");
	ck_assert_int_eq(qc_cloudinit_check_user_data("user-data 'big'", text, big - 1, &err), 0);
	free(text);
}
END_TEST

START_TEST(network_config_verbatim)
{
	static const char *const good[] = {
		"version: 2\nethernets:\n  eth0:\n    dhcp4: true\n",
		"# comment\n---\nnetwork:\n  version: 1\n  config: []\n",
		"{version: 2, ethernets: {}}\n",
		"\"version\": 2\r\n",
	};
	static const struct bad_input bad[] = {
		{"just some text\n",
			"--network-config 'n': line 1: expected 'key: value' at the top "
			"level, found 'just some text'"},
		{"version: 2\nethernets:\n\teth0: {}\n",
			"--network-config 'n': line 3: a tab in the indentation (YAML allows only "
			"spaces there)"},
		{"ethernets:\n  eth0: {}\n", "--network-config 'n': no top-level 'version' or "
					     "'network' key"},
		{"- version: 2\n", NULL},
		{"", "--network-config 'n': no 'key: value' mapping found"},
		{"# only a comment\n", NULL},
	};
	struct qc_error err = {0};

	assert_checker(qc_cloudinit_check_network_config, "--network-config 'n'", good,
		QC_ARRAY_SIZE(good), bad, QC_ARRAY_SIZE(bad));
	ck_assert_int_eq(qc_cloudinit_check_network_config("n", "version: 2\n\0", 12, &err),
		-QC_ERR_INVALID);
	size_t big = QC_SEED_NETWORK_CONFIG_MAX + 1;
	char *text = qc_xmalloc(big);

	memset(text, '#', big);
	ck_assert_int_eq(qc_cloudinit_check_network_config("n", text, big, &err), -QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "n: 1048577 bytes is over the 1024 KiB limit");
	free(text);
	ck_assert_int_eq(qc_cloudinit_check_meta_data("m", "instance-id: x\n", 15, &err), 0);
	ck_assert_int_eq(
		qc_cloudinit_check_meta_data("m", "not yaml at all", 15, &err), -QC_ERR_INVALID);
}
END_TEST

START_TEST(ssh_keys)
{
	static const char text[] = "# my keys\n"
				   "\n"
				   "  ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA one@host  \n"
				   "ecdsa-sha2-nistp256 AAAAE2Vj two@host\r\n"
				   "from=\"10.0.0.0/8\" ssh-rsa AAAAB3 three\n";
	struct qc_error err = {0};
	cleanup_strvec struct qc_strv keys = {0};

	ck_assert_int_eq(qc_cloudinit_parse_ssh_keys("k", text, sizeof(text) - 1, &keys, &err), 0);
	ck_assert_uint_eq(keys.n, 3);
	ck_assert_str_eq(keys.v[0], "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA one@host");
	ck_assert_str_eq(keys.v[1], "ecdsa-sha2-nistp256 AAAAE2Vj two@host");
	ck_assert_str_eq(keys.v[2], "from=\"10.0.0.0/8\" ssh-rsa AAAAB3 three");
	ck_assert_int_eq(qc_cloudinit_parse_ssh_keys("ssh key 'id'",
				 "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n", 41, &keys, &err),
		-QC_ERR_INVALID);
	ck_assert_str_eq(err.msg,
		"ssh key 'id': this is a private key; pass the public key (the .pub file)");
	ck_assert_int_eq(qc_cloudinit_parse_ssh_keys("ssh key 'e'", "# nothing\n", 10, &keys, &err),
		-QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "ssh key 'e': no ssh public key in the file");
	ck_assert_int_eq(qc_cloudinit_parse_ssh_keys(
				 "ssh key 'g'", "ssh-ed25519 A\ngarbage\n", 22, &keys, &err),
		-QC_ERR_INVALID);
	ck_assert_str_eq(err.msg, "ssh key 'g': line 2 is not an ssh public key (no ssh-*, ecdsa-* "
				  "or sk-* key type)");
	ck_assert_int_eq(
		qc_cloudinit_parse_ssh_keys("ssh key 'b'", "ssh-rsa \xff\n", 10, &keys, &err),
		-QC_ERR_INVALID);
	ck_assert_uint_eq(keys.n, 3); /* a failed file adds nothing */
}
END_TEST

/* A real pair from `ssh-keygen -t ed25519 -N '' -C web1`, for tests only. */
static const char test_private[] =
	"-----BEGIN OPENSSH PRIVATE KEY-----\n"
	"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
	"QyNTUxOQAAACBa9zaK+FhFIxXUOAbE9j+3mi8MHom/t1UaHmWhan2SugAAAIi2JNZdtiTW\n"
	"XQAAAAtzc2gtZWQyNTUxOQAAACBa9zaK+FhFIxXUOAbE9j+3mi8MHom/t1UaHmWhan2Sug\n"
	"AAAECQdHMt+UiF8/yqia37kiZGY6jDOOuNcE5bVbA1k9rDd1r3Nor4WEUjFdQ4BsT2P7ea\n"
	"Lwweib+3VRoeZaFqfZK6AAAABHdlYjEB\n"
	"-----END OPENSSH PRIVATE KEY-----\n";
static const char test_public[] =
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFr3Nor4WEUjFdQ4BsT2P7eaLwweib+3VRoeZaFqfZK6 web1";

START_TEST(user_data_host_keys)
{
	struct qc_seed_host_key hk = {"ed25519", test_private, test_public};
	struct qc_seed_config c = {.instance_id = "iid-x", .host_keys = &hk, .n_host_keys = 1};
	struct qc_error err = {0};
	cleanup_free char *ud = NULL;
	const char *s;

	ck_assert_qc_ok(qc_cloudinit_user_data(&c, &ud, &err), &err);
	ck_assert_ptr_nonnull(strstr(ud,
		"ssh_keys:\n  ed25519_private: |\n"
		"    -----BEGIN OPENSSH PRIVATE KEY-----\n"
		"    b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"));
	/* cloud-init's parser gives back the key files byte for byte */
	cleanup_json qc_json *j = pyyaml(ud);

	ck_assert_int_eq(qc_json_get_string(j, "ssh_keys/ed25519_private", &s, &err), 0);
	ck_assert_str_eq(s, test_private);
	ck_assert_int_eq(qc_json_get_string(j, "ssh_keys/ed25519_public", &s, &err), 0);
	ck_assert_str_eq(s, test_public);
	bool del = false;

	ck_assert(qc_json_as_bool(qc_json_get(j, "ssh_deletekeys"), &del) && del);
	ck_assert_uint_eq(qc_json_len(qc_json_get(j, "ssh_genkeytypes")), 1);
	ck_assert_str_eq(
		qc_json_string(qc_json_at(qc_json_get(j, "ssh_genkeytypes"), 0)), "ed25519");
	/* no host keys: none of it */
	c.n_host_keys = 0;
	free(ud);
	ud = NULL;
	ck_assert_qc_ok(qc_cloudinit_user_data(&c, &ud, &err), &err);
	ck_assert_ptr_null(strstr(ud, "ssh_keys"));
	ck_assert_ptr_null(strstr(ud, "ssh_deletekeys"));
}
END_TEST

/* Key texts that would break out of the YAML block or the quoted line are refused. */
START_TEST(user_data_host_keys_hostile)
{
	static const struct {
		const char *type, *priv, *pub, *msg;
	} bad[] = {
		{"dsa", NULL, NULL, "host key 1: type 'dsa' is not ed25519, ecdsa or rsa"},
		{"ed25519: x\nevil", NULL, NULL, "is not ed25519, ecdsa or rsa"},
		{"ed25519",
			"-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\nruncmd: [reboot]\n"
			"-----END OPENSSH PRIVATE KEY-----\n",
			NULL, "the private key holds something other than base64 lines"},
		{"ed25519",
			"-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n\n"
			"-----END OPENSSH PRIVATE KEY-----\n",
			NULL, "the private key holds something other than base64 lines"},
		{"ed25519",
			"-----BEGIN OPENSSH PRIVATE KEY-----\n"
			"-----END OPENSSH PRIVATE KEY-----\n",
			NULL, "the private key holds something other than base64 lines"},
		{"ed25519",
			"-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n"
			"-----END OPENSSH PRIVATE KEY-----",
			NULL, "is not one OpenSSH private key block"},
		{"ed25519",
			"-----BEGIN RSA PRIVATE KEY-----\nb3Bl\n"
			"-----END RSA PRIVATE KEY-----\n",
			NULL, "is not one OpenSSH private key block"},
		{"ed25519", "", NULL, "is not one OpenSSH private key block"},
		{"ed25519", test_private, "ssh-rsa AAAA x",
			"the public key is not one 'ssh-ed25519 <base64> [comment]' line"},
		{"ed25519", test_private, "ssh-ed25519 AAAA x\nruncmd: [reboot]", "the public key"},
		{"ed25519", test_private, "ssh-ed25519 AA\"AA x", "the public key"},
		{"ed25519", test_private, "ssh-ed25519  x", "the public key"},
		{"ed25519", test_private, "ssh-ed25519 \xff", "the public key"},
		{"ed25519", test_private, "", "the public key"},
	};
	struct qc_error err = {0};

	for (size_t i = 0; i < QC_ARRAY_SIZE(bad); i++) {
		struct qc_seed_host_key hk = {bad[i].type, bad[i].priv ? bad[i].priv : test_private,
			bad[i].pub ? bad[i].pub : test_public};
		struct qc_seed_config c = {
			.instance_id = "iid-x", .host_keys = &hk, .n_host_keys = 1};
		char *ud = NULL;

		ck_assert_qc_fail(
			qc_cloudinit_user_data(&c, &ud, &err), &err, QC_ERR_INVALID, bad[i].msg);
		ck_assert_ptr_null(ud);
	}
}
END_TEST

START_TEST(user_data_keeps_host_keys)
{
	static const struct {
		const char *text;
		bool keeps;
	} t[] = {
		{"#cloud-config\nruncmd: [true]\n", true},
		{"#cloud-config\r\npackages: [vim]\n", true},
		{"#!/bin/sh\necho ssh_keys\n", true},
		{"#cloud-config\nssh_keys:\n  ed25519_private: x\n", false},
		{"#cloud-config\n\"ssh_keys\": {}\n", false},
		{"#cloud-config\n\"ssh\\x5fkeys\": {}\n", false},
		{"#cloud-config\n\"ssh\\u005fkeys\": {}\n", false},
		{"#cloud-config\nvendor_data: {enabled: false}\n", false},
		{"#cloud-config\nmerge_how: 'dict(replace)'\n", false},
		{"#cloud-config-archive\n- type: text/cloud-config\n", false},
		{"#include\nhttp://example.com/cfg\n", false},
		{"#cloud-boothook\n#!/bin/sh\n", false},
		{"Content-Type: multipart/mixed\n", false},
		{"## template: jinja\n#cloud-config\n", false},
		{"#cloud-config", false},
		{"", false},
	};

	for (size_t i = 0; i < QC_ARRAY_SIZE(t); i++)
		ck_assert_msg(qc_cloudinit_user_data_keeps_host_keys(
				      t[i].text, strlen(t[i].text)) == t[i].keeps,
			"'%s': expected %d", t[i].text, t[i].keeps);
}
END_TEST

static Suite *seed_suite(void)
{
	Suite *s = suite_create("seed");

	unit_tcase(s, "content", yaml_scalar_table, user_data_hostile_keys, user_data_bad_options,
		meta_data_text, network_config_shape, network_config_mixed, user_data_acceptance,
		network_config_verbatim, ssh_keys, user_data_host_keys, user_data_host_keys_hostile,
		user_data_keeps_host_keys, NULL);
	return s;
}

UNIT_MAIN(seed_suite)
