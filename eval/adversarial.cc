#include "eval/adversarial.h"

#include <torch/torch.h>

#include <algorithm>

#include "core/evaluation.h"

namespace hnet::eval {

at::Tensor TargetedGradientSign(const core::TargetLayout& layout, const core::WeightBatch& weights,
                                const at::Tensor& images, const at::Tensor& targets,
                                int64_t images_per_pass) {
  TORCH_CHECK(images.dim() == 4 && targets.dim() == 1 && images.size(0) == targets.size(0),
              "FGSM needs images [M, C, H, W] and targets [M], got ", images.sizes(), " and ",
              targets.sizes());
  torch::AutoGradMode enable_grad(true);
  const torch::Device device = weights.front().device();
  core::WeightBatch detached;
  for (const at::Tensor& w : weights) detached.push_back(w.detach());
  const int64_t m = images.size(0);
  at::Tensor out = torch::empty(images.sizes(), torch::kFloat32);
  for (int64_t i = 0; i < m; i += images_per_pass) {
    const int64_t b = std::min(images_per_pass, m - i);
    at::Tensor x = images.narrow(0, i, b).to(device, torch::kFloat32).detach().requires_grad_(true);
    at::Tensor logits = core::SharedForward(layout, detached, x);  // [N, b, K]
    // log of the members' mean probability, stably: logsumexp(log_softmax) - log N.
    at::Tensor log_mean =
        torch::logsumexp(torch::log_softmax(logits, -1), 0) - std::log(logits.size(0));
    at::Tensor loss =
        torch::nll_loss(log_mean, targets.narrow(0, i, b).to(device), {}, at::Reduction::Sum);
    at::Tensor grad = torch::autograd::grad({loss}, {x})[0];
    out.narrow(0, i, b).copy_(grad.sign().cpu());
  }
  return out;
}

at::Tensor RandomTargets(const at::Tensor& labels, int64_t classes, at::Generator& generator) {
  // label + offset (mod K) with offset uniform in 1..K-1: uniform over the other classes.
  at::Tensor offset = torch::randint(1, classes, {labels.size(0)}, generator, torch::kInt64);
  return (labels.cpu() + offset).remainder(classes);
}

std::vector<double> PaperEpsilons() {
  std::vector<double> eps;
  for (int k = 0; k <= 58; k += 2) eps.push_back(k / 255.0);
  return eps;
}

AttackCurve EvaluateAttack(const core::TargetLayout& layout, const core::WeightBatch& weights,
                           const at::Tensor& images, const at::Tensor& signs,
                           const at::Tensor& labels, const at::Tensor& targets,
                           const std::vector<double>& epsilons) {
  torch::NoGradGuard no_grad;
  AttackCurve curve;
  curve.epsilons = epsilons;
  for (double eps : epsilons) {
    at::Tensor x = images.to(torch::kFloat32) - eps * signs;
    at::Tensor probs = core::PredictProbabilities(layout, weights, x);  // [N, M, K]
    at::Tensor predicted = probs.size(0) == 1 ? probs[0].argmax(-1) : core::MajorityVote(probs);
    curve.targeted_success.push_back(core::Accuracy(predicted, targets));
    curve.untargeted_success.push_back(1.0 - core::Accuracy(predicted, labels));
  }
  return curve;
}

}  // namespace hnet::eval
