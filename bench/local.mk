# benchmarks
EXTRA_DIST += bench/lib.sh
# port add/rm and stats of many VMs (bench/README.md "guest-features")
EXTRA_DIST += bench/guest-features
