#include "server/generation.h"

#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>
#include <torch/torch.h>

#include <algorithm>

#include "core/gauge.h"
#include "core/hypernetwork.h"
#include "core/rng.h"
#include "core/torch_status.h"

namespace hnet::server {

int64_t GenerationWave(const c10::Device& device) {
#ifdef _OPENMP
  return device.is_cpu() ? std::max(1, at::get_num_threads()) : 1;
#else
  return 1;  // at::parallel_for, inlined here, would run the passes one after another.
#endif
}

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
    TORCH_CHECK(!model.network->is_training(), "the hypernetwork must be in eval mode");
    torch::NoGradGuard no_grad;
    const int64_t n = z.size(0);
    const core::TargetLayout& layout = model.layout;
    core::WeightBatch out;
    for (const core::LayerShape& layer : layout.layers()) {
      out.push_back(torch::empty({n, layer.filters, layer.filter_size()},
                                 torch::TensorOptions(torch::kFloat32).device(model.device)));
    }
    // Pass p: networks [p * kGenerationChunk, ...) through G as one padded batch, written
    // straight into their rows of `out`.
    auto run_pass = [&](int64_t pass) {
      const int64_t begin = pass * kGenerationChunk;
      const int64_t rows = std::min(n - begin, kGenerationChunk);
      at::Tensor zc = torch::zeros({kGenerationChunk, z.size(1)}, torch::kFloat32);
      zc.slice(0, 0, rows).copy_(z.slice(0, begin, begin + rows));
      core::WeightBatch w = model.network->forward(zc.to(model.device));
      if (gauge.scale) w = core::GaugeFix(layout, w, /*scale=*/true, gauge.permutation);
      for (int64_t l = 0; l < layout.num_layers(); ++l) {
        out[l].slice(0, begin, begin + rows).copy_(w[l].slice(0, 0, rows));
      }
    };
    const int64_t passes = (n + kGenerationChunk - 1) / kGenerationChunk;
    const int64_t wave = GenerationWave(model.device);
    const at::ThreadLocalState state;  // No grad mode etc. for the team's threads too.
    for (int64_t first = 0; first < passes; first += wave) {
      if (cancelled && cancelled()) {
        return absl::CancelledError("cancelled while generating weights");
      }
      const int64_t last = std::min(passes, first + wave);
      at::parallel_for(first, last, /*grain_size=*/1, [&](int64_t b, int64_t e) {
        const at::ThreadLocalStateGuard guard(state);
        for (int64_t pass = b; pass < e; ++pass) run_pass(pass);
      });
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
