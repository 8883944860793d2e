#!/bin/bash
# Build the Debian packages (qemuctl, libqemuctl0, libqemuctl-dev, qemuctl-ansible) with
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
# the copy as a git tree: after the build and `debian/rules clean` it must be
# exactly as it was (nothing changed, nothing left behind)
git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm tree ||
	fail "cannot record the release tree in git"
DEB_BUILD_OPTIONS="parallel=2 ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -us -uc -b \
	>"$SCRATCH/build.log" 2>&1 || fail "dpkg-buildpackage failed: $(tail -30 "$SCRATCH/build.log")"
ok "dpkg-buildpackage -us -uc -b in $((SECONDS - t0)) s"
debian/rules clean >"$SCRATCH/clean.log" 2>&1 || fail "debian/rules clean: $(tail -20 "$SCRATCH/clean.log")"
dirty=$(git status --porcelain --untracked-files=all --ignored)
[ -z "$dirty" ] || fail "the tree is not clean after the build and debian/rules clean: $(printf '%s\n' "$dirty" | head -20)"
ok "debian/rules clean leaves the tree as it was (git status --porcelain: empty)"
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multi=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
ver=$(dpkg-parsechangelog -S Version)
deb="$SCRATCH/qemuctl_${ver}_${arch}.deb"
dev="$SCRATCH/libqemuctl-dev_${ver}_${arch}.deb"
lib="$SCRATCH/libqemuctl0_${ver}_${arch}.deb"
assert_file "$deb"
assert_file "$dev"
assert_file "$lib"
# dh_makeshlibs runs dpkg-gensymbols -c4 (debian/rules): a symbol missing
# from or added to debian/libqemuctl0.symbols fails the build; no warning either.
if grep -q 'dpkg-gensymbols: warning' "$SCRATCH/build.log"; then
	fail "dpkg-gensymbols: $(grep -A20 'dpkg-gensymbols: warning' "$SCRATCH/build.log")"
fi
ok "dpkg-gensymbols: libqemuctl.so.0 matches debian/libqemuctl0.symbols"

lintian --fail-on error,warning --info \
	"$SCRATCH/qemuctl_${ver}_${arch}.changes" >"$SCRATCH/lintian.out" 2>&1 ||
	fail "lintian: $(cat "$SCRATCH/lintian.out")"
ok "lintian: no errors or warnings (overrides in debian/): $(grep -v "root privileges" "$SCRATCH/lintian.out" | tr "\n" ";")"

dpkg-deb -c "$deb" | awk '{print $6}' >"$SCRATCH/deb.list"
for f in ./usr/bin/qemuctl ./usr/libexec/qemuctl-monitor ./usr/share/man/man1/qemuctl.1.gz \
	./usr/share/man/man5/qemuctl-domain.5.gz ./usr/share/bash-completion/completions/qemuctl \
	./usr/share/zsh/vendor-completions/_qemuctl ./lib/systemd/system/qemuctl-autostart.service \
	./usr/lib/ocf/resource.d/qemuctl/qemuctl \
	./usr/share/doc/qemuctl/json.md ./usr/share/doc/qemuctl/schema/qemuctl-v2.json; do
	grep -qx -- "$f" "$SCRATCH/deb.list" || fail "qemuctl.deb lacks $f"
done
grep -q '^-rwxr-xr-x .* \./usr/lib/ocf/resource\.d/qemuctl/qemuctl$' <<<"$(dpkg-deb -c "$deb")" ||
	fail "qemuctl.deb: the OCF agent is not 0755: $(dpkg-deb -c "$deb" | grep ocf)"
ok "qemuctl.deb: binaries, monitor, man pages, completions, unit, OCF agent, the --json schema"
dpkg-deb -c "$dev" | awk '{print $6}' >"$SCRATCH/dev.list"
for f in ./usr/include/qemuctl.h ./usr/include/qemuctl/error.h ./usr/include/qemuctl/guest.h ./usr/include/qemuctl/remote.h ./usr/include/qemuctl/ssh.h "./usr/lib/$multi/libqemuctl.a" \
	"./usr/lib/$multi/libqemuctl.so" "./usr/lib/$multi/pkgconfig/qemuctl.pc"; do
	grep -qx -- "$f" "$SCRATCH/dev.list" || fail "libqemuctl-dev.deb lacks $f"
