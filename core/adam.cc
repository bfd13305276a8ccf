#include "core/adam.h"

#include <torch/torch.h>

#include <cmath>
#include <map>

#include "absl/strings/str_cat.h"
#include "core/torch_status.h"

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

namespace {

bool Finite(const at::Tensor& t) {
  return !t.is_floating_point() || t.numel() == 0 || torch::isfinite(t).all().item<bool>();
}

absl::Status NotFinite(const std::string& name) {
  return absl::InvalidArgumentError(
      absl::StrCat("optimizer state: '", name, "' holds NaN or infinity"));
}

}  // namespace

absl::Status Adam::ImportState(const std::vector<std::pair<std::string, at::Tensor>>& state) {
  // .to(), .item() and the comparisons below throw c10::Error on tensors they cannot handle.
  return TorchCall("optimizer state", [&]() -> absl::Status {
    std::map<std::string, at::Tensor> by_name(state.begin(), state.end());
    auto find = [&](const std::string& name, at::IntArrayRef shape) -> absl::StatusOr<at::Tensor> {
      auto it = by_name.find(name);
      if (it == by_name.end()) {
        return absl::InvalidArgumentError(absl::StrCat("optimizer state: missing '", name, "'"));
      }
      if (!it->second.defined() || it->second.sizes() != shape) {
        return absl::InvalidArgumentError(
            absl::StrCat("optimizer state: '", name, "' has the wrong shape"));
      }
      return it->second;
    };
    auto step = find("step", {});
    if (!step.ok()) return step.status();
    if (!c10::isIntegralType(step->scalar_type(), /*includeBool=*/false)) {
      return absl::InvalidArgumentError(absl::StrCat("optimizer state: 'step' has dtype ",
                                                     c10::toString(step->scalar_type()),
                                                     ", expected an integer"));
    }
    const int64_t steps = step->item<int64_t>();
    if (steps < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("optimizer state: 'step' is ", steps, ", expected >= 0"));
    }
    std::vector<at::Tensor> m, v;
    for (const auto& [name, p] : params_) {
      auto mi = find(name + ".m", p.sizes());
      if (!mi.ok()) return mi.status();
      if (!Finite(*mi)) return NotFinite(name + ".m");
      auto vi = find(name + ".v", p.sizes());
      if (!vi.ok()) return vi.status();
      if (!Finite(*vi)) return NotFinite(name + ".v");
      // The second moment is a running mean of squares: a negative entry would make the next
      // step's square root NaN.
      if (vi->numel() > 0 && (*vi < 0).any().item<bool>()) {
        return absl::InvalidArgumentError(
            absl::StrCat("optimizer state: '", name, ".v' has negative entries"));
      }
      m.push_back(mi->to(p.options()).clone());
      v.push_back(vi->to(p.options()).clone());
    }
    steps_ = steps;
    m_ = std::move(m);
    v_ = std::move(v);
    return absl::OkStatus();
  });
}

}  // namespace hnet::core
