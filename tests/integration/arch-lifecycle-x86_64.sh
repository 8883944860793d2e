#!/bin/bash
# The lifecycle under TCG for x86_64 guests; see arch-lifecycle.sh.
QC_TEST_ARCH=x86_64
. "$(dirname "$0")/arch-lifecycle.sh"
