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
    // The endpoint networks, each generated as network 0 of its own pass like SampleWeights'
    // first network: BLAS kernels may round a network differently at another place in a pass,
    // and the path's ends are exactly these networks.
    auto end_net = GenerateWeights(model, request.end, {}, cancellation);
    if (!end_net.ok()) return end_net.status();
    if (request.direct) {
      auto start_net = GenerateWeights(model, request.start, {}, cancellation);
      if (!start_net.ok()) return start_net.status();
      const at::Tensor td = t.to(model.device).unsqueeze(2);  // [p, 1, 1]
      for (size_t l = 0; l < start_net->size(); ++l) {
        result.direct_weights.push_back((*start_net)[l] * (1 - td) + (*end_net)[l] * td);
      }
      auto acc = Score(model.layout, result.direct_weights, request, cancellation);
      if (!acc.ok()) return acc.status();
      result.direct_accuracy = *std::move(acc);
    }
    if (request.interpolated) {
      at::Tensor z = request.start * (1 - t) + request.end * t;  // [p, z_dim]
      auto weights = GenerateWeights(model, z, {}, cancellation);
      if (!weights.ok()) return weights.status();
      // t = 1 is z = end exactly: its network is the end network, at its canonical place.
      for (size_t l = 0; l < weights->size(); ++l) (*weights)[l][p - 1].copy_((*end_net)[l][0]);
      result.interpolated_weights = *std::move(weights);
      auto acc = Score(model.layout, result.interpolated_weights, request, cancellation);
      if (!acc.ok()) return acc.status();
      result.interpolated_accuracy = *std::move(acc);
    }
    return result;
  });
}

}  // namespace hnet::server
