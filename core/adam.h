// Adam with an explicit, serialisable state and a learning rate passed per step (so the
// trainer's decay schedule lives in one place and checkpoints restore it exactly).
#ifndef HNET_CORE_ADAM_H_
#define HNET_CORE_ADAM_H_

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hnet::core {

struct AdamOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
};

class Adam {
 public:
  // Keeps references to `params` (named, e.g. from Module::named_parameters()); they must
  // outlive the optimiser. Not thread-safe.
  Adam(std::vector<std::pair<std::string, at::Tensor>> params, AdamOptions options);

  // One update from the parameters' current .grad() (missing gradients are skipped).
  void Step(double learning_rate);
  void ZeroGrad();
  int64_t steps() const { return steps_; }

  // State as named tensors ("<param>.m", "<param>.v", and "step" as an int64 scalar).
  std::vector<std::pair<std::string, at::Tensor>> ExportState() const;
  // Restores ExportState()'s output. Fails with InvalidArgument, changing nothing, on a missing
  // name or wrong shape, a "step" that is not an integer scalar >= 0, moments holding NaN or
  // infinity, or a negative second moment. Never throws.
  absl::Status ImportState(const std::vector<std::pair<std::string, at::Tensor>>& state);

 private:
  std::vector<std::pair<std::string, at::Tensor>> params_;
  std::vector<at::Tensor> m_;
  std::vector<at::Tensor> v_;
  AdamOptions options_;
  int64_t steps_ = 0;
};

}  // namespace hnet::core

#endif  // HNET_CORE_ADAM_H_
