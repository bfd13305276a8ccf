// Helpers shared by the core tests.
#ifndef HNET_TESTS_CORE_TEST_UTIL_H_
#define HNET_TESTS_CORE_TEST_UTIL_H_

#include <torch/torch.h>

#include "core/config.h"
#include "core/target_forward.h"
#include "core/target_spec.h"

namespace hnet::testing {

inline core::TargetLayout MnistLayout() {
  return core::TargetLayout::Create(core::MnistTargetSpec()).value();
}

// Random weights for n networks of `layout` (scaled so activations stay O(1)).
inline core::WeightBatch RandomWeights(const core::TargetLayout& layout, int64_t n,
                                       double scale = 1.0) {
  core::WeightBatch out;
  for (const core::LayerShape& layer : layout.layers()) {
    out.push_back(torch::randn({n, layer.filters, layer.filter_size()}, torch::kFloat64) *
                  (scale / std::sqrt(static_cast<double>(layer.fan_in()))));
  }
  return out;
}

// The paper's config with all defaults filled in.
inline hnet::v1::TrainingConfig MnistConfig() {
  return core::WithDefaults(core::LoadConfig("mnist").value());
}

}  // namespace hnet::testing

#endif  // HNET_TESTS_CORE_TEST_UTIL_H_
