// The server's evaluation split (the test set of MNIST or Fashion-MNIST), loaded on first use
// from the data directory and kept; used by InterpolatePath when a request sends no inputs.
#ifndef HNET_SERVER_EVAL_DATA_H_
#define HNET_SERVER_EVAL_DATA_H_

#include <map>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "core/dataset.h"
#include "hnet/v1/config.pb.h"

namespace hnet::server {

class EvaluationData {
 public:
  // `data_dir` empty means core::DefaultDataDir() ($HNET_DATA_DIR, else "data").
  explicit EvaluationData(std::string data_dir);

  // The test split of `dataset`, loading (and MD5-verifying) it on first use. Thread-safe.
  // FAILED_PRECONDITION explaining how to provide it when the files are missing or corrupt.
  absl::StatusOr<core::Split> TestSplit(hnet::v1::DataConfig::Dataset dataset);

 private:
  const std::string data_dir_;
  std::mutex mu_;
  std::map<int, core::Split> loaded_;
};

}  // namespace hnet::server

#endif  // HNET_SERVER_EVAL_DATA_H_
