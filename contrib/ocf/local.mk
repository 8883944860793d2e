# contrib/ocf: the Pacemaker resource agent ocf:qemuctl:qemuctl (a shell
# script; nothing to build), installed as $(ocfdir)/qemuctl/qemuctl
# (configure --with-ocfdir), and its test: ocf-tester and crm_resource
# against the tiny guest (root, a private mount namespace); docs/many-hosts.md
# ("## Pacemaker") describes it.
ocfqemuctldir = $(ocfdir)/qemuctl
dist_ocfqemuctl_SCRIPTS = contrib/ocf/qemuctl
dist_noinst_SCRIPTS += tests/integration/ocf.sh
TESTS += tests/integration/ocf.sh
