// PyTorch's zip serialization format (what torch.save writes with
// _use_new_zipfile_serialization=True, format version 3), for a dict of plain tensors.
#ifndef HNET_CLIENT_PT_WRITER_H_
#define HNET_CLIENT_PT_WRITER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/npy.h"

namespace hnet::client {

// The bytes of a file that torch.load opens as {name: tensor, ...} (a dict in this order, CPU
// tensors, contiguous, requires_grad False). Entries "archive/data.pkl" (pickle protocol 2
// using torch._utils._rebuild_tensor_v2), "archive/data/<i>" (raw storages) and
// "archive/version" ("3"), stored and 64-byte aligned. INVALID_ARGUMENT for a malformed
// tensor or duplicate name.
absl::StatusOr<std::string> EncodeTorchSave(const NamedTensors& tensors);

// EncodeTorchSave into the file at `path`, streamed with WriteFileFrom (no in-memory copy of
// the file; ZIP64 past 4 GiB).
absl::Status WriteTorchSave(const std::string& path, const NamedTensors& tensors);

// WriteTorchSave of tensors given by their sources (see npy.h): the same bytes, with at most
// one piece of a source in memory at a time. Errors as WriteTorchSave's, and INTERNAL when a
// source passes other than the bytes its shape needs, the source's own errors as they are.
absl::Status WriteTorchSave(const std::string& path, const NamedTensorSources& tensors);

}  // namespace hnet::client

#endif  // HNET_CLIENT_PT_WRITER_H_