done
ok "libqemuctl-dev.deb: headers, link to the shared library, static library, qemuctl.pc"
assert_match "$(dpkg-deb -f "$dev" Depends)" "^libqemuctl0 \\(= $ver\\)" "libqemuctl-dev Depends: libqemuctl0 (= $ver)"
grep -q '\.so' <(grep -v '/libqemuctl.so$' "$SCRATCH/dev.list") &&
	fail "libqemuctl-dev.deb holds the shared library itself: $(grep '\.so' "$SCRATCH/dev.list")"
dpkg-deb -c "$lib" | awk '{print $6}' >"$SCRATCH/lib.list"
for f in "./usr/lib/$multi/libqemuctl.so.0" "./usr/lib/$multi/libqemuctl.so.0.0.0"; do
	grep -qx -- "$f" "$SCRATCH/lib.list" || fail "libqemuctl0.deb lacks $f"
done
others=$(grep -v -e '/$' -e '^\./usr/share/doc/' -e "^\./usr/lib/$multi/libqemuctl\.so\.0" "$SCRATCH/lib.list") || true
[ -z "$others" ] || fail "libqemuctl0.deb holds more than the library: $others"
ok "libqemuctl0.deb: libqemuctl.so.0 only"
ans="$SCRATCH/qemuctl-ansible_${ver}_all.deb"
assert_file "$ans"
dpkg-deb -c "$ans" | awk '{print $6}' >"$SCRATCH/ans.list"
coll=./usr/share/ansible/collections/ansible_collections/qemuctl/vm
for f in galaxy.yml meta/runtime.yml plugins/module_utils/qemuctl.py plugins/modules/qemuctl_vm.py \
	plugins/modules/qemuctl_image.py plugins/modules/qemuctl_net.py plugins/modules/qemuctl_snapshot.py \
	plugins/modules/qemuctl_info.py; do
	grep -qx -- "$coll/$f" "$SCRATCH/ans.list" || fail "qemuctl-ansible.deb lacks $coll/$f"
done
assert_match "$(dpkg-deb -f "$ans" Depends)" 'ansible-core' "qemuctl-ansible Depends: ansible-core"
ok "qemuctl-ansible.deb: the qemuctl.vm collection"
dpkg-deb --ctrl-tarfile "$lib" | tar -xO ./symbols >"$SCRATCH/symbols" 2>/dev/null ||
	fail "libqemuctl0.deb has no symbols control file"
assert_match "$(head -1 "$SCRATCH/symbols")" '^libqemuctl\.so\.0 libqemuctl0 ' "libqemuctl0 symbols file"
assert_eq "$(grep -c '@QEMUCTL_0 ' "$SCRATCH/symbols")" "$(grep -c '@QEMUCTL_0 ' "$QC_SRCDIR/debian/libqemuctl0.symbols")" \
	"symbols shipped: those of debian/libqemuctl0.symbols"
depends=$(dpkg-deb -f "$deb" Depends)
assert_match "$depends" 'qemu-system-(x86|arm|ppc) \| qemu-system-' "Depends: QEMU alternatives"
assert_match "$depends" 'qemu-utils' "Depends: qemu-utils"
# dlopen()ed on first use, so named in debian/control: dh_shlibdeps sees none of them.
for pkg in libcurl4 libssl3 libxml2 libnl-3-200 libnl-route-3-200 liblzma5 zlib1g; do
	assert_match "$depends" "(^|, )$pkg(,| |\$)" "qemuctl Depends: $pkg (dlopen()ed)"
	assert_match "$(dpkg-deb -f "$lib" Depends)" "(^|, )$pkg(,| |\$)" "libqemuctl0 Depends: $pkg (dlopen()ed)"
done
assert_match "$(dpkg-deb -f "$deb" Recommends)" 'ipxe-qemu, ovmf, qemu-efi-aarch64' "Recommends"
assert_match "$(dpkg-deb -f "$deb" Recommends)" 'bash-completion' "Recommends: bash-completion"

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
