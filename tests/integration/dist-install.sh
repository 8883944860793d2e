#!/bin/bash
# make install into a DESTDIR with its own --prefix, then use the installed
# tree: qemuctl --version and doctor, a VM run with the installed qemuctl
# finding the installed qemuctl-monitor under libexecdir (QEMUCTL_MONITOR
# unset); programs built against the installed headers and library through
# qemuctl.pc: examples/boot-and-stop with libqemuctl.so.0 boots and stops
# the test guest, a program with --static links libqemuctl.a; make
# uninstall leaves no file behind.  It builds from a copy of the release
# tree (make distdir), so the checkout may be configured in-tree or not.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"
need_guest x86_64
unset QEMUCTL_MONITOR

T="$SCRATCH"
prefix="$T/usr"
dest="$T/dest"
cd "$QC_BUILDDIR"
make -s distdir distdir="$T/src" >"$T/distdir.log" 2>&1 || fail "make distdir: $(tail -10 "$T/distdir.log")"
mkdir -p "$T/build"
cd "$T/build"
"$T/src/configure" -q --prefix="$prefix" >"$T/configure.log" 2>&1 ||
	fail "configure: $(tail -5 "$T/configure.log")"
ok "configure --prefix=$prefix"
make -j2 install DESTDIR="$dest" >"$T/install.log" 2>&1 || fail "make install: $(tail -20 "$T/install.log")"
ok "make install DESTDIR=$dest"

d="$dest$prefix"
for f in bin/qemuctl libexec/qemuctl-monitor include/qemuctl.h include/qemuctl/error.h include/qemuctl/guest.h include/qemuctl/remote.h include/qemuctl/ssh.h \
	lib/libqemuctl.so.0 lib/libqemuctl.so lib/libqemuctl.a lib/pkgconfig/qemuctl.pc lib/systemd/system/qemuctl-autostart.service \
	share/man/man1/qemuctl.1 share/man/man5/qemuctl-domain.5 \
	share/bash-completion/completions/qemuctl share/zsh/vendor-completions/_qemuctl \
	lib/ocf/resource.d/qemuctl/qemuctl \
	share/doc/qemuctl/json.md share/doc/qemuctl/schema/qemuctl-v2.json; do
	[ -f "$d/$f" ] || fail "not installed: $prefix/$f"
done
ok "installed: binaries, monitor, headers, libraries, pkg-config, unit, man pages, completions, OCF agent, --json schema"
[ -x "$d/bin/qemuctl" ] && [ -x "$d/libexec/qemuctl-monitor" ] || fail "binaries not executable"
[ -x "$d/lib/ocf/resource.d/qemuctl/qemuctl" ] || fail "the OCF resource agent is not executable"
grep -qx "ExecStart=-$prefix/bin/qemuctl autostart --run" "$d/lib/systemd/system/qemuctl-autostart.service" ||
	fail "unit's ExecStart does not name the installed qemuctl"
grep -qx "ExecStop=$prefix/bin/qemuctl autostart --shutdown" "$d/lib/systemd/system/qemuctl-autostart.service" ||
	fail "unit's ExecStop does not name the installed qemuctl"
grep -qx "libdir=$prefix/lib" "$d/lib/pkgconfig/qemuctl.pc" || fail "qemuctl.pc libdir"
ok "unit and qemuctl.pc name the prefix"
man -l "$d/share/man/man1/qemuctl.1" >/dev/null 2>&1 || fail "man -l qemuctl.1"

# The installed tree at its configured prefix (DESTDIR staged it elsewhere).
ln -s "$d" "$prefix"
Q="$prefix/bin/qemuctl"
if command -v systemd-analyze >/dev/null; then
	# (the man page is not in the system's MANPATH: that Documentation check is skipped)
	systemd-analyze verify "$d/lib/systemd/system/qemuctl-autostart.service" >"$T/verify" 2>&1 || true
	if grep -v "man qemuctl(1)" "$T/verify" | grep -q .; then
		fail "systemd-analyze verify: $(cat "$T/verify")"
	fi
	ok "systemd-analyze verify qemuctl-autostart.service"
fi
assert_eq "$("$Q" --version)" "qemuctl $(sed -n 's/^PACKAGE_VERSION = //p' Makefile)" "installed --version"
rc=0
"$Q" --root "$ROOT" doctor --accel tcg >"$T/doctor.out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || fail "installed doctor exited $rc: $(cat "$T/doctor.out")"
ok "installed doctor: $(grep -c . "$T/doctor.out") lines, exit 0"

"$Q" --root "$ROOT" run demo --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
	--append "$GUEST_APPEND" --memory 256M --no-seed --net none --accel tcg >/dev/null
