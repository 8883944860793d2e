#!/bin/bash
# UEFI disk boot of the aarch64 test guest; see firmware-disk-boot.sh.
QC_TEST_ARCH=aarch64
. "$(dirname "$0")/firmware-disk-boot.sh"
