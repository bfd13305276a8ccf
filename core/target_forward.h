// Batched functional forward of generated target networks (no per-network loops): N networks
// run in one pass through grouped convolutions and batched matrix products.
#ifndef HNET_CORE_TARGET_FORWARD_H_
#define HNET_CORE_TARGET_FORWARD_H_

#include <ATen/core/Tensor.h>

#include <vector>

#include "absl/status/status.h"
#include "core/target_spec.h"

namespace hnet::core {

// Layer l of N networks: [N, F_l, S_l] (see target_spec.h for the layout).
using WeightBatch = std::vector<at::Tensor>;

// Checks that `weights` has one tensor per layer of `layout`, each [N, F_l, S_l] with the
// same N, floating point, on one device. The error names the layer.
absl::Status CheckWeightBatch(const TargetLayout& layout, const WeightBatch& weights);

struct ForwardOptions {
  // > 0: blocks of that many networks per grouped pass (bounds memory; on a 2-core CPU within
  // ~7% of one pass either way); 0: all N in one pass. The result does not depend on it.
  int64_t networks_per_pass = 0;
  // Runs conv layers with few input channels through the fused CPU kernel
  // (conv_pool_cpu.h) where it applies; false: always the library's grouped convolution.
  // The two agree within float rounding.
  bool fused_cpu_conv = true;
};

// Each network n applied to its own images: x [N, M, C, H, W] -> logits [N, M, classes].
// Differentiable in weights and x. Thread-compatible (no shared state).
at::Tensor BatchedForward(const TargetLayout& layout, const WeightBatch& weights,
                          const at::Tensor& x, const ForwardOptions& options = {});

// All N networks applied to the same images: x [M, C, H, W] -> logits [N, M, classes].
at::Tensor SharedForward(const TargetLayout& layout, const WeightBatch& weights,
                         const at::Tensor& x, const ForwardOptions& options = {});

// Concatenates the layers into one vector per network: [N, weight_count].
at::Tensor FlattenWeights(const WeightBatch& weights);

// Inverse of FlattenWeights for `layout`: flat [N, weight_count] -> per-layer views.
WeightBatch UnflattenWeights(const TargetLayout& layout, const at::Tensor& flat);

// Networks [begin, end) of a batch (views, no copy).
WeightBatch SliceNetworks(const WeightBatch& weights, int64_t begin, int64_t end);

}  // namespace hnet::core

#endif  // HNET_CORE_TARGET_FORWARD_H_
