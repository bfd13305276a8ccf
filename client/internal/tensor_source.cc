#include "client/internal/tensor_source.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "client/zip_writer.h"

namespace hnet::client::internal {

absl::StatusOr<NamedTensorSources> CheckedSourcesOf(const NamedTensors& tensors) {
  for (const auto& [name, tensor] : tensors) {
    absl::Status s = ValidateTensor(tensor, absl::StrCat("tensors[", name, "]"));
    if (!s.ok()) return s;
  }
  return SourcesOf(tensors);
}

absl::StatusOr<uint64_t> SourceBytes(const TensorSource& source, absl::string_view field) {
  const size_t element = ElementSize(source.dtype);
  const std::optional<uint64_t> bytes = ByteCount(source.shape, element);
  if (element != 0 && bytes.has_value()) return *bytes;
  // ValidateTensor names the problem (dtype, negative dimension, overflow) before it would
  // look at the bytes.
  Tensor shape_only;
  shape_only.dtype = source.dtype;
  shape_only.shape = source.shape;
  return ValidateTensor(shape_only, field);
}

absl::Status Produce(const TensorSource& source, uint64_t size, absl::string_view field,
                     io::ByteSink sink) {
  if (!source.produce) return absl::InternalError(absl::StrCat(field, ": no producer"));
  uint64_t produced = 0;
  absl::Status s = source.produce([&](absl::string_view bytes) {
    produced += bytes.size();
    return sink(bytes);
  });
  if (!s.ok()) return s;
  if (produced != size) {
    return absl::InternalError(
        absl::StrCat(field, ": the source gave ", produced, " bytes, its shape needs ", size));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> SourceCrc(const TensorSource& source, uint64_t size,
                                   absl::string_view field) {
  if (source.crc32.has_value()) return *source.crc32;
  uint32_t crc = 0;
  absl::Status s = Produce(source, size, field, [&crc](absl::string_view bytes) {
    crc = Crc32Extend(crc, bytes);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return crc;
}

}  // namespace hnet::client::internal
