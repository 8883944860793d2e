#!/bin/bash
# The release tarball holds every file of the git checkout (but the few
# listed in dist.mk's QC_DIST_NOT_SHIPPED): make distdir, compare with
# git ls-files.  Skipped (77) outside a git checkout (e.g. in distcheck).
. "${QC_SRCDIR:-$(dirname "$0")/../..}/tests/integration/lib.sh"

if ! git -C "$QC_SRCDIR" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	log "SKIP: $QC_SRCDIR is not a git checkout"
	exit 77
fi
cd "$QC_BUILDDIR"
make -s distdir distdir="$SCRATCH/dist" >"$SCRATCH/distdir.log" 2>&1 ||
	fail "make distdir: $(tail -10 "$SCRATCH/distdir.log")"
(cd "$SCRATCH/dist" && find . -type f | sed 's|^\./||' | sort) >"$SCRATCH/tar.txt"
git -C "$QC_SRCDIR" ls-files | sort >"$SCRATCH/git.txt"
for f in $(make -s print-dist-not-shipped); do
	grep -vxF -- "$f" "$SCRATCH/git.txt" >"$SCRATCH/git2.txt" || true
	mv "$SCRATCH/git2.txt" "$SCRATCH/git.txt"
done
missing=$(comm -13 "$SCRATCH/tar.txt" "$SCRATCH/git.txt")
[ -z "$missing" ] || fail "files in git but not in the tarball (add them to a local.mk or dist.mk): $(echo $missing)"
ok "the tarball has all $(wc -l <"$SCRATCH/git.txt") files of the checkout"
