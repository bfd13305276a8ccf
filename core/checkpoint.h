// Checkpoint files: one self-describing file per checkpoint.
//
// Layout: the verified container of core/container.h with magic "HNETCKPT"; the payload is a
// serialized hnet.v1.Checkpoint, which embeds the full TrainingConfig. Files are written
// atomically (temp file, fsync, rename) and are either read whole and verified or refused with
// a reason. Weight ensembles (core/weight_ensemble.h) use the same container, magic "HNETWENS".
#ifndef HNET_CORE_CHECKPOINT_H_
#define HNET_CORE_CHECKPOINT_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hnet/v1/checkpoint.pb.h"

namespace torch::nn {
class Module;
}

namespace hnet::core {

inline constexpr uint32_t kCheckpointFormatVersion = 1;

// Writes `checkpoint` to `path` atomically: a crash leaves either the old file or the new one.
absl::Status WriteCheckpoint(const std::string& path, const hnet::v1::Checkpoint& checkpoint);

// Reads and verifies a checkpoint (ReadContainerFile of core/container.h, then the payload).
// NotFound if missing; DataLoss if truncated, corrupted, not a checkpoint or its step is
// negative; InvalidArgument for another kind of hnet file (a weight ensemble);
// FailedPrecondition for an unsupported format version; ResourceExhausted when its payload
// does not fit in memory. Its tensors are checked where they are decoded (ReadNamedTensors).
absl::StatusOr<hnet::v1::Checkpoint> ReadCheckpoint(const std::string& path);
// As above; on success also sets *payload_crc to the verified payload CRC-32 of the bytes
// read (one read of the file, so the CRC always belongs to the returned checkpoint).
absl::StatusOr<hnet::v1::Checkpoint> ReadCheckpoint(const std::string& path, uint32_t* payload_crc);

// A tensor as raw little-endian bytes (copied to CPU, made contiguous).
hnet::v1::TensorProto TensorToProto(const at::Tensor& tensor);
// The inverse; DataLoss when dtype, shape and byte count disagree. Returns a CPU tensor.
absl::StatusOr<at::Tensor> TensorFromProto(const hnet::v1::TensorProto& proto);

// OK when `tensor` holds no NaN or infinity (always for integer tensors); else DataLoss
// saying how many of each.
absl::Status CheckFinite(const at::Tensor& tensor);

// Named tensors <-> repeated NamedTensor.
void AppendNamedTensors(const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                        google::protobuf::RepeatedPtrField<hnet::v1::NamedTensor>* out);
// The tensors of `in`, in order, as CPU tensors. DataLoss naming the tensor when one does not
// decode (TensorFromProto), holds NaN or infinity, or a name appears twice.
absl::StatusOr<std::vector<std::pair<std::string, at::Tensor>>> ReadNamedTensors(
    const google::protobuf::RepeatedPtrField<hnet::v1::NamedTensor>& in);

// Stores the module's parameters and buffers (batch-norm statistics) in `checkpoint`.
void SaveModule(const torch::nn::Module& module, hnet::v1::Checkpoint* checkpoint);

// Copies parameters and buffers from `checkpoint` into `module` (on the module's device).
// All-or-nothing: every name must be present with the right shape, or nothing is changed.
// DataLoss (naming the tensor) for a tensor ReadNamedTensors refuses (undecodable, NaN or
// infinite values, a repeated name) or a name that is both a parameter and a buffer;
// FailedPrecondition for a missing, unexpected or wrongly shaped tensor.
absl::Status LoadModule(const hnet::v1::Checkpoint& checkpoint, torch::nn::Module* module);

}  // namespace hnet::core

#endif  // HNET_CORE_CHECKPOINT_H_
