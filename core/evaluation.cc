#include "core/evaluation.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace hnet::core {

at::Tensor PredictProbabilities(const TargetLayout& layout, const WeightBatch& weights,
                                const at::Tensor& images, int64_t chunk) {
  torch::NoGradGuard no_grad;
  const int64_t n = weights.front().size(0);
  const int64_t m = images.size(0);
  const torch::Device device = weights.front().device();
  at::Tensor out = torch::empty({n, m, layout.num_classes()}, torch::kFloat32);
  const int64_t nets_per_pass = std::max<int64_t>(1, std::min<int64_t>(n, chunk / 64));
  const int64_t images_per_pass = std::max<int64_t>(1, chunk / nets_per_pass);
  for (int64_t i = 0; i < m; i += images_per_pass) {
    const int64_t mi = std::min(images_per_pass, m - i);
    at::Tensor x = images.narrow(0, i, mi).to(device, torch::kFloat32);
    for (int64_t j = 0; j < n; j += nets_per_pass) {
      const int64_t nj = std::min(nets_per_pass, n - j);
      at::Tensor logits = SharedForward(layout, SliceNetworks(weights, j, j + nj), x);
      out.narrow(0, j, nj).narrow(1, i, mi).copy_(torch::softmax(logits, -1).to(torch::kCPU));
    }
  }
  return out;
}

std::vector<double> NetworkAccuracies(const at::Tensor& probs, const at::Tensor& labels) {
  at::Tensor correct = probs.argmax(-1).eq(labels.to(probs.device()).unsqueeze(0));
  at::Tensor acc = correct.to(torch::kFloat64).mean(1).cpu();
  return std::vector<double>(acc.data_ptr<double>(), acc.data_ptr<double>() + acc.numel());
}

at::Tensor MajorityVote(const at::Tensor& probs) {
  const int64_t classes = probs.size(2);
  at::Tensor votes = torch::one_hot(probs.argmax(-1), classes).sum(0);  // [M, K]
  return votes.argmax(-1);
}

at::Tensor MeanProbability(const at::Tensor& probs) { return probs.mean(0).argmax(-1); }

at::Tensor MostConfident(const at::Tensor& probs) {
  auto [confidence, predicted] = probs.max(-1);  // [N, M]
  at::Tensor member = confidence.argmax(0);      // [M]
  return predicted.gather(0, member.unsqueeze(0)).squeeze(0);
}

double Accuracy(const at::Tensor& predictions, const at::Tensor& labels) {
  return predictions.eq(labels.to(predictions.device())).to(torch::kFloat64).mean().item<double>();
}

Summary Summarize(const std::vector<double>& values) {
  Summary s;
  if (values.empty()) return s;
  double sum = 0, sq = 0;
  s.min = values.front();
  s.max = values.front();
  for (double v : values) {
    sum += v;
    sq += v * v;
    s.min = std::min(s.min, v);
    s.max = std::max(s.max, v);
  }
  s.mean = sum / values.size();
  s.std = std::sqrt(std::max(0.0, sq / values.size() - s.mean * s.mean));
  return s;
}

}  // namespace hnet::core
