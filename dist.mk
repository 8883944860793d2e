# dist.mk: installation, man pages, completions, systemd unit, packaging
# (owned by the install/packaging work).
