// Target networks as data: the resolved shapes of a hnet.v1.TargetSpec.
//
// Weight layout (used everywhere: hypernetwork outputs, gauge fixing, forward, the wire):
// layer l of a batch of N networks is a tensor [N, F_l, S_l], one row per filter, where a
// filter's S_l = fan_in + 1 values are its weights followed by its bias. Conv weights are
// ordered (in_channel, ky, kx); dense weights follow the NCHW flattening of the previous
// activation, i.e. (channel, y, x).
#ifndef HNET_CORE_TARGET_SPEC_H_
#define HNET_CORE_TARGET_SPEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hnet/v1/config.pb.h"

namespace hnet::core {

struct LayerShape {
  enum class Kind { kConv, kDense };
  Kind kind = Kind::kDense;
  int64_t in_channels = 0;  // Conv: input channels. Dense: channels of the previous layer.
  int64_t in_height = 1;    // Spatial size of the layer's input (1 x 1 for dense after dense).
  int64_t in_width = 1;
  int64_t filters = 0;     // Conv filters or dense units.
  int64_t kernel = 1;      // Conv only.
  int64_t pool = 1;        // Conv only; 1 means no pooling.
  int64_t out_height = 1;  // After pooling.
  int64_t out_width = 1;
  bool relu = true;  // False only for the final (logits) layer.

  // Sizes of a layer of TargetLayout::Create, which bounds these products (kMaxTargetWeights).
  int64_t fan_in() const;  // Weights per filter, without the bias.
  int64_t filter_size() const { return fan_in() + 1; }
  int64_t weight_count() const { return filters * filter_size(); }
  std::string name() const;  // e.g. "conv5x5x32" or "dense10".
};

// The most weights (biases included) one target network may have: 2^31 - 1, 8 GiB of float32
// per network. Every layer's fan_in and weight_count then fit in int64 with room to spare.
inline constexpr int64_t kMaxTargetWeights = (int64_t{1} << 31) - 1;

// The resolved layer shapes of a valid TargetSpec. Immutable; cheap to copy.
class TargetLayout {
 public:
  // Validates the spec: positive sizes, at least one layer, the last layer dense, no conv
  // after a dense layer, at most kMaxTargetWeights weights in all. InvalidArgument naming the
  // offending layer and field.
  static absl::StatusOr<TargetLayout> Create(const hnet::v1::TargetSpec& spec);

  const hnet::v1::TargetSpec& spec() const { return spec_; }
  const std::vector<LayerShape>& layers() const { return layers_; }
  int64_t num_layers() const { return static_cast<int64_t>(layers_.size()); }
  // Total weights of one network, biases included (<= kMaxTargetWeights).
  int64_t weight_count() const;
  int64_t num_classes() const { return layers_.back().filters; }
  int64_t input_channels() const { return spec_.input_channels(); }
  int64_t input_height() const { return spec_.input_height(); }
  int64_t input_width() const { return spec_.input_width(); }

 private:
  hnet::v1::TargetSpec spec_;
  std::vector<LayerShape> layers_;
};

// The paper's Table 1 network for 28 x 28 x 1 inputs: conv5x5x32/pool2, conv5x5x16/pool2,
// dense 8, dense 10. 20,018 weights.
hnet::v1::TargetSpec MnistTargetSpec();

}  // namespace hnet::core

#endif  // HNET_CORE_TARGET_SPEC_H_
