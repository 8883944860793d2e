# dist.mk: installation, man pages, completions, systemd unit, packaging
# (owned by the install/packaging work).

# ---- man pages: hand-written roff, nothing to build
dist_man_MANS = man/qemuctl.1 man/qemuctl-domain.5

dist_noinst_SCRIPTS += tests/integration/man-consistency.sh
TESTS += tests/integration/man-consistency.sh
