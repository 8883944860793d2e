/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driver/network_ssh.c's ssh command line: the exact argv, hostile user
 * names, hosts and paths refused, and what the real ssh makes of the argv
 * (`ssh -G` prints the configuration it would connect with and exits): no
 * value from the definition or the state becomes an option.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/network_scp.h"
#include "driver/network_ssh.h"
#include "tests/unit/check_main.h"
#include "tests/unit/unit.h"

static struct qc_ssh_target good(void)
{
	static const char *const cmd[] = {"uname", "-a", NULL};

	return (struct qc_ssh_target){.user = "qemuctl",
		.host = "127.0.0.1",
		.port = 40022,
		.identity = "/var/lib/qemuctl/ssh/id_ed25519",
		.known_hosts = "/var/lib/qemuctl/vms/web1/known_hosts",
		.alias = "qemuctl-web1",
		.pinned = true,
		.cmd = cmd};
}

/* t makes an argv that, joined with spaces, is exactly want. */
static void assert_argv_line(const struct qc_ssh_target *t, const char *want)
{
	struct qc_error err = {0};
	cleanup_strv char **v = NULL;
	cleanup_free char *line = NULL;

	ck_assert_qc_ok(qc_driver_ssh_argv(t, &v, &err), &err);
	line = qc_strv_join(v, " ");
	ck_assert_str_eq(line, want);
}

START_TEST(argv_exact)
{
	struct qc_ssh_target t = good();

	assert_argv_line(&t,
		"ssh -l qemuctl -p 40022 -o StrictHostKeyChecking=yes "
		"-o UserKnownHostsFile=/var/lib/qemuctl/vms/web1/known_hosts "
		"-o GlobalKnownHostsFile=/dev/null -o HostKeyAlias=qemuctl-web1 "
		"-o CheckHostIP=no -o UpdateHostKeys=no -o HashKnownHosts=no -o LogLevel=ERROR "
		"-o ConnectTimeout=20 -o ServerAliveInterval=15 -o ServerAliveCountMax=4 "
		"-i /var/lib/qemuctl/ssh/id_ed25519 -o IdentitiesOnly=yes "
		"-- 127.0.0.1 uname -a");
	/* first use, no key file, no command, IPv6 */
	t.pinned = false;
	t.identity = NULL;
	t.cmd = NULL;
	t.host = "fd00::5";
	t.port = 22;
	t.known_hosts = "/r/vms/web1/known_hosts.tofu";
	assert_argv_line(&t,
		"ssh -l qemuctl -p 22 -o StrictHostKeyChecking=accept-new "
		"-o UserKnownHostsFile=/r/vms/web1/known_hosts.tofu "
		"-o GlobalKnownHostsFile=/dev/null -o HostKeyAlias=qemuctl-web1 "
		"-o CheckHostIP=no -o UpdateHostKeys=no -o HashKnownHosts=no -o LogLevel=ERROR "
		"-o ConnectTimeout=20 -o ServerAliveInterval=15 -o ServerAliveCountMax=4 "
		"-- fd00::5");
}
END_TEST

/* t is refused with QC_ERR_INVALID and a message holding msg; no argv is made. */
static void assert_refused(const struct qc_ssh_target *t, const char *msg)
{
	struct qc_error err = {0};
	char **v = NULL;

	ck_assert_qc_fail(qc_driver_ssh_argv(t, &v, &err), &err, QC_ERR_INVALID, msg);
	ck_assert_ptr_null(v);
}

