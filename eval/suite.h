// hnet-eval's entry point as a library call: runs the selected experiments on a checkpoint
// (and baselines, and a toy checkpoint) and writes report.md, results.json, comparison.csv,
// data/*.csv and figures/*.png into options.out_dir.
#ifndef HNET_EVAL_SUITE_H_
#define HNET_EVAL_SUITE_H_

#include "absl/status/statusor.h"
#include "eval/experiments.h"
#include "eval/options.h"

namespace hnet::eval {

// Runs the evaluation. Deterministic given options.seed (up to floating-point
// non-associativity across thread counts and devices). Long steps log progress. Before any
// work it checks the input files the selected sections read (--checkpoint; --baseline and
// --toy_checkpoint, which are also loaded): NotFound naming the flag and path for a missing one.
// Errors name the input or step that failed; the output folder may then be incomplete.
absl::StatusOr<Headline> RunEvaluation(const EvalOptions& options);

}  // namespace hnet::eval

#endif  // HNET_EVAL_SUITE_H_
