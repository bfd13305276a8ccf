// Core results -> hnet.v1 response messages (the wire side of the service handlers).
#ifndef HNET_SERVER_RESPONSES_H_
#define HNET_SERVER_RESPONSES_H_

#include <cstdint>

#include "core/target_forward.h"
#include "hnet/v1/service.pb.h"
#include "server/ensemble.h"
#include "server/interpolation.h"
#include "server/model_registry.h"

namespace hnet::server {

using LayerWeightsList = google::protobuf::RepeatedPtrField<hnet::v1::LayerWeights>;

// Appends one LayerWeights per layer, named as in ModelInfo, each the float32 tensor of
// `weights` ([n, F_l, S_l] for a batch, [F_l, S_l] for one network).
void AppendLayers(const LoadedModel& model, const core::WeightBatch& weights,
                  LayerWeightsList* out);

// Bytes of the float32 weights of `networks` networks (to check message-size limits).
int64_t WeightBytes(const LoadedModel& model, int64_t networks);

// A SampleWeights response for weights (and z when `return_z`), without `model`. The server
// sends EncodeSampleResponse (wire_encoder.h) instead; this message form is the reference its
// bytes are tested against and the payload of rpc_bench's raw baseline.
hnet::v1::SampleWeightsResponse MakeSampleResponse(const LoadedModel& model,
                                                   const core::WeightBatch& weights,
                                                   const at::Tensor& z, bool return_z);

// Predictions (and member predictions when present) of `result`.
void FillClassifyResponse(const EnsembleResult& result, hnet::v1::ClassifyResponse* response);

// One PathPoint per t, with accuracies and (when `return_weights`) weights.
void FillPathResponse(const LoadedModel& model, const PathResult& result, int64_t inputs,
                      bool return_weights, hnet::v1::InterpolatePathResponse* response);

}  // namespace hnet::server

#endif  // HNET_SERVER_RESPONSES_H_
