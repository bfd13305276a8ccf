#include "core/hypernetwork.h"

#include <torch/torch.h>

#include <cmath>

namespace hnet::core {

GeneratorMlpImpl::GeneratorMlpImpl(int64_t in, const std::vector<int64_t>& hidden, int64_t out,
                                   const hnet::v1::HyperNetConfig& config)
    : slope_(config.leaky_relu_slope()) {
  linears_ = register_module("linears", torch::nn::ModuleList());
  norms_ = register_module("norms", torch::nn::ModuleList());
  int64_t fan_in = in;
  std::vector<int64_t> widths = hidden;
  widths.push_back(out);
  for (size_t i = 0; i < widths.size(); ++i) {
    torch::nn::Linear linear(torch::nn::LinearOptions(fan_in, widths[i]).bias(false));
    {
      torch::NoGradGuard no_grad;
      linear->weight.normal_(0.0, std::sqrt(config.init_scale() / static_cast<double>(fan_in)));
    }
    linears_->push_back(linear);
    if (i + 1 < widths.size()) {
      norms_->push_back(torch::nn::BatchNorm1d(torch::nn::BatchNormOptions(widths[i])
                                                   .momentum(1.0 - config.batch_norm_decay())
                                                   .eps(config.batch_norm_epsilon())));
    }
    fan_in = widths[i];
  }
}

at::Tensor GeneratorMlpImpl::forward(const at::Tensor& x) {
  at::Tensor h = x;
  const size_t hidden = norms_->size();
  for (size_t i = 0; i < linears_->size(); ++i) {
    h = linears_[i]->as<torch::nn::Linear>()->forward(h);
    if (i < hidden) {
      h = torch::leaky_relu(h, slope_);
      h = norms_[i]->as<torch::nn::BatchNorm1d>()->forward(h);
    }
  }
  return h;
}

HyperNetworkImpl::HyperNetworkImpl(const TargetLayout& layout,
                                   const hnet::v1::HyperNetConfig& config)
    : layout_(layout), config_(config) {
  TORCH_CHECK(config.generators_size() == layout.num_layers(),
              "hypernet: need one generator per target layer (", layout.num_layers(), "), got ",
              config.generators_size());
  int64_t total_codes = 0;
  for (int64_t l = 0; l < layout.num_layers(); ++l) {
    const bool last = l + 1 == layout.num_layers();
    codes_per_layer_.push_back(last ? 1 : layout.layers()[l].filters);
    total_codes += codes_per_layer_.back();
  }
  const std::vector<int64_t> extractor_hidden(config.extractor_hidden().begin(),
                                              config.extractor_hidden().end());
  extractor_ = register_module("extractor", GeneratorMlp(config.z_dim(), extractor_hidden,
                                                         total_codes * config.code_size(), config));
  generators_ = register_module("generators", torch::nn::ModuleList());
  for (int64_t l = 0; l < layout.num_layers(); ++l) {
    const LayerShape& layer = layout.layers()[l];
    const bool last = l + 1 == layout.num_layers();
    const std::vector<int64_t> hidden(config.generators(l).hidden().begin(),
                                      config.generators(l).hidden().end());
    generators_->push_back(GeneratorMlp(config.code_size(), hidden,
                                        last ? layer.weight_count() : layer.filter_size(), config));
  }
}

WeightBatch HyperNetworkImpl::forward(const at::Tensor& z) {
  TORCH_CHECK(z.dim() == 2 && z.size(1) == config_.z_dim(), "hypernet: z must be [N, ",
              config_.z_dim(), "], got ", z.sizes());
  const int64_t n = z.size(0);
  at::Tensor codes = extractor_->forward(z).view({n, -1, config_.code_size()});
  WeightBatch out;
  int64_t offset = 0;
  for (int64_t l = 0; l < layout_.num_layers(); ++l) {
    const LayerShape& layer = layout_.layers()[l];
    const int64_t count = codes_per_layer_[l];
    // All filters of all N networks go through W_l as one batch.
    at::Tensor layer_codes = codes.narrow(1, offset, count).reshape({n * count, -1});
    offset += count;
    at::Tensor w = generators_[l]->as<GeneratorMlp>()->forward(layer_codes);
    out.push_back(w.view({n, layer.filters, layer.filter_size()}));
  }
  return out;
}

at::Tensor HyperNetworkImpl::SampleZ(int64_t n, at::Generator generator) const {
  if (config_.z_distribution() == hnet::v1::HyperNetConfig::NORMAL) {
    // LibTorch's CPU normal_ transforms blocks of 16 values and redraws the last 16 of a
    // length that is not a multiple of 16; drawing whole blocks keeps row i of n the same for
    // every n (bit for bit, as for uniform_).
    const int64_t count = n * config_.z_dim();
    at::Tensor flat = torch::empty({(count + 15) / 16 * 16}, torch::kFloat32);
    flat.normal_(0.0, 1.0, generator);
    return flat.slice(0, 0, count).view({n, config_.z_dim()});
  }
  at::Tensor z = torch::empty({n, config_.z_dim()}, torch::kFloat32);
  return z.uniform_(-1.0, 1.0, generator);
}

int64_t HyperNetworkParameterCount(const TargetLayout& layout,
                                   const hnet::v1::HyperNetConfig& config) {
  if (config.z_dim() <= 0 || config.code_size() <= 0 ||
      config.generators_size() != layout.num_layers()) {
    return -1;
  }
  int64_t total = 0;
  bool overflow = false;
  auto add = [&](int64_t v) { overflow |= __builtin_add_overflow(total, v, &total); };
  // A GeneratorMlp: bias-free linears in -> hidden... -> out, batch norm (scale, offset) on
  // every hidden width.
  auto mlp = [&](int64_t in, const google::protobuf::RepeatedField<int32_t>& hidden, int64_t out) {
    int64_t fan_in = in;
    for (int32_t width : hidden) {
      if (width <= 0) overflow = true;
      int64_t product = 0;
      overflow |= __builtin_mul_overflow(fan_in, static_cast<int64_t>(width), &product);
      add(product);
      add(2 * static_cast<int64_t>(width));
      fan_in = width;
    }
    int64_t product = 0;
    overflow |= __builtin_mul_overflow(fan_in, out, &product);
    add(product);
  };
  int64_t total_codes = 0;
  for (int64_t l = 0; l < layout.num_layers(); ++l) {
    total_codes += l + 1 == layout.num_layers() ? 1 : layout.layers()[l].filters;
  }
  int64_t extractor_out = 0;
  overflow |=
      __builtin_mul_overflow(total_codes, static_cast<int64_t>(config.code_size()), &extractor_out);
  mlp(config.z_dim(), config.extractor_hidden(), extractor_out);
  for (int64_t l = 0; l < layout.num_layers(); ++l) {
    const LayerShape& layer = layout.layers()[l];
    const bool last = l + 1 == layout.num_layers();
    mlp(config.code_size(), config.generators(l).hidden(),
        last ? layer.weight_count() : layer.filter_size());
  }
  return overflow ? -1 : total;
}

int64_t CountParameters(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const at::Tensor& p : module.parameters()) total += p.numel();
  return total;
}

}  // namespace hnet::core
