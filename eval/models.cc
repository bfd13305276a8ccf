#include "eval/models.h"

#include <torch/torch.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/checkpoint.h"
#include "core/gauge.h"
#include "core/hypernetwork_loader.h"
#include "core/torch_status.h"

namespace hnet::eval {

absl::StatusOr<HypernetModel> LoadHypernet(const std::string& path, c10::Device device) {
  auto ckpt = core::ReadCheckpoint(path);
  if (!ckpt.ok()) return ckpt.status();
  if (ckpt->config().has_toy()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint ", path, " is a toy-problem model; pass it as --toy_checkpoint instead"));
  }
  auto layout = core::TargetLayout::Create(ckpt->config().target());
  if (!layout.ok()) {
    return absl::DataLossError(absl::StrCat("checkpoint ", path, ": ", layout.status().message()));
  }
  HypernetModel model;
  model.path = path;
  model.config = ckpt->config();
  model.step = ckpt->step();
  model.lambda = ckpt->lambda();
  model.layout = *layout;
  model.device = device;
  auto network = core::LoadHyperNetwork(*ckpt, *layout, device, path);
  if (!network.ok()) return network.status();
  model.network = *network;
  return model;
}

at::Tensor SampleZ(const HypernetModel& model, int64_t n, at::Generator& generator) {
  return model.network->SampleZ(n, generator);
}

core::WeightBatch Generate(const HypernetModel& model, const at::Tensor& z, int64_t batch) {
  torch::NoGradGuard no_grad;
  const int64_t n = z.size(0);
  std::vector<core::WeightBatch> parts;
  for (int64_t i = 0; i < n; i += batch) {
    const int64_t b = std::min(batch, n - i);
    parts.push_back(model.network.ptr()->forward(z.narrow(0, i, b).to(model.device)));
  }
  if (parts.size() == 1) return parts.front();
  core::WeightBatch out;
  for (size_t l = 0; l < parts.front().size(); ++l) {
    std::vector<at::Tensor> layer;
    for (const core::WeightBatch& p : parts) layer.push_back(p[l]);
    out.push_back(torch::cat(layer, 0));
  }
  return out;
}

core::WeightBatch AnalysisGauge(const HypernetModel& model, const core::WeightBatch& weights) {
  torch::NoGradGuard no_grad;
  return core::GaugeFix(model.layout, weights, /*scale=*/true,
                        model.config.diversity().permutation_gauge());
}

absl::StatusOr<ToyModel> LoadToy(const std::string& path) {
  auto ckpt = core::ReadCheckpoint(path);
  if (!ckpt.ok()) return ckpt.status();
  if (!ckpt->config().has_toy()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--toy_checkpoint ", path, " is not a toy-problem checkpoint (no toy config)"));
  }
  ToyModel model;
  model.path = path;
  model.toy = core::ToyDefaults(ckpt->config().toy());
  model.step = ckpt->step();
  absl::Status built = core::TorchCall(absl::StrCat("checkpoint ", path), [&]() -> absl::Status {
    core::ToyGenerator generator(
        std::vector<int>(model.toy.hidden().begin(), model.toy.hidden().end()));
    if (absl::Status s = core::LoadModule(*ckpt, generator.get()); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("checkpoint ", path, ": ", s.message()));
    }
    generator->eval();
    model.generator = generator;
    model.mixture = core::GaussianMixture::Random(model.toy.components(), model.toy.mixture_seed());
    return absl::OkStatus();
  });
  if (!built.ok()) return built;
  return model;
}

}  // namespace hnet::eval
