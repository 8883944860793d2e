/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The monitor's one poll() loop (STYLE.md §12): SIGCHLD and SIGTERM
 * through a signalfd (SIGTERM is forwarded to QEMU, which shuts down
 * cleanly; SIGTERM queued with QC_MONITOR_QUIT_SIGVAL, from destroy, is
 * QMP quit instead), serial output, QMP events, console clients.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "driver/monitor/monitor.h"

/* Read what is left after QEMU exited: the SHUTDOWN event, the last output. */
void qc_monitor_drain(struct qc_monitor *m)
{
	int i;

	for (i = 0; i < 100 && m->serial_fd >= 0; i++)
		if (!qc_monitor_serial_readable(m))
			break;
	if (m->qmp)
		(void) qc_monitor_qmp_readable(m);
}

void qc_monitor_loop(struct qc_monitor *m)
{
	qc_monitor_record_queued_events(m);
	while (!m->qemu_exited) {
		struct pollfd p[5 + QC_MONITOR_MAX_CLIENTS];
		int idx[5 + QC_MONITOR_MAX_CLIENTS];
		nfds_t n = 0, k;
		size_t i;

		/* a swtpm that exited: a grace period (poll's timeout), then QEMU is stopped */
		qc_monitor_check_swtpm(m);

		p[n] = (struct pollfd){.fd = m->sig_fd, .events = POLLIN};
		idx[n++] = -1;
		if (m->serial_fd >= 0) {
			p[n] = (struct pollfd){.fd = m->serial_fd, .events = POLLIN};
			idx[n++] = -2;
		}
		if (m->qmp && qc_qmp_check_alive(m->qmp, NULL) == 0) {
			p[n] = (struct pollfd){.fd = qc_qmp_fd(m->qmp), .events = POLLIN};
			idx[n++] = -3;
		}
		if (m->listen_fd >= 0) {
			p[n] = (struct pollfd){.fd = m->listen_fd, .events = POLLIN};
			idx[n++] = -4;
		}
		if (m->vnc_fd >= 0) {
			p[n] = (struct pollfd){.fd = m->vnc_fd, .events = POLLIN};
			idx[n++] = -5;
		}
		for (i = 0; i < QC_MONITOR_MAX_CLIENTS; i++)
			if (m->clients[i] >= 0) {
				p[n] = (struct pollfd){.fd = m->clients[i], .events = POLLIN};
				idx[n++] = (int) i;
			}
		if (poll(p, n, qc_monitor_swtpm_wait_ms(m)) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (k = 0; k < n; k++) {
			if (!p[k].revents)
				continue;
			switch (idx[k]) {
			case -1: {
				struct signalfd_siginfo si;

				while (read(m->sig_fd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGTERM && si.ssi_code == SI_QUEUE &&
						si.ssi_int == QC_MONITOR_QUIT_SIGVAL) {
						qc_step_time("monitor:quit-requested");
						qc_monitor_quit_qemu(m);
					} else if (si.ssi_signo == SIGTERM ||
						   si.ssi_signo == SIGINT)
						kill(m->qemu_pid, SIGTERM);
				}
				qc_monitor_reap(m);
				break;
			}
			case -2:
				qc_monitor_serial_readable(m);
				break;
			case -3:
				qc_monitor_qmp_readable(m);
				break;
			case -4:
				qc_monitor_accept_client(m);
				break;
			case -5:
				qc_monitor_vnc_accept(m);
				break;
			default:
				if (m->clients[idx[k]] >= 0)
					qc_monitor_client_readable(m, (size_t) idx[k]);
			}
		}
	}
}
