// The hypernetwork G(z) of paper section 3.3: an extractor E maps z to one code per filter,
// and a weight generator W_l per target layer maps each code to that filter's weights. The
// last target layer is one "filter" (W_m runs once) whose output is reshaped to [F_m, S_m].
#ifndef HNET_CORE_HYPERNETWORK_H_
#define HNET_CORE_HYPERNETWORK_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "core/target_forward.h"
#include "core/target_spec.h"
#include "hnet/v1/config.pb.h"

namespace hnet::core {

// A bias-free MLP: Linear -> leaky ReLU -> batch norm for every hidden layer, then a plain
// Linear output layer. Weights drawn from N(0, init_scale / fan_in), as the reference.
class GeneratorMlpImpl : public torch::nn::Module {
 public:
  GeneratorMlpImpl(int64_t in, const std::vector<int64_t>& hidden, int64_t out,
                   const hnet::v1::HyperNetConfig& config);
  at::Tensor forward(const at::Tensor& x);  // [B, in] -> [B, out]

 private:
  torch::nn::ModuleList linears_;
  torch::nn::ModuleList norms_;
  double slope_;
};
TORCH_MODULE(GeneratorMlp);

class HyperNetworkImpl : public torch::nn::Module {
 public:
  // `config` must be defaulted (core::WithDefaults) and hold one generator per layer.
  HyperNetworkImpl(const TargetLayout& layout, const hnet::v1::HyperNetConfig& config);

  // z [N, z_dim] -> raw (not gauge-fixed) weights, layer l [N, F_l, S_l]. In training mode
  // batch norm uses batch statistics, so N >= 2 is required there.
  WeightBatch forward(const at::Tensor& z);

  // Draws n noise vectors [n, z_dim] (float32, CPU) from the configured distribution using
  // `generator`, so that sampling is identical on every device.
  at::Tensor SampleZ(int64_t n, at::Generator generator) const;

  int64_t z_dim() const { return config_.z_dim(); }
  const TargetLayout& layout() const { return layout_; }
  const hnet::v1::HyperNetConfig& config() const { return config_; }

 private:
  TargetLayout layout_;
  hnet::v1::HyperNetConfig config_;
  std::vector<int64_t> codes_per_layer_;  // F_l for hidden layers, 1 for the last.
  GeneratorMlp extractor_{nullptr};
  torch::nn::ModuleList generators_;
};
TORCH_MODULE(HyperNetwork);

// Trainable parameters of a module (linear weights plus batch-norm scales and offsets).
int64_t CountParameters(const torch::nn::Module& module);

// CountParameters of HyperNetworkImpl(layout, config), computed without allocating anything;
// -1 when config is not buildable (a non-positive size, the wrong number of generators) or
// the count would not fit in int64.
int64_t HyperNetworkParameterCount(const TargetLayout& layout,
                                   const hnet::v1::HyperNetConfig& config);

}  // namespace hnet::core

#endif  // HNET_CORE_HYPERNETWORK_H_
