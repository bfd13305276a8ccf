// Validation of request fields into core inputs. Every error is INVALID_ARGUMENT naming the
// field ("noise.z: expected float32 [n, 300], got int64 [2, 3]") or RESOURCE_EXHAUSTED naming
// the limit and its flag; nothing here has side effects.
#ifndef HNET_SERVER_REQUEST_PARSING_H_
#define HNET_SERVER_REQUEST_PARSING_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "hnet/v1/service.pb.h"
#include "server/model_registry.h"

namespace hnet::server {

// Where a request's noise vectors come from: a seed (drawn when resolved, so that drawing
// runs on the executor) or explicit vectors.
struct NoiseSpec {
  std::optional<uint64_t> seed;
  at::Tensor z;  // [count, z_dim] float32 CPU when explicit.
  int64_t count = 0;

  // The vectors [count, z_dim] float32 CPU: SeedNoise(model, seed, count) or z.
  at::Tensor Resolve(const LoadedModel& model) const;
};

// A count limit: the largest accepted value and the flag that sets it.
struct CountLimit {
  int64_t max = 0;
  absl::string_view flag;
  absl::string_view hint;  // Appended to the error, e.g. "; use StreamWeights".
};

// `noise` (field name `field`) for `model`. With a seed, `count` (field `count_field`) must
// be >= 1; explicit z must be float32 [count, z_dim] with count >= 1 and finite values. The
// count is checked against `limit` either way.
absl::StatusOr<NoiseSpec> ParseNoise(const hnet::v1::NoiseSource& noise, absl::string_view field,
                                     int64_t count, absl::string_view count_field,
                                     const CountLimit& limit, const LoadedModel& model);

// One path endpoint as z [1, z_dim]: the first vector drawn from the seed, or explicit z of
// shape [z_dim] or [1, z_dim].
absl::StatusOr<at::Tensor> ParseEndpoint(const hnet::v1::NoiseSource& noise,
                                         absl::string_view field, const LoadedModel& model);

// Images for `layout` as sent, copied out of the request: uint8 or float32 [N, C, H, W] CPU
// from shape [N, H, W] (one channel) or [N, C, H, W], 1 <= N <= limit.max. Only dtype, shape,
// count and size are checked (cheap, for gRPC's threads); NormalizeImages checks the values.
absl::StatusOr<at::Tensor> ParseImages(const hnet::v1::TensorProto& proto, absl::string_view field,
                                       const core::TargetLayout& layout, const CountLimit& limit);

// ParseImages' result as the networks take it, float32 in [0, 1]: uint8 scaled by 1/255,
// float32 checked to be finite and in range (INVALID_ARGUMENT naming `field`). Tensor work
// over every pixel: for the executor.
absl::StatusOr<at::Tensor> NormalizeImages(const at::Tensor& images, absl::string_view field);

// Class labels int64 [n] from int32 or int64 [n], each in [0, classes).
absl::StatusOr<at::Tensor> ParseLabels(const hnet::v1::TensorProto& proto, absl::string_view field,
                                       int64_t n, int64_t classes);

// "float32 [2, 3]": a tensor proto's dtype and shape, for error messages.
std::string DescribeTensor(const hnet::v1::TensorProto& proto);

}  // namespace hnet::server

#endif  // HNET_SERVER_REQUEST_PARSING_H_
