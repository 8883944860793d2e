#!/bin/bash
# Build the Debian packages (qemuctl, libqemuctl-dev) with
# `dpkg-buildpackage -us -uc -b` from a copy of the release tree (make
# distdir: the checkout is never built in), run lintian on them (only the
# overrides in debian/*.lintian-overrides allowed), check their contents and
# run the packaged qemuctl from the unpacked tree.  40 s on a quiet 2-core
# machine (95 s under load ~6).  Skipped (77, said loudly) without
# debhelper/lintian: apt-get install debhelper lintian (and the Build-Depends).
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
unset QEMUCTL_MONITOR

for t in dpkg-buildpackage dh lintian; do
	if ! command -v "$t" >/dev/null; then
		log "SKIP: $t is not installed: the .debs are NOT checked (apt-get install debhelper dpkg-dev lintian)"
		exit 77
	fi
done
dpkg-checkbuilddeps "$QC_SRCDIR/debian/control" 2>"$SCRATCH/bdeps" ||
	fail "build dependencies missing: $(cat "$SCRATCH/bdeps")"

t0=$SECONDS
cd "$QC_BUILDDIR"
make -s distdir distdir="$SCRATCH/qemuctl-0" >"$SCRATCH/distdir.log" 2>&1 ||
	fail "make distdir: $(tail -5 "$SCRATCH/distdir.log")"
cd "$SCRATCH/qemuctl-0"
[ -f debian/rules ] || fail "debian/ is not in the release tree"
DEB_BUILD_OPTIONS="parallel=2 ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -us -uc -b \
	>"$SCRATCH/build.log" 2>&1 || fail "dpkg-buildpackage failed: $(tail -30 "$SCRATCH/build.log")"
ok "dpkg-buildpackage -us -uc -b in $((SECONDS - t0)) s"
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multi=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
ver=$(dpkg-parsechangelog -S Version)
deb="$SCRATCH/qemuctl_${ver}_${arch}.deb"
dev="$SCRATCH/libqemuctl-dev_${ver}_${arch}.deb"
assert_file "$deb"
assert_file "$dev"

lintian --fail-on error,warning --info \
	"$SCRATCH/qemuctl_${ver}_${arch}.changes" >"$SCRATCH/lintian.out" 2>&1 ||
	fail "lintian: $(cat "$SCRATCH/lintian.out")"
ok "lintian: no errors or warnings (overrides in debian/): $(grep -v "root privileges" "$SCRATCH/lintian.out" | tr "\n" ";")"

dpkg-deb -c "$deb" | awk '{print $6}' >"$SCRATCH/deb.list"
for f in ./usr/bin/qemuctl ./usr/libexec/qemuctl-monitor ./usr/share/man/man1/qemuctl.1.gz \
	./usr/share/man/man5/qemuctl-domain.5.gz ./usr/share/bash-completion/completions/qemuctl \
	./usr/share/zsh/vendor-completions/_qemuctl ./lib/systemd/system/qemuctl-autostart.service; do
	grep -qx -- "$f" "$SCRATCH/deb.list" || fail "qemuctl.deb lacks $f"
done
ok "qemuctl.deb: binaries, monitor, man pages, completions, unit"
dpkg-deb -c "$dev" | awk '{print $6}' >"$SCRATCH/dev.list"
for f in ./usr/include/qemuctl.h "./usr/lib/$multi/libqemuctl.a" "./usr/lib/$multi/pkgconfig/qemuctl.pc"; do
	grep -qx -- "$f" "$SCRATCH/dev.list" || fail "libqemuctl-dev.deb lacks $f"
done
ok "libqemuctl-dev.deb: header, static library, qemuctl.pc"
depends=$(dpkg-deb -f "$deb" Depends)
assert_match "$depends" 'qemu-system-(x86|arm|ppc) \| qemu-system-' "Depends: QEMU alternatives"
assert_match "$depends" 'qemu-utils' "Depends: qemu-utils"
assert_match "$(dpkg-deb -f "$deb" Recommends)" 'ipxe-qemu, ovmf, qemu-efi-aarch64' "Recommends"

# The packaged binaries, unpacked (installing them would change this host).
dpkg-deb -x "$deb" "$SCRATCH/x"
assert_eq "$("$SCRATCH/x/usr/bin/qemuctl" --version)" "qemuctl $ver" "packaged qemuctl --version"
QEMUCTL_MONITOR="$SCRATCH/x/usr/libexec/qemuctl-monitor" \
	"$SCRATCH/x/usr/bin/qemuctl" --root "$ROOT" doctor --accel tcg >"$SCRATCH/doctor" 2>&1 ||
	fail "packaged doctor: $(cat "$SCRATCH/doctor")"
ok "packaged qemuctl doctor"
strings "$SCRATCH/x/usr/bin/qemuctl" >"$SCRATCH/strings" # (grep -q in a pipe: SIGPIPE + pipefail)
grep -qx '/usr/libexec/qemuctl-monitor' "$SCRATCH/strings" ||
	fail "packaged qemuctl does not look for its monitor under /usr/libexec"
ok "packaged qemuctl looks for /usr/libexec/qemuctl-monitor"
ok "total $((SECONDS - t0)) s"
