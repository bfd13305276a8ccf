#include "server/request_parsing.h"

#include <torch/torch.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/checkpoint.h"
#include "core/hypernetwork.h"
#include "core/torch_status.h"
#include "server/generation.h"
#include "server/status_util.h"

namespace hnet::server {
namespace {

using hnet::v1::TensorProto;

absl::Status CheckCount(int64_t count, absl::string_view field, const CountLimit& limit) {
  if (count < 1) return FieldError(field, absl::StrCat("must be >= 1, got ", count));
  if (count > limit.max) {
    return LimitError(absl::StrCat(field, " = ", count), limit.max, limit.flag, limit.hint);
  }
  return absl::OkStatus();
}

// The tensor of `proto`; INVALID_ARGUMENT naming `field` when the request's tensor is bad
// (TensorFromProto's DataLoss or InvalidArgument); any other failure (RESOURCE_EXHAUSTED when
// its memory cannot be allocated, INTERNAL) passes through unchanged.
absl::StatusOr<at::Tensor> Decode(const TensorProto& proto, absl::string_view field) {
  auto tensor = core::TensorFromProto(proto);
  if (absl::IsDataLoss(tensor.status()) || absl::IsInvalidArgument(tensor.status())) {
    return FieldError(field, tensor.status().message());
  }
  return tensor;
}

bool AllFinite(const at::Tensor& t) {
  return t.numel() == 0 || torch::isfinite(t).all().item<bool>();
}

}  // namespace

std::string DescribeTensor(const TensorProto& proto) {
  std::string dtype = TensorProto::DType_Name(proto.dtype());
  if (dtype.empty()) dtype = absl::StrCat("dtype ", static_cast<int>(proto.dtype()));
  // At most kShownDims dimensions: a message must stay far below gRPC's metadata limit.
  constexpr int kShownDims = 8;
  const auto& shape = proto.shape();
  const bool cut = shape.size() > kShownDims;
  return absl::StrCat(
      absl::AsciiStrToLower(dtype), " [",
      absl::StrJoin(shape.begin(), cut ? shape.begin() + kShownDims : shape.end(), ", "),
      cut ? absl::StrCat(", ... (", shape.size(), " dimensions)") : "", "]");
}

at::Tensor NoiseSpec::Resolve(const LoadedModel& model) const {
  return seed.has_value() ? SeedNoise(model, *seed, count) : z;
}

absl::StatusOr<NoiseSpec> ParseNoise(const hnet::v1::NoiseSource& noise, absl::string_view field,
                                     int64_t count, absl::string_view count_field,
                                     const CountLimit& limit, const LoadedModel& model) {
  NoiseSpec spec;
  const int64_t z_dim = model.network->z_dim();
  switch (noise.source_case()) {
    case hnet::v1::NoiseSource::kSeed:
      if (absl::Status s = CheckCount(count, count_field, limit); !s.ok()) return s;
      spec.seed = noise.seed();
      spec.count = count;
      return spec;
    case hnet::v1::NoiseSource::kZ: {
      const std::string z_field = absl::StrCat(field, ".z");
      const TensorProto& proto = noise.z();
      if (proto.dtype() != TensorProto::FLOAT32 || proto.shape_size() != 2 ||
          proto.shape(1) != z_dim) {
        return FieldError(z_field, absl::StrCat("expected float32 [n, ", z_dim, "], got ",
                                                DescribeTensor(proto)));
      }
      // The row count first: a z past the limit is never copied or scanned.
      if (absl::Status s = CheckCount(proto.shape(0), absl::StrCat(z_field, " rows"), limit);
          !s.ok()) {
        return s;
      }
      auto z = Decode(proto, z_field);
      if (!z.ok()) return z.status();
      if (!AllFinite(*z)) return FieldError(z_field, "values must be finite");
      spec.z = *z;
      spec.count = z->size(0);
      return spec;
    }
    default:
      return FieldError(field, absl::StrCat("set ", field, ".seed or ", field, ".z"));
  }
}

absl::StatusOr<at::Tensor> ParseEndpoint(const hnet::v1::NoiseSource& noise,
                                         absl::string_view field, const LoadedModel& model) {
  const int64_t z_dim = model.network->z_dim();
  if (noise.source_case() == hnet::v1::NoiseSource::kSeed) {
    return SeedNoise(model, noise.seed(), 1);
  }
  if (noise.source_case() != hnet::v1::NoiseSource::kZ) {
    return FieldError(field, absl::StrCat("set ", field, ".seed or ", field, ".z"));
  }
  const std::string z_field = absl::StrCat(field, ".z");
  const TensorProto& proto = noise.z();
  const bool shape_ok = (proto.shape_size() == 1 && proto.shape(0) == z_dim) ||
                        (proto.shape_size() == 2 && proto.shape(0) == 1 && proto.shape(1) == z_dim);
  if (proto.dtype() != TensorProto::FLOAT32 || !shape_ok) {
    return FieldError(z_field, absl::StrCat("expected float32 [", z_dim, "] or [1, ", z_dim,
                                            "], got ", DescribeTensor(proto)));
  }
  auto z = Decode(proto, z_field);
  if (!z.ok()) return z.status();
  if (!AllFinite(*z)) return FieldError(z_field, "values must be finite");
  return z->reshape({1, z_dim});
}

absl::StatusOr<at::Tensor> ParseImages(const TensorProto& proto, absl::string_view field,
                                       const core::TargetLayout& layout, const CountLimit& limit) {
  if (proto.dtype() != TensorProto::UINT8 && proto.dtype() != TensorProto::FLOAT32) {
    return FieldError(field,
                      absl::StrCat("dtype must be uint8 or float32, got ", DescribeTensor(proto)));
  }
  const int64_t c = layout.input_channels(), h = layout.input_height(), w = layout.input_width();
  const auto& s = proto.shape();
  const bool chw = s.size() == 4 && s[1] == c && s[2] == h && s[3] == w;
  const bool hw = s.size() == 3 && c == 1 && s[1] == h && s[2] == w;
  if (!chw && !hw) {
    const std::string expected =
        c == 1 ? absl::StrCat("[N, ", h, ", ", w, "] or [N, 1, ", h, ", ", w, "]")
               : absl::StrCat("[N, ", c, ", ", h, ", ", w, "]");
    return FieldError(field, absl::StrCat("expected ", expected, ", got ", DescribeTensor(proto)));
  }
  if (absl::Status st = CheckCount(s[0], absl::StrCat(field, " count"), limit); !st.ok()) return st;
  auto images = Decode(proto, field);
  if (!images.ok()) return images.status();
  return images->reshape({s[0], c, h, w});
}

absl::StatusOr<at::Tensor> NormalizeImages(const at::Tensor& images, absl::string_view field) {
  return core::TorchCall("checking images", [&]() -> absl::StatusOr<at::Tensor> {
    if (images.scalar_type() == torch::kUInt8) return images.to(torch::kFloat32).div_(255.0);
    if (!AllFinite(images)) return FieldError(field, "values must be finite");
    if (images.numel() > 0 && (images.min().item<float>() < 0 || images.max().item<float>() > 1)) {
      return FieldError(field, "float32 pixel values must be in [0, 1] (or send uint8 0..255)");
    }
    return images;
  });
}

absl::StatusOr<at::Tensor> ParseLabels(const TensorProto& proto, absl::string_view field, int64_t n,
                                       int64_t classes) {
  if ((proto.dtype() != TensorProto::INT64 && proto.dtype() != TensorProto::INT32) ||
      proto.shape_size() != 1 || proto.shape(0) != n) {
    return FieldError(field, absl::StrCat("expected int64 or int32 [", n, "] (one per input), got ",
                                          DescribeTensor(proto)));
  }
  auto labels = Decode(proto, field);
  if (!labels.ok()) return labels.status();
  at::Tensor out = labels->to(torch::kInt64);
  if (n > 0 && (out.min().item<int64_t>() < 0 || out.max().item<int64_t>() >= classes)) {
    return FieldError(field, absl::StrCat("every label must be in [0, ", classes, ")"));
  }
  return out;
}

}  // namespace hnet::server