START_TEST(argv_hostile)
{
	static const char *const users[] = {"-oProxyCommand=touch /tmp/qc-pwned", "-l", "root@evil",
		"a b", "", "Root", "a\nb", "a;id", "$(id)", "abcdefghijklmnopqrstuvwxyz0123456",
		NULL};
	static const char *const hosts[] = {"-oProxyCommand=touch /tmp/qc-pwned", "-J", "evil.com",
		"127.0.0.1 -oX", "user@127.0.0.1", "[::1]", "ssh://127.0.0.1", "127.0.0.1\n", "",
		"localhost", "127.1", NULL};
	static const char *const paths[] = {"/r/%h/known_hosts", "/r/a b/known_hosts",
		"/r/${HOME}/known_hosts", "~/known_hosts", "known_hosts", "/r/\"x", "/r/x#y",
		"/r/'x", "/r/x\\y", "/r/\xc3\xa9", "/r/\tx", "", NULL};
	struct qc_error err = {0};

	for (size_t i = 0; users[i]; i++) {
		struct qc_ssh_target t = good();

		t.user = users[i];
		assert_refused(&t, "ssh: user name '");
	}
	for (size_t i = 0; hosts[i]; i++) {
		struct qc_ssh_target t = good();

		t.host = hosts[i];
		assert_refused(&t, "is not an IP address");
	}
	for (size_t i = 0; paths[i]; i++) {
		struct qc_ssh_target t = good();
		char **v = NULL;

		t.known_hosts = paths[i];
		assert_refused(&t, "ssh: known_hosts file '");
		/* the key file may be relative, but nothing ssh expands either */
		t = good();
		t.identity = paths[i];
		if (!strcmp(paths[i], "known_hosts")) {
			ck_assert_qc_ok(qc_driver_ssh_argv(&t, &v, &err), &err);
			qc_strv_free(v);
			continue;
		}
		assert_refused(&t, "ssh: key file '");
	}
	{
		struct qc_ssh_target t = good();
		char **v = NULL;

		t.alias = "*";
		ck_assert_qc_fail(
			qc_driver_ssh_argv(&t, &v, &err), &err, QC_ERR_INVALID, "host key alias");
		t = good();
		t.port = 0;
		ck_assert_qc_fail(qc_driver_ssh_argv(&t, &v, &err), &err, QC_ERR_INVALID, "port 0");
		t.port = 65536;
		ck_assert_qc_fail(qc_driver_ssh_argv(&t, &v, &err), &err, QC_ERR_INVALID, "port");
	}
	ck_assert_str_eq(err.msg, "ssh: port 65536 is not in 1..65535");
}
END_TEST

/* `ssh -G ARGS`: the configuration the real ssh would use, one "key value" a line. */
static char *ssh_config(char **v)
{
	cleanup_free char *ssh = qc_find_program("ssh");
	struct qc_strv a = {0};
	char *out;

	ck_assert_msg(ssh != NULL, "ssh (openssh-client) is needed");
	qc_strv_push(&a, ssh);
	qc_strv_push(&a, "-G");
	qc_strv_push(&a, "-F");
	qc_strv_push(&a, "/dev/null");
	for (size_t i = 1; v[i]; i++)
		qc_strv_push(&a, v[i]);
	out = unit_spawn_out((const char *const *) a.v, NULL);
	qc_strv_free(qc_strv_steal(&a));
	return out;
}

static void has_line(const char *cfg, const char *line)
{
	cleanup_free char *l = qc_xasprintf("\n%s\n", line);
	cleanup_free char *c = qc_xasprintf("\n%s", cfg);

	ck_assert_msg(strstr(c, l) != NULL, "ssh -G has no line '%s':\n%s", line, cfg);
}

START_TEST(argv_as_ssh_reads_it)
{
	static const char *const cmd[] = {
		"-oProxyCommand=touch /tmp/qc-pwned", "-l", "root", "-p", "1", NULL};
	struct qc_ssh_target t = good();
	struct qc_error err = {0};
	cleanup_strv char **v = NULL;
	cleanup_free char *cfg = NULL;

	/* a remote command that looks like options stays the remote command */
	t.cmd = cmd;
	ck_assert_qc_ok(qc_driver_ssh_argv(&t, &v, &err), &err);
	cfg = ssh_config(v);
	has_line(cfg, "user qemuctl");
	has_line(cfg, "hostname 127.0.0.1");
	has_line(cfg, "port 40022");
	has_line(cfg, "stricthostkeychecking true");
	has_line(cfg, "userknownhostsfile /var/lib/qemuctl/vms/web1/known_hosts");
	has_line(cfg, "globalknownhostsfile /dev/null");
	has_line(cfg, "hostkeyalias qemuctl-web1");
	has_line(cfg, "checkhostip no");
	has_line(cfg, "updatehostkeys false");
	has_line(cfg, "hashknownhosts no");
	has_line(cfg, "identitiesonly yes");
	ck_assert_ptr_null(strstr(cfg, "proxycommand"));
	free(TAKE_PTR(cfg));
	qc_strv_free(TAKE_PTR(v));

	t.pinned = false;
	ck_assert_qc_ok(qc_driver_ssh_argv(&t, &v, &err), &err);
	cfg = ssh_config(v);
	has_line(cfg, "stricthostkeychecking accept-new");
}
END_TEST

