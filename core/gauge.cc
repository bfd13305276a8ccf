#include "core/gauge.h"

#include <torch/torch.h>

namespace hnet::core {
namespace {

constexpr double kGuard = 1e-8;

// Weights of `next` as [N, F_next, C, rest] where C indexes the previous layer's filters
// (channel-major in both the conv and the dense layouts), and its bias [N, F_next, 1].
std::pair<at::Tensor, at::Tensor> SplitByInputChannel(const LayerShape& next,
                                                      const at::Tensor& w) {
  at::Tensor weights =
      w.narrow(2, 0, next.fan_in()).reshape({w.size(0), next.filters, next.in_channels, -1});
  return {weights, w.narrow(2, next.fan_in(), 1)};
}

at::Tensor JoinInputChannels(const at::Tensor& weights, const at::Tensor& bias) {
  return torch::cat({weights.flatten(2), bias}, 2);
}

}  // namespace

WeightBatch ScaleGauge(const TargetLayout& layout, const WeightBatch& weights) {
  WeightBatch out(weights.begin(), weights.end());
  const int64_t m = layout.num_layers();
  for (int64_t l = 0; l + 1 < m; ++l) {
    const int64_t size = layout.layers()[l].filter_size();
    at::Tensor s = torch::sqrt(out[l].pow(2).sum(2, /*keepdim=*/true) / size + kGuard);
    out[l] = out[l] / s;  // [N, F_l, S_l] / [N, F_l, 1]
    auto [next_w, next_b] = SplitByInputChannel(layout.layers()[l + 1], out[l + 1]);
    out[l + 1] = JoinInputChannels(next_w * s.view({s.size(0), 1, -1, 1}), next_b);
  }
  const LayerShape& last = layout.layers().back();
  at::Tensor w = out[m - 1].narrow(2, 0, last.fan_in());
  at::Tensor b = out[m - 1].narrow(2, last.fan_in(), 1);
  out[m - 1] = torch::cat({w, b - b.mean(1, /*keepdim=*/true)}, 2);
  return out;
}

WeightBatch PermutationGauge(const TargetLayout& layout, const WeightBatch& weights) {
  WeightBatch out(weights.begin(), weights.end());
  for (int64_t l = 0; l + 1 < layout.num_layers(); ++l) {
    const at::Tensor& w = out[l];
    const int64_t n = w.size(0);
    const int64_t filters = w.size(1);
    at::Tensor perm;
    {
      // Lexicographic order by successive stable sorts, least significant column first.
      torch::NoGradGuard no_grad;
      at::Tensor keys = w.detach();
      perm = torch::arange(filters, w.options().dtype(torch::kLong)).expand({n, filters});
      for (int64_t c = w.size(2) - 1; c >= 0; --c) {
        at::Tensor column = keys.select(2, c).gather(1, perm);
        at::Tensor order = std::get<1>(column.sort(c10::optional<bool>(true), /*dim=*/1, /*descending=*/false));
        perm = perm.gather(1, order);
      }
    }
    out[l] = w.gather(1, perm.unsqueeze(2).expand({n, filters, w.size(2)}));
    auto [next_w, next_b] = SplitByInputChannel(layout.layers()[l + 1], out[l + 1]);
    at::Tensor index = perm.view({n, 1, filters, 1}).expand(
        {n, next_w.size(1), filters, next_w.size(3)});
    out[l + 1] = JoinInputChannels(next_w.gather(2, index), next_b);
  }
  return out;
}

WeightBatch GaugeFix(const TargetLayout& layout, const WeightBatch& weights, bool scale,
                     bool permutation) {
  WeightBatch out = scale ? ScaleGauge(layout, weights) : weights;
  return permutation ? PermutationGauge(layout, out) : out;
}

}  // namespace hnet::core
