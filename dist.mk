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
install-data-local: install-bashcompletion
uninstall-local: uninstall-bashcompletion
.PHONY: install-bashcompletion uninstall-bashcompletion
install-bashcompletion:
	$(MKDIR_P) '$(DESTDIR)$(bashcompletiondir)'
	$(INSTALL_DATA) $(srcdir)/completion/qemuctl.bash '$(DESTDIR)$(bashcompletiondir)/qemuctl'
uninstall-bashcompletion:
	rm -f '$(DESTDIR)$(bashcompletiondir)/qemuctl'

dist_noinst_SCRIPTS += tests/integration/completion.sh
TESTS += tests/integration/completion.sh

# ---- the --json contract (docs/json.md) and its test
EXTRA_DIST += docs/json.md docs/schema/qemuctl-v1.json tests/integration/json_schema.py
dist_noinst_SCRIPTS += tests/integration/json-schema.sh
TESTS += tests/integration/json-schema.sh
