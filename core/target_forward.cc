#include "core/target_forward.h"

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "core/conv_pool_cpu.h"

namespace hnet::core {
namespace {

namespace F = torch::nn::functional;

// Activations flow in one of two forms: "grouped" [M, N*C, H, W] for convolutions (the N
// networks' channels stacked so one grouped convolution serves all of them) and "dense"
// [N, M, D] for batched matrix products.

at::Tensor ConvLayer(const LayerShape& layer, const at::Tensor& w, const at::Tensor& h,
                     int64_t groups) {
  const int64_t n = w.size(0);
  const int64_t c = layer.in_channels;
  const int64_t k = layer.kernel;
  at::Tensor kernels = w.narrow(2, 0, layer.fan_in()).reshape({n * layer.filters, c, k, k});
  at::Tensor bias = w.select(2, layer.fan_in()).reshape({n * layer.filters});
  at::Tensor input = h;
  int64_t padding = k / 2;
  if (k % 2 == 0) {  // SAME with an even kernel pads one more on the bottom/right, as TF.
    input = F::pad(h, F::PadFuncOptions({(k - 1) / 2, k / 2, (k - 1) / 2, k / 2}));
    padding = 0;
  }
  at::Tensor out = torch::conv2d(input, kernels, bias, /*stride=*/1, padding, /*dilation=*/1,
                                 groups);
  if (layer.pool > 1) {
    // Pooling before the ReLU equals pooling after it (both are monotone) on a 4x smaller
    // tensor; ceil_mode takes the max over the in-bounds part of edge windows, as TF's SAME.
    out = torch::max_pool2d(out, layer.pool, layer.pool, /*padding=*/0, /*dilation=*/1,
                            /*ceil_mode=*/true);
  }
  return torch::relu(out);
}

// h [N, M, D] (or [M, D] when shared) -> [N, M, F].
at::Tensor DenseLayer(const LayerShape& layer, const at::Tensor& w, const at::Tensor& h) {
  at::Tensor weights = w.narrow(2, 0, layer.fan_in()).transpose(1, 2);  // [N, D, F]
  at::Tensor bias = w.select(2, layer.fan_in()).unsqueeze(1);           // [N, 1, F]
  at::Tensor out = h.dim() == 2 ? torch::matmul(h, weights) + bias
                                : torch::baddbmm(bias, h, weights);
  return layer.relu ? torch::relu(out) : out;
}

// Runs layers starting from `h`, which is grouped [M, n*C, H, W] when the first layer is a
// conv (or [M, C, H, W] when shared), else dense ([N, M, D] or shared [M, D]).
at::Tensor Run(const TargetLayout& layout, const WeightBatch& weights, at::Tensor h,
               bool shared, const ForwardOptions& options) {
  const int64_t n = weights.front().size(0);
  bool grouped = layout.layers().front().kind == LayerShape::Kind::kConv;
  for (int64_t l = 0; l < layout.num_layers(); ++l) {
    const LayerShape& layer = layout.layers()[l];
    if (layer.kind == LayerShape::Kind::kConv) {
      h = options.fused_cpu_conv && FusedConvApplies(layer, weights[l], h)
              ? ConvPoolReluCpu(layer, weights[l], h)
              : ConvLayer(layer, weights[l], h, shared && l == 0 ? 1 : n);
      continue;
    }
    if (grouped) {  // [M, N*C, H, W] -> [N, M, C*H*W]
      const int64_t m = h.size(0);
      h = h.reshape({m, n, -1}).transpose(0, 1);
      grouped = false;
    }
    h = DenseLayer(layer, weights[l], h);
  }
  return h;
}

}  // namespace

absl::Status CheckWeightBatch(const TargetLayout& layout, const WeightBatch& weights) {
  if (static_cast<int64_t>(weights.size()) != layout.num_layers()) {
    return absl::InvalidArgumentError(absl::StrCat("weights: expected ", layout.num_layers(),
                                                   " layers, got ", weights.size()));
  }
  for (int64_t l = 0; l < layout.num_layers(); ++l) {
    const at::Tensor& w = weights[l];
    const LayerShape& layer = layout.layers()[l];
    if (!w.defined() || w.dim() != 3 || w.size(1) != layer.filters ||
        w.size(2) != layer.filter_size() || w.size(0) != weights.front().size(0) ||
        !w.is_floating_point() || w.device() != weights.front().device()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "weights: layer ", l, " (", layer.name(), ") must be a float tensor [N, ",
          layer.filters, ", ", layer.filter_size(), "] on the same device as layer 0"));
    }
  }
  return absl::OkStatus();
}

at::Tensor BatchedForward(const TargetLayout& layout, const WeightBatch& weights,
                          const at::Tensor& x, const ForwardOptions& options) {
  const int64_t n = weights.front().size(0);
  TORCH_CHECK(x.dim() == 5 && x.size(0) == n, "BatchedForward: x must be [N, M, C, H, W] with N = ",
              n, ", got ", x.sizes());
  const int64_t per_pass = options.networks_per_pass;
  if (per_pass > 0 && per_pass < n) {
    ForwardOptions one_pass = options;
    one_pass.networks_per_pass = 0;
    std::vector<at::Tensor> blocks;
    for (int64_t begin = 0; begin < n; begin += per_pass) {
      const int64_t end = std::min(n, begin + per_pass);
      blocks.push_back(BatchedForward(layout, SliceNetworks(weights, begin, end),
                                      x.slice(0, begin, end), one_pass));
    }
    return torch::cat(blocks, 0);
  }
  at::Tensor h = x;
  if (layout.layers().front().kind == LayerShape::Kind::kConv) {
    h = x.transpose(0, 1).reshape({x.size(1), -1, x.size(3), x.size(4)});
  } else {
    h = x.flatten(2);
  }
  return Run(layout, weights, h, /*shared=*/false, options);
}

at::Tensor SharedForward(const TargetLayout& layout, const WeightBatch& weights,
                         const at::Tensor& x, const ForwardOptions& options) {
  TORCH_CHECK(x.dim() == 4, "SharedForward: x must be [M, C, H, W], got ", x.sizes());
  at::Tensor h = layout.layers().front().kind == LayerShape::Kind::kConv ? x : x.flatten(1);
  return Run(layout, weights, h, /*shared=*/true, options);
}

at::Tensor FlattenWeights(const WeightBatch& weights) {
  std::vector<at::Tensor> flat;
  flat.reserve(weights.size());
  for (const at::Tensor& w : weights) flat.push_back(w.flatten(1));
  return torch::cat(flat, 1);
}

WeightBatch UnflattenWeights(const TargetLayout& layout, const at::Tensor& flat) {
  WeightBatch out;
  int64_t offset = 0;
  for (const LayerShape& layer : layout.layers()) {
    out.push_back(flat.narrow(1, offset, layer.weight_count())
                      .view({flat.size(0), layer.filters, layer.filter_size()}));
    offset += layer.weight_count();
  }
  return out;
}

WeightBatch SliceNetworks(const WeightBatch& weights, int64_t begin, int64_t end) {
  WeightBatch out;
  for (const at::Tensor& w : weights) out.push_back(w.slice(0, begin, end));
  return out;
}

}  // namespace hnet::core
