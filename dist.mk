# dist.mk: installation, man pages, completions, systemd unit, packaging
# (owned by the install/packaging work).

# ---- man pages: hand-written roff, nothing to build
dist_man_MANS = man/qemuctl.1 man/qemuctl-domain.5

dist_noinst_SCRIPTS += tests/integration/man-consistency.sh
TESTS += tests/integration/man-consistency.sh

# ---- shell completions
bashcompletiondir = $(datadir)/bash-completion/completions
zshcompletiondir = $(datadir)/zsh/vendor-completions
dist_zshcompletion_DATA = completion/_qemuctl
# bash-completion looks the file up by the command's name: install as "qemuctl".
EXTRA_DIST += completion/qemuctl.bash
.PHONY: install-bashcompletion uninstall-bashcompletion
install-bashcompletion:
	$(MKDIR_P) '$(DESTDIR)$(bashcompletiondir)'
	$(INSTALL_DATA) $(srcdir)/completion/qemuctl.bash '$(DESTDIR)$(bashcompletiondir)/qemuctl'
uninstall-bashcompletion:
	rm -f '$(DESTDIR)$(bashcompletiondir)/qemuctl'

dist_noinst_SCRIPTS += tests/integration/completion.sh
TESTS += tests/integration/completion.sh

# ---- the --json contract (docs/json.md) and its test
# installed beside the package's other documentation (the man page names it)
dist_doc_DATA = docs/json.md
jsonschemadir = $(docdir)/schema
dist_jsonschema_DATA = docs/schema/qemuctl-v2.json
EXTRA_DIST += docs/security.md tests/integration/json_schema.py
dist_noinst_SCRIPTS += tests/integration/json-schema.sh
TESTS += tests/integration/json-schema.sh

# ---- systemd unit and pkg-config file, generated with sed (configure.ac
# need not know them).  The unit directory can be overridden on the make
# command line or with configure --with-systemdsystemunitdir.
nodist_systemdsystemunit_DATA = systemd/qemuctl-autostart.service
pkgconfigdir = $(libdir)/pkgconfig
nodist_pkgconfig_DATA = qemuctl.pc
EXTRA_DIST += systemd/qemuctl-autostart.service.in qemuctl.pc.in
CLEANFILES += systemd/qemuctl-autostart.service qemuctl.pc
QC_DIST_SED = sed -e 's|@bindir[@]|$(bindir)|g' -e 's|@prefix[@]|$(prefix)|g' \
	-e 's|@exec_prefix[@]|$(exec_prefix)|g' -e 's|@libdir[@]|$(libdir)|g' \
	-e 's|@includedir[@]|$(includedir)|g' -e 's|@VERSION[@]|$(VERSION)|g'
systemd/qemuctl-autostart.service: $(srcdir)/systemd/qemuctl-autostart.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && $(QC_DIST_SED) $(srcdir)/systemd/qemuctl-autostart.service.in >$@.tmp && mv $@.tmp $@
qemuctl.pc: $(srcdir)/qemuctl.pc.in Makefile
	$(AM_V_GEN)$(QC_DIST_SED) $(srcdir)/qemuctl.pc.in >$@.tmp && mv $@.tmp $@

# ---- completions install by hand (their directories are not automake's).
install-data-local: install-bashcompletion
uninstall-local: uninstall-bashcompletion

dist_noinst_SCRIPTS += tests/integration/dist-install.sh
TESTS += tests/integration/dist-install.sh

# ---- tarball completeness: files other folders need at test or build time
# (directories are copied whole, so new golden files and guest files follow).
EXTRA_DIST += tests/guest/README.md tests/guest/rootfs tests/unit/golden bench/README.md \
	tools/install-deps tools/quickstart tools/test
dist_noinst_SCRIPTS += tests/guest/build-guest tests/guest/selftest tests/guest/build-disk-image
# Files of the git checkout that the tarball may leave out.
QC_DIST_NOT_SHIPPED = .ci/run .gitignore tests/guest/.gitignore

dist_noinst_SCRIPTS += tests/integration/dist-files.sh
TESTS += tests/integration/dist-files.sh
print-dist-not-shipped:
	@echo $(QC_DIST_NOT_SHIPPED)
.PHONY: print-dist-not-shipped

# ---- Debian packaging (debian/); tests/integration/dist-deb.sh builds the
# .debs from a copy of the release tree (~40 s; skipped without debhelper).
EXTRA_DIST += debian/changelog debian/control debian/copyright debian/rules \
	debian/source/format debian/qemuctl.install debian/libqemuctl-dev.install \
	debian/qemuctl.lintian-overrides debian/qemuctl.postinst \
	debian/libqemuctl0.install debian/libqemuctl0.symbols debian/not-installed
dist_noinst_SCRIPTS += tests/integration/dist-deb.sh
TESTS += tests/integration/dist-deb.sh

# The test guests are built into the build tree (tests/guest/cache); a
# distclean removes them (make distcheck's distcleancheck requires it).
distclean-local: distclean-guest-cache
.PHONY: distclean-guest-cache
distclean-guest-cache:
	-rm -rf tests/guest/cache
