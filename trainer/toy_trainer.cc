// Training loop of the paper's toy problem (section 4.1).
#include <torch/torch.h>

#include <cmath>

#include "absl/strings/str_format.h"
#include "core/adam.h"
#include "core/checkpoint.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/torch_status.h"
#include "core/toy.h"
#include "trainer/progress.h"
#include "trainer/trainer.h"
#include "trainer/training_state.h"

namespace hnet::trainer {
namespace {

// Mean mixture value along 400 evenly spaced z in [-1, 1], and how many components have a
// generated point within one sigma of their mean.
std::pair<double, int> ToyReport(core::ToyGeneratorImpl& generator,
                                 const core::GaussianMixture& mixture) {
  torch::NoGradGuard no_grad;
  at::Tensor z = torch::linspace(-1, 1, 400).unsqueeze(1);
  at::Tensor y = generator.forward(z);
  const double value = mixture.Value(y).mean().item<double>();
  at::Tensor dist = torch::cdist(mixture.means, y);  // [K, 400]
  at::Tensor near = std::get<0>(dist.min(1)).le(mixture.sigmas);
  return {value, static_cast<int>(near.sum().item<int64_t>())};
}

}  // namespace

absl::StatusOr<TrainResult> TrainToy(const TrainerOptions& options) {
  hnet::v1::TrainingConfig config = options.config;
  *config.mutable_toy() = core::ToyDefaults(config.toy());
  const hnet::v1::ToyConfig& toy = config.toy();
  TrainResult result;
  absl::Status status = core::TorchCall("training the toy problem", [&]() -> absl::Status {
    const core::GaussianMixture mixture =
        core::GaussianMixture::Random(toy.components(), toy.mixture_seed());
    torch::manual_seed(config.seed());
    core::ToyGenerator generator(std::vector<int>(toy.hidden().begin(), toy.hidden().end()));
    std::vector<std::pair<std::string, at::Tensor>> params;
    for (const auto& item : generator->named_parameters()) {
      params.emplace_back(item.key(), item.value());
    }
    core::Adam adam(params,
                    core::AdamOptions{config.optimizer().beta1(), config.optimizer().beta2(),
                                      config.optimizer().epsilon()});
    at::Generator rng = core::MakeGenerator(config.seed());
    int64_t step = 0;
    if (!options.resume_path.empty()) {
      auto ckpt = RestoreCheckpoint(options.resume_path, config, *generator, adam, rng);
      if (!ckpt.ok()) return ckpt.status();
      step = ckpt->step();
    }
    auto save = [&]() -> absl::Status {
      if (options.out_path.empty()) return absl::OkStatus();
      return core::WriteCheckpoint(options.out_path,
                                   MakeCheckpoint(config, step, *generator, adam, rng, {}));
    };
    ProgressBar bar(options.progress, step, config.steps());
    while (step < config.steps()) {
      if (options.stop != nullptr && options.stop->load()) {
        result.interrupted = true;
        break;
      }
      at::Tensor z = torch::empty({config.batch_networks(), 1}).uniform_(-1, 1, rng);
      at::Tensor loss = core::ToyLoss(mixture, toy, generator->forward(z));
      adam.ZeroGrad();
      loss.backward();
      const double value = loss.item<double>();
      if (!std::isfinite(value)) {
        bar.Break();
        return absl::InternalError(absl::StrCat("toy loss became ", value, " at step ", step + 1,
                                                "; lower the learning rate"));
      }
      adam.Step(LearningRateAt(config, step));
      ++step;
      if (options.on_step) {
        options.on_step(StepStats{step, value, 0, 0, 1.0, LearningRateAt(config, step - 1)});
      }
      bar.Update(step, absl::StrFormat("loss %.4f", value));
      const auto& eval = config.eval();
      if (eval.every_steps() > 0 && (step % eval.every_steps() == 0 || step == config.steps())) {
        bar.Break();
        auto [mean_value, peaks] = ToyReport(*generator, mixture);
        log::Info("step {}: mean mixture value along the path {:.4f}; {} of {} peaks visited", step,
                  mean_value, peaks, toy.components());
      }
      if (eval.checkpoint_every() > 0 && step % eval.checkpoint_every() == 0) {
        if (absl::Status s = save(); !s.ok()) return s;
      }
    }
    bar.Break();
    result.step = step;
    result.steps_per_second = bar.steps_per_second();
    return save();
  });
  if (!status.ok()) return status;
  return result;
}

}  // namespace hnet::trainer