/* ssh's options go between the port and qemuctl's settings: for most, ssh keeps the first */
START_TEST(argv_with_options)
{
	static const char *const opts[] = {"-L", "8080:127.0.0.1:80", "-At", "-NR9000:localhost:22",
		"-o", "ConnectTimeout=3", "-oServerAliveInterval 5", "-D", "1080", NULL};
	struct qc_ssh_target t = good();
	struct qc_error err = {0};
	cleanup_strv char **v = NULL;
	cleanup_free char *cfg = NULL;

	t.opts = opts;
	t.cmd = NULL;
	t.identity = NULL;
	assert_argv_line(&t,
		"ssh -l qemuctl -p 40022 -L 8080:127.0.0.1:80 -At -NR9000:localhost:22 -o "
		"ConnectTimeout=3 -oServerAliveInterval 5 -D 1080 -o StrictHostKeyChecking=yes "
		"-o UserKnownHostsFile=/var/lib/qemuctl/vms/web1/known_hosts "
		"-o GlobalKnownHostsFile=/dev/null -o HostKeyAlias=qemuctl-web1 "
		"-o CheckHostIP=no -o UpdateHostKeys=no -o HashKnownHosts=no -o LogLevel=ERROR "
		"-o ConnectTimeout=20 -o ServerAliveInterval=15 -o ServerAliveCountMax=4 "
		"-- 127.0.0.1");
	ck_assert_qc_ok(qc_driver_ssh_argv(&t, &v, &err), &err);
	cfg = ssh_config(v);
	has_line(cfg, "connecttimeout 3");
	has_line(cfg, "serveraliveinterval 5");
	has_line(cfg, "serveralivecountmax 4");
	has_line(cfg, "localforward 8080 [127.0.0.1]:80");
	has_line(cfg, "remoteforward 9000 [localhost]:22");
	has_line(cfg, "dynamicforward 1080");
	has_line(cfg, "forwardagent yes");
	has_line(cfg, "sessiontype none");
	has_line(cfg, "stricthostkeychecking true");
	free(TAKE_PTR(cfg));
	qc_strv_free(TAKE_PTR(v));

	/* no option: the timeouts are set all the same */
	t.opts = NULL;
	ck_assert_qc_ok(qc_driver_ssh_argv(&t, &v, &err), &err);
	cfg = ssh_config(v);
	has_line(cfg, "connecttimeout 20");
	has_line(cfg, "serveraliveinterval 15");
}
END_TEST

/* words is taken; its first option uses n words */
static void assert_opt_ok(const char *const *words, int n)
{
	struct qc_error err = {0};

	ck_assert_int_eq(qc_driver_ssh_check_opt(words, &err), n);
}

static void assert_opt_refused(const char *const *words, const char *msg)
{
	struct qc_error err = {0};

	ck_assert_qc_fail(qc_driver_ssh_check_opt(words, &err), &err, QC_ERR_INVALID, msg);
}

