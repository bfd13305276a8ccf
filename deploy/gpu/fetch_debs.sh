#!/usr/bin/env bash
# On a Debian 12 machine with package access: downloads the .debs that deploy/gpu/reproduce.sh
# unpacks on an offline GPU machine (a server-less build: no gRPC, OpenSSL or cpp-httplib).
# Usage: deploy/gpu/fetch_debs.sh [DIR]   (default .gpu/debs, about 6 MB)
set -euo pipefail
dir=${1:-.gpu/debs}
mkdir -p "$dir"
cd "$dir"
apt-get download libabsl-dev libabsl20220623 libprotobuf-dev libprotobuf32 libprotoc32 \
  protobuf-compiler libspdlog-dev libspdlog1.10 libfmt-dev libfmt9 libcli11-dev zlib1g-dev
du -sh .
