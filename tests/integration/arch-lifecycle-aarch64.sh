#!/bin/bash
# The lifecycle under TCG for aarch64 guests; see arch-lifecycle.sh.
QC_TEST_ARCH=aarch64
. "$(dirname "$0")/arch-lifecycle.sh"
