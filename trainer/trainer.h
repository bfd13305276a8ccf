// The hypernetwork training loop behind hnet-train (MNIST-family targets).
#ifndef HNET_TRAINER_TRAINER_H_
#define HNET_TRAINER_TRAINER_H_

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include <c10/core/Device.h>

#include "absl/status/statusor.h"
#include "hnet/v1/checkpoint.pb.h"
#include "hnet/v1/config.pb.h"

namespace hnet::trainer {

struct StepStats {
  int64_t step = 0;  // Steps completed, including this one.
  double loss = 0;
  double cross_entropy = 0;
  double diversity = 0;
  double lambda = 0;
  double learning_rate = 0;
};

struct TrainerOptions {
  hnet::v1::TrainingConfig config;  // Defaulted and validated by the caller.
  std::string out_path;             // Checkpoint file, rewritten atomically each time.
  std::string data_dir;             // Empty: core::DefaultDataDir().
  std::string resume_path;          // Checkpoint to continue from; empty starts afresh.
  c10::Device device = c10::Device(c10::kCPU);
  std::FILE* progress = nullptr;    // Where the progress bar is drawn; nullptr: none.
  bool final_test = true;           // Evaluate on the test split when training ends.
  int64_t networks_per_pass = 0;    // BatchedForward blocking; 0: all networks in one pass.
  const std::atomic<bool>* stop = nullptr;        // Set (e.g. by SIGINT): checkpoint, return.
  std::function<void(const StepStats&)> on_step;  // Called after every step (tests, logs).
};

struct TrainResult {
  int64_t step = 0;        // Steps completed.
  bool interrupted = false;
  hnet::v1::ValidationMetrics validation;  // Last validation report.
  hnet::v1::ValidationMetrics test;        // Final test report, when final_test.
  double steps_per_second = 0;
};

// Trains the hypernetwork described by options.config (or resumes options.resume_path),
// writing checkpoints to options.out_path every eval.checkpoint_every steps, at the end and
// when *options.stop becomes true. Resuming reproduces the uninterrupted run's steps.
absl::StatusOr<TrainResult> Train(const TrainerOptions& options);

// The paper's toy problem (config.toy set): same options, no dataset.
absl::StatusOr<TrainResult> TrainToy(const TrainerOptions& options);

}  // namespace hnet::trainer

#endif  // HNET_TRAINER_TRAINER_H_
