// Results of hnet.v1 calls as plain structs (see proto/hnet/v1/service.proto for the meaning
// of every field). No gRPC or protobuf types appear here.
#ifndef HNET_CLIENT_TYPES_H_
#define HNET_CLIENT_TYPES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "client/tensor.h"

namespace hnet::client {

// How the server draws noise vectors z (hnet.v1.HyperNetConfig.ZDistribution).
enum class ZDistribution { kUnspecified = 0, kUniform = 1, kNormal = 2 };

// One layer of a target-network spec (hnet.v1.LayerSpec).
struct LayerSpec {
  enum class Kind { kUnspecified, kConv, kDense };
  Kind kind = Kind::kUnspecified;
  int32_t filters = 0;  // conv
  int32_t kernel = 0;   // conv
  int32_t pool = 0;     // conv; 0 or 1 means no pooling
  int32_t units = 0;    // dense
};

// A target network: input shape and layers (hnet.v1.TargetSpec).
struct TargetSpec {
  std::string name;
  int32_t input_channels = 0;
  int32_t input_height = 0;
  int32_t input_width = 0;
  std::vector<LayerSpec> layers;
};

// Shape of one generated layer per network (hnet.v1.LayerInfo).
struct LayerInfo {
  std::string name;                // e.g. "layer0.conv5x5x32"
  std::string kind;                // "conv" or "dense"
  std::vector<int64_t> shape;      // [filters, fan_in + 1]
  int64_t weight_count = 0;
};

// Validation metrics recorded in the checkpoint (hnet.v1.ValidationMetrics).
struct ValidationMetrics {
  int64_t step = 0;
  int32_t networks = 0;
  double mean_accuracy = 0;
  double min_accuracy = 0;
  double max_accuracy = 0;
  double std_accuracy = 0;
  double majority_vote_accuracy = 0;
  double mean_probability_accuracy = 0;
  double most_confident_accuracy = 0;
  double entropy = 0;
  double cross_entropy = 0;
};

// The model version that served a call (hnet.v1.ModelVersion).
struct ModelVersion {
  std::string name;
  int64_t version = 0;       // ModelInfo::version_number
  std::string content_hash;  // ModelInfo::content_hash
};

// Everything the server reports about one loaded model version (hnet.v1.ModelInfo).
struct ModelInfo {
  std::string name;
  std::string version;  // same as content_hash (hnet.v1 ModelInfo.version's older name)
  TargetSpec target;
  std::vector<LayerInfo> layers;
  int64_t weight_count = 0;
  int32_t z_dim = 0;
  ZDistribution z_distribution = ZDistribution::kUnspecified;
  double lambda = 0;
  int64_t step = 0;
  ValidationMetrics validation;
  std::string device;
  int64_t parameter_count = 0;
  int64_t version_number = 0;  // numeric version (1 for a single-file model)
  bool latest = false;         // served when a call pins no version
  std::string path;            // checkpoint file on the server
  std::string content_hash;    // hex CRC-32 of the checkpoint payload
};

// Weights of one target layer: [n, F, S] for a batch, [F, S] for a single network.
struct Layer {
  std::string name;
  Tensor weights;
};

// Result of SampleWeights: z ([n, z_dim] float32, unset unless requested) and the layers.
struct SampleResult {
  Tensor z;
  std::vector<Layer> layers;
  ModelVersion model;  // the version that generated them
};

// One network of StreamWeights: its index, z ([z_dim], unset unless requested), layers.
struct GeneratedNetwork {
  int32_t index = 0;
  Tensor z;
  std::vector<Layer> layers;
  ModelVersion model;  // the version that generated it
};

// The ensemble's verdict on one input (hnet.v1.Prediction).
struct Prediction {
  int32_t predicted_class = 0;
  std::vector<float> probabilities;  // mean member probabilities
  std::vector<int32_t> votes;        // members voting for each class
  float agreement = 0;
  float predictive_entropy = 0;
  float mutual_information = 0;
};

// Result of Classify: one prediction per input, and member predictions [K, N] int32 when
// requested (unset otherwise).
struct ClassifyResult {
  std::vector<Prediction> predictions;
  Tensor member_predictions;
  ModelVersion model;  // the version that classified
};

// One point of an interpolation path (hnet.v1.PathPoint).
struct PathPoint {
  double t = 0;
  double direct_accuracy = 0;
  double interpolated_accuracy = 0;
  std::vector<Layer> direct_weights;        // when requested
  std::vector<Layer> interpolated_weights;  // when requested
};

// Result of InterpolatePath.
struct PathResult {
  std::vector<PathPoint> points;
  int64_t evaluated_inputs = 0;
  ModelVersion model;  // the version that generated the paths
};

}  // namespace hnet::client

#endif  // HNET_CLIENT_TYPES_H_
