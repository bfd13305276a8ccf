// Checkpointing shared by the MNIST and toy training loops.
#ifndef HNET_TRAINER_TRAINING_STATE_H_
#define HNET_TRAINER_TRAINING_STATE_H_

#include <ATen/core/Generator.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/adam.h"
#include "hnet/v1/checkpoint.pb.h"
#include "hnet/v1/config.pb.h"

namespace torch::nn {
class Module;
}

namespace hnet::trainer {

// Learning rate and lambda in effect for the step after `step` completed steps: the
// exponential decay, times the cosine warm-down over the last optimizer.anneal_steps steps.
double LearningRateAt(const hnet::v1::TrainingConfig& config, int64_t step);
double LambdaAt(const hnet::v1::TrainingConfig& config, int64_t step);

// Everything needed to continue a run, serialised into one checkpoint.
hnet::v1::Checkpoint MakeCheckpoint(const hnet::v1::TrainingConfig& config, int64_t step,
                                    const torch::nn::Module& model, const core::Adam& adam,
                                    const at::Generator& rng,
                                    const hnet::v1::ValidationMetrics& last_validation);

// Loads `path` into model, adam and rng after checking that it was trained with the same
// model as `config` (target, hypernetwork, toy settings); returns the checkpoint. On error
// nothing is changed: errors of core::ReadCheckpoint; FailedPrecondition for another model;
// DataLoss naming the file for optimizer state that core::Adam::ImportState refuses, whose
// step is not the checkpoint's, or for tensors core::LoadModule refuses (NaN, repeated names).
// Never throws.
absl::StatusOr<hnet::v1::Checkpoint> RestoreCheckpoint(const std::string& path,
                                                       const hnet::v1::TrainingConfig& config,
                                                       torch::nn::Module& model,
                                                       core::Adam& adam, at::Generator& rng);

}  // namespace hnet::trainer

#endif  // HNET_TRAINER_TRAINING_STATE_H_
