#!/usr/bin/env bash
# Issue 3's RPC benchmark (bench/rpc_bench.cc) on a GPU machine with PyTorch 2.x (CUDA LibTorch
# inside it), CMake, ninja and a compiler but no network and no Debian -dev packages. From the
# repository root, with the packages of `deploy/gpu/fetch_debs.sh --server` in $DEBS:
#
#   DEBS=.gpu/debs bash deploy/gpu/rpc_bench.sh [CHECKPOINT]   (default runs/mnist-2000.hnet)
#
# Builds rpc_bench (server, client and core; no tests) into build-gpu-server/, then runs it once
# per device in DEVICES (default "cuda cpu": the same machine's CPU path as the comparison),
# each bounded by BENCH_SECONDS. Tables land in $OUT (default gpu-out/) as rpc_bench-<device>.md,
# with run.log and the build and bench logs in logs-rpc.tgz.
set -uo pipefail
T0=$SECONDS
DEBS=${DEBS:-.gpu/debs}
O=${OUT:-gpu-out}
L=$(mktemp -d)
mkdir -p "$O"
say() { echo "[$((SECONDS - T0))s] $*" | tee -a "$O/run.log"; }
CKPT=${1:-runs/mnist-2000.hnet}
[ -f "$CKPT" ] || { say "no checkpoint $CKPT"; exit 1; }

source deploy/gpu/env.sh

say "build rpc_bench"
gpu_build build-gpu-server rpc_bench -DHNET_BUILD_TESTS=OFF -DHNET_BUILD_BENCH=ON \
  -DPKG_CONFIG_EXECUTABLE=$prefix/usr/bin/pkgconf || { tar czf "$O/logs-rpc.tgz" -C "$L" .; exit 1; }
say "built"
for dev in ${DEVICES:-cuda cpu}; do
  say "rpc_bench --device $dev"
  timeout -k 10 ${BENCH_SECONDS:-180} build-gpu-server/bin/rpc_bench --checkpoint "$CKPT" \
    --device $dev --threads ${THREADS:-8} ${BENCH_ARGS:-} >"$O/rpc_bench-$dev.md" \
    2>"$L/rpc_bench-$dev.log"
  say "exit $?"
  grep -E "^\| [0-9]+ \|" "$O/rpc_bench-$dev.md" | tee -a "$O/run.log"
done
tar czf "$O/logs-rpc.tgz" -C "$L" .
say "end"
