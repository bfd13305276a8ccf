// hnet.v1 response messages -> plain result structs.
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/internal/convert.h"

namespace hnet::client::internal {
namespace {

// Moves each layer's bytes out of `layers`.
absl::StatusOr<std::vector<Layer>> LayersFromProto(
    google::protobuf::RepeatedPtrField<hnet::v1::LayerWeights>* layers, absl::string_view field) {
  std::vector<Layer> out;
  out.reserve(layers->size());
  for (int i = 0; i < layers->size(); ++i) {
    hnet::v1::LayerWeights& layer = *layers->Mutable(i);
    absl::StatusOr<Tensor> weights =
        FromProto(std::move(*layer.mutable_weights()), absl::StrCat(field, "[", i, "].weights"));
    if (!weights.ok()) return weights.status();
    out.push_back(Layer{layer.name(), *std::move(weights)});
  }
  return out;
}

TargetSpec FromProto(const hnet::v1::TargetSpec& proto) {
  TargetSpec spec{proto.name(), proto.input_channels(), proto.input_height(),
                  proto.input_width(), {}};
  for (const hnet::v1::LayerSpec& layer : proto.layers()) {
    LayerSpec out;
    if (layer.has_conv()) {
      out.kind = LayerSpec::Kind::kConv;
      out.filters = layer.conv().filters();
      out.kernel = layer.conv().kernel();
      out.pool = layer.conv().pool();
    } else if (layer.has_dense()) {
      out.kind = LayerSpec::Kind::kDense;
      out.units = layer.dense().units();
    }
    spec.layers.push_back(out);
  }
  return spec;
}

ValidationMetrics FromProto(const hnet::v1::ValidationMetrics& p) {
  return ValidationMetrics{p.step(),
                           p.networks(),
                           p.mean_accuracy(),
                           p.min_accuracy(),
                           p.max_accuracy(),
                           p.std_accuracy(),
                           p.majority_vote_accuracy(),
                           p.mean_probability_accuracy(),
                           p.most_confident_accuracy(),
                           p.entropy(),
                           p.cross_entropy()};
}

ModelVersion FromProto(const hnet::v1::ModelVersion& proto) {
  return ModelVersion{proto.name(), proto.version(), proto.content_hash()};
}

}  // namespace

absl::StatusOr<Tensor> FromProto(hnet::v1::TensorProto&& proto, absl::string_view field) {
  Tensor tensor;
  tensor.dtype = static_cast<DType>(proto.dtype());
  tensor.shape.assign(proto.shape().begin(), proto.shape().end());
  tensor.bytes = std::move(*proto.mutable_data());
  if (IsUnset(tensor)) return tensor;
  if (absl::Status s = ValidateTensor(tensor, field); !s.ok()) {
    return absl::InternalError(absl::StrCat("malformed response: ", s.message()));
  }
  return tensor;
}

ModelInfo FromProto(const hnet::v1::ModelInfo& proto) {
  ModelInfo info;
  info.name = proto.name();
  info.version = proto.version();
  info.target = FromProto(proto.target());
  for (const hnet::v1::LayerInfo& layer : proto.layers()) {
    info.layers.push_back(LayerInfo{layer.name(), layer.kind(),
                                    {layer.shape().begin(), layer.shape().end()},
                                    layer.weight_count()});
  }
  info.weight_count = proto.weight_count();
  info.z_dim = proto.z_dim();
  const int dist = static_cast<int>(proto.z_distribution());
  info.z_distribution =
      dist >= 0 && dist <= 2 ? static_cast<ZDistribution>(dist) : ZDistribution::kUnspecified;
  info.lambda = proto.lambda();
  info.step = proto.step();
  info.validation = FromProto(proto.validation());
  info.device = proto.device();
  info.parameter_count = proto.parameter_count();
  info.version_number = proto.version_number();
  info.latest = proto.latest();
  info.path = proto.path();
  // Servers before content_hash (16) sent the hash only as `version`.
  info.content_hash = proto.content_hash().empty() ? proto.version() : proto.content_hash();
  return info;
}

absl::StatusOr<SampleResult> FromProto(hnet::v1::SampleWeightsResponse&& proto) {
  SampleResult result;
  absl::StatusOr<Tensor> z = FromProto(std::move(*proto.mutable_z()), "z");
  if (!z.ok()) return z.status();
  result.z = *std::move(z);
  absl::StatusOr<std::vector<Layer>> layers = LayersFromProto(proto.mutable_layers(), "layers");
  if (!layers.ok()) return layers.status();
  result.layers = *std::move(layers);
  result.model = FromProto(proto.model());
  return result;
}

absl::StatusOr<GeneratedNetwork> FromProto(hnet::v1::GeneratedNetwork&& proto) {
  GeneratedNetwork network;
  network.index = proto.index();
  absl::StatusOr<Tensor> z = FromProto(std::move(*proto.mutable_z()), "z");
  if (!z.ok()) return z.status();
  network.z = *std::move(z);
  absl::StatusOr<std::vector<Layer>> layers = LayersFromProto(proto.mutable_layers(), "layers");
  if (!layers.ok()) return layers.status();
  network.layers = *std::move(layers);
  network.model = FromProto(proto.model());
  return network;
}

absl::StatusOr<ClassifyResult> FromProto(hnet::v1::ClassifyResponse&& proto) {
  ClassifyResult result;
  for (const hnet::v1::Prediction& p : proto.predictions()) {
    result.predictions.push_back(
        Prediction{p.predicted_class(),
                   {p.probabilities().begin(), p.probabilities().end()},
                   {p.votes().begin(), p.votes().end()},
                   p.agreement(),
                   p.predictive_entropy(),
                   p.mutual_information()});
  }
  absl::StatusOr<Tensor> members = FromProto(std::move(*proto.mutable_member_predictions()), "member_predictions");
  if (!members.ok()) return members.status();
  result.member_predictions = *std::move(members);
  result.model = FromProto(proto.model());
  return result;
}

absl::StatusOr<PathResult> FromProto(hnet::v1::InterpolatePathResponse&& proto) {
  PathResult result;
  result.evaluated_inputs = proto.evaluated_inputs();
  result.model = FromProto(proto.model());
  for (int i = 0; i < proto.points_size(); ++i) {
    hnet::v1::PathPoint& p = *proto.mutable_points(i);
    PathPoint point{p.t(), p.direct_accuracy(), p.interpolated_accuracy(), {}, {}};
    auto direct = LayersFromProto(p.mutable_direct_weights(), absl::StrCat("points[", i, "].direct"));
    if (!direct.ok()) return direct.status();
    auto interpolated =
        LayersFromProto(p.mutable_interpolated_weights(), absl::StrCat("points[", i, "].interpolated"));
    if (!interpolated.ok()) return interpolated.status();
    point.direct_weights = *std::move(direct);
    point.interpolated_weights = *std::move(interpolated);
    result.points.push_back(std::move(point));
  }
  return result;
}

namespace {

absl::Status Malformed(absl::string_view field, absl::string_view expected, const Tensor& got) {
  return absl::InternalError(absl::StrCat("malformed response: ", field, ": expected ", expected,
                                          ", got ", DTypeName(got.dtype), " [",
                                          absl::StrJoin(got.shape, ", "), "]"));
}

}  // namespace

absl::Status CheckSampleResult(const SampleResult& result, int64_t n, bool return_z) {
  if (result.layers.empty()) return absl::InternalError("malformed response: no layers");
  for (size_t i = 0; i < result.layers.size(); ++i) {
    const Tensor& w = result.layers[i].weights;
    if (w.dtype != DType::kFloat32 || w.shape.size() != 3 || w.shape[0] != n) {
      return Malformed(absl::StrCat("layers[", i, "].weights"),
                       absl::StrCat("float32 [", n, ", F, S]"), w);
    }
  }
  const Tensor& z = result.z;
  if (return_z && (z.dtype != DType::kFloat32 || z.shape.size() != 2 || z.shape[0] != n)) {
    return Malformed("z", absl::StrCat("float32 [", n, ", z_dim]"), z);
  }
  return absl::OkStatus();
}

absl::Status CheckClassifyResult(const ClassifyResult& result, int64_t inputs, int64_t k,
                                 bool return_members) {
  if (static_cast<int64_t>(result.predictions.size()) != inputs) {
    return absl::InternalError(absl::StrCat("malformed response: ", result.predictions.size(),
                                            " predictions for ", inputs, " inputs"));
  }
  const Tensor& m = result.member_predictions;
  if (return_members &&
      (m.dtype != DType::kInt32 || m.shape != std::vector<int64_t>{k, inputs})) {
    return Malformed("member_predictions", absl::StrCat("int32 [", k, ", ", inputs, "]"), m);
  }
  return absl::OkStatus();
}

}  // namespace hnet::client::internal
