#include "server/responses.h"

#include <torch/torch.h>

#include "core/checkpoint.h"
#include "server/generation.h"

namespace hnet::server {

void AppendLayers(const LoadedModel& model, const core::WeightBatch& weights,
                  LayerWeightsList* out) {
  for (size_t l = 0; l < weights.size(); ++l) {
    hnet::v1::LayerWeights* layer = out->Add();
    layer->set_name(model.layer_names[l]);
    *layer->mutable_weights() = core::TensorToProto(weights[l].to(torch::kFloat32));
  }
}

int64_t WeightBytes(const LoadedModel& model, int64_t networks) {
  return networks * model.layout.weight_count() * static_cast<int64_t>(sizeof(float));
}

hnet::v1::SampleWeightsResponse MakeSampleResponse(const LoadedModel& model,
                                                   const core::WeightBatch& weights,
                                                   const at::Tensor& z, bool return_z) {
  hnet::v1::SampleWeightsResponse response;
  if (return_z) *response.mutable_z() = core::TensorToProto(z);
  AppendLayers(model, weights, response.mutable_layers());
  return response;
}

void FillClassifyResponse(const EnsembleResult& r, hnet::v1::ClassifyResponse* response) {
  const int64_t n = r.predicted.size(0);
  const int64_t classes = r.mean_probabilities.size(1);
  const auto predicted = r.predicted.accessor<int64_t, 1>();
  const auto probs = r.mean_probabilities.accessor<float, 2>();
  const auto votes = r.votes.accessor<int64_t, 2>();
  const auto agreement = r.agreement.accessor<float, 1>();
  const auto entropy = r.predictive_entropy.accessor<float, 1>();
  const auto mi = r.mutual_information.accessor<float, 1>();
  response->mutable_predictions()->Reserve(static_cast<int>(n));
  for (int64_t i = 0; i < n; ++i) {
    hnet::v1::Prediction* p = response->add_predictions();
    p->set_predicted_class(static_cast<int32_t>(predicted[i]));
    for (int64_t c = 0; c < classes; ++c) {
      p->add_probabilities(probs[i][c]);
      p->add_votes(static_cast<int32_t>(votes[i][c]));
    }
    p->set_agreement(agreement[i]);
    p->set_predictive_entropy(entropy[i]);
    p->set_mutual_information(mi[i]);
  }
  if (r.members.defined()) *response->mutable_member_predictions() = core::TensorToProto(r.members);
}

void FillPathResponse(const LoadedModel& model, const PathResult& result, int64_t inputs,
                      bool return_weights, hnet::v1::InterpolatePathResponse* response) {
  response->set_evaluated_inputs(inputs);
  for (size_t i = 0; i < result.t.size(); ++i) {
    hnet::v1::PathPoint* point = response->add_points();
    point->set_t(result.t[i]);
    if (!result.direct_accuracy.empty()) point->set_direct_accuracy(result.direct_accuracy[i]);
    if (!result.interpolated_accuracy.empty()) {
      point->set_interpolated_accuracy(result.interpolated_accuracy[i]);
    }
    if (!return_weights) continue;
    if (!result.direct_weights.empty()) {
      AppendLayers(model, SelectNetwork(result.direct_weights, static_cast<int64_t>(i)),
                   point->mutable_direct_weights());
    }
    if (!result.interpolated_weights.empty()) {
      AppendLayers(model, SelectNetwork(result.interpolated_weights, static_cast<int64_t>(i)),
                   point->mutable_interpolated_weights());
    }
  }
}

}  // namespace hnet::server
