#!/usr/bin/env bash
# The main job on CPU: set up, train a short MNIST hypernetwork with the paper's settings and
# print what 200 generated networks (and their ensembles) score on the MNIST test set.
#
# Usage: deploy/demo.sh     (env: HNET_DEMO_STEPS, default 500; HNET_THREADS)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"${REPO_ROOT}/deploy/setup.sh"

BIN="${HNET_BUILD_DIR:-${REPO_ROOT}/build}/bin"
RUNS="${REPO_ROOT}/runs"
mkdir -p "${RUNS}"
export HNET_DATA_DIR="${HNET_DATA_DIR:-${REPO_ROOT}/data}"
"${BIN}/hnet-train" --config mnist --steps "${HNET_DEMO_STEPS:-500}" \
  --eval_every "${HNET_DEMO_STEPS:-500}" --threads "${HNET_THREADS:-$(nproc)}" \
  --out "${RUNS}/mnist-demo.hnet"
