#!/bin/bash
# The lifecycle under TCG for ppc64le guests; see arch-lifecycle.sh.
QC_TEST_ARCH=ppc64le
. "$(dirname "$0")/arch-lifecycle.sh"
