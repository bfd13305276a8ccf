#include "core/target_spec.h"

#include "absl/strings/str_cat.h"

namespace hnet::core {

int64_t LayerShape::fan_in() const {
  if (kind == Kind::kConv) return in_channels * kernel * kernel;
  return in_channels * in_height * in_width;
}

std::string LayerShape::name() const {
  if (kind == Kind::kConv) return absl::StrCat("conv", kernel, "x", kernel, "x", filters);
  return absl::StrCat("dense", filters);
}

int64_t TargetLayout::weight_count() const {
  int64_t total = 0;
  for (const LayerShape& layer : layers_) total += layer.weight_count();
  return total;
}

absl::StatusOr<TargetLayout> TargetLayout::Create(const hnet::v1::TargetSpec& spec) {
  if (spec.input_channels() <= 0 || spec.input_height() <= 0 || spec.input_width() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("target spec: input_channels/input_height/input_width must be positive, got ",
                     spec.input_channels(), "x", spec.input_height(), "x", spec.input_width()));
  }
  if (spec.layers().empty()) {
    return absl::InvalidArgumentError("target spec: needs at least one layer");
  }
  TargetLayout layout;
  layout.spec_ = spec;
  int64_t channels = spec.input_channels();
  int64_t height = spec.input_height();
  int64_t width = spec.input_width();
  bool seen_dense = false;
  int64_t total_weights = 0;
  for (int i = 0; i < spec.layers_size(); ++i) {
    const hnet::v1::LayerSpec& l = spec.layers(i);
    const std::string where = absl::StrCat("target spec: layers[", i, "]");
    LayerShape shape;
    shape.in_channels = channels;
    shape.in_height = height;
    shape.in_width = width;
    if (l.has_conv()) {
      if (seen_dense) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": a conv layer cannot follow a dense layer"));
      }
      if (l.conv().filters() <= 0 || l.conv().kernel() <= 0 || l.conv().pool() < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": conv.filters and conv.kernel must be positive and conv.pool >= 0"));
      }
      shape.kind = LayerShape::Kind::kConv;
      shape.filters = l.conv().filters();
      shape.kernel = l.conv().kernel();
      shape.pool = std::max(1, l.conv().pool());
      // SAME pooling: ceil(size / pool).
      shape.out_height = (height + shape.pool - 1) / shape.pool;
      shape.out_width = (width + shape.pool - 1) / shape.pool;
    } else if (l.has_dense()) {
      if (l.dense().units() <= 0) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": dense.units must be positive"));
      }
      seen_dense = true;
      shape.kind = LayerShape::Kind::kDense;
      shape.filters = l.dense().units();
      shape.out_height = 1;
      shape.out_width = 1;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(where, ": set either conv or dense"));
    }
    // fan_in, filter_size and weight_count multiply sizes: bound them (and the total) before
    // anything computes them.
    int64_t fan_in = 0, filter_size = 0, weights = 0;
    const bool conv = shape.kind == LayerShape::Kind::kConv;
    if (__builtin_mul_overflow(shape.in_channels, conv ? shape.kernel : shape.in_height, &fan_in) ||
        __builtin_mul_overflow(fan_in, conv ? shape.kernel : shape.in_width, &fan_in) ||
        __builtin_add_overflow(fan_in, 1, &filter_size) ||
        __builtin_mul_overflow(filter_size, shape.filters, &weights) ||
        __builtin_add_overflow(total_weights, weights, &total_weights) ||
        total_weights > kMaxTargetWeights) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " (", shape.name(), "): the network would have more than ",
                       kMaxTargetWeights, " weights (", shape.in_channels, " input channels of ",
                       shape.in_height, "x", shape.in_width, ")"));
    }
    channels = shape.filters;
    height = shape.out_height;
    width = shape.out_width;
    layout.layers_.push_back(shape);
  }
  if (layout.layers_.back().kind != LayerShape::Kind::kDense) {
    return absl::InvalidArgumentError(
        "target spec: the last layer must be dense (it produces the logits)");
  }
  layout.layers_.back().relu = false;
  return layout;
}

hnet::v1::TargetSpec MnistTargetSpec() {
  hnet::v1::TargetSpec spec;
  spec.set_name("mnist");
  spec.set_input_channels(1);
  spec.set_input_height(28);
  spec.set_input_width(28);
  for (int filters : {32, 16}) {
    auto* conv = spec.add_layers()->mutable_conv();
    conv->set_filters(filters);
    conv->set_kernel(5);
    conv->set_pool(2);
  }
  spec.add_layers()->mutable_dense()->set_units(8);
  spec.add_layers()->mutable_dense()->set_units(10);
  return spec;
}

}  // namespace hnet::core
