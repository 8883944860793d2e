#!/bin/bash
# UEFI disk boot of the x86_64 test guest; see firmware-disk-boot.sh.
QC_TEST_ARCH=x86_64
. "$(dirname "$0")/firmware-disk-boot.sh"
