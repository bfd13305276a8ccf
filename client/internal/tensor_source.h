// Helpers of the writers that take TensorSources (npy.cc, pt_writer.cc; internal).
#ifndef HNET_CLIENT_INTERNAL_TENSOR_SOURCE_H_
#define HNET_CLIENT_INTERNAL_TENSOR_SOURCE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/npy.h"
#include "io/file_io.h"

namespace hnet::client::internal {

// The sources of `tensors` (which must outlive them), each checked with ValidateTensor first:
// INVALID_ARGUMENT naming tensors[name] for a malformed tensor.
absl::StatusOr<NamedTensorSources> CheckedSourcesOf(const NamedTensors& tensors);

// The byte count of `source` (its shape's elements times its dtype's size); INVALID_ARGUMENT
// naming `field` for an unknown dtype or a negative or overflowing shape.
absl::StatusOr<uint64_t> SourceBytes(const TensorSource& source, absl::string_view field);

// Passes the bytes of `source` to `sink`; INTERNAL naming `field` when the source gives other
// than `size` bytes, its own or the sink's error as it is.
absl::Status Produce(const TensorSource& source, uint64_t size, absl::string_view field,
                     io::ByteSink sink);

// The CRC-32 of the `size` bytes of `source`: its crc32 when known, else computed from one
// pass over them (errors as Produce).
absl::StatusOr<uint32_t> SourceCrc(const TensorSource& source, uint64_t size,
                                   absl::string_view field);

}  // namespace hnet::client::internal

#endif  // HNET_CLIENT_INTERNAL_TENSOR_SOURCE_H_
