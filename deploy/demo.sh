#!/usr/bin/env bash
# The main job on CPU: set up; train a short MNIST hypernetwork with the paper's settings and
# print what 200 generated networks (and their ensembles) score on the MNIST test set; then
# serve the checkpoint with hnet-server and query it with the hnet client: sampled weights
# saved (.npz and .pt), a 100-network ensemble classifying the MNIST test set, and an
# interpolated path.
#
# Usage: deploy/demo.sh     (env: HNET_DEMO_STEPS, default 500; HNET_THREADS; HNET_PORT)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"${REPO_ROOT}/deploy/setup.sh"

BIN="${HNET_BUILD_DIR:-${REPO_ROOT}/build}/bin"
RUNS="${REPO_ROOT}/runs/demo"
STEPS="${HNET_DEMO_STEPS:-500}"
PORT="${HNET_PORT:-50051}"
mkdir -p "${RUNS}/models" "${RUNS}/samples"
export HNET_DATA_DIR="${HNET_DATA_DIR:-${REPO_ROOT}/data}"

echo "== training ${STEPS} steps =="
"${BIN}/hnet-train" --config mnist --steps "${STEPS}" --eval_every "${STEPS}" \
  --threads "${HNET_THREADS:-$(nproc)}" --overwrite --out "${RUNS}/models/mnist.hnet"

echo "== serving ${RUNS}/models on 127.0.0.1:${PORT} =="
"${BIN}/hnet-server" --models "${RUNS}/models" --address 127.0.0.1 --port "${PORT}" \
  >"${RUNS}/server.log" 2>&1 &
server_pid=$!
trap 'kill -TERM ${server_pid} 2>/dev/null; wait ${server_pid} 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  grep -q "listening on" "${RUNS}/server.log" 2>/dev/null && break
  kill -0 "${server_pid}" || { cat "${RUNS}/server.log"; exit 1; }
  sleep 0.1
done
if ! grep -q "listening on" "${RUNS}/server.log" 2>/dev/null; then
  cat "${RUNS}/server.log" >&2 || true
  echo "demo: hnet-server did not report 'listening on' within 60 s (log above:" \
    "${RUNS}/server.log)" >&2
  exit 1
fi

# A 100-network pass over 1,000 images is ~0.6 TFLOP: allow minutes per call on a small CPU.
HNET=("${BIN}/hnet" --server "127.0.0.1:${PORT}" --model mnist --deadline 600)
"${HNET[@]}" info
echo "== 10 sampled networks -> ${RUNS}/samples =="
"${HNET[@]}" sample -n 10 --seed 1 --gauge_fixed --return_z \
  --npz "${RUNS}/samples/mnist.npz" --pt "${RUNS}/samples/mnist.pt"
echo "== 100-network ensemble on the MNIST test set =="
"${HNET[@]}" classify -k 100 --seed 2 --rule mean --batch 1000 \
  --images "${HNET_DATA_DIR}/mnist/t10k-images-idx3-ubyte" \
  --labels "${HNET_DATA_DIR}/mnist/t10k-labels-idx1-ubyte"
echo "== path between two networks (MNIST test set) =="
"${HNET[@]}" path --start_seed 3 --end_seed 4 --points 9 --csv "${RUNS}/path.csv"
