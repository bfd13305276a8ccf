#include "core/toy.h"

#include <torch/torch.h>

#include <cmath>
#include <random>

#include "core/diversity.h"

namespace hnet::core {
namespace {

// Uniform double on [lo, hi) from one raw 64-bit draw: the top 53 bits scaled by 2^-53.
// Written out (rather than std::uniform_real_distribution) so that a seed gives the same
// mixture with every standard library.
double Uniform(std::mt19937_64& rng, double lo, double hi) {
  const double unit = static_cast<double>(rng() >> 11) * 0x1.0p-53;
  return lo + (hi - lo) * unit;
}

// In-place truncated normal (cut at +-2 standard deviations) with the given standard
// deviation of the untruncated normal, by inverse-CDF sampling from the global generator.
void TruncatedNormal(at::Tensor& t, double stddev) {
  const double lo = 0.5 * std::erfc(2.0 / std::sqrt(2.0));  // Phi(-2)
  at::Tensor u = torch::rand(t.sizes(), t.options()) * (1.0 - 2.0 * lo) + lo;
  t.copy_(torch::erfinv(2 * u - 1) * (std::sqrt(2.0) * stddev));
}

// The reference's variance-scaling initialisation (scale 6, fan-in mode, truncated normal),
// applied to weights and biases alike; fan-in of a bias is its length, as in TensorFlow.
void InitLikeReference(torch::nn::Linear& layer) {
  constexpr double kScale = 6.0;
  constexpr double kTruncationStd = 0.87962566103423978;  // Std of N(0,1) cut at +-2.
  torch::NoGradGuard no_grad;
  TruncatedNormal(layer->weight,
                  std::sqrt(kScale / layer->weight.size(1)) / kTruncationStd);
  TruncatedNormal(layer->bias, std::sqrt(kScale / layer->bias.size(0)) / kTruncationStd);
}

}  // namespace

GaussianMixture GaussianMixture::Random(int components, uint64_t seed) {
  TORCH_CHECK(components > 0, "a mixture needs components > 0, got ", components);
  std::mt19937_64 rng(seed);
  // Draw order (fixed, part of the contract): all means (x then y per component), then all
  // sigmas, then all weights.
  std::vector<float> means(2 * components);
  std::vector<float> sigmas(components);
  std::vector<double> raw_weights(components);
  for (float& m : means) m = static_cast<float>(Uniform(rng, -5.0, 5.0));
  for (float& s : sigmas) s = static_cast<float>(Uniform(rng, 1.0, 1.1));
  double total = 0.0;
  for (double& w : raw_weights) {
    w = Uniform(rng, 1.0, 3.0);
    total += w;
  }
  std::vector<float> weights(components);
  for (int k = 0; k < components; ++k) weights[k] = static_cast<float>(raw_weights[k] / total);

  GaussianMixture mixture;
  mixture.means = torch::tensor(means, torch::kFloat32).reshape({components, 2});
  mixture.sigmas = torch::tensor(sigmas, torch::kFloat32);
  mixture.weights = torch::tensor(weights, torch::kFloat32);
  return mixture;
}

at::Tensor GaussianMixture::Value(const at::Tensor& y) const {
  TORCH_CHECK(y.dim() == 2 && y.size(1) == 2, "mixture value needs y [N, 2], got ", y.sizes());
  const auto options = y.options();
  at::Tensor mu = means.to(options);
  at::Tensor sigma = sigmas.to(options);
  at::Tensor p = weights.to(options);
  at::Tensor sq = (y.unsqueeze(1) - mu.unsqueeze(0)).pow(2).sum(-1);  // [N, K]
  at::Tensor var = sigma.pow(2).unsqueeze(0);  // [1, K]
  // Each bump is scaled by 2 pi sigma_k^2, as the reference toy script does; without that
  // factor the mixture term is too weak against the entropy and l2 terms.
  at::Tensor heights = p.unsqueeze(0) * (2 * M_PI) * var;
  return (heights * torch::exp(-sq / (2 * var))).sum(1);
}

ToyGeneratorImpl::ToyGeneratorImpl(const std::vector<int>& hidden) {
  net_ = register_module("net", torch::nn::Sequential());
  int64_t in = 1;
  for (int width : hidden) {
    TORCH_CHECK(width > 0, "hidden sizes must be positive, got ", width);
    torch::nn::Linear layer(torch::nn::LinearOptions(in, width).bias(true));
    InitLikeReference(layer);
    net_->push_back(layer);
    net_->push_back(torch::nn::Tanh());
    in = width;
  }
  torch::nn::Linear last(torch::nn::LinearOptions(in, 2).bias(true));
  InitLikeReference(last);
  net_->push_back(last);
}

at::Tensor ToyGeneratorImpl::forward(const at::Tensor& z) { return net_->forward(z); }

hnet::v1::ToyConfig ToyDefaults(const hnet::v1::ToyConfig& config) {
  hnet::v1::ToyConfig out = config;
  if (out.components() == 0) out.set_components(10);
  if (out.hidden_size() == 0) {
    for (int width : {30, 10, 10}) out.add_hidden(width);
  }
  if (out.entropy_weight() == 0) out.set_entropy_weight(2.2);
  if (out.l2_weight() == 0) out.set_l2_weight(0.05);
  return out;
}

at::Tensor ToyLoss(const GaussianMixture& mixture, const hnet::v1::ToyConfig& config,
                   const at::Tensor& y) {
  // Weights are taken as given: pass ToyDefaults(config) for the paper's values.
  at::Tensor value = mixture.Value(y).mean();
  at::Tensor entropy =
      KozachenkoLeonenkoEntropy(y, /*d=*/1, Metric::kL2, /*with_constants=*/true);
  at::Tensor l2 = y.pow(2).sum(1).mean();
  return -value - config.entropy_weight() * entropy + config.l2_weight() * l2;
}

}  // namespace hnet::core
