#!/usr/bin/env bash
# Trains a tiny checkpoint, starts a real hnet-server on it (port 0) and runs the Python
# client against it. Usage: tests/python/run_interop.sh BUILD_DIR
set -euo pipefail
build="$(cd "$1" && pwd)"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  [[ -n "${server_pid}" ]] && kill -TERM "${server_pid}" 2>/dev/null && wait "${server_pid}" || true
  rm -rf "${tmp}"
}
trap cleanup EXIT

mkdir -p "${tmp}/models"
"${build}/bin/hnet-train" --config "${here}/tiny_mnist.textproto" --out "${tmp}/models/tiny.hnet" \
  --threads 1 --no_progress --no_final_test --log_level warn
"${build}/bin/hnet-server" --models "${tmp}/models" --address 127.0.0.1 --port 0 --threads 1 \
  --admin_service=true \
  >"${tmp}/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 600); do
  grep -q "listening on" "${tmp}/server.log" && break
  kill -0 "${server_pid}" 2>/dev/null || { cat "${tmp}/server.log"; exit 1; }
  sleep 0.1
done
address="$(grep -o 'listening on [^ ]*' "${tmp}/server.log" | head -1 | awk '{print $3}')"
[[ -n "${address}" ]] || { echo "server did not start"; cat "${tmp}/server.log"; exit 1; }
/usr/bin/python3 "${here}/client_interop.py" --server "${address}" --stubs "${build}/proto/python"
