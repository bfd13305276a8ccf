#include "server/ensemble.h"

#include <torch/torch.h>

namespace hnet::server {

at::Tensor Entropy(const at::Tensor& probs) { return -torch::special_xlogy(probs, probs).sum(-1); }

EnsembleAccumulator::EnsembleAccumulator(int64_t members, int64_t inputs, int64_t classes,
                                         bool keep_members)
    : members_(members) {
  prob_sum_ = torch::zeros({inputs, classes}, torch::kFloat64);
  votes_ = torch::zeros({inputs, classes}, torch::kInt64);
  entropy_sum_ = torch::zeros({inputs}, torch::kFloat64);
  best_conf_ = torch::full({inputs}, -1.0, torch::kFloat32);
  best_class_ = torch::zeros({inputs}, torch::kInt64);
  if (keep_members) member_preds_ = torch::empty({members, inputs}, torch::kInt32);
}

void EnsembleAccumulator::Add(const at::Tensor& probs, int64_t first) {
  TORCH_CHECK(first == added_ && first + probs.size(0) <= members_,
              "EnsembleAccumulator: members must be added in order");
  added_ += probs.size(0);
  prob_sum_ += probs.to(torch::kFloat64).sum(0);
  entropy_sum_ += Entropy(probs.to(torch::kFloat64)).sum(0);
  at::Tensor cls = probs.argmax(-1);  // [k, N]; the first maximal class, as core's rules.
  at::Tensor conf = std::get<0>(probs.max(-1));
  votes_ += torch::one_hot(cls, votes_.size(1)).sum(0);
  if (member_preds_.defined()) member_preds_.narrow(0, first, probs.size(0)).copy_(cls);
  // Most confident: the first member with the largest confidence wins (core::MostConfident
  // takes argmax over members, which returns the first maximum).
  auto [chunk_conf, chunk_member] = conf.max(0);  // First maximal member within the chunk.
  at::Tensor chunk_class = cls.gather(0, chunk_member.unsqueeze(0)).squeeze(0);
  at::Tensor better = chunk_conf > best_conf_;
  best_conf_ = torch::where(better, chunk_conf, best_conf_);
  best_class_ = torch::where(better, chunk_class, best_class_);
}

EnsembleResult EnsembleAccumulator::Finish(int64_t begin, int64_t end,
                                           hnet::v1::EnsembleRule rule) const {
  TORCH_CHECK(added_ == members_, "EnsembleAccumulator: ", members_ - added_, " members missing");
  const int64_t n = end - begin;
  EnsembleResult r;
  at::Tensor mean = prob_sum_.narrow(0, begin, n) / static_cast<double>(members_);
  r.votes = votes_.narrow(0, begin, n).clone();
  switch (rule) {
    case hnet::v1::MAJORITY_VOTE:
      r.predicted = r.votes.argmax(-1);
      break;
    case hnet::v1::MOST_CONFIDENT:
      r.predicted = best_class_.narrow(0, begin, n).clone();
      break;
    default:
      r.predicted = mean.to(torch::kFloat32).argmax(-1);
      break;
  }
  r.mean_probabilities = mean.to(torch::kFloat32);
  r.agreement = (r.votes.gather(1, r.predicted.unsqueeze(1)).squeeze(1).to(torch::kFloat64) /
                 static_cast<double>(members_))
                    .to(torch::kFloat32);
  at::Tensor predictive = Entropy(mean);
  at::Tensor expected = entropy_sum_.narrow(0, begin, n) / static_cast<double>(members_);
  r.predictive_entropy = predictive.to(torch::kFloat32);
  r.mutual_information = (predictive - expected).clamp_min(0.0).to(torch::kFloat32);
  if (member_preds_.defined()) r.members = member_preds_.narrow(1, begin, n).contiguous();
  return r;
}

}  // namespace hnet::server
