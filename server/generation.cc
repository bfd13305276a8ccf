#include "server/generation.h"

#include <torch/torch.h>

#include <algorithm>

#include "core/gauge.h"
#include "core/hypernetwork.h"
#include "core/rng.h"
#include "core/torch_status.h"

namespace hnet::server {

at::Tensor SeedNoise(const LoadedModel& model, uint64_t seed, int64_t n) {
  return model.network->SampleZ(n, core::MakeGenerator(seed));
}

absl::StatusOr<core::WeightBatch> GenerateWeights(const LoadedModel& model, const at::Tensor& z,
                                                  const GaugeOptions& gauge,
                                                  const Cancellation* cancellation) {
  if (cancellation == nullptr) return GenerateWeights(model, z, gauge, std::function<bool()>());
  return GenerateWeights(model, z, gauge, [cancellation] { return cancellation->cancelled(); });
}

absl::StatusOr<core::WeightBatch> GenerateWeights(const LoadedModel& model, const at::Tensor& z,
                                                  const GaugeOptions& gauge,
                                                  const std::function<bool()>& cancelled) {
  return core::TorchCall("generating weights", [&]() -> absl::StatusOr<core::WeightBatch> {
    torch::NoGradGuard no_grad;
    const int64_t n = z.size(0);
    const core::TargetLayout& layout = model.layout;
    std::vector<std::vector<at::Tensor>> chunks(layout.num_layers());
    for (int64_t begin = 0; begin < n; begin += kGenerationChunk) {
      if (cancelled && cancelled()) {
        return absl::CancelledError("cancelled while generating weights");
      }
      const int64_t end = std::min(n, begin + kGenerationChunk);
      at::Tensor zc = torch::zeros({kGenerationChunk, z.size(1)}, torch::kFloat32);
      zc.slice(0, 0, end - begin).copy_(z.slice(0, begin, end));
      core::WeightBatch w = model.network->forward(zc.to(model.device));
      if (gauge.scale) w = core::GaugeFix(layout, w, /*scale=*/true, gauge.permutation);
      for (int64_t l = 0; l < layout.num_layers(); ++l) {
        chunks[l].push_back(w[l].slice(0, 0, end - begin));
      }
    }
    core::WeightBatch out;
    for (int64_t l = 0; l < layout.num_layers(); ++l) {
      out.push_back(torch::cat(chunks[l], 0));  // Contiguous, also for one pass.
    }
    return out;
  });
}

core::WeightBatch SelectNetwork(const core::WeightBatch& batch, int64_t i) {
  core::WeightBatch out;
  for (const at::Tensor& w : batch) out.push_back(w.select(0, i));
  return out;
}

}  // namespace hnet::server
