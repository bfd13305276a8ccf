// Plain tensors as they cross the hnet.v1 API: a dtype, a shape and raw little-endian bytes
// in row-major order. No gRPC or protobuf types appear here.
#ifndef HNET_CLIENT_TENSOR_H_
#define HNET_CLIENT_TENSOR_H_

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/config.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

#ifndef ABSL_IS_LITTLE_ENDIAN
#error "hnet::client stores tensors as raw little-endian bytes; big-endian hosts are unsupported"
#endif

namespace hnet::client {

// Element types; the numeric values match hnet.v1.TensorProto.DType.
enum class DType {
  kUnspecified = 0,
  kFloat32 = 1,
  kFloat64 = 2,
  kInt64 = 3,
  kUint8 = 4,
  kInt32 = 5,
};

struct Tensor {
  DType dtype = DType::kUnspecified;
  std::vector<int64_t> shape;
  std::string bytes;  // NumElements(*this) * ElementSize(dtype) bytes, little-endian.
};

// Bytes per element of `dtype`; 0 for kUnspecified or an unknown value.
size_t ElementSize(DType dtype);

// "float32", "float64", "int64", "uint8", "int32" or "unspecified".
absl::string_view DTypeName(DType dtype);

// Product of the shape (1 for a scalar, i.e. an empty shape). Negative dimensions count as 0;
// a product past INT64_MAX saturates there (ValidateTensor rejects such shapes).
int64_t NumElements(const Tensor& tensor);

// Bytes that `shape` of `element_size`-byte elements takes; nullopt when a dimension is
// negative or the count overflows 64 bits.
std::optional<uint64_t> ByteCount(absl::Span<const int64_t> shape, size_t element_size);

// True when the tensor carries no value at all (dtype unspecified, no shape, no bytes): the
// "not set" state of optional tensor fields.
bool IsUnset(const Tensor& tensor);

// OK when dtype is known, no dimension is negative and the byte count matches the shape.
// Errors are INVALID_ARGUMENT and name `field`.
absl::Status ValidateTensor(const Tensor& tensor, absl::string_view field);

// The DType of a C++ element type (specialised for float, double, int64_t, uint8_t, int32_t).
template <typename T>
struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::kFloat32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::kFloat64; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::kInt64; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::kUint8; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::kInt32; };

// A tensor of `values` with `shape`; an empty shape means the 1-D shape {values.size()}.
// INVALID_ARGUMENT when the shape's element count differs from values.size().
template <typename T>
absl::StatusOr<Tensor> MakeTensor(absl::Span<const T> values, std::vector<int64_t> shape = {}) {
  Tensor tensor;
  tensor.dtype = DTypeOf<T>::value;
  tensor.shape = shape.empty() ? std::vector<int64_t>{static_cast<int64_t>(values.size())}
                               : std::move(shape);
  tensor.bytes.assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
  if (absl::Status s = ValidateTensor(tensor, "values"); !s.ok()) return s;
  return tensor;
}

// Shorthands for the two input dtypes of the API.
absl::StatusOr<Tensor> MakeFloat32(absl::Span<const float> values,
                                   std::vector<int64_t> shape = {});
absl::StatusOr<Tensor> MakeUint8(absl::Span<const uint8_t> values,
                                 std::vector<int64_t> shape = {});

// A read-only view of the elements, valid while `tensor` lives and is not modified.
// INVALID_ARGUMENT when T does not match the dtype or the tensor is malformed.
template <typename T>
absl::StatusOr<absl::Span<const T>> View(const Tensor& tensor) {
  if (tensor.dtype != DTypeOf<T>::value) {
    return absl::InvalidArgumentError(
        std::string("tensor dtype is ") + std::string(DTypeName(tensor.dtype)) +
        ", not " + std::string(DTypeName(DTypeOf<T>::value)));
  }
  if (absl::Status s = ValidateTensor(tensor, "tensor"); !s.ok()) return s;
  // std::string storage is at least 8-byte aligned, enough for every supported dtype.
  return absl::Span<const T>(reinterpret_cast<const T*>(tensor.bytes.data()),
                             tensor.bytes.size() / sizeof(T));
}

// A copy of the elements; same errors as View.
template <typename T>
absl::StatusOr<std::vector<T>> ToVector(const Tensor& tensor) {
  absl::StatusOr<absl::Span<const T>> view = View<T>(tensor);
  if (!view.ok()) return view.status();
  return std::vector<T>(view->begin(), view->end());
}

// Row `index` along the first dimension (shape[1:]); INVALID_ARGUMENT for a scalar, a
// malformed tensor or an index out of range.
absl::StatusOr<Tensor> Row(const Tensor& tensor, int64_t index);

}  // namespace hnet::client

#endif  // HNET_CLIENT_TENSOR_H_
