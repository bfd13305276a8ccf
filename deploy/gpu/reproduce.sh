#!/usr/bin/env bash
# Issue 4's reproduction runs on a GPU machine with PyTorch 2.x (CUDA LibTorch inside it),
# CMake, ninja and a compiler but no network and no Debian -dev packages. From the repo root:
#
#   PHASES="build train eval" DEBS=.gpu/debs HNET_DATA_DIR=.gpu/data bash deploy/gpu/reproduce.sh
#
# build: unpacks Debian 12 .debs (absl, protobuf, spdlog, fmt, CLI11, zlib; see
#        deploy/gpu/README.md) into /opt/hnet-deps and builds hnet-train, hnet-baseline and
#        hnet-eval with -DHNET_BUILD_SERVER=OFF into build-gpu/.
# train: lambda = 1e5 and 1e3 for the config's 13,000 steps (resumed where runs/repro/ already
#        holds a checkpoint) and a 20-network baseline of the same config (its data.max_shift
#        included), at once on the one GPU, and the toy problem (runs/repro/toy.hnet, CPU, also
#        resumed). CONFIG picks the shipped config (default mnist; mnist_tuned writes
#        runs/repro/mnist-tuned-l* and runs/repro/mnist-tuned-baseline-20.hnetw). The baseline
#        cannot resume: it is written under a .partial name and renamed only when it finished
#        (exit code 0), so a run stopped at the deadline trains it again next time.
# eval:  the full hnet-eval of both checkpoints into docs/results/<name>-l<lambda>/, figures as
#        gnuplot scripts (--defer_plots) to draw where gnuplot is installed; --baseline and
#        --toy_checkpoint are passed when those files exist.
# Everything ends within DEADLINE seconds (trainers are stopped with SIGINT, which writes a
# resumable checkpoint); a phase with 5 s or less of its budget left is skipped. Checkpoints,
# results and logs are copied to $OUT (default gpu-out/).
set -uo pipefail
T0=$SECONDS
DEADLINE=${DEADLINE:-565}
PHASES=${PHASES:-build train eval}
DEBS=${DEBS:-.debs}
O=${OUT:-gpu-out}
L=$(mktemp -d)
mkdir -p "$O"
say() { echo "[$((SECONDS - T0))s] $*" | tee -a "$O/run.log"; }
left() { echo $((DEADLINE - (SECONDS - T0))); }
has() { [[ " $PHASES " == *" $1 "* ]]; }
B=${BIN:-build-gpu/bin}
CONFIG=${CONFIG:-mnist}
NAME=${CONFIG//_/-}
BASE=runs/repro/baseline-20.hnetw
[ "$CONFIG" = mnist ] || BASE=runs/repro/$NAME-baseline-20.hnetw

source deploy/gpu/env.sh

if has build; then
  say "build"
  targets="hnet-eval"
  has train && targets="hnet-train hnet-baseline hnet-eval"
  gpu_build build-gpu "$targets" -DHNET_BUILD_SERVER=OFF || exit 1
  say "built"
fi

mkdir -p runs/repro docs/results
TOY=runs/repro/toy.hnet
if has train; then
  tt=$(($(left) - ${EVAL_SECONDS:-170}))
  if [ "$tt" -le 5 ]; then
    say "training skipped: ${tt}s left of the DEADLINE after EVAL_SECONDS"
  else
    say "training, at most ${tt}s"
    for lam in 1e5 1e3; do
      ckpt=runs/repro/$NAME-l$lam.hnet
      start=(--config $CONFIG --lambda $lam)
      [ -f $ckpt ] && start=(--resume $ckpt)
      timeout -s INT -k 15 $tt $B/hnet-train "${start[@]}" --device cuda --threads 3 \
        --checkpoint_every 500 --no_progress --out $ckpt >"$L/train-l$lam.log" 2>&1 &
    done
    # The toy problem (Fig. 1) is small: CPU, one thread, beside the GPU runs.
    start=(--config toy)
    [ -f "$TOY" ] && start=(--resume "$TOY")
    timeout -s INT -k 15 $tt $B/hnet-train "${start[@]}" --device cpu --threads 1 \
      --no_progress --out "$TOY" >"$L/train-toy.log" 2>&1 &
    if [ ! -f $BASE ]; then
      # hnet-baseline cannot resume, and SIGINT still writes its --out: train under another
      # name and take it only when it finished.
      part=${BASE%.hnetw}.partial.hnetw
      (
        timeout -s INT -k 15 $tt $B/hnet-baseline --config $CONFIG --ensemble_size 20 \
          --epochs 10 --seed 120 --device cuda --threads 3 --no_progress --overwrite --out "$part" \
          >"$L/baseline-20.log" 2>&1
        rc=$?
        if [ "$rc" -eq 0 ]; then
          mv -f "$part" "$BASE"
        else
          say "baseline not finished (exit code $rc): $BASE not written, networks so far in $part"
        fi
      ) &
    fi
    wait
    for f in runs/repro/$NAME-l1e5.hnet runs/repro/$NAME-l1e3.hnet $BASE $TOY; do
      [ -f $f ] && cp $f "$O/" && say "$(sha256sum $f)"
    done
    for f in "$L"/train-*.log; do say "$f: $(grep -E 'trained|interrupted' $f | tail -1)"; done
  fi
fi

if has eval; then
  et=$(($(left) - 25))
  if [ "$et" -le 5 ]; then
    say "eval skipped: ${et}s left of the DEADLINE"
  else
    say "eval, at most ${et}s"
    extra=()
    if [ -f "$BASE" ]; then extra+=(--baseline "$BASE"); else say "no $BASE: eval without it"; fi
    if [ -f "$TOY" ]; then extra+=(--toy_checkpoint "$TOY"); else say "no $TOY: eval without it"; fi
    for lam in 1e5 1e3; do
      [ -f runs/repro/$NAME-l$lam.hnet ] || continue
      timeout -s INT -k 10 $et $B/hnet-eval --checkpoint runs/repro/$NAME-l$lam.hnet \
        ${extra[@]+"${extra[@]}"} --out docs/results/$NAME-l$lam --defer_plots --threads 6 \
        >"$L/eval-l$lam.log" 2>&1 &
    done
    wait
    say "eval done"
    for lam in 1e5 1e3; do
      [ -f docs/results/$NAME-l$lam/report.md ] || continue
      tar czf "$O/eval-l$lam.tgz" docs/results/$NAME-l$lam
      grep -E "^\| (lambda|paths|adversarial|OOD AUROC)" docs/results/$NAME-l$lam/report.md |
        tee -a "$O/run.log"
    done
  fi
fi
tar czf "$O/logs.tgz" -C "$L" .
say "end"
