#include "eval/options.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace hnet::eval {

EvalOptions QuickOptions(EvalOptions o) {
  o.networks = 24;
  o.ensembles = 3;
  o.ensemble_size = 8;
  o.ensemble_sizes = {1, 2, 4, 8};
  o.path_pairs = 2;
  o.path_points = 6;
  o.adversarial_images = 40;
  o.adversarial_ensemble = 6;
  o.adversarial_epsilon_steps = 8;
  o.uncertainty_members = 8;
  o.test_images = 300;
  o.ood_images = 300;
  return o;
}

std::vector<int64_t> FitEnsembleSizes(const std::vector<int64_t>& defaults, int64_t ensemble_size) {
  std::vector<int64_t> sizes;
  for (int64_t s : defaults) {
    if (s >= 1 && s <= ensemble_size) sizes.push_back(s);
  }
  if (ensemble_size >= 1) sizes.push_back(ensemble_size);
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

absl::Status ValidateOptions(const EvalOptions& o) {
  auto bad = [](const std::string& flag, const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " ", why));
  };
  if (o.checkpoint.empty()) return bad("checkpoint", "is required");
  if (o.out_dir.empty()) return bad("out", "is required");
  if (o.networks < 2) return bad("networks", "must be >= 2");
  if (o.ensembles < 1) return bad("ensembles", "must be >= 1");
  if (o.ensemble_size < 1) return bad("ensemble_size", "must be >= 1");
  for (int64_t s : o.ensemble_sizes) {
    if (s < 1 || s > o.ensemble_size) {
      return bad("ensemble_sizes", absl::StrCat("entry ", s, " is outside 1..--ensemble_size (",
                                                o.ensemble_size, ")"));
    }
  }
  if (o.path_pairs < 1) return bad("path_pairs", "must be >= 1");
  if (o.path_points < 2) return bad("path_points", "must be >= 2");
  if (o.path_images < 0) return bad("path_images", "must be >= 0");
  if (o.adversarial_images < 0) return bad("adversarial_images", "must be >= 0");
  if (o.adversarial_ensemble < 1) return bad("adversarial_ensemble", "must be >= 1");
  if (o.adversarial_epsilon_steps < 1) return bad("adversarial_epsilon_steps", "must be >= 1");
  if (o.uncertainty_members < 1) return bad("uncertainty_members", "must be >= 1");
  if (o.test_images < 0) return bad("test_images", "must be >= 0");
  if (o.ood_images < 0) return bad("ood_images", "must be >= 0");
  if (o.pca_components < 2) return bad("pca_components", "must be >= 2");
  if (o.calibration_bins < 1) return bad("calibration_bins", "must be >= 1");
  for (const std::string& s : o.sections) {
    if (std::find(AllSections().begin(), AllSections().end(), s) == AllSections().end()) {
      return bad("sections", absl::StrCat("has unknown section '", s,
                                          "' (known: ", absl::StrJoin(AllSections(), ", "), ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace hnet::eval