START_TEST(options_checked)
{
	static const char *const host_key[] = {"StrictHostKeyChecking=no",
		"stricthostkeychecking no", "UserKnownHostsFile=/dev/null",
		"GlobalKnownHostsFile /tmp/x", "HostKeyAlias=other", "CheckHostIP=yes",
		"UpdateHostKeys=yes", "KnownHostsCommand=/bin/true",
		"NoHostAuthenticationForLocalhost=yes", "VerifyHostKeyDNS=yes", NULL};
	static const char *const other[] = {"ProxyCommand=touch /tmp/qc-pwned", "ProxyJump=x",
		"HostName=evil", "Port=1", "User=root", "IdentityFile=/tmp/k",
		"ControlPath=/tmp/s", "ControlMaster=yes", "LocalCommand=id",
		"PermitLocalCommand=yes", "Include=/tmp/x", "Match=all", "Bogus=1", NULL};
	static const char *const flags[] = {"-A", "-a", "-C", "-f", "-g", "-N", "-n", "-q", "-T",
		"-t", "-tt", "-v", "-vvv", "-X", "-x", "-Y", "-AtN", NULL};

	for (size_t i = 0; flags[i]; i++)
		assert_opt_ok((const char *const[]){flags[i], "next", NULL}, 1);
	assert_opt_ok((const char *const[]){"-L", "8080:localhost:80", NULL}, 2);
	assert_opt_ok((const char *const[]){"-L8080:localhost:80", "x", NULL}, 1);
	assert_opt_ok((const char *const[]){"-NL", "8080:localhost:80", NULL}, 2);
	assert_opt_ok((const char *const[]){"-R", "[::1]:9000:localhost:22", NULL}, 2);
	assert_opt_ok((const char *const[]){"-D", "1080", NULL}, 2);
	assert_opt_ok((const char *const[]){"-o", "ServerAliveInterval=5", NULL}, 2);
	assert_opt_ok((const char *const[]){"-o", "SetEnv=A=b c", NULL}, 2);
	assert_opt_ok((const char *const[]){"-oExitOnForwardFailure yes", NULL}, 1);
	for (size_t i = 0; host_key[i]; i++) {
		assert_opt_refused((const char *const[]){"-o", host_key[i], NULL},
			"it would defeat the check of the guest's host key");
		assert_opt_refused((const char *const[]){"-NAo", host_key[i], NULL},
			"it would defeat the check of the guest's host key");
	}
	for (size_t i = 0; other[i]; i++)
		assert_opt_refused(
			(const char *const[]){"-o", other[i], NULL}, "not passed on; qemuctl ssh passes on");
	assert_opt_refused((const char *const[]){"-p", "22", NULL}, "'-p': the port is the VM's");
	assert_opt_refused((const char *const[]){"-l", "root", NULL}, "'-l': the user is the VM's");
	assert_opt_refused((const char *const[]){"-F", "/tmp/cfg", NULL}, "'-F': not passed on");
	assert_opt_refused((const char *const[]){"-J", "evil", NULL}, "'-J': not passed on");
	assert_opt_refused((const char *const[]){"-AJ", "evil", NULL}, "'-J': not passed on");
	assert_opt_refused((const char *const[]){"-W", "h:1", NULL}, "'-W': not passed on");
	assert_opt_refused((const char *const[]){"-S", "/tmp/s", NULL}, "'-S': not passed on");
	assert_opt_refused((const char *const[]){"-L", NULL}, "ssh option -L needs a value");
	assert_opt_refused((const char *const[]){"-o", "ServerAliveInterval", NULL}, "needs a value");
	assert_opt_refused((const char *const[]){"-L", "80 :x:1", NULL}, "without blanks");
	assert_opt_refused((const char *const[]){"-L", "", NULL}, "1..1024 characters");
	assert_opt_refused((const char *const[]){"-o", "SendEnv=A\nProxyCommand=x", NULL},
		"only printable ASCII");
	assert_opt_refused((const char *const[]){"--", NULL}, "not an option of ssh");
	assert_opt_refused((const char *const[]){"x", NULL}, "not an option of ssh");
	/* the argv checks them too */
	{
		static const char *const bad[] = {"-A", "-o", "StrictHostKeyChecking=no", NULL};
		struct qc_ssh_target t = good();

		t.opts = bad;
		assert_refused(&t, "-o StrictHostKeyChecking: refused");
	}
}
END_TEST

