// IDX files (the MNIST format): images and labels as plain tensors.
#ifndef HNET_CLIENT_IDX_H_
#define HNET_CLIENT_IDX_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/tensor.h"

namespace hnet::client {

// Parses IDX bytes: magic 0, 0, type, rank; `rank` big-endian uint32 dimensions; big-endian
// data. Types 0x08 (uint8), 0x0C (int32), 0x0D (float32) and 0x0E (float64) become tensors of
// that dtype (little-endian). INVALID_ARGUMENT naming the problem otherwise (other types,
// truncated or trailing data). Not gzip: decompress first.
absl::StatusOr<Tensor> DecodeIdx(absl::string_view bytes);

// DecodeIdx of the file at `path`; errors name the path.
absl::StatusOr<Tensor> ReadIdx(const std::string& path);

}  // namespace hnet::client

#endif  // HNET_CLIENT_IDX_H_
