# benchmarks
EXTRA_DIST += bench/lib.sh
# port add/rm and stats of many VMs (bench/README.md "guest-features")
EXTRA_DIST += bench/guest-features
# exec true through the guest agent against ssh true (bench/README.md "exec")
EXTRA_DIST += bench/exec
# list and info at scale, and while other commands hold VMs (bench/README.md)
EXTRA_DIST += bench/list bench/reads
# --connect against ssh HOST qemuctl (bench/README.md "connect")
EXTRA_DIST += bench/connect
# a running VM's migrate against QEMU's own over ssh (bench/README.md "migrate")
EXTRA_DIST += bench/migrate
# many VMs started at once; stop against the guest's own shutdown (bench/README.md)
EXTRA_DIST += bench/scale bench/stop
# a real Debian guest's boot: start --wait against raw QEMU (bench/README.md "real-boot")
EXTRA_DIST += bench/real-boot
# N commands through one libqemuctl handle against N x ssh HOST qemuctl (bench/README.md "remote-lib")
EXTRA_DIST += bench/remote-lib
