#include "client/tensor.h"

#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace hnet::client {

size_t ElementSize(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return 4;
    case DType::kFloat64: return 8;
    case DType::kInt64: return 8;
    case DType::kUint8: return 1;
    case DType::kInt32: return 4;
    default: return 0;
  }
}

absl::string_view DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
    case DType::kInt64: return "int64";
    case DType::kUint8: return "uint8";
    case DType::kInt32: return "int32";
    default: return "unspecified";
  }
}

int64_t NumElements(const Tensor& tensor) {
  for (int64_t d : tensor.shape) {
    if (d <= 0) return 0;
  }
  int64_t n = 1;
  for (int64_t d : tensor.shape) {
    if (__builtin_mul_overflow(n, d, &n)) return std::numeric_limits<int64_t>::max();
  }
  return n;
}

std::optional<uint64_t> ByteCount(absl::Span<const int64_t> shape, size_t element_size) {
  uint64_t n = element_size;
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
  }
  for (int64_t d : shape) {
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n)) return std::nullopt;
  }
  return n;
}

bool IsUnset(const Tensor& tensor) {
  return tensor.dtype == DType::kUnspecified && tensor.shape.empty() && tensor.bytes.empty();
}

absl::Status ValidateTensor(const Tensor& tensor, absl::string_view field) {
  const size_t element = ElementSize(tensor.dtype);
  if (element == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": dtype is unspecified or unknown (", static_cast<int>(tensor.dtype), ")"));
  }
  for (int64_t d : tensor.shape) {
    if (d < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": negative dimension in shape [", absl::StrJoin(tensor.shape, ", "), "]"));
    }
  }
  const std::optional<uint64_t> expected = ByteCount(tensor.shape, element);
  if (!expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": shape [", absl::StrJoin(tensor.shape, ", "), "] of ", DTypeName(tensor.dtype),
        " is too large (its byte count overflows 64 bits)"));
  }
  if (tensor.bytes.size() != *expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": ", tensor.bytes.size(), " bytes, but shape [",
        absl::StrJoin(tensor.shape, ", "), "] of ", DTypeName(tensor.dtype), " needs ",
        *expected));
  }
  return absl::OkStatus();
}

absl::StatusOr<Tensor> MakeFloat32(absl::Span<const float> values, std::vector<int64_t> shape) {
  return MakeTensor<float>(values, std::move(shape));
}

absl::StatusOr<Tensor> MakeUint8(absl::Span<const uint8_t> values, std::vector<int64_t> shape) {
  return MakeTensor<uint8_t>(values, std::move(shape));
}

absl::StatusOr<Tensor> Row(const Tensor& tensor, int64_t index) {
  if (absl::Status s = ValidateTensor(tensor, "tensor"); !s.ok()) return s;
  if (tensor.shape.empty()) return absl::InvalidArgumentError("tensor: Row of a scalar");
  if (index < 0 || index >= tensor.shape[0]) {
    return absl::InvalidArgumentError(
        absl::StrCat("index: ", index, " is outside [0, ", tensor.shape[0], ")"));
  }
  Tensor row;
  row.dtype = tensor.dtype;
  row.shape.assign(tensor.shape.begin() + 1, tensor.shape.end());
  const size_t row_bytes = static_cast<size_t>(NumElements(row)) * ElementSize(row.dtype);
  row.bytes = tensor.bytes.substr(static_cast<size_t>(index) * row_bytes, row_bytes);
  return row;
}

}  // namespace hnet::client
