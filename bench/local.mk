# benchmarks
EXTRA_DIST += bench/lib.sh
