// Plain structs <-> hnet.v1 messages (internal: uses protobuf types). Requests are built from
// validated options; responses are checked, and a malformed one is INTERNAL naming the field.
#ifndef HNET_CLIENT_INTERNAL_CONVERT_H_
#define HNET_CLIENT_INTERNAL_CONVERT_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/options.h"
#include "client/types.h"
#include "hnet/v1/service.pb.h"

namespace hnet::client::internal {

// Tensor <-> TensorProto (the proto's data is the tensor's bytes). FromProto moves the bytes
// out of `proto` (no copy); the response conversions below consume their message likewise.
void ToProto(const Tensor& tensor, hnet::v1::TensorProto* proto);
absl::StatusOr<Tensor> FromProto(hnet::v1::TensorProto&& proto, absl::string_view field);

// Noise <-> NoiseSource; unset noise leaves the oneof empty.
void ToProto(const Noise& noise, hnet::v1::NoiseSource* proto);

// Requests.
hnet::v1::SampleWeightsRequest MakeSampleRequest(absl::string_view model,
                                                 const SampleOptions& options);
hnet::v1::ClassifyRequest MakeClassifyRequest(absl::string_view model, const Tensor& inputs,
                                              const ClassifyOptions& options);
hnet::v1::InterpolatePathRequest MakePathRequest(absl::string_view model,
                                                 const PathOptions& options);

// Responses.
ModelInfo FromProto(const hnet::v1::ModelInfo& proto);
absl::StatusOr<SampleResult> FromProto(hnet::v1::SampleWeightsResponse&& proto);
absl::StatusOr<GeneratedNetwork> FromProto(hnet::v1::GeneratedNetwork&& proto);
absl::StatusOr<ClassifyResult> FromProto(hnet::v1::ClassifyResponse&& proto);
absl::StatusOr<PathResult> FromProto(hnet::v1::InterpolatePathResponse&& proto);

// OK when a SampleWeights result holds n networks: every layer float32 [n, F, S], and z
// float32 [n, z_dim] when requested. INTERNAL "malformed response: ..." otherwise.
absl::Status CheckSampleResult(const SampleResult& result, int64_t n, bool return_z);

// OK when a Classify result holds one prediction per input and, when requested, member
// predictions int32 [k, inputs]. INTERNAL "malformed response: ..." otherwise.
absl::Status CheckClassifyResult(const ClassifyResult& result, int64_t inputs, int64_t k,
                                 bool return_members);

}  // namespace hnet::client::internal

#endif  // HNET_CLIENT_INTERNAL_CONVERT_H_
