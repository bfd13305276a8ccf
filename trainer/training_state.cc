#include "trainer/training_state.h"

#include <google/protobuf/util/message_differencer.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "core/checkpoint.h"
#include "core/rng.h"

namespace hnet::trainer {

double LearningRateAt(const hnet::v1::TrainingConfig& config, int64_t step) {
  const auto& opt = config.optimizer();
  double lr = opt.learning_rate() * std::pow(opt.decay_per_step(), static_cast<double>(step));
  const int64_t anneal_start = config.steps() - opt.anneal_steps();
  if (opt.anneal_steps() > 0 && step > anneal_start) {
    const double t = std::min(1.0, static_cast<double>(step - anneal_start) /
                                       static_cast<double>(opt.anneal_steps()));
    const double f = opt.anneal_final_fraction();
    lr *= f + (1 - f) * 0.5 * (1 + std::cos(M_PI * t));
  }
  return lr;
}

double LambdaAt(const hnet::v1::TrainingConfig& config, int64_t step) {
  return config.lambda() * std::pow(config.lambda_growth(), static_cast<double>(step));
}

hnet::v1::Checkpoint MakeCheckpoint(const hnet::v1::TrainingConfig& config, int64_t step,
                                    const torch::nn::Module& model, const core::Adam& adam,
                                    const at::Generator& rng,
                                    const hnet::v1::ValidationMetrics& last_validation) {
  hnet::v1::Checkpoint ckpt;
  ckpt.set_format_version(core::kCheckpointFormatVersion);
  *ckpt.mutable_config() = config;
  ckpt.set_step(step);
  ckpt.set_lambda(LambdaAt(config, step));
  ckpt.set_learning_rate(LearningRateAt(config, step));
  core::SaveModule(model, &ckpt);
  core::AppendNamedTensors(adam.ExportState(), ckpt.mutable_optimizer_state());
  ckpt.set_rng_state(core::GeneratorState(rng));
  *ckpt.mutable_last_validation() = last_validation;
  ckpt.set_created_by("hnet-train 0.1.0");
  ckpt.set_created_unix_seconds(static_cast<int64_t>(std::time(nullptr)));
  return ckpt;
}

absl::StatusOr<hnet::v1::Checkpoint> RestoreCheckpoint(const std::string& path,
                                                       const hnet::v1::TrainingConfig& config,
                                                       torch::nn::Module& model,
                                                       core::Adam& adam, at::Generator& rng) {
  auto ckpt = core::ReadCheckpoint(path);
  if (!ckpt.ok()) return ckpt.status();
  using google::protobuf::util::MessageDifferencer;
  const auto& saved = ckpt->config();
  if (!MessageDifferencer::Equals(saved.target(), config.target()) ||
      !MessageDifferencer::Equals(saved.hypernet(), config.hypernet()) ||
      !MessageDifferencer::Equals(saved.toy(), config.toy()) ||
      saved.has_toy() != config.has_toy()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoint ", path, " was trained with a different model (target/hypernet/toy "
        "config); resume with its own config"));
  }
  auto optimizer_state = core::ReadNamedTensors(ckpt->optimizer_state());
  if (!optimizer_state.ok()) {
    return absl::DataLossError(absl::StrCat(
        "checkpoint ", path, ": optimizer state: ", optimizer_state.status().message()));
  }
  // Stage into copies first so a failure leaves model, optimiser and generator untouched.
  core::Adam staged_adam = adam;
  if (auto s = staged_adam.ImportState(*optimizer_state); !s.ok()) {
    return absl::DataLossError(absl::StrCat("checkpoint ", path, ": ", s.message()));
  }
  // MakeCheckpoint saves the optimizer after exactly `step` updates.
  if (staged_adam.steps() != ckpt->step()) {
    return absl::DataLossError(absl::StrCat("checkpoint ", path, ": optimizer state has taken ",
                                            staged_adam.steps(), " steps, the checkpoint says ",
                                            ckpt->step()));
  }
  at::Generator staged_rng = core::MakeGenerator(0);
  if (auto s = core::SetGeneratorState(staged_rng, ckpt->rng_state()); !s.ok()) {
    return absl::DataLossError(absl::StrCat("checkpoint ", path, ": ", s.message()));
  }
  if (auto s = core::LoadModule(*ckpt, &model); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("checkpoint ", path, ": ", s.message()));
  }
  adam = std::move(staged_adam);
  if (auto s = core::SetGeneratorState(rng, ckpt->rng_state()); !s.ok()) return s;
  return ckpt;
}

}  // namespace hnet::trainer
