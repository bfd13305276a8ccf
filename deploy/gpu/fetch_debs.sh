#!/usr/bin/env bash
# On a Debian 12 machine with package access: downloads the .debs that the deploy/gpu scripts
# unpack on an offline GPU machine. Default: what reproduce.sh's server-less build needs (absl,
# protobuf, spdlog, fmt, CLI11, zlib; about 6 MB). --server adds gRPC, OpenSSL, cpp-httplib,
# Google Benchmark and pkgconf for rpc_bench.sh (about 20 MB more).
# Usage: deploy/gpu/fetch_debs.sh [--server] [DIR]   (default .gpu/debs)
set -euo pipefail
server=0
[ "${1:-}" = --server ] && { server=1; shift; }
dir=${1:-.gpu/debs}
mkdir -p "$dir"
cd "$dir"
apt-get download libabsl-dev libabsl20220623 libprotobuf-dev libprotobuf32 libprotoc32 \
  protobuf-compiler libspdlog-dev libspdlog1.10 libfmt-dev libfmt9 libcli11-dev zlib1g-dev
if [ $server = 1 ]; then
  apt-get download libgrpc++-dev libgrpc++1.51 libgrpc29 libgrpc-dev protobuf-compiler-grpc \
    libc-ares2 libc-ares-dev libre2-9 libre2-dev libssl3 libssl-dev libcpp-httplib-dev \
    libcpp-httplib0.11 libbrotli1 libbrotli-dev libbenchmark-dev libbenchmark1debian \
    pkgconf pkgconf-bin libpkgconf3
fi
du -sh .
