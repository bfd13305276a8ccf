#include "server/interpolation.h"

#include <torch/torch.h>

#include <algorithm>

#include "core/evaluation.h"
#include "core/torch_status.h"
#include "server/generation.h"

namespace hnet::server {
namespace {

// Network-image forwards per pass (as Classify): bounds the probabilities kept and the time
// between cancellation checks (one network per pass once there are more images than this).
constexpr int64_t kScoreNetworkImages = 16384;

absl::StatusOr<std::vector<double>> Score(const core::TargetLayout& layout,
                                          const core::WeightBatch& weights,
                                          const PathRequest& request,
                                          const Cancellation* cancellation) {
  std::vector<double> out;
  const int64_t n = weights.front().size(0);
  const int64_t per_pass =
      std::max<int64_t>(1, kScoreNetworkImages / std::max<int64_t>(1, request.images.size(0)));
  for (int64_t first = 0; first < n; first += per_pass) {
    if (cancellation != nullptr && cancellation->cancelled()) {
      return absl::CancelledError("cancelled while scoring the path");
    }
    const int64_t last = std::min(n, first + per_pass);
    at::Tensor probs = core::PredictProbabilities(layout, core::SliceNetworks(weights, first, last),
                                                  request.images);
    std::vector<double> acc = core::NetworkAccuracies(probs, request.labels);
    out.insert(out.end(), acc.begin(), acc.end());
  }
  return out;
}

}  // namespace

absl::StatusOr<PathResult> ComputePath(const PathRequest& request,
                                       const Cancellation* cancellation) {
  return core::TorchCall("computing the path", [&]() -> absl::StatusOr<PathResult> {
    torch::NoGradGuard no_grad;
    const LoadedModel& model = *request.model;
    PathResult result;
    const int64_t p = request.points;
    for (int64_t i = 0; i < p; ++i) result.t.push_back(static_cast<double>(i) / (p - 1));
    // [p, 1] interpolation weights; the endpoints are exactly 0 and 1.
    at::Tensor t = torch::tensor(result.t, torch::kFloat64).to(torch::kFloat32).unsqueeze(1);
    if (request.direct) {
      auto ends =
          GenerateWeights(model, torch::cat({request.start, request.end}, 0), {}, cancellation);
      if (!ends.ok()) return ends.status();
      const at::Tensor td = t.to(model.device).unsqueeze(2);  // [p, 1, 1]
      for (const at::Tensor& w : *ends) {
        result.direct_weights.push_back(w.narrow(0, 0, 1) * (1 - td) + w.narrow(0, 1, 1) * td);
      }
      auto acc = Score(model.layout, result.direct_weights, request, cancellation);
      if (!acc.ok()) return acc.status();
      result.direct_accuracy = *std::move(acc);
    }
    if (request.interpolated) {
      at::Tensor z = request.start * (1 - t) + request.end * t;  // [p, z_dim]
      auto weights = GenerateWeights(model, z, {}, cancellation);
      if (!weights.ok()) return weights.status();
      result.interpolated_weights = *std::move(weights);
      auto acc = Score(model.layout, result.interpolated_weights, request, cancellation);
      if (!acc.ok()) return acc.status();
      result.interpolated_accuracy = *std::move(acc);
    }
    return result;
  });
}

}  // namespace hnet::server
