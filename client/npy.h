// NumPy .npy (format 1.0) and .npz (stored zip of .npy files) for plain tensors.
#ifndef HNET_CLIENT_NPY_H_
#define HNET_CLIENT_NPY_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/tensor.h"
#include "io/file_io.h"

namespace hnet::client {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// A tensor whose bytes need not be in memory (e.g. read back from a file in pieces): its
// dtype and shape, and a function that passes its ByteCount(shape, dtype) bytes, in order, to
// a sink; it may be called more than once and must give the same bytes each time.
struct TensorSource {
  DType dtype = DType::kUnspecified;
  std::vector<int64_t> shape;
  // Crc32 of the bytes when known (zip entries need it before the data); when not, the
  // .npz and .pt writers call `produce` twice, the first time for the CRC.
  std::optional<uint32_t> crc32;
  std::function<absl::Status(io::ByteSink sink)> produce;
};

using NamedTensorSources = std::vector<std::pair<std::string, TensorSource>>;

// The source of the in-memory `tensor`, which must outlive it (crc32 left unknown).
TensorSource SourceOf(const Tensor& tensor);

// The sources of `tensors`, which must outlive them.
NamedTensorSources SourcesOf(const NamedTensors& tensors);

// The bytes of a .npy file holding `tensor` (C order, little-endian, header padded to 64
// bytes). INVALID_ARGUMENT when the tensor is malformed.
absl::StatusOr<std::string> EncodeNpy(const Tensor& tensor);

// The header of EncodeNpy(tensor): the file's bytes up to the tensor's own bytes.
absl::StatusOr<std::string> EncodeNpyHeader(const Tensor& tensor);

// Parses .npy bytes (format 1.x-3.x, C order, dtypes <f4 <f8 <i8 <i4 |u1). INVALID_ARGUMENT
// naming what is wrong otherwise.
absl::StatusOr<Tensor> DecodeNpy(absl::string_view bytes);

// The bytes of a .npz archive: one stored entry "<name>.npy" per tensor, in order, so that
// numpy.load(path)[name] is the tensor.
absl::StatusOr<std::string> EncodeNpz(const NamedTensors& tensors);

// EncodeNpy / EncodeNpz / DecodeNpy with the file at `path` (written with WriteFileFrom:
// streamed, without building the whole file in memory; an .npz of any size, ZIP64 past
// 4 GiB).
absl::Status WriteNpy(const std::string& path, const Tensor& tensor);
absl::Status WriteNpz(const std::string& path, const NamedTensors& tensors);
absl::StatusOr<Tensor> ReadNpy(const std::string& path);

// WriteNpy / WriteNpz of tensors given by their sources: the same bytes as for the tensors
// themselves, with at most one piece of a source in memory at a time. INVALID_ARGUMENT naming
// tensors[name] for an unknown dtype or a negative or overflowing shape; INTERNAL when a
// source passes other than the bytes its shape needs; the source's own errors as they are.
absl::Status WriteNpy(const std::string& path, const TensorSource& tensor);
absl::Status WriteNpz(const std::string& path, const NamedTensorSources& tensors);

}  // namespace hnet::client

#endif  // HNET_CLIENT_NPY_H_
