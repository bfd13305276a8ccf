// Plain option structs -> hnet.v1 request messages.
#include "client/internal/convert.h"

namespace hnet::client::internal {

void ToProto(const Tensor& tensor, hnet::v1::TensorProto* proto) {
  proto->set_dtype(static_cast<hnet::v1::TensorProto::DType>(tensor.dtype));
  proto->mutable_shape()->Assign(tensor.shape.begin(), tensor.shape.end());
  proto->set_data(tensor.bytes);
}

void ToProto(const Noise& noise, hnet::v1::NoiseSource* proto) {
  if (noise.seed.has_value()) {
    proto->set_seed(*noise.seed);
  } else if (noise.z.has_value()) {
    ToProto(*noise.z, proto->mutable_z());
  }
}

hnet::v1::SampleWeightsRequest MakeSampleRequest(absl::string_view model,
                                                 const SampleOptions& options) {
  hnet::v1::SampleWeightsRequest request;
  request.set_model(std::string(model));
  request.set_n(options.n);
  if (options.noise.seed.has_value() || options.noise.z.has_value()) {
    ToProto(options.noise, request.mutable_noise());
  }
  request.set_gauge_fixed(options.gauge_fixed);
  request.set_permutation_gauge(options.permutation_gauge);
  request.set_return_z(options.return_z);
  request.set_version(options.version);
  return request;
}

hnet::v1::ClassifyRequest MakeClassifyRequest(absl::string_view model, const Tensor& inputs,
                                              const ClassifyOptions& options) {
  hnet::v1::ClassifyRequest request;
  request.set_model(std::string(model));
  ToProto(inputs, request.mutable_inputs());
  request.set_ensemble_size(options.ensemble_size);
  if (options.noise.seed.has_value() || options.noise.z.has_value()) {
    ToProto(options.noise, request.mutable_noise());
  }
  request.set_rule(static_cast<hnet::v1::EnsembleRule>(options.rule));
  request.set_return_members(options.return_members);
  request.set_version(options.version);
  return request;
}

hnet::v1::InterpolatePathRequest MakePathRequest(absl::string_view model,
                                                 const PathOptions& options) {
  hnet::v1::InterpolatePathRequest request;
  request.set_model(std::string(model));
  if (options.start.seed.has_value() || options.start.z.has_value()) {
    ToProto(options.start, request.mutable_start());
  }
  if (options.end.seed.has_value() || options.end.z.has_value()) {
    ToProto(options.end, request.mutable_end());
  }
  request.set_points(options.points);
  request.set_mode(static_cast<hnet::v1::InterpolatePathRequest::Mode>(options.mode));
  if (!IsUnset(options.inputs)) ToProto(options.inputs, request.mutable_inputs());
  if (!IsUnset(options.labels)) ToProto(options.labels, request.mutable_labels());
  request.set_return_weights(options.return_weights);
  request.set_version(options.version);
  return request;
}

}  // namespace hnet::client::internal
