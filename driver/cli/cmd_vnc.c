/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemuctl vnc NAME [--listen [ADDR:]PORT]: how to reach a running VM's VNC
 * display, or a loopback TCP port forwarded to its unix socket (for
 * viewers that cannot open one) until Ctrl-C.  One child per connection
 * copies both ways.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "driver/cli/cli.h"

/* [ADDR:]PORT, ADDR a loopback IPv4 address (the socket asks for no password). */
static int parse_listen(const char *spec, struct sockaddr_in *sa)
{
	const char *colon = strrchr(spec, ':');
	struct qc_error err = {0};
	char addr[INET_ADDRSTRLEN] = "127.0.0.1";
	uint64_t port;

	*sa = (struct sockaddr_in){.sin_family = AF_INET};
	if (colon) {
		if ((size_t) (colon - spec) >= sizeof(addr))
			return cli_usage_error("vnc", "vnc: --listen '%s': not [ADDR:]PORT", spec);
		memcpy(addr, spec, (size_t) (colon - spec));
		addr[colon - spec] = 0;
	}
	if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1)
		return cli_usage_error(
			"vnc", "vnc: --listen '%s': '%s' is not an IPv4 address", spec, addr);
	if ((ntohl(sa->sin_addr.s_addr) >> 24) != 127)
		return cli_usage_error("vnc",
			"vnc: --listen '%s': %s is not a loopback address; the VNC socket asks "
			"for no password, so only 127.0.0.0/8 may reach it (from another host: "
			"ssh -L)",
			spec, addr);
	if (qc_uint_parse("--listen port", colon ? colon + 1 : spec, 0, 65535, &port, &err) < 0)
		return cli_usage_error("vnc", "vnc: %s (0: any free port)", err.msg);
	sa->sin_port = htons((uint16_t) port);
	return 0;
}

/* Copy a to b and b to a until both directions ended (half-closes passed on). */
static void relay(int a, int b)
{
	char buf[65536];
	bool open_ab = true, open_ba = true;

	while (open_ab || open_ba) {
		struct pollfd p[2] = {{.fd = open_ab ? a : -1, .events = POLLIN},
			{.fd = open_ba ? b : -1, .events = POLLIN}};

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (int k = 0; k < 2; k++) {
			int from = k ? b : a, to = k ? a : b;
			bool *open = k ? &open_ba : &open_ab;
			ssize_t n;

			if (!p[k].revents)
				continue;
			n = read(from, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				*open = false;
				(void) shutdown(to, SHUT_WR);
				continue;
			}
			if (cli_write_all(to, buf, (size_t) n) < 0)
				return;
		}
	}
}

static void serve_client(int client, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (s < 0 || connect(s, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
		fprintf(stderr,
			"qemuctl: error: vnc: connect '%s': %s (is the VM still running?)\n", path,
			strerror(errno));
		_exit(1);
	}
	relay(client, s);
	_exit(0);
}

static int forward(const char *vm, const char *path, const struct sockaddr_in *want, bool json)
{
	struct sigaction nozombies = {.sa_handler = SIG_IGN, .sa_flags = SA_NOCLDWAIT};
	struct sockaddr_in sa = *want;
	socklen_t len = sizeof(sa);
	char addr[INET_ADDRSTRLEN];
	autoclose int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (l < 0)
		return cli_error_errno(errno, "vnc: socket");
	(void) setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	inet_ntop(AF_INET, &sa.sin_addr, addr, sizeof(addr));
	if (bind(l, (struct sockaddr *) &sa, sizeof(sa)) < 0)
		return cli_error_errno(errno, "vnc: --listen %s:%u", addr, ntohs(sa.sin_port));
	if (listen(l, 8) < 0 || getsockname(l, (struct sockaddr *) &sa, &len) < 0)
		return cli_error_errno(errno, "vnc: listen on %s", addr);
	sigaction(SIGCHLD, &nozombies, NULL);
	if (json) {
		autojson struct cli_json *g = cli_json_new(false);
		autofree char *where = NULL;

		if (asprintf(&where, "%s:%u", addr, ntohs(sa.sin_port)) < 0)
			return cli_error_errno(ENOMEM, "vnc");
		cli_json_map_open(g);
		cli_json_kstring(g, "vm", vm);
		cli_json_kstring(g, "listen", where);
		cli_json_kstring(g, "socket", path);
		cli_json_map_close(g);
		if (cli_print_json(g) != CLI_OK)
			return CLI_ERROR;
	} else {
		printf("Forwarding %s:%u to the VNC display of VM '%s' (Ctrl-C stops)\n", addr,
			ntohs(sa.sin_port), vm);
	}
	fflush(stdout);
	for (;;) {
		int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		pid_t pid;

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return cli_error_errno(errno, "vnc: accept");
		}
		pid = fork();
		if (pid == 0) {
			close(l);
			serve_client(c, path);
		}
		if (pid < 0)
			fprintf(stderr, "qemuctl: error: vnc: fork: %s\n", strerror(errno));
		close(c);
	}
}

