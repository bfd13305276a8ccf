#!/bin/sh
# One task of the lambda sweep (deploy/k8s/sweep/job.yaml): task JOB_COMPLETION_INDEX=i trains
# the i-th value (0-based) of HNET_SWEEP_LAMBDAS with hnet-train into
# HNET_STAGING_DIR/<name>/<name>.hnet, then publishes it by rename(2) into HNET_MODELS_DIR as
# <name>.hnet, where <name> = HNET_SWEEP_NAME-lambda-<lambda>. Staging and models dirs must be
# on one filesystem (the shared volume), so a server watching the models dir sees either no
# file or the whole checkpoint. A retried task resumes from its staged checkpoint; a task whose
# model is already published does nothing unless HNET_SWEEP_OVERWRITE=1.
#
# Environment: JOB_COMPLETION_INDEX (set by Kubernetes), HNET_SWEEP_LAMBDAS ("1e3 1e4 1e5";
# no '+', as in 1e+3: the value is part of the model name, which allows only [A-Za-z0-9._-]),
# HNET_SWEEP_NAME, HNET_SWEEP_CONFIG, HNET_SWEEP_STEPS, HNET_SWEEP_THREADS,
# HNET_SWEEP_CHECKPOINT_EVERY, HNET_SWEEP_DEVICE, HNET_STAGING_DIR, HNET_MODELS_DIR; optional
# HNET_SWEEP_SEED, HNET_SWEEP_OVERWRITE, HNET_TRAIN (the binary, default hnet-train).
set -eu

die() {
  echo "sweep: $*" >&2
  exit 2
}

: "${JOB_COMPLETION_INDEX:?is not set (run as an Indexed Job)}"
: "${HNET_SWEEP_LAMBDAS:?is not set}"
: "${HNET_STAGING_DIR:?is not set}"
: "${HNET_MODELS_DIR:?is not set}"
name_prefix="${HNET_SWEEP_NAME:-mnist}"
config="${HNET_SWEEP_CONFIG:-mnist}"
steps="${HNET_SWEEP_STEPS:-2000}"
threads="${HNET_SWEEP_THREADS:-1}"
checkpoint_every="${HNET_SWEEP_CHECKPOINT_EVERY:-500}"
train="${HNET_TRAIN:-hnet-train}"

case "${JOB_COMPLETION_INDEX}" in
  '' | *[!0-9]*) die "JOB_COMPLETION_INDEX '${JOB_COMPLETION_INDEX}' is not a non-negative integer" ;;
esac
# shellcheck disable=SC2086  # word splitting of the list is the point
set -- ${HNET_SWEEP_LAMBDAS}
count=$#
[ "${JOB_COMPLETION_INDEX}" -lt "${count}" ] ||
  die "JOB_COMPLETION_INDEX ${JOB_COMPLETION_INDEX} is out of range: HNET_SWEEP_LAMBDAS has ${count} values (completions must equal it)"
shift "${JOB_COMPLETION_INDEX}"
lambda="$1"
# The lambda becomes part of the model name, which hnet-server accepts only as
# [A-Za-z0-9._-]+: it skips any other file (and exits when nothing is servable).
case "${lambda}" in
  '' | *[!0-9eE.+-]*) die "lambda '${lambda}' (index ${JOB_COMPLETION_INDEX}) is not a number" ;;
  *+*) die "lambda '${lambda}' (index ${JOB_COMPLETION_INDEX}): '+' cannot be in a model name ([A-Za-z0-9._-]+); write 1e3, not 1e+3" ;;
esac
case "${name_prefix}" in
  '' | *[!A-Za-z0-9._-]*) die "HNET_SWEEP_NAME '${name_prefix}' is not a model name ([A-Za-z0-9._-]+)" ;;
esac

name="${name_prefix}-lambda-${lambda}"
stage="${HNET_STAGING_DIR}/${name}"
staged="${stage}/${name}.hnet"
published="${HNET_MODELS_DIR}/${name}.hnet"
mkdir -p "${stage}" "${HNET_MODELS_DIR}"
[ "$(stat -c %d "${stage}")" = "$(stat -c %d "${HNET_MODELS_DIR}")" ] ||
  die "${HNET_STAGING_DIR} and ${HNET_MODELS_DIR} are on different filesystems; publishing would not be atomic"

if [ -f "${published}" ] && [ ! -f "${staged}" ] && [ "${HNET_SWEEP_OVERWRITE:-0}" != 1 ]; then
  echo "sweep: ${published} is already published; delete it or set HNET_SWEEP_OVERWRITE=1 to retrain"
  exit 0
fi

if [ -f "${staged}" ]; then
  echo "sweep: index ${JOB_COMPLETION_INDEX}: resuming ${staged} (lambda ${lambda})"
  set -- --resume "${staged}"
else
  echo "sweep: index ${JOB_COMPLETION_INDEX}: training ${name} (lambda ${lambda}, ${steps} steps)"
  set -- --config "${config}"
fi
[ -z "${HNET_SWEEP_SEED:-}" ] || set -- "$@" --seed "${HNET_SWEEP_SEED}"
"${train}" "$@" --lambda "${lambda}" --steps "${steps}" --out "${staged}" \
  --checkpoint_every "${checkpoint_every}" --threads "${threads}" --device "${HNET_SWEEP_DEVICE:-auto}" \
  --no_progress

[ -f "${staged}" ] || die "${train} exited 0 but wrote no ${staged}"
mv -f "${staged}" "${published}"
rmdir "${stage}" 2>/dev/null || true
echo "sweep: published ${published}"
