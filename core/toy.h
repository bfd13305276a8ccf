// The paper's toy problem (section 4.1): a hypernetwork with 1-D input z that generates 2-D
// points, trained to land on the peaks of a Gaussian mixture while staying diverse.
#ifndef HNET_CORE_TOY_H_
#define HNET_CORE_TOY_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

#include "hnet/v1/config.pb.h"

namespace hnet::core {

// A mixture of K isotropic Gaussians in 2-D; means uniform on [-5, 5]^2, sigmas uniform on
// [1.0, 1.1], weights uniform on [1, 3] then normalised (reference toy script).
struct GaussianMixture {
  at::Tensor means;    // float32 [K, 2]
  at::Tensor sigmas;   // float32 [K]
  at::Tensor weights;  // float32 [K], sums to 1

  // Draws a mixture deterministically from `seed`.
  static GaussianMixture Random(int components, uint64_t seed);

  // sum_k p_k * 2 pi sigma_k^2 * exp(-|y - mu_k|^2 / (2 sigma_k^2)) for y [N, 2] -> [N], as
  // the reference toy script scales it; each peak's height is p_k * 2 pi sigma_k^2.
  // Differentiable in y.
  at::Tensor Value(const at::Tensor& y) const;
};

// Generator MLP 1 -> hidden... -> 2 with biases and tanh (no batch norm).
class ToyGeneratorImpl : public torch::nn::Module {
 public:
  explicit ToyGeneratorImpl(const std::vector<int>& hidden);
  at::Tensor forward(const at::Tensor& z);  // [N, 1] -> [N, 2]

 private:
  torch::nn::Sequential net_{nullptr};
};
TORCH_MODULE(ToyGenerator);

// Fills unset fields of a ToyConfig with the paper's values (10 components, 30-10-10,
// entropy weight 2.2, l2 weight 0.05).
hnet::v1::ToyConfig ToyDefaults(const hnet::v1::ToyConfig& config);

// Loss of the toy problem for generated points y [N, 2]:
// -mean(mixture(y)) - entropy_weight * H_KL(y; d = 1, L2, with constants) + l2 * mean|y|^2.
at::Tensor ToyLoss(const GaussianMixture& mixture, const hnet::v1::ToyConfig& config,
                   const at::Tensor& y);

}  // namespace hnet::core

#endif  // HNET_CORE_TOY_H_
