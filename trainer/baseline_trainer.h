// Conventional baselines: N independently trained target networks (a deep ensemble; N = 1 is one
// conventionally trained network) of a config's target spec, trained with cross-entropy and Adam,
// all N in one batched pass (core::BatchedForward; no per-network loop). The result is a
// core::WeightEnsemble that hnet-eval scores like networks sampled from a hypernetwork.
#ifndef HNET_TRAINER_BASELINE_TRAINER_H_
#define HNET_TRAINER_BASELINE_TRAINER_H_

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/target_forward.h"
#include "core/target_spec.h"
#include "core/weight_ensemble.h"
#include "hnet/v1/config.pb.h"

namespace hnet::trainer {

struct BaselineStepStats {
  int64_t step = 0;          // Steps completed, including this one.
  int64_t epoch = 0;         // 0-based epoch of this step.
  double cross_entropy = 0;  // Mean over the N networks of each one's minibatch loss.
  double learning_rate = 0;
};

struct BaselineOptions {
  // Target spec (config.target), dataset, validation size and shift augmentation (config.data)
  // and seed (config.seed) come from here; the hypernetwork and optimizer fields are ignored.
  hnet::v1::TrainingConfig config;
  int64_t ensemble_size = 1;  // N networks trained together.
  int64_t first_network = 0;  // Network i uses the seed streams of index first_network + i,
                              // so ensembles can be trained in pieces and concatenated.
  int64_t epochs = 10;
  int64_t batch_size = 64;          // Images per network per step.
  double learning_rate = 1e-3;      // Adam step size at the start.
  double lr_decay_per_epoch = 0.8;  // Learning rate multiplied by this per epoch (smoothly).
  int64_t train_subset = 0;         // Train on the first K training images only; 0: all 55,000.
  std::string out_path;             // WeightEnsemble file (.hnetw); empty: do not write.
  std::string data_dir;             // Empty: core::DefaultDataDir().
  c10::Device device = c10::Device(c10::kCPU);
  int64_t networks_per_pass = 0;     // BatchedForward blocking; 0: all networks in one pass.
  bool validate_every_epoch = true;  // Validation accuracy after each epoch (logged).
  bool final_test = true;            // Test accuracy per network and of the ensemble at the end.
  std::FILE* progress = nullptr;     // Where the progress bar is drawn; nullptr: none.
  const std::atomic<bool>* stop = nullptr;  // Set (e.g. by SIGINT): save what exists, return.
  std::function<void(const BaselineStepStats&)> on_step;  // After every step (tests, logs).
};

struct BaselineEpochReport {
  int64_t epoch = 0;                        // 1-based.
  double train_cross_entropy = 0;           // Mean over the epoch's steps and the networks.
  std::vector<double> validation_accuracy;  // Per network.
  double validation_ensemble_accuracy = 0;  // Mean-probability ensemble of the N networks.
  double seconds = 0;  // Wall time of the epoch's training steps (validation excluded).
};

struct BaselineResult {
  core::WeightEnsemble ensemble;  // The trained networks (also written to out_path).
  std::vector<BaselineEpochReport> epochs;
  std::vector<double> test_accuracy;  // Per network, when final_test.
  double test_ensemble_accuracy = 0;  // Mean-probability ensemble, when final_test.
  double test_majority_vote_accuracy = 0;
  int64_t steps = 0;  // Steps completed.
  bool interrupted = false;
};

// Checks the options (sizes positive, learning rate and decay sensible, target spec valid). Errors
// name the option.
absl::Status ValidateBaselineOptions(const BaselineOptions& options);

// Trains options.ensemble_size networks as described above, logging progress and writing the
// ensemble to options.out_path (also when stopped early). Deterministic for a seed on a given
// device and thread count.
absl::StatusOr<BaselineResult> TrainBaselines(const BaselineOptions& options);

// Initial weights of networks [first, first + n) for `seed`: per layer, each filter's weights
// uniform in +-sqrt(6 / fan_in) (He/Kaiming uniform for ReLU), biases 0. Network i depends only on
// (seed, i). CPU float32, one [n, F_l, S_l] tensor per layer.
core::WeightBatch InitialBaselineWeights(const core::TargetLayout& layout, uint64_t seed,
                                         int64_t first, int64_t n);

// The independent random stream of network `index` for `purpose` (0: initialisation, 1: minibatch
// order, 2: image shifts when config.data.max_shift > 0) under `seed`.
at::Generator BaselineGenerator(uint64_t seed, int64_t index, int purpose);

// The next epoch's visiting order of `train_size` training images for each network: one random
// permutation per generator, [generators.size(), train_size] int64 CPU.
at::Tensor NextEpochOrder(std::vector<at::Generator>& generators, int64_t train_size);

}  // namespace hnet::trainer

#endif  // HNET_TRAINER_BASELINE_TRAINER_H_