on_exit "'$Q' --root '$ROOT' destroy demo >/dev/null 2>&1"
mon=$("$Q" --root "$ROOT" --json info demo | sed -n 's/.*"monitor_pid": *\([0-9]*\).*/\1/p')
assert_eq "$(readlink "/proc/$mon/exe")" "$d/libexec/qemuctl-monitor" "the installed monitor runs the VM"
wait_for_text "$ROOT/vms/demo/console.log" '^GUEST-READY' 120
"$Q" --root "$ROOT" stop demo --timeout 60
assert_match "$("$Q" --root "$ROOT" info demo)" 'Last exit: +poweroff' "installed qemuctl stops it"

# Programs against the installed headers and library, through pkg-config
# (the headers of the source tree are not on the compiler's path).
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cflags=$(pkg-config --cflags qemuctl) || fail "pkg-config --cflags qemuctl"
libs=$(pkg-config --libs qemuctl)
libs=${libs% } # (pkg-config ends it with a space)
assert_eq "$libs" "-L$prefix/lib -lqemuctl" "pkg-config --libs qemuctl"
# shellcheck disable=SC2086
cc -Wall -Werror -o "$T/boot-and-stop" "$T/src/examples/boot-and-stop.c" $cflags $libs \
	>"$T/cc.log" 2>&1 || fail "examples/boot-and-stop.c against the installed libqemuctl: $(cat "$T/cc.log")"
readelf -d "$T/boot-and-stop" >"$T/dynamic"
grep -q 'NEEDED.*\[libqemuctl\.so\.0\]' "$T/dynamic" ||
	fail "boot-and-stop does not link libqemuctl.so.0: $(grep NEEDED "$T/dynamic")"
ok "examples/boot-and-stop.c built with <qemuctl.h> and libqemuctl.so.0"
out=$(LD_LIBRARY_PATH="$prefix/lib" "$T/boot-and-stop" --root "$ROOT" ex1 "$GUEST_KERNEL" \
	"$GUEST_INITRD" "$GUEST_APPEND" GUEST-READY) || fail "installed boot-and-stop failed: $out"
assert_match "$out" "console shows 'GUEST-READY'" "installed libqemuctl.so.0 boots the guest"
assert_match "$out" "stopped: state stopped, last exit poweroff" "and stops it"
assert_no_file "$ROOT/vms/ex1"

cat >"$T/prog.c" <<'EOC'
#include <stdio.h>
#include <qemuctl.h>
int main(int argc, char **argv)
{
	struct qc_error err = {0};
	struct qc_vm_info **v;
	size_t n;
	qc_ctx *ctx;
	if (qc_ctx_open(argv[1], &ctx, &err) < 0 || qc_vm_list(ctx, &v, &n, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		printf("%s %s\n", v[i]->name, qc_vm_state_name(v[i]->state));
	qc_vm_list_free(v, n);
	qc_ctx_close(ctx);
	/* The error codes are the installed header's too. */
	if (qc_ctx_open("", &ctx, &err) != -QC_ERR_INVALID || err.code != QC_ERR_INVALID)
		return 1;
	return argc == 2 ? 0 : 1;
}
EOC
# Static: libqemuctl.a with what pkg-config --static adds (Libs.private, Requires.private).
static_libs=$(pkg-config --static --libs qemuctl)
# shellcheck disable=SC2086
cc -Wall -Werror -o "$T/prog" "$T/prog.c" $cflags "$prefix/lib/libqemuctl.a" ${static_libs/-lqemuctl/} \
	>"$T/cc.log" 2>&1 || fail "linking libqemuctl.a with pkg-config --static --libs: $(cat "$T/cc.log")"
readelf -d "$T/prog" | grep -q 'libqemuctl' && fail "the --static program needs libqemuctl.so"
# libxml2, libnl, liblzma and zlib are dlopen()ed (driver/xml_dl.c,
# net/nl_dl.c, storage/decompress_dl.c): not linked.
grep -Eq -- '-l(xml2|nl-|lzma|z( |$))' <<<"$static_libs" &&
	fail "pkg-config --static --libs qemuctl names a dlopen()ed library: $static_libs"
readelf -d "$T/prog" | grep -Eq 'NEEDED.*(libxml2|libnl|liblzma|libz\.)' &&
	fail "the --static program links libxml2, libnl, liblzma or zlib: $(readelf -d "$T/prog" | grep NEEDED)"
ok "the --static program links none of libxml2, libnl, liblzma, zlib: $static_libs"
assert_eq "$("$T/prog" "$ROOT")" "demo stopped" "program linked with the installed libqemuctl.a"
"$Q" --root "$ROOT" delete demo >/dev/null

make uninstall DESTDIR="$dest" >"$T/uninstall.log" 2>&1 || fail "make uninstall: $(tail -5 "$T/uninstall.log")"
left=$(find "$dest" -type f -o -type l)
[ -z "$left" ] || fail "make uninstall left: $left"
ok "make uninstall removes every file"
rm -f "$prefix"
cd /
rm -rf "$T/build"