/* the Host block: what the real ssh reads from it for the VM's name */
START_TEST(config_block)
{
	struct qc_ssh_target t = good();
	struct qc_error err = {0};
	cleanup_free char *text = NULL, *cfg = NULL, *path = NULL;
	cleanup_free char *ssh = qc_find_program("ssh");
	char dir[] = "/tmp/qc-unit-sshcfg-XXXXXX";
	FILE *f;

	ck_assert_qc_ok(qc_driver_ssh_config("web1", &t, &text, &err), &err);
	ck_assert_str_eq(text,
		"Host web1\n  HostName 127.0.0.1\n  Port 40022\n  User qemuctl\n"
		"  IdentityFile /var/lib/qemuctl/ssh/id_ed25519\n  IdentitiesOnly yes\n"
		"  StrictHostKeyChecking yes\n"
		"  UserKnownHostsFile /var/lib/qemuctl/vms/web1/known_hosts\n"
		"  GlobalKnownHostsFile /dev/null\n  HostKeyAlias qemuctl-web1\n"
		"  CheckHostIP no\n  UpdateHostKeys no\n  HashKnownHosts no\n  LogLevel ERROR\n"
		"  ConnectTimeout 20\n  ServerAliveInterval 15\n  ServerAliveCountMax 4\n");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = qc_xasprintf("%s/config", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	ck_assert_msg(ssh != NULL, "ssh (openssh-client) is needed");
	cfg = unit_spawn_out((const char *const[]){ssh, "-G", "-F", path, "web1", NULL}, NULL);
	unlink(path);
	rmdir(dir);
	has_line(cfg, "user qemuctl");
	has_line(cfg, "hostname 127.0.0.1");
	has_line(cfg, "port 40022");
	has_line(cfg, "stricthostkeychecking true");
	has_line(cfg, "userknownhostsfile /var/lib/qemuctl/vms/web1/known_hosts");
	has_line(cfg, "hostkeyalias qemuctl-web1");
	has_line(cfg, "identityfile /var/lib/qemuctl/ssh/id_ed25519");
	has_line(cfg, "connecttimeout 20");
	free(TAKE_PTR(text));

	/* the same checks as the argv; a name that would be a pattern is refused */
	t.user = "-oProxyCommand=x";
	ck_assert_qc_fail(qc_driver_ssh_config("web1", &t, &text, &err), &err, QC_ERR_INVALID,
		"ssh: user name '");
	t = good();
	ck_assert_qc_fail(
		qc_driver_ssh_config("web*", &t, &text, &err), &err, QC_ERR_INVALID, "web*");
	ck_assert_ptr_null(text);
}
END_TEST

/* scp over SFTP with the ssh argv's settings; each path read as the side it is on */
START_TEST(scp_argv)
{
	struct qc_ssh_target t = good();
	struct qc_error err = {0};
	static const char *const up[] = {"/h/a b", "x:y", "-rf", NULL};
	static const char *const down[] = {"/tmp/a *[1]?.txt", "rel\\x", NULL};
	static const char *const none[] = {NULL}, *const empty[] = {"", NULL};
	cleanup_strv char **v = NULL;
	cleanup_free char *line = NULL;
	char **w = NULL;
	size_t n = 0;

	ck_assert_qc_ok(qc_driver_scp_argv(&t, QC_SCP_TO_GUEST | QC_SCP_RECURSIVE, up, "/tmp/d d",
				&v, &err),
		&err);
	line = qc_strv_join(v, " ");
	ck_assert_str_eq(line,
		"scp -s -P 40022 -o User=qemuctl -o StrictHostKeyChecking=yes "
		"-o UserKnownHostsFile=/var/lib/qemuctl/vms/web1/known_hosts "
		"-o GlobalKnownHostsFile=/dev/null -o HostKeyAlias=qemuctl-web1 "
		"-o CheckHostIP=no -o UpdateHostKeys=no -o HashKnownHosts=no -o LogLevel=ERROR "
		"-o ConnectTimeout=20 -o ServerAliveInterval=15 -o ServerAliveCountMax=4 "
		"-i /var/lib/qemuctl/ssh/id_ed25519 -o IdentitiesOnly=yes "
		"-r -- /h/a b ./x:y -rf 127.0.0.1:/tmp/d d");
	/* the words themselves: a path is one word after "--", never an option */
	while (v[n])
		n++;
	ck_assert_str_eq(v[n - 5], "--");
	ck_assert_str_eq(v[n - 4], "/h/a b");
	ck_assert_str_eq(v[n - 1], "127.0.0.1:/tmp/d d");
	qc_strv_free(TAKE_PTR(v));

	/* down from an IPv6 address: brackets; glob characters escaped */
	t.host = "fd00::5";
	t.identity = NULL;
	ck_assert_qc_ok(qc_driver_scp_argv(&t, 0, down, "C:dir", &v, &err), &err);
	for (n = 0; v[n]; n++)
		;
	ck_assert_str_eq(v[n - 3], "[fd00::5]:/tmp/a \\*\\[1\\]\\?.txt");
	ck_assert_str_eq(v[n - 2], "[fd00::5]:rel\\\\x");
	ck_assert_str_eq(v[n - 1], "./C:dir");
	free(line);
	line = qc_strv_join(v, " ");
	ck_assert_ptr_null(strstr(line, " -r "));

	/* refused: no source, an empty path, unknown flags, a bad target */
	t = good();
	ck_assert_qc_fail(qc_driver_scp_argv(&t, 0, none, "/x", &w, &err), &err, QC_ERR_INVALID,
		"a source and a destination");
	ck_assert_qc_fail(qc_driver_scp_argv(&t, 0, empty, "/x", &w, &err), &err, QC_ERR_INVALID,
		"source 1 is an empty path");
	ck_assert_qc_fail(qc_driver_scp_argv(&t, QC_SCP_TO_GUEST, up, "", &w, &err), &err,
		QC_ERR_INVALID, "destination is an empty path");
	ck_assert_qc_fail(
		qc_driver_scp_argv(&t, 1u << 7, up, "/x", &w, &err), &err, QC_ERR_INVALID, "flags");
	t.user = "-oProxyCommand=x";
	ck_assert_qc_fail(qc_driver_scp_argv(&t, QC_SCP_TO_GUEST, up, "/x", &w, &err), &err,
		QC_ERR_INVALID, "ssh: user name '");
	ck_assert_ptr_null(w);
}
END_TEST

static Suite *ssh_argv_suite(void)
{
	Suite *s = suite_create("ssh_argv");

	unit_tcase(s, "argv", argv_exact, argv_hostile, argv_as_ssh_reads_it, argv_with_options,
		options_checked, config_block, scp_argv, NULL);
	return s;
}

UNIT_MAIN(ssh_argv_suite)
