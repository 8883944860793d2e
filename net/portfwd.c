/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host ports for user-mode forwards (hostfwd): each is bound here like
 * QEMU's slirp will bind it, so a fixed port in use is an error before
 * QEMU starts and a port 0 gets a free one.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net.h"

/*
 * Bind host_addr:port (0 = any free) like QEMU's slirp will (SO_REUSEADDR),
 * and keep the socket open until every port is chosen, so two automatic
 * ports cannot be the same and a fixed one cannot be handed out as free.
 */
static int reserve_port(const char *nic, const struct qc_net_fwd *f, int *ret_fd,
	unsigned *ret_port, struct qc_error *err)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	const char *addr = f->host_addr && f->host_addr[0] ? f->host_addr : "127.0.0.1";
	int one = 1, fd;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return qc_error_set(err, QC_ERR_INVALID,
			"NIC '%s': hostfwd address '%s' is not IPv4", nic, addr);
	sa.sin_port = htons((uint16_t) f->host_port);
	fd = socket(
		AF_INET, (!strcmp(f->proto, "udp") ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return qc_error_errno(err, errno, "NIC '%s': socket", nic);
	(void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		if (e == EADDRINUSE)
			return qc_error_set(err, EADDRINUSE,
				"NIC '%s': hostfwd %s:%s:%u-:%u: host port %u is in use; pick "
				"another HOSTPORT (0 picks a free one)",
				nic, f->proto, addr, f->host_port, f->guest_port, f->host_port);
		if (e == EADDRNOTAVAIL)
			return qc_error_set(err, EADDRNOTAVAIL,
				"NIC '%s': hostfwd %s:%s:%u-:%u: %s is not an address of this "
				"host; forward from one it has (127.0.0.1, 0.0.0.0 for all)",
				nic, f->proto, addr, f->host_port, f->guest_port, addr);
		return qc_error_errno(err, e, "NIC '%s': hostfwd %s:%s:%u-:%u: bind", nic, f->proto,
			addr, f->host_port, f->guest_port);
	}
	if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0) {
		int e = errno;

		close(fd);
		return qc_error_errno(err, e, "NIC '%s': getsockname", nic);
	}
	*ret_fd = fd;
	*ret_port = ntohs(sa.sin_port);
	return 0;
}

int qc_net_ports_reserve(const char *nic, const struct qc_net_fwd *fwds, size_t n, int *fds,
	unsigned *ports, struct qc_error *err)
{
	int r;

	for (size_t i = 0; i < n; i++) {
		if ((r = reserve_port(nic, &fwds[i], &fds[i], &ports[i], err)) < 0) {
			for (size_t k = 0; k < i; k++)
				close(fds[k]);
			return r;
		}
	}
	return 0;
}

/* The inode of a socket on port in /proc/net/FILE (TCP: listening only), else 0. */
static unsigned long socket_inode(const char *file, bool tcp, unsigned port)
{
	char line[512];
	unsigned long inode = 0;
	FILE *f = fopen(file, "re");

	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f)) /* the header */
		line[0] = 0;
	while (!inode && fgets(line, sizeof(line), f)) {
		unsigned lport, st;
		unsigned long ino;

		if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %lu",
			    &lport, &st, &ino) == 3 &&
			lport == port && (!tcp || st == 0x0A))
			inode = ino;
	}
	fclose(f);
	return inode;
}

/* The first process with socket:[inode] open: its pid, else 0. */
static int socket_pid(unsigned long inode)
{
	char want[64];
	struct dirent *de;
	int pid = 0;
	DIR *proc = opendir("/proc");

	if (!proc)
		return 0;
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	while (!pid && (de = readdir(proc))) {
		char path[300], link[64];
		struct dirent *fe;
		DIR *fds;

		if (!isdigit((unsigned char) de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", de->d_name);
		if (!(fds = opendir(path)))
			continue;
		while (!pid && (fe = readdir(fds))) {
			ssize_t n = readlinkat(dirfd(fds), fe->d_name, link, sizeof(link) - 1);

			if (n > 0 && (link[n] = 0, !strcmp(link, want)))
				pid = atoi(de->d_name);
		}
		closedir(fds);
	}
	closedir(proc);
	return pid;
}

void qc_net_port_holder(const char *proto, unsigned port, char *buf, size_t size)
{
	bool tcp = strcmp(proto, "udp") != 0;
	unsigned long inode = socket_inode(tcp ? "/proc/net/tcp" : "/proc/net/udp", tcp, port);
	char path[64], comm[64] = "";
	int pid, fd;

	buf[0] = 0;
	if (!inode)
		inode = socket_inode(tcp ? "/proc/net/tcp6" : "/proc/net/udp6", tcp, port);
	if (!inode || !(pid = socket_pid(inode)))
		return;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, comm, sizeof(comm) - 1);

		comm[n > 0 ? n : 0] = 0;
		close(fd);
	}
	comm[strcspn(comm, "\n")] = 0;
	/* a process names itself: shown, never obeyed */
	for (char *c = comm; *c; c++)
		if (!isprint((unsigned char) *c))
			*c = '?';
	snprintf(buf, size, "pid %d %s", pid, comm);
}
