// The SampleWeights response in protobuf wire format without copying the weights: a
// grpc::ByteBuffer of small encoded pieces (tags, lengths, layer names, dtypes, shapes, the
// model version) interleaved with slices that point into the tensors' own memory and keep
// those tensors alive until gRPC has sent them.
//
// Contract: the bytes equal hnet::v1::SampleWeightsResponse::SerializeToString of the message
// MakeSampleResponse (server/responses.h) builds for the same inputs with `model` set to the
// version, i.e. fields in field-number order and proto3 defaults (empty names, empty tensor
// data) left out, exactly as protobuf serialises them. Little-endian hosts only, as
// core::TensorToProto.
#ifndef HNET_SERVER_WIRE_ENCODER_H_
#define HNET_SERVER_WIRE_ENCODER_H_

#include <ATen/core/Tensor.h>
#include <grpcpp/support/byte_buffer.h>

#include "core/target_forward.h"
#include "hnet/v1/service.pb.h"
#include "server/model_registry.h"

namespace hnet::server {

// SampleWeightsResponse{z (when `return_z`), one LayerWeights per layer named as in ModelInfo,
// model = `version`}. Layer l of `weights` ([n, F_l, S_l]) is sent as float32 and z
// ([n, z_dim]) must be float32 (c10::Error otherwise); a tensor is converted, moved to the CPU
// or made contiguous only when it is not already, else its memory is sent as is. The tensors
// must not be modified while the buffer (or a copy of it) lives. Thread-safe.
grpc::ByteBuffer EncodeSampleResponse(const LoadedModel& model, const core::WeightBatch& weights,
                                      const at::Tensor& z, bool return_z,
                                      const hnet::v1::ModelVersion& version);

}  // namespace hnet::server

#endif  // HNET_SERVER_WIRE_ENCODER_H_
