#include "trainer/baseline_trainer.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/adam.h"
#include "core/augment.h"
#include "core/config.h"
#include "core/dataset.h"
#include "core/evaluation.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/torch_status.h"
#include "trainer/progress.h"

namespace hnet::trainer {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// "mean 97.1% (min 96.5, max 97.6)" for per-network accuracies.
std::string FormatAccuracies(const std::vector<double>& accuracies) {
  const core::Summary s = core::Summarize(accuracies);
  if (accuracies.size() == 1) return absl::StrFormat("%.2f%%", 100 * s.mean);
  return absl::StrFormat("mean %.2f%% (min %.2f, max %.2f, sd %.2f)", 100 * s.mean, 100 * s.min,
                         100 * s.max, 100 * s.std);
}

class BaselineTrainer {
 public:
  static absl::StatusOr<std::unique_ptr<BaselineTrainer>> Create(const BaselineOptions& options);
  absl::StatusOr<BaselineResult> Run();

 private:
  BaselineTrainer(const BaselineOptions& options, core::TargetLayout layout)
      : options_(options),
        config_(core::WithDefaults(options.config)),
        layout_(std::move(layout)),
        n_(options.ensemble_size) {}

  // One Adam step of all networks on their minibatches `index` [N, B] (device); returns the mean
  // over networks of each network's cross-entropy.
  double Step(const at::Tensor& index, double learning_rate);
  // Softmax outputs [N, M, K] (CPU) of the current networks on `split`.
  at::Tensor Predict(const core::Split& split) const;
  core::WeightEnsemble MakeEnsemble(bool interrupted) const;

  BaselineOptions options_;
  hnet::v1::TrainingConfig config_;
  core::TargetLayout layout_;
  int64_t n_;
  core::MnistData data_;
  at::Tensor train_images_;  // On the training device.
  at::Tensor train_labels_;
  core::WeightBatch weights_;  // Leaves [N, F_l, S_l] on the device.
  std::unique_ptr<core::Adam> adam_;
  std::vector<at::Generator> order_rngs_;  // One minibatch-order stream per network.
  std::vector<at::Generator> shift_rngs_;  // One image-shift stream per network (data.max_shift).
  int64_t steps_per_epoch_ = 0;
  int64_t step_ = 0;
};

absl::StatusOr<std::unique_ptr<BaselineTrainer>> BaselineTrainer::Create(
    const BaselineOptions& options) {
  if (auto s = ValidateBaselineOptions(options); !s.ok()) return s;
  auto layout = core::TargetLayout::Create(options.config.target());
  if (!layout.ok()) return layout.status();
  std::unique_ptr<BaselineTrainer> t(new BaselineTrainer(options, *layout));
  const auto& config = t->config_;
  auto data = core::LoadConfiguredData(config.data(), options.data_dir);
  if (!data.ok()) return data.status();
  t->data_ = *std::move(data);
  const core::Split& train = t->data_.train;
  if (absl::Status s = core::CheckImagesFit(train, config.target()); !s.ok()) return s;
  int64_t train_size = train.size();
  if (options.train_subset > 0) {
    if (options.train_subset > train_size) {
      return absl::InvalidArgumentError(absl::StrCat(
          "train_subset ", options.train_subset, " exceeds the ", train_size, " training images"));
    }
    train_size = options.train_subset;
  }
  if (train_size < options.batch_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "batch_size ", options.batch_size, " exceeds the ", train_size, " training images"));
  }
  t->steps_per_epoch_ = train_size / options.batch_size;

  absl::Status built = core::TorchCall("setting up the baseline networks", [&] {
    t->train_images_ = train.images.narrow(0, 0, train_size).to(options.device);
    t->train_labels_ = train.labels.narrow(0, 0, train_size).to(options.device);
    core::WeightBatch initial =
        InitialBaselineWeights(*layout, config.seed(), options.first_network, t->n_);
    std::vector<std::pair<std::string, at::Tensor>> params;
    for (size_t l = 0; l < initial.size(); ++l) {
      t->weights_.push_back(initial[l].to(options.device).set_requires_grad(true));
      params.emplace_back(absl::StrCat("layer", l), t->weights_.back());
    }
    t->adam_ = std::make_unique<core::Adam>(std::move(params), core::AdamOptions{});
    for (int64_t i = 0; i < t->n_; ++i) {
      t->order_rngs_.push_back(BaselineGenerator(config.seed(), options.first_network + i, 1));
      t->shift_rngs_.push_back(BaselineGenerator(config.seed(), options.first_network + i, 2));
    }
  });
  if (!built.ok()) return built;
  log::Info(
      "baseline: {} network(s) of target '{}' ({} weights each), {} epochs of {} steps (batch {} "
      "per network, {} training images, shifts up to {} px), device {}",
      t->n_, config.target().name(), layout->weight_count(), options.epochs, t->steps_per_epoch_,
      options.batch_size, train_size, config.data().max_shift(), options.device.str());
  return t;
}

