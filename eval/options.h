// Options of an evaluation run (hnet-eval's flags map onto these one to one).
#ifndef HNET_EVAL_OPTIONS_H_
#define HNET_EVAL_OPTIONS_H_

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace hnet::eval {

// The experiments, by the names --sections takes.
inline const std::vector<std::string>& AllSections() {
  static const std::vector<std::string> kSections = {
      "accuracy",    "ensembles",   "diversity", "paths",     "pca", "filters",
      "adversarial", "calibration", "ood",       "baselines", "toy"};
  return kSections;
}

struct EvalOptions {
  std::string checkpoint;              // Hypernetwork checkpoint (*.hnet); required.
  std::vector<std::string> baselines;  // Weight ensembles (*.hnetw), evaluated alike.
  std::string toy_checkpoint;          // Toy-problem checkpoint for Fig. 1; optional.
  std::string out_dir;                 // Created if missing; report.md, results.json, ...
  std::string data_dir;                // Empty: core::DefaultDataDir().
  std::string device = "auto";         // auto, cpu, cuda, cuda:N.

  int64_t networks = 1000;      // Generated networks for histogram and diversity.
  int64_t ensembles = 20;       // Independent ensembles (paper: 20) ...
  int64_t ensemble_size = 200;  // ... of this many networks (paper: 200).
  // Accuracy vs size; each in 1..ensemble_size. hnet-eval without --ensemble_sizes passes
  // FitEnsembleSizes(these defaults, ensemble_size).
  std::vector<int64_t> ensemble_sizes = {1, 5, 10, 50, 100, 200};
  int64_t path_pairs = 10;                 // Random (z1, z2) pairs ...
  int64_t path_points = 40;                // ... and points along each path.
  int64_t path_images = 0;                 // Test images for path accuracies (0: all used).
  int64_t adversarial_images = 1000;       // Test images attacked (0: the whole test set).
  int64_t adversarial_ensemble = 100;      // Members of the attacked ensemble (paper: 100).
  int64_t adversarial_epsilon_steps = 30;  // 0, 2, 4, ... /255 (paper: 30 steps, to 58/255).
  int64_t uncertainty_members = 100;       // Ensemble for calibration and OOD detection.
  int64_t test_images = 0;                 // MNIST test images used (0: all 10,000).
  int64_t ood_images = 0;                  // Fashion-MNIST test images (0: all 10,000).
  int64_t pca_components = 4;              // Components in the PCA scatter matrices.
  int calibration_bins = 15;
  uint64_t seed = 1;
  std::set<std::string> sections;  // Empty: all of AllSections().
  bool plots = true;               // False: data only, no gnuplot.
  bool defer_plots = false;        // True: gnuplot scripts only, rendered later.
  std::string command_line;        // Shown in the report.

  bool Runs(const std::string& section) const {
    return sections.empty() || sections.count(section) > 0;
  }
};

// Scales a run down for CI and smoke tests (--quick): 24 networks, 3 ensembles of 8, paths
// of 2 x 6 points, 40 adversarial images with 6 members, 300 test and OOD images.
EvalOptions QuickOptions(EvalOptions options);

// The accuracy-vs-size list for ensembles of `ensemble_size` when none is given: the entries
// of `defaults` in 1..ensemble_size and ensemble_size itself, ascending, without repeats
// (defaults {1, 5, 10, 50, 100, 200} and ensemble_size 100: {1, 5, 10, 50, 100}).
std::vector<int64_t> FitEnsembleSizes(const std::vector<int64_t>& defaults, int64_t ensemble_size);

// Checks ranges and section names; the error names the option.
absl::Status ValidateOptions(const EvalOptions& options);

}  // namespace hnet::eval

#endif  // HNET_EVAL_OPTIONS_H_
