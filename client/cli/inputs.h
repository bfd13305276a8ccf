// Image and label files for the CLI: IDX (optionally gzip-compressed) and PNG.
#ifndef HNET_CLIENT_CLI_INPUTS_H_
#define HNET_CLIENT_CLI_INPUTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/tensor.h"

namespace hnet::cli {

// The bytes of `path`, gunzipped when it is gzip data.
absl::StatusOr<std::string> ReadMaybeGzip(const std::string& path);

// Images [N, H, W] (or as stored): one IDX file, or PNG files (8-bit grayscale after
// conversion, all the same size) stacked in order. UNIMPLEMENTED for PNG when the CLI was
// built without libpng.
absl::StatusOr<client::Tensor> LoadImages(const std::vector<std::string>& paths);

// Labels [N] as int64 from an IDX file of uint8 or int32 labels.
absl::StatusOr<client::Tensor> LoadLabels(const std::string& path);

// The first `n` rows (all when n <= 0 or n >= rows).
client::Tensor Head(const client::Tensor& tensor, int64_t n);

}  // namespace hnet::cli

#endif  // HNET_CLIENT_CLI_INPUTS_H_
