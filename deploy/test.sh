#!/usr/bin/env bash
# Set up (packages, data, build) and run the whole test suite with ctest.
#
# Usage: deploy/test.sh [extra ctest args]
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"${REPO_ROOT}/deploy/setup.sh"

BUILD_DIR="${HNET_BUILD_DIR:-${REPO_ROOT}/build}"
ctest --test-dir "${BUILD_DIR}" --output-on-failure -j "${HNET_TEST_JOBS:-2}" "$@"