void cli_vnc_usage(FILE *f, const char *name)
{
	(void) name;
	fputs("usage: qemuctl vnc [--json] NAME [--listen [ADDR:]PORT]\n"
	      "\n"
	      "Prints how to reach a running VM's VNC display (create it with --display\n"
	      "vnc or vnc=127.0.0.1): the unix socket in its run directory, or the\n"
	      "loopback address, port and the file holding the password.\n"
	      "\n"
	      "  --listen [ADDR:]PORT forward loopback TCP port PORT (ADDR: 127.0.0.1;\n"
	      "                       0: any free port) to the unix socket until Ctrl-C,\n"
	      "                       for viewers that cannot open unix sockets\n",
		f);
}

int cli_vnc(struct cli *c, const struct cli_cmd *cmd, struct cli_args *a)
{
	struct qc_error err = {0};
	struct qc_vm_vnc v;
	struct sockaddr_in sa;
	const char *vm = a->pos[0];
	qc_ctx *ctx;
	int rc;

	(void) cmd;
	if (a->val[OPT_LISTEN] && (rc = parse_listen(a->val[OPT_LISTEN], &sa)) != 0)
		return rc;
	if (!(ctx = cli_ctx(c)))
		return CLI_ERROR;
	if (qc_vm_vnc(ctx, vm, &v, &err) < 0)
		return cli_error(&err);
	if (a->val[OPT_LISTEN]) {
		if (!v.socket[0]) {
			fprintf(stderr,
				"qemuctl: error: vnc: VM '%s' serves VNC on %s:%u already; "
				"--listen forwards a unix socket (--display vnc)\n",
				vm, v.host, v.port);
			return CLI_ERROR;
		}
		return forward(vm, v.socket, &sa, c->json);
	}
	if (c->json) {
		autojson struct cli_json *g = cli_json_new(false);

		cli_json_map_open(g);
		cli_json_kstring(g, "vm", vm);
		cli_json_kstring(g, "socket", v.socket[0] ? v.socket : NULL);
		cli_json_kstring(g, "host", v.host[0] ? v.host : NULL);
		cli_json_kuint_or_null(g, "port", v.port != 0, v.port);
		cli_json_kstring(g, "password_file", v.password_file[0] ? v.password_file : NULL);
		cli_json_map_close(g);
		return cli_print_json(g);
	}
	if (v.socket[0])
		printf("Socket:   %s\n"
		       "Connect:  a viewer that opens unix sockets (vncviewer %s), or\n"
		       "          'qemuctl vnc %s --listen 5901' and a viewer on 127.0.0.1::5901\n",
			v.socket, v.socket, vm);
	else
		printf("Address:  %s:%u (display :%u)\n"
		       "Password: in %s\n"
		       "Connect:  vncviewer %s::%u, with the password from that file\n",
			v.host, v.port, v.port - 5900, v.password_file, v.host, v.port);
	return CLI_OK;
}
