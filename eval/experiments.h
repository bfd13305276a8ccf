// The experiments of paper section 4 and beyond, one function per experiment. Each writes
// its CSV data, figures and report section through the context and records the numbers the
// bars need in Headline. All are deterministic given options.seed; errors name the step.
#ifndef HNET_EVAL_EXPERIMENTS_H_
#define HNET_EVAL_EXPERIMENTS_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/weight_ensemble.h"
#include "eval/context.h"
#include "eval/models.h"

namespace hnet::eval {

// The paper's numbers and the targets.
inline constexpr double kPaperEnsembleVote = 0.9914;   // 20 x 200, majority vote, lambda 1e3.
inline constexpr double kMnfgEnsembleVote = 0.9928;    // The same protocol for MNFG.
inline constexpr double kTargetEnsembleVote = 0.9935;  // Our target for lambda 1e3.
inline constexpr double kTargetSingle1e5 = 0.990;      // Mean single accuracy, lambda 1e5.

// Headline numbers collected for the bars table.
struct Headline {
  double lambda = 0;
  std::optional<double> mean_single;
  std::optional<std::pair<double, double>> ensemble_vote;  // Mean, sd over ensembles.
  int64_t ensembles = 0, ensemble_size = 0;
  std::optional<double> path_endpoint_mean, path_interpolated_min, path_direct_min;
  // Mean success over epsilons > 0 (targeted), single network vs ensemble, transfer attack.
  std::optional<std::pair<double, double>> adversarial;
  std::optional<double> ood_auroc;  // Hypernetwork ensemble, entropy of the mean.
  std::vector<std::pair<std::string, double>> baseline_ood_auroc;
};

// Accuracy histogram of the pool's networks (paper Fig. 2).
absl::Status RunAccuracy(EvalContext& ctx, const MemberSet& pool, Headline* headline);

// options.ensembles fresh ensembles of options.ensemble_size networks: majority vote, mean
// probability, most confident; accuracy vs ensemble size (paper 4.2.2, the 99.14 % figure).
absl::Status RunEnsembles(EvalContext& ctx, const HypernetModel& model, Headline* headline);

// Accuracy vs ensemble size over prefixes of a fixed member set (baselines: one draw).
absl::Status RunMemberEnsembles(EvalContext& ctx, const MemberSet& members);

// Pairwise disagreement (also over the error rate), weight-space distances raw and
// gauge-fixed, and (with a model) the entropy estimate as trained.
absl::Status RunDiversity(EvalContext& ctx, const MemberSet& members, const HypernetModel* model);

// PCA scatter matrices for single filters, each layer and the whole network (Figs. 6, 9-15).
absl::Status RunPca(EvalContext& ctx, const HypernetModel& model, const MemberSet& pool);

// Images of 25 generated samples of four filter slices (Fig. 3).
absl::Status RunFilters(EvalContext& ctx, const HypernetModel& model, const MemberSet& pool);

// Direct vs interpolated paths between random pairs of generated networks (Fig. 7).
absl::Status RunPaths(EvalContext& ctx, const HypernetModel& model, Headline* headline);

// Targeted FGSM: the paper's transfer protocol (gradient of member 0, tested on it and on an
// ensemble of other members) and the white-box attack through the ensemble (Fig. 8).
// `headline` may be null (baselines).
absl::Status RunAdversarial(EvalContext& ctx, const MemberSet& members, Headline* headline);

// Calibration (ECE, NLL, Brier, reliability diagram) of single members and the ensemble.
absl::Status RunCalibration(EvalContext& ctx, const MemberSet& members);

// MNIST vs Fashion-MNIST detection (AUROC, AUPR) from the entropy of the mean prediction and
// from mutual information; *auroc receives the ensemble's entropy AUROC.
absl::Status RunOod(EvalContext& ctx, const MemberSet& members, double* auroc);

// Runs the shared experiments on a weight ensemble (the index-th --baseline, from 1, read from
// `path`): accuracy, ensembles, diversity, calibration, OOD, adversarial.
absl::Status RunBaseline(EvalContext& ctx, const std::string& path,
                         const core::WeightEnsemble& ensemble, int index, Headline* headline);

// The toy problem's figure (Fig. 1): generated path over the mixture.
absl::Status RunToy(EvalContext& ctx, const ToyModel& model);

// The bars of the issue, from the headline numbers.
void AddBars(EvalContext& ctx, const Headline& headline);

}  // namespace hnet::eval

#endif  // HNET_EVAL_EXPERIMENTS_H_
