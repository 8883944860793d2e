#!/bin/bash
# libqemuctl.so.0 exports exactly the public API: every dynamic symbol it
# defines (nm -D --defined-only) is a function the public headers
# (driver/qemuctl.h, include/qemuctl/*.h) declare QC_PUBLIC, and every such
# function is exported, in the version node of driver/libqemuctl.sym.  The
# version script and debian/libqemuctl0.symbols list the same names.
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

so="$QC_BUILDDIR/.libs/libqemuctl.so.0"
if [ ! -e "$so" ]; then
	log "SKIP: $so not built (configure --disable-shared?)"
	exit 77
fi
for t in nm readelf perl; do
	command -v "$t" >/dev/null || fail "$t is not installed (apt-get install binutils perl)"
done
S="$SCRATCH"

# The functions declared QC_PUBLIC: comments and preprocessor lines dropped,
# the name is the identifier before the first "(" of the declaration.
perl -0777 -ne 's{/\*.*?\*/}{}gs; s{//[^\n]*}{}g; s{^\s*#[^\n]*}{}gm;
	print "$1\n" while /\bQC_PUBLIC\b[^;{(]*?\b([A-Za-z_]\w*)\s*\(/g' \
	"$QC_SRCDIR/driver/qemuctl.h" "$QC_SRCDIR"/include/qemuctl/*.h | sort -u >"$S/header"
[ "$(wc -l <"$S/header")" -ge 40 ] || fail "only $(wc -l <"$S/header") QC_PUBLIC functions parsed from qemuctl.h"
ok "$(wc -l <"$S/header") functions declared QC_PUBLIC"

assert_eq "$(readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')" "libqemuctl.so.0" "soname"

# "T qc_ctx_open@@QEMUCTL_0" (binutils >= 2.35 prints the version; "A
# QEMUCTL_0" is the version node itself).
nm -D --defined-only "$so" >"$S/nm"
awk '$2 != "A"' "$S/nm" >"$S/defined"
bad=$(awk '$2 != "T" {print $3 " (" $2 ")"}' "$S/defined")
[ -z "$bad" ] || fail "exported symbols that are not functions: ${bad//$'\n'/ }"
sed 's/^[0-9a-f]* [A-Za-z] //; s/@.*//' "$S/defined" | sort -u >"$S/exported"
extra=$(comm -23 "$S/exported" "$S/header")
[ -z "$extra" ] || fail "exported but not declared QC_PUBLIC in qemuctl.h: ${extra//$'\n'/ }"
missing=$(comm -13 "$S/exported" "$S/header")
[ -z "$missing" ] ||
	fail "declared QC_PUBLIC in qemuctl.h but not exported (add to driver/libqemuctl.sym, debian/libqemuctl0.symbols): ${missing//$'\n'/ }"
ok "the $(wc -l <"$S/exported") exported functions are those qemuctl.h declares"
if grep -q '@' "$S/defined"; then
	unversioned=$(grep -v '@QEMUCTL_' "$S/defined" | awk '{print $3}') || true
	[ -z "$unversioned" ] || fail "exported without a QEMUCTL_ version: ${unversioned//$'\n'/ }"
	ok "every export has a QEMUCTL_ version"
fi

# The version script's names (between "global:" and "local:") and the Debian symbols file's.
sed -n '/global:/,/local:/{s/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\);.*/\1/p}' \
	"$QC_SRCDIR/driver/libqemuctl.sym" | sort -u >"$S/sym"
diff -u "$S/header" "$S/sym" >"$S/sym.diff" ||
	fail "driver/libqemuctl.sym differs from qemuctl.h's QC_PUBLIC functions: $(cat "$S/sym.diff")"
ok "driver/libqemuctl.sym lists them"
sed -n 's/^ \([A-Za-z_][A-Za-z0-9_]*\)@QEMUCTL_[0-9_]* .*/\1/p' \
	"$QC_SRCDIR/debian/libqemuctl0.symbols" | grep -v '^QEMUCTL_' | sort -u >"$S/debsym"
diff -u "$S/header" "$S/debsym" >"$S/debsym.diff" ||
	fail "debian/libqemuctl0.symbols differs from qemuctl.h's QC_PUBLIC functions: $(cat "$S/debsym.diff")"
ok "debian/libqemuctl0.symbols lists them"
