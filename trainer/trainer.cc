#include "trainer/trainer.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/adam.h"
#include "core/augment.h"
#include "core/checkpoint.h"
#include "core/dataset.h"
#include "core/diversity.h"
#include "core/gauge.h"
#include "core/hypernetwork.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/target_forward.h"
#include "core/torch_status.h"
#include "trainer/progress.h"
#include "trainer/training_state.h"
#include "trainer/validation.h"

namespace hnet::trainer {
namespace {

// Validation z come from their own stream so reports are comparable across steps.
constexpr uint64_t kValidationSeedOffset = 0x5eed;

class MnistTrainer {
 public:
  static absl::StatusOr<std::unique_ptr<MnistTrainer>> Create(const TrainerOptions& options);
  absl::StatusOr<TrainResult> Run();

 private:
  MnistTrainer(const TrainerOptions& options, core::TargetLayout layout)
      : options_(options),
        config_(options.config),
        layout_(std::move(layout)),
        forward_options_{options.networks_per_pass} {}

  StepStats Step();
  absl::Status Save();
  hnet::v1::ValidationMetrics Report(const core::Split& split, const char* name);

  TrainerOptions options_;
  hnet::v1::TrainingConfig config_;
  core::TargetLayout layout_;
  core::HyperNetwork model_{nullptr};
  std::unique_ptr<core::Adam> adam_;
  at::Generator rng_;
  core::MnistData data_;
  at::Tensor train_images_;  // On the training device.
  at::Tensor train_labels_;
  core::ForwardOptions forward_options_;
  int64_t step_ = 0;
  hnet::v1::ValidationMetrics last_validation_;
};

// Warns when this run's schedule gives a learning rate at the resumed step other than the
// one the checkpoint's run had reached, e.g. a longer --steps moving a warm-down that began.
void WarnIfScheduleJumps(const hnet::v1::Checkpoint& ckpt, const hnet::v1::TrainingConfig& config) {
  const double saved = ckpt.learning_rate();
  const double now = LearningRateAt(config, ckpt.step());
  if (std::abs(now - saved) <= 1e-3 * std::max(std::abs(saved), std::abs(now))) return;
  log::Warn(
      "at step {} the learning rate jumps from {:.3g} (the checkpoint's {}-step schedule) "
      "to {:.3g} (this run's {}-step schedule; optimizer.anneal_steps {})",
      ckpt.step(), saved, ckpt.config().steps(), now, config.steps(),
      config.optimizer().anneal_steps());
}

absl::StatusOr<std::unique_ptr<MnistTrainer>> MnistTrainer::Create(const TrainerOptions& options) {
  auto layout = core::TargetLayout::Create(options.config.target());
  if (!layout.ok()) return layout.status();
  std::unique_ptr<MnistTrainer> t(new MnistTrainer(options, *layout));
  const auto& config = t->config_;
  auto data = core::LoadConfiguredData(config.data(), options.data_dir);
  if (!data.ok()) return data.status();
  t->data_ = *std::move(data);
  if (absl::Status s = core::CheckImagesFit(t->data_.train, config.target()); !s.ok()) return s;

  absl::Status built = core::TorchCall("building the hypernetwork", [&] {
    torch::manual_seed(config.seed());  // Parameter initialisation.
    t->model_ = core::HyperNetwork(*layout, config.hypernet());
    t->model_->to(options.device);
    t->model_->train();
    std::vector<std::pair<std::string, at::Tensor>> params;
    for (const auto& item : t->model_->named_parameters()) {
      params.emplace_back(item.key(), item.value());
    }
    t->adam_ = std::make_unique<core::Adam>(
        params, core::AdamOptions{config.optimizer().beta1(), config.optimizer().beta2(),
                                  config.optimizer().epsilon()});
    t->rng_ = core::MakeGenerator(config.seed());
    t->train_images_ = t->data_.train.images.to(options.device);
    t->train_labels_ = t->data_.train.labels.to(options.device);
  });
  if (!built.ok()) return built;
  if (!options.resume_path.empty()) {
    auto ckpt = RestoreCheckpoint(options.resume_path, config, *t->model_, *t->adam_, t->rng_);
    if (!ckpt.ok()) return ckpt.status();
    t->step_ = ckpt->step();
    t->last_validation_ = ckpt->last_validation();
    log::Info("resumed {} at step {}", options.resume_path, t->step_);
    WarnIfScheduleJumps(*ckpt, config);
  }
  if (config.diversity().kind() != hnet::v1::DiversityConfig::NONE &&
      !config.diversity().scale_gauge()) {
    log::Warn(
        "diversity.scale_gauge is off: the diversity term sees raw weights, whose scale "
        "symmetries change no network (paper 3.2.2); the shipped configs set "
        "diversity {{ scale_gauge: true }}");
  }
  log::Info("hypernetwork: {} parameters; target network '{}': {} weights; device {}",
            core::CountParameters(*t->model_), config.target().name(), layout->weight_count(),
            options.device.str());
  return t;
}

StepStats MnistTrainer::Step() {
  const int64_t b = config_.batch_networks();
  const int64_t m = config_.images_per_network();
  const torch::Device device = options_.device;
  at::Tensor z = model_->SampleZ(b, rng_).to(device);
  at::Tensor index = torch::randint(train_images_.size(0), {b * m}, rng_).to(device);
  at::Tensor x =
      core::RandomShift(train_images_.index_select(0, index), config_.data().max_shift(), rng_)
          .view({b, m, layout_.input_channels(), layout_.input_height(), layout_.input_width()});
  at::Tensor y = train_labels_.index_select(0, index);

  const double lambda = LambdaAt(config_, step_);
  const double lr = LearningRateAt(config_, step_);
  core::WeightBatch weights = model_->forward(z);
  at::Tensor logits = core::BatchedForward(layout_, weights, x, forward_options_);
  at::Tensor ce = torch::cross_entropy_loss(logits.reshape({b * m, -1}), y);
  const auto& div_config = config_.diversity();
  core::WeightBatch fixed =
      core::GaugeFix(layout_, weights, div_config.scale_gauge(), div_config.permutation_gauge());
  at::Tensor diversity = core::Diversity(div_config, core::FlattenWeights(fixed), model_->z_dim());
  at::Tensor loss = lambda * ce - diversity;
  adam_->ZeroGrad();
  loss.backward();
  adam_->Step(lr);
  ++step_;
  return StepStats{step_, loss.item<double>(), ce.item<double>(), diversity.item<double>(), lambda,
                   lr};
}

absl::Status MnistTrainer::Save() {
  if (options_.out_path.empty()) return absl::OkStatus();
  auto ckpt = core::TorchCall("serialising the checkpoint", [&] {
    return MakeCheckpoint(config_, step_, *model_, *adam_, rng_, last_validation_);
  });
  if (!ckpt.ok()) return ckpt.status();
  absl::Status s = core::WriteCheckpoint(options_.out_path, *ckpt);
  if (s.ok()) log::Info("checkpoint written: {} (step {})", options_.out_path, step_);
  return s;
}

hnet::v1::ValidationMetrics MnistTrainer::Report(const core::Split& split, const char* name) {
  std::string histogram;
  hnet::v1::ValidationMetrics m =
      Validate(*model_, split, config_.diversity(), config_.eval().networks(),
               config_.seed() + kValidationSeedOffset, &histogram);
  m.set_step(step_);
  log::Info("step {} {}: {}\n{}", step_, name, FormatMetrics(m), histogram);
  return m;
}

absl::StatusOr<TrainResult> MnistTrainer::Run() {
  TrainResult result;
  ProgressBar bar(options_.progress, step_, config_.steps());
  const auto& eval = config_.eval();
  absl::Status status = core::TorchCall("training", [&]() -> absl::Status {
    while (step_ < config_.steps()) {
      if (options_.stop != nullptr && options_.stop->load()) {
        bar.Break();
        log::Warn("stop requested at step {}: writing a checkpoint", step_);
        result.interrupted = true;
        break;
      }
      const StepStats stats = Step();
      if (options_.on_step) options_.on_step(stats);
      bar.Update(step_, absl::StrFormat("loss %.4g ce %.4f H %.1f", stats.loss, stats.cross_entropy,
                                        stats.diversity));
      if (!std::isfinite(stats.loss)) {
        bar.Break();
        return absl::InternalError(absl::StrCat("loss became ", stats.loss, " at step ", step_,
                                                "; lower the learning rate or lambda"));
      }
      const bool last = step_ == config_.steps();
      if (eval.every_steps() > 0 && (step_ % eval.every_steps() == 0 || last)) {
        bar.Break();
        last_validation_ = Report(data_.validation, "validation");
      }
      if (eval.checkpoint_every() > 0 && step_ % eval.checkpoint_every() == 0 && !last) {
        bar.Break();
        if (absl::Status s = Save(); !s.ok()) return s;
      }
    }
    bar.Break();
    result.steps_per_second = bar.steps_per_second();
    if (absl::Status s = Save(); !s.ok()) return s;
    if (!result.interrupted && options_.final_test) result.test = Report(data_.test, "test");
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  result.step = step_;
  result.validation = last_validation_;
  return result;
}

}  // namespace

absl::StatusOr<TrainResult> Train(const TrainerOptions& options) {
  if (options.config.has_toy()) return TrainToy(options);
  auto trainer = MnistTrainer::Create(options);
  if (!trainer.ok()) return trainer.status();
  return (*trainer)->Run();
}

}  // namespace hnet::trainer
