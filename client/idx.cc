#include "client/idx.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "io/file_io.h"

namespace hnet::client {
namespace {

absl::Status Bad(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("idx: ", what));
}

}  // namespace

absl::StatusOr<Tensor> DecodeIdx(absl::string_view bytes) {
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0) {
    return Bad("not an IDX file (bad magic)");
  }
  Tensor tensor;
  switch (static_cast<uint8_t>(bytes[2])) {
    case 0x08:
      tensor.dtype = DType::kUint8;
      break;
    case 0x0C:
      tensor.dtype = DType::kInt32;
      break;
    case 0x0D:
      tensor.dtype = DType::kFloat32;
      break;
    case 0x0E:
      tensor.dtype = DType::kFloat64;
      break;
    default:
      return Bad(absl::StrCat("unsupported data type 0x", absl::Hex(bytes[2] & 0xFF)));
  }
  const size_t rank = static_cast<uint8_t>(bytes[3]);
  const size_t header = 4 + 4 * rank;
  if (bytes.size() < header) return Bad("truncated header");
  for (size_t i = 0; i < rank; ++i) {
    int64_t dim = 0;
    for (size_t k = 0; k < 4; ++k) dim = (dim << 8) | static_cast<uint8_t>(bytes[4 + 4 * i + k]);
    tensor.shape.push_back(dim);
  }
  const size_t element = ElementSize(tensor.dtype);
  const std::optional<uint64_t> expected = ByteCount(tensor.shape, element);
  if (!expected || bytes.size() - header != *expected) {
    return Bad(absl::StrCat("shape [", absl::StrJoin(tensor.shape, ", "), "] needs ",
                            expected ? absl::StrCat(*expected) : "more than 2^64",
                            " data bytes, found ", bytes.size() - header));
  }
  tensor.bytes = std::string(bytes.substr(header));
  // Big-endian elements -> little-endian.
  for (size_t at = 0; element > 1 && at < tensor.bytes.size(); at += element) {
    std::reverse(tensor.bytes.begin() + at, tensor.bytes.begin() + at + element);
  }
  return tensor;
}

absl::StatusOr<Tensor> ReadIdx(const std::string& path) {
  absl::StatusOr<std::string> bytes = io::ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<Tensor> tensor = DecodeIdx(*bytes);
  if (!tensor.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", tensor.status().message()));
  }
  return tensor;
}

}  // namespace hnet::client
