// Image and label files for the CLI: IDX (optionally gzip-compressed) and PNG.
#ifndef HNET_CLIENT_CLI_INPUTS_H_
#define HNET_CLIENT_CLI_INPUTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/tensor.h"

namespace hnet::cli {

// The bytes of `path`, gunzipped when it is gzip data (one or more members). Errors name the
// path: those of io::ReadFile (NOT_FOUND only when it does not exist, PERMISSION_DENIED,
// INVALID_ARGUMENT for a directory), DATA_LOSS for truncated or corrupt gzip data.
absl::StatusOr<std::string> ReadMaybeGzip(const std::string& path);

// Noise vectors for `sample --z`: a .npy of float32 or float64 (converted to float32), shape
// [n, z_dim], or [z_dim] for one network (returned as [1, z_dim]). INVALID_ARGUMENT naming
// --z and the expected shape otherwise; read errors prefixed by "--z: ".
absl::StatusOr<client::Tensor> LoadZ(const std::string& path);

// Images [N, H, W] (or as stored): one IDX file of uint8, float32 or float64 (converted to
// float32) pixels, or PNG files (8-bit grayscale after conversion, all the same size) stacked
// in order. Errors name --images; UNIMPLEMENTED for PNG when the CLI was built without
// libpng.
absl::StatusOr<client::Tensor> LoadImages(const std::vector<std::string>& paths);

// Labels [N] as int64 from an IDX file of uint8 or int32 labels; errors name --labels.
absl::StatusOr<client::Tensor> LoadLabels(const std::string& path);

// The first `n` rows (all when n <= 0 or n >= rows).
client::Tensor Head(const client::Tensor& tensor, int64_t n);

}  // namespace hnet::cli

#endif  // HNET_CLIENT_CLI_INPUTS_H_