double BaselineTrainer::Step(const at::Tensor& index, double learning_rate) {
  const int64_t b = index.size(1);
  at::Tensor flat = index.reshape({-1});
  at::Tensor x = train_images_.index_select(0, flat);
  if (const int64_t max_shift = config_.data().max_shift(); max_shift > 0) {
    // Each network draws its own B shifts, so network i's images depend only on (seed, i).
    std::vector<at::Tensor> shifts;
    for (at::Generator& rng : shift_rngs_) shifts.push_back(core::DrawShifts(b, max_shift, rng));
    x = core::ShiftImages(x, torch::cat(shifts, 1), max_shift);
  }
  x = x.view({n_, b, layout_.input_channels(), layout_.input_height(), layout_.input_width()});
  at::Tensor y = train_labels_.index_select(0, flat);
  at::Tensor logits = core::BatchedForward(layout_, weights_, x, {options_.networks_per_pass});
  // The mean over all N * B images times N is the sum of the networks' own mean losses, so every
  // network gets exactly the gradient it would get if trained alone.
  at::Tensor ce = torch::cross_entropy_loss(logits.reshape({n_ * b, -1}), y);
  adam_->ZeroGrad();
  (ce * static_cast<double>(n_)).backward();
  adam_->Step(learning_rate);
  ++step_;
  return ce.item<double>();
}

at::Tensor BaselineTrainer::Predict(const core::Split& split) const {
  core::WeightBatch detached;
  for (const at::Tensor& w : weights_) detached.push_back(w.detach());
  return core::PredictProbabilities(layout_, detached, split.images);
}

core::WeightEnsemble BaselineTrainer::MakeEnsemble(bool interrupted) const {
  core::WeightEnsemble ensemble;
  ensemble.spec = config_.target();
  core::WeightBatch detached;
  for (const at::Tensor& w : weights_) detached.push_back(w.detach());
  ensemble.weights = core::FlattenWeights(detached).to(torch::kCPU, torch::kFloat32).clone();
  const int64_t total = options_.epochs * steps_per_epoch_;
  ensemble.description = absl::StrFormat(
      "%s: %d conventionally trained network%s of target '%s' (cross-entropy, Adam lr %g decaying "
      "x%g per epoch, batch %d, %d epochs%s, seed %d, network indices %d..%d)%s",
      n_ == 1 ? "single network" : "deep ensemble", n_, n_ == 1 ? "" : "s", config_.target().name(),
      options_.learning_rate, options_.lr_decay_per_epoch, options_.batch_size, options_.epochs,
      config_.data().max_shift() > 0
          ? absl::StrFormat(", images shifted by up to %d px", config_.data().max_shift())
          : "",
      config_.seed(), options_.first_network, options_.first_network + n_ - 1,
      interrupted ? absl::StrCat(" [interrupted after step ", step_, " of ", total, "]") : "");
  // What produced it, in TrainingConfig terms; the hypernetwork sections do not apply.
  hnet::v1::TrainingConfig produced = config_;
  produced.set_name(absl::StrCat(config_.name(), "-baseline-", n_));
  produced.clear_hypernet();
  produced.clear_diversity();
  produced.clear_eval();
  produced.clear_toy();
  produced.clear_lambda();
  produced.clear_lambda_growth();
  produced.set_steps(total);
  produced.set_batch_networks(static_cast<int32_t>(n_));
  produced.set_images_per_network(static_cast<int32_t>(options_.batch_size));
  produced.mutable_optimizer()->set_learning_rate(options_.learning_rate);
  produced.mutable_optimizer()->set_decay_per_step(
      std::pow(options_.lr_decay_per_epoch, 1.0 / static_cast<double>(steps_per_epoch_)));
  ensemble.config = produced;
  return ensemble;
}

