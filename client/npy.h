// NumPy .npy (format 1.0) and .npz (stored zip of .npy files) for plain tensors.
#ifndef HNET_CLIENT_NPY_H_
#define HNET_CLIENT_NPY_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/tensor.h"

namespace hnet::client {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

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

}  // namespace hnet::client

#endif  // HNET_CLIENT_NPY_H_
