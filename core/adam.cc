#include "core/adam.h"

#include <torch/torch.h>

#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"

namespace hnet::core {

Adam::Adam(std::vector<std::pair<std::string, at::Tensor>> params, AdamOptions options)
    : params_(std::move(params)), options_(options) {
  for (const auto& [name, p] : params_) {
    m_.push_back(torch::zeros_like(p, at::MemoryFormat::Contiguous));
    v_.push_back(torch::zeros_like(p, at::MemoryFormat::Contiguous));
  }
}

void Adam::Step(double learning_rate) {
  torch::NoGradGuard no_grad;
  ++steps_;
  const double b1 = options_.beta1;
  const double b2 = options_.beta2;
  const double correction1 = 1.0 - std::pow(b1, static_cast<double>(steps_));
  const double correction2 = 1.0 - std::pow(b2, static_cast<double>(steps_));
  const double step_size = learning_rate / correction1;
  for (size_t i = 0; i < params_.size(); ++i) {
    at::Tensor& p = params_[i].second;
    const at::Tensor& g = p.grad();
    if (!g.defined()) continue;
    m_[i].mul_(b1).add_(g, 1.0 - b1);
    v_[i].mul_(b2).addcmul_(g, g, 1.0 - b2);
    at::Tensor denom = (v_[i] / correction2).sqrt_().add_(options_.epsilon);
    p.addcdiv_(m_[i], denom, -step_size);
  }
}

void Adam::ZeroGrad() {
  for (auto& [name, p] : params_) {
    if (p.grad().defined()) p.mutable_grad() = at::Tensor();
  }
}

std::vector<std::pair<std::string, at::Tensor>> Adam::ExportState() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  out.emplace_back("step", torch::tensor(steps_, torch::kInt64));
  for (size_t i = 0; i < params_.size(); ++i) {
    out.emplace_back(params_[i].first + ".m", m_[i]);
    out.emplace_back(params_[i].first + ".v", v_[i]);
  }
  return out;
}

absl::Status Adam::ImportState(const std::vector<std::pair<std::string, at::Tensor>>& state) {
  std::map<std::string, at::Tensor> by_name(state.begin(), state.end());
  auto find = [&](const std::string& name, at::IntArrayRef shape) -> absl::StatusOr<at::Tensor> {
    auto it = by_name.find(name);
    if (it == by_name.end()) {
      return absl::InvalidArgumentError(absl::StrCat("optimizer state: missing '", name, "'"));
    }
    if (it->second.sizes() != shape) {
      return absl::InvalidArgumentError(
          absl::StrCat("optimizer state: '", name, "' has the wrong shape"));
    }
    return it->second;
  };
  auto step = find("step", {});
  if (!step.ok()) return step.status();
  std::vector<at::Tensor> m, v;
  for (const auto& [name, p] : params_) {
    auto mi = find(name + ".m", p.sizes());
    if (!mi.ok()) return mi.status();
    auto vi = find(name + ".v", p.sizes());
    if (!vi.ok()) return vi.status();
    m.push_back(mi->to(p.options()).clone());
    v.push_back(vi->to(p.options()).clone());
  }
  steps_ = step->item<int64_t>();
  m_ = std::move(m);
  v_ = std::move(v);
  return absl::OkStatus();
}

}  // namespace hnet::core