absl::StatusOr<BaselineResult> BaselineTrainer::Run() {
  BaselineResult result;
  const int64_t total = options_.epochs * steps_per_epoch_;
  const int64_t b = options_.batch_size;
  ProgressBar bar(options_.progress, 0, total);
  absl::Status status = core::TorchCall("training the baselines", [&]() -> absl::Status {
    for (int64_t epoch = 0; epoch < options_.epochs && !result.interrupted; ++epoch) {
      const at::Tensor order =
          NextEpochOrder(order_rngs_, train_images_.size(0)).to(options_.device);
      BaselineEpochReport report;
      report.epoch = epoch + 1;
      const auto start = std::chrono::steady_clock::now();
      double ce_sum = 0;
      int64_t steps = 0;
      for (int64_t s = 0; s < steps_per_epoch_; ++s) {
        if (options_.stop != nullptr && options_.stop->load()) {
          bar.Break();
          log::Warn("stop requested at step {}: writing the networks as they are", step_);
          result.interrupted = true;
          break;
        }
        const double lr =
            options_.learning_rate *
            std::pow(options_.lr_decay_per_epoch,
                     static_cast<double>(step_) / static_cast<double>(steps_per_epoch_));
        const double ce = Step(order.narrow(1, s * b, b), lr);
        if (!std::isfinite(ce)) {
          bar.Break();
          return absl::InternalError(
              absl::StrCat("loss became ", ce, " at step ", step_, "; lower the learning rate"));
        }
        ce_sum += ce;
        ++steps;
        if (options_.on_step) options_.on_step({step_, epoch, ce, lr});
        bar.Update(step_, absl::StrFormat("epoch %d/%d ce %.4f", epoch + 1, options_.epochs, ce));
      }
      report.seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      report.train_cross_entropy = steps > 0 ? ce_sum / steps : 0;
      if (options_.validate_every_epoch && steps > 0 && !result.interrupted) {
        const at::Tensor probs = Predict(data_.validation);
        report.validation_accuracy = core::NetworkAccuracies(probs, data_.validation.labels);
        report.validation_ensemble_accuracy =
            core::Accuracy(core::MeanProbability(probs), data_.validation.labels);
        bar.Break();
        log::Info("epoch {}/{} ({:.1f} s, train ce {:.4f}): validation {}{}", epoch + 1,
                  options_.epochs, report.seconds, report.train_cross_entropy,
                  FormatAccuracies(report.validation_accuracy),
                  n_ > 1 ? absl::StrFormat(", ensemble (mean probability) %.2f%%",
                                           100 * report.validation_ensemble_accuracy)
                         : std::string());
      } else if (steps > 0) {
        bar.Break();
        log::Info("epoch {}/{} ({:.1f} s, train ce {:.4f})", epoch + 1, options_.epochs,
                  report.seconds, report.train_cross_entropy);
      }
      result.epochs.push_back(std::move(report));
    }
    bar.Break();
    result.ensemble = MakeEnsemble(result.interrupted);
    if (!options_.out_path.empty()) {
      if (auto s = core::SaveWeightEnsemble(options_.out_path, result.ensemble); !s.ok()) {
        return s;
      }
      log::Info("weight ensemble written: {} ({} network{})", options_.out_path, n_,
                n_ == 1 ? "" : "s");
    }
    if (options_.final_test && !result.interrupted) {
      const at::Tensor probs = Predict(data_.test);
      result.test_accuracy = core::NetworkAccuracies(probs, data_.test.labels);
      result.test_ensemble_accuracy =
          core::Accuracy(core::MeanProbability(probs), data_.test.labels);
      result.test_majority_vote_accuracy =
          core::Accuracy(core::MajorityVote(probs), data_.test.labels);
      log::Info("test: networks {}; ensemble of {} (mean probability) {:.2f}%",
                FormatAccuracies(result.test_accuracy), n_, 100 * result.test_ensemble_accuracy);
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  result.steps = step_;
  return result;
}

}  // namespace

absl::Status ValidateBaselineOptions(const BaselineOptions& options) {
  auto bad = [](absl::string_view name, absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("baseline option ", name, " ", why));
  };
  if (options.ensemble_size < 1) return bad("ensemble_size", "must be >= 1");
  if (options.first_network < 0) return bad("first_network", "must be >= 0");
  if (options.epochs < 1) return bad("epochs", "must be >= 1");
  if (options.batch_size < 1) return bad("batch_size", "must be >= 1");
  if (!(options.learning_rate > 0) || !std::isfinite(options.learning_rate)) {
    return bad("learning_rate", "must be a positive number");
  }
  if (!(options.lr_decay_per_epoch > 0 && options.lr_decay_per_epoch <= 1)) {
    return bad("lr_decay_per_epoch", "must be in (0, 1]");
  }
  if (options.train_subset < 0) return bad("train_subset", "must be >= 0 (0: all)");
  if (options.networks_per_pass < 0) return bad("networks_per_pass", "must be >= 0");
  auto layout = core::TargetLayout::Create(options.config.target());
  if (!layout.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("config target: ", layout.status().message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<BaselineResult> TrainBaselines(const BaselineOptions& options) {
  auto trainer = BaselineTrainer::Create(options);
  if (!trainer.ok()) return trainer.status();
  return (*trainer)->Run();
}

at::Generator BaselineGenerator(uint64_t seed, int64_t index, int purpose) {
  const uint64_t stream = SplitMix64(SplitMix64(seed) + static_cast<uint64_t>(index));
  return core::MakeGenerator(SplitMix64(stream + static_cast<uint64_t>(purpose)));
}

core::WeightBatch InitialBaselineWeights(const core::TargetLayout& layout, uint64_t seed,
                                         int64_t first, int64_t n) {
  torch::NoGradGuard no_grad;
  std::vector<std::vector<at::Tensor>> per_layer(layout.layers().size());
  for (int64_t i = 0; i < n; ++i) {
    at::Generator rng = BaselineGenerator(seed, first + i, 0);
    for (size_t l = 0; l < layout.layers().size(); ++l) {
      const core::LayerShape& layer = layout.layers()[l];
      const double bound = std::sqrt(6.0 / static_cast<double>(layer.fan_in()));
      at::Tensor w = torch::rand({layer.filters, layer.fan_in()}, rng, torch::kFloat32)
                         .mul_(2 * bound)
                         .sub_(bound);
      per_layer[l].push_back(torch::cat({w, torch::zeros({layer.filters, 1})}, 1));
    }
  }
  core::WeightBatch out;
  for (auto& layers : per_layer) out.push_back(torch::stack(layers));
  return out;
}

at::Tensor NextEpochOrder(std::vector<at::Generator>& generators, int64_t train_size) {
  std::vector<at::Tensor> orders;
  for (at::Generator& rng : generators) {
    orders.push_back(torch::randperm(train_size, rng, torch::kInt64));
  }
  return torch::stack(orders);
}

}  // namespace hnet::trainer
