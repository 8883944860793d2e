#!/usr/bin/env bash
# bench/sync: `qemuctl image sync` of a >= 512 MiB image from a loopback
# HTTP server vs `curl -o` of the same file (goal: throughput ratio >= 0.9,
# SHA-256, qemu-img check and the catalog commit included), and overlay
# creation through the library vs a raw `qemu-img create` (goal <= 1.1).
#
# usage: bench/sync.sh [BUILDDIR]   (SIZE_MIB=600 RUNS=3 OVERLAYS=50)
set -euo pipefail
BENCH=bench/sync
. "$(dirname "$0")/lib.sh"

SRC="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$PWD}"
QC="$BUILD/qemuctl"
OVB="$BUILD/bench/sync-overlay"
SIZE_MIB="${SIZE_MIB:-600}"
RUNS="${RUNS:-3}"
OVERLAYS="${OVERLAYS:-50}"
need_built "$QC"
need_built "$OVB" "make bench/sync-overlay"
need_program curl

W="$(mktemp -d /tmp/qc-bench-sync.XXXXXX)"
HTTPD=
cleanup() {
	if [ -n "$HTTPD" ]; then
		kill "$HTTPD" 2>/dev/null || true
		wait "$HTTPD" 2>/dev/null || true
	fi
	rm -rf "$W"
}
trap cleanup EXIT

# A qcow2 holding SIZE_MIB of data (non-zero, so every byte is transferred).
qemu-img create -q -f qcow2 "$W/small.qcow2" 1M
qemu-img create -q -f qcow2 "$W/big.qcow2" "$((SIZE_MIB + 64))M"
qemu-io -f qcow2 -c "write -P 0x5a 0 ${SIZE_MIB}M" "$W/big.qcow2" >/dev/null
python3 "$SRC/tests/integration/mkstream.py" --out "$W/tree" --old "$W/small.qcow2" \
	--new "$W/small.qcow2" --big "$W/big.qcow2"
BIG_PATH="$(cd "$W/tree" && find . -name '*bench*' -type f | head -1)"
BYTES="$(stat -L -c %s "$W/tree/$BIG_PATH")"

python3 "$SRC/tests/integration/httpd.py" --dir "$W/tree" --port-file "$W/port" &
HTTPD=$!
for _ in $(seq 100); do [ -s "$W/port" ] && break; sleep 0.1; done
URL="http://127.0.0.1:$(cat "$W/port")/"

best() { sort -g | head -1; }

# Warm the page cache of the source, so both sides read it from memory.
cat "$W/big.qcow2" >/dev/null

curl_times=()
sync_times=()
curl_cpu=()
sync_cpu=()
# timed OUTVAR CPUVAR CMD...: wall seconds and user+sys CPU seconds of CMD
timed() {
	local -n _wall="$1" _cpu="$2"
	shift 2
	local TIMEFORMAT='%R %U %S' e u s
	{ time "$@" 2>"$W/cmd.err"; } 2>"$W/time" || { cat "$W/cmd.err" >&2; exit 1; }
	read -r e u s <"$W/time"
	_wall+=("$e")
	_cpu+=("$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')")
}
for i in $(seq "$RUNS"); do
	rm -f "$W/curl.out"
	timed curl_times curl_cpu curl -fsS -o "$W/curl.out" "$URL${BIG_PATH#./}"
	rm -f "$W/curl.out"
	rm -rf "$W/root"
	mkdir -m 0700 "$W/root" # a state root must exist (qemuctl never creates one on a typo)
	timed sync_times sync_cpu "$QC" --root "$W/root" -q image sync ubuntu:bench --arch amd64 \
		--stream "$URL"
	sync
done
ct="$(printf '%s\n' "${curl_times[@]}" | best)"
st="$(printf '%s\n' "${sync_times[@]}" | best)"
cc="$(printf '%s\n' "${curl_cpu[@]}" | best)"
sc="$(printf '%s\n' "${sync_cpu[@]}" | best)"
mib="$(awk -v b="$BYTES" 'BEGIN { print b / 1048576 }')"
div() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }
printf 'sync: %.0f MiB file, best of %d runs (load average %s)\n' "$mib" "$RUNS" \
	"$(cut -d' ' -f1 /proc/loadavg)"
printf '  curl -o            %6.3f s  %7.1f MiB/s  cpu %5.2f s  (runs: %s)\n' "$ct" \
	"$(div "$mib" "$ct")" "$cc" "${curl_times[*]}"
printf '  qemuctl image sync %6.3f s  %7.1f MiB/s  cpu %5.2f s  (runs: %s)\n' "$st" \
	"$(div "$mib" "$st")" "$sc" "${sync_times[*]}"
printf '  throughput ratio sync/curl: %.2f (goal >= 0.9)\n' "$(div "$ct" "$st")"

"$OVB" "$W" "$OVERLAYS"
