#!/usr/bin/env bash
# bench/seed: whole-process time of `qemuctl seed build` vs
# `genisoimage -volid cidata -joliet -rock` on the same three files
# (meta-data, user-data, network-config), and the ISO bytes each produces.
# Goals: qemuctl faster, and its ISO no larger.  Each run is one fork+exec
# timed from outside (start-up included); the median of RUNS is reported,
# runs alternate A B A B so drift hits both alike.
#
# Two more rows explain the figure: bench/seed-build (the same writer in a
# binary that links only util/ and cloudinit/) and `qemuctl --version`
# (qemuctl's start-up alone: the shared libraries it links and their
# constructors).
#
# usage: bench/seed.sh [BUILDDIR]   (RUNS=25)
set -euo pipefail
BENCH=bench/seed
. "$(dirname "$0")/lib.sh"

BUILD="${1:-$PWD}"
QC="$BUILD/qemuctl"
RUNS="${RUNS:-25}"
SB="$BUILD/bench/seed-build"
need_built "$QC" "make qemuctl"
need_built "$SB" "make bench/seed-build"
need_program genisoimage
[ "$RUNS" -ge 20 ] || die "RUNS must be >= 20"

W="$(mktemp -d /tmp/qc-bench-seed.XXXXXX)"
trap 'rm -rf "$W"' EXIT
mkdir "$W/in" "$W/root"

# Three typical seed files: a cloud-config of a few KiB, meta-data, a static network-config.
cat >"$W/in/meta-data" <<'MD'
instance-id: iid-6f1c2e1e-7d3b-4c55-9a57-2f0c1f2b9b10-1
local-hostname: web-1
MD
{
	echo '#cloud-config'
	echo 'hostname: web-1'
	echo 'users:'
	echo '  - default'
	echo '  - name: qemuctl'
	echo '    sudo: "ALL=(ALL) NOPASSWD:ALL"'
	echo '    ssh_authorized_keys:'
	for i in $(seq 1 8); do
		echo "      - \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI$(printf '%040d' "$i") user$i@host\""
	done
	echo 'write_files:'
	for i in $(seq 1 20); do
		printf '  - path: /etc/app/conf%d\n    content: "key%d: value%d # %s"\n' "$i" "$i" "$i" \
			"$(printf 'x%.0s' $(seq 1 60))"
	done
	echo 'runcmd:'
	echo '  - [systemctl, restart, app]'
} >"$W/in/user-data"
cp "$(dirname "$0")/../tests/integration/seed-net.yaml" "$W/in/network-config"

A=("$QC" --root "$W/root" seed build "$W/a.iso" --meta-data "$W/in/meta-data"
	--user-data "$W/in/user-data" --network-config "$W/in/network-config")
B=(genisoimage -quiet -volid cidata -joliet -rock -o "$W/b.iso" "$W/in")
C=("$SB" "$W/c.iso" "$W/in/meta-data" "$W/in/user-data" "$W/in/network-config")
D=("$QC" --version)

# $EPOCHREALTIME (bash 5, microseconds) reads the clock without forking:
# a `date` fork on each side would add its own ~1 ms to every run and bias
# the ratios toward 1.
run_ns() { # run_ns CMD...: elapsed ns of one whole run
	local t0=$EPOCHREALTIME t1
	"$@" >/dev/null 2>&1 || die "failed: $*"
	t1=$EPOCHREALTIME
	echo $(((10#${t1/./} - 10#${t0/./}) * 1000))
}
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# one warm-up each (page cache, dynamic loader)
for x in A B C D; do
	eval "run_ns \"\${$x[@]}\"" >/dev/null
	: >"$W/t$x"
done
for _ in $(seq 1 "$RUNS"); do
	for x in A B C D; do
		eval "run_ns \"\${$x[@]}\"" >>"$W/t$x"
	done
done
ma=$(median <"$W/tA")
mb=$(median <"$W/tB")
mc=$(median <"$W/tC")
md=$(median <"$W/tD")
sa=$(stat -c %s "$W/a.iso")
sb=$(stat -c %s "$W/b.iso")
in_bytes=$(cat "$W/in/"* | wc -c)

# the two images hold the same files
for f in meta-data user-data network-config; do
	cmp -s <(isoinfo -R -i "$W/a.iso" -x "/$f") "$W/in/$f" || die "qemuctl ISO: $f differs"
	cmp -s <(isoinfo -R -i "$W/b.iso" -x "/$f") "$W/in/$f" || die "genisoimage ISO: $f differs"
done

cmp -s "$W/a.iso" "$W/c.iso" || die "seed-build and qemuctl differ"

awk -v ma="$ma" -v mb="$mb" -v mc="$mc" -v md="$md" -v sa="$sa" -v sb="$sb" -v runs="$RUNS" -v inb="$in_bytes" 'BEGIN {
	printf "seed build, 3 files (%d bytes), median of %d runs, whole process:\n", inb, runs
	printf "  %-32s %8.2f ms   %7d bytes ISO\n", "qemuctl seed build", ma / 1e6, sa
	printf "  %-32s %8.2f ms   %7d bytes ISO\n", "genisoimage -joliet -rock", mb / 1e6, sb
	printf "  %-32s %8.2f ms   (same bytes as qemuctl)\n", "bench/seed-build (writer alone)", mc / 1e6
	printf "  %-32s %8.2f ms\n", "qemuctl --version (start-up)", md / 1e6
	printf "  time ratio qemuctl/genisoimage: %.2f\n", ma / mb
	printf "  time ratio writer alone/genisoimage: %.2f\n", mc / mb
	printf "  size ratio qemuctl/genisoimage: %.3f\n", sa / sb
}'
