// Paths between two generated networks (paper 4.2.2): DIRECT interpolates the weights,
// w(t) = G(z_start) (1 - t) + G(z_end) t; INTERPOLATED interpolates the noise,
// w(t) = G(z_start (1 - t) + z_end t). t runs from 0 (start) to 1 (end) in equal steps, so
// both agree with the endpoint networks, bit for bit, at t = 0 and t = 1.
#ifndef HNET_SERVER_INTERPOLATION_H_
#define HNET_SERVER_INTERPOLATION_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "core/target_forward.h"
#include "server/executor.h"
#include "server/model_registry.h"

namespace hnet::server {

struct PathRequest {
  std::shared_ptr<const LoadedModel> model;
  at::Tensor start;  // z [1, z_dim] float32, CPU.
  at::Tensor end;
  int64_t points = 2;  // >= 2, endpoints included.
  bool direct = true;
  bool interpolated = true;
  at::Tensor images;  // [N, C, H, W] float32, CPU.
  at::Tensor labels;  // [N] int64.
};

struct PathResult {
  std::vector<double> t;                      // [points]
  std::vector<double> direct_accuracy;        // [points] when direct.
  std::vector<double> interpolated_accuracy;  // [points] when interpolated.
  core::WeightBatch direct_weights;           // Layer l [points, F_l, S_l] when direct.
  core::WeightBatch interpolated_weights;     // Likewise when interpolated.
};

// Generates both paths and scores every point's network on the labelled images. CANCELLED
// when `cancellation` trips between chunks of networks.
absl::StatusOr<PathResult> ComputePath(const PathRequest& request,
                                       const Cancellation* cancellation);

}  // namespace hnet::server

#endif  // HNET_SERVER_INTERPOLATION_H_
