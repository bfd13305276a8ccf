#include "server/eval_data.h"

#include <ATen/core/Tensor.h>

#include "absl/strings/str_cat.h"

namespace hnet::server {

EvaluationData::EvaluationData(std::string data_dir)
    : data_dir_(data_dir.empty() ? core::DefaultDataDir() : std::move(data_dir)) {}

absl::StatusOr<core::Split> EvaluationData::TestSplit(hnet::v1::DataConfig::Dataset dataset) {
  std::lock_guard<std::mutex> lock(mu_);
  const int key = static_cast<int>(dataset);
  if (auto it = loaded_.find(key); it != loaded_.end()) return it->second;
  // The test files only: a directory without the training files still serves.
  auto data = core::LoadTestSplit(data_dir_, core::KindOf(dataset));
  if (!data.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no inputs were sent and the server's evaluation split is unavailable (",
                     data.status().message(),
                     "); send inputs and labels, or start the server with "
                     "--data_dir pointing at the datasets"));
  }
  loaded_.emplace(key, *data);
  return *std::move(data);
}

}  // namespace hnet::server
