#include "client/options.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace hnet::client {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

// Images are [N, H, W] or [N, C, H, W], uint8 or float32.
absl::Status ValidateImages(const Tensor& inputs, absl::string_view field) {
  if (absl::Status s = ValidateTensor(inputs, field); !s.ok()) return s;
  if (inputs.dtype != DType::kUint8 && inputs.dtype != DType::kFloat32) {
    return Invalid(field, absl::StrCat("dtype must be uint8 or float32, not ",
                                       DTypeName(inputs.dtype)));
  }
  if (inputs.shape.size() != 3 && inputs.shape.size() != 4) {
    return Invalid(field, absl::StrCat("shape must be [N, H, W] or [N, C, H, W], not [",
                                       absl::StrJoin(inputs.shape, ", "), "]"));
  }
  if (inputs.shape[0] == 0) return Invalid(field, "no inputs (N = 0)");
  return absl::OkStatus();
}

// The labelled inputs of a path: images, and as many int32/int64 labels.
absl::Status ValidatePathInputs(const PathOptions& options) {
  if (absl::Status s = ValidateImages(options.inputs, "PathOptions.inputs"); !s.ok()) return s;
  const Tensor& labels = options.labels;
  if (absl::Status s = ValidateTensor(labels, "PathOptions.labels"); !s.ok()) return s;
  if (labels.dtype != DType::kInt32 && labels.dtype != DType::kInt64) {
    return Invalid("PathOptions.labels",
                   absl::StrCat("dtype must be int32 or int64, not ", DTypeName(labels.dtype)));
  }
  if (labels.shape.size() != 1 || labels.shape[0] != options.inputs.shape[0]) {
    return Invalid("PathOptions.labels",
                   absl::StrCat("shape must be [", options.inputs.shape[0], "], not [",
                                absl::StrJoin(labels.shape, ", "), "]"));
  }
  return absl::OkStatus();
}

// The server has no default noise: one of seed or z must be set.
absl::Status RequireNoise(const Noise& noise, absl::string_view field) {
  if (noise.seed.has_value() || noise.z.has_value()) return absl::OkStatus();
  return Invalid(field, "set seed or z");
}

}  // namespace

Noise Noise::FromSeed(uint64_t seed) {
  Noise noise;
  noise.seed = seed;
  return noise;
}

Noise Noise::FromZ(Tensor z) {
  Noise noise;
  noise.z = std::move(z);
  return noise;
}

absl::Status ValidateClientOptions(const ClientOptions& options) {
  const absl::string_view f = "ClientOptions";
  if (options.addresses.empty()) {
    return Invalid(absl::StrCat(f, ".addresses"), "at least one address is required");
  }
  for (size_t i = 0; i < options.addresses.size(); ++i) {
    if (options.addresses[i].empty()) {
      return Invalid(absl::StrCat(f, ".addresses[", i, "]"), "empty address");
    }
  }
  if (options.deadline <= absl::ZeroDuration()) {
    return Invalid(absl::StrCat(f, ".deadline"), "must be positive");
  }
  if (options.max_message_bytes <= 0 ||
      options.max_message_bytes > std::numeric_limits<int32_t>::max()) {
    return Invalid(absl::StrCat(f, ".max_message_bytes"),
                   absl::StrCat("must be in [1, 2^31 - 1], got ", options.max_message_bytes));
  }
  if (options.max_attempts < 1) {
    return Invalid(absl::StrCat(f, ".max_attempts"),
                   absl::StrCat("must be >= 1, got ", options.max_attempts));
  }
  if (options.initial_backoff <= absl::ZeroDuration() ||
      options.max_backoff < options.initial_backoff) {
    return Invalid(absl::StrCat(f, ".initial_backoff"),
                   "must be positive and not above max_backoff");
  }
  if (!(options.backoff_multiplier >= 1.0)) {
    return Invalid(absl::StrCat(f, ".backoff_multiplier"), "must be >= 1");
  }
  if (options.async_threads < 1 || options.async_threads > kMaxAsyncThreads) {
    return Invalid(absl::StrCat(f, ".async_threads"),
                   absl::StrCat("must be in [1, ", kMaxAsyncThreads, "], got ",
                                options.async_threads));
  }
  const TlsOptions& tls = options.tls;
  if (tls.certificate_chain_pem.empty() != tls.private_key_pem.empty()) {
    return Invalid(absl::StrCat(f, ".tls"),
                   "certificate_chain_pem and private_key_pem must be set together");
  }
  // The token goes into a metadata value: printable ASCII, no surrounding spaces. The error
  // names the problem, never the token.
  const std::string& token = options.bearer_token;
  for (char c : token) {
    if (c < 0x20 || c > 0x7e) {
      return Invalid(absl::StrCat(f, ".bearer_token"),
                     "holds a control or non-ASCII character (not allowed in metadata)");
    }
  }
  if (!token.empty() && (token.front() == ' ' || token.back() == ' ')) {
    return Invalid(absl::StrCat(f, ".bearer_token"), "starts or ends with a space");
  }
  return absl::OkStatus();
}

absl::Status ValidateNoise(const Noise& noise, absl::string_view field, int z_rank) {
  if (noise.seed.has_value() && noise.z.has_value()) {
    return Invalid(field, "set seed or z, not both");
  }
  if (!noise.z.has_value()) return absl::OkStatus();
  const std::string z_field = absl::StrCat(field, ".z");
  const Tensor& z = *noise.z;
  if (absl::Status s = ValidateTensor(z, z_field); !s.ok()) return s;
  if (z.dtype != DType::kFloat32) {
    return Invalid(z_field, absl::StrCat("dtype must be float32, not ", DTypeName(z.dtype)));
  }
  const bool rank_ok = static_cast<int>(z.shape.size()) == z_rank ||
                       (z_rank == 1 && z.shape.size() == 2 && z.shape[0] == 1);
  if (!rank_ok) {
    return Invalid(z_field, absl::StrCat(z_rank == 1 ? "shape must be [z_dim] or [1, z_dim]"
                                                     : "shape must be [n, z_dim]",
                                         ", not [", absl::StrJoin(z.shape, ", "), "]"));
  }
  if (NumElements(z) == 0) return Invalid(z_field, "is empty");
  return absl::OkStatus();
}

absl::Status ValidateSampleOptions(const SampleOptions& options) {
  if (absl::Status s = ValidateNoise(options.noise, "SampleOptions.noise", 2); !s.ok()) {
    return s;
  }
  if (!options.noise.z.has_value() && options.n < 1) {
    return Invalid("SampleOptions.n", absl::StrCat("must be >= 1, got ", options.n));
  }
  if (options.permutation_gauge && !options.gauge_fixed) {
    return Invalid("SampleOptions.permutation_gauge", "requires gauge_fixed");
  }
  if (options.version < 0) {
    return Invalid("SampleOptions.version", absl::StrCat("must be >= 0, got ", options.version));
  }
  return RequireNoise(options.noise, "SampleOptions.noise");
}

absl::Status ValidateClassifyOptions(const Tensor& inputs, const ClassifyOptions& options) {
  if (absl::Status s = ValidateImages(inputs, "inputs"); !s.ok()) return s;
  if (absl::Status s = ValidateNoise(options.noise, "ClassifyOptions.noise", 2); !s.ok()) {
    return s;
  }
  if (!options.noise.z.has_value() && options.ensemble_size < 1) {
    return Invalid("ClassifyOptions.ensemble_size",
                   absl::StrCat("must be >= 1, got ", options.ensemble_size));
  }
  const int rule = static_cast<int>(options.rule);
  if (rule < 1 || rule > 3) {
    return Invalid("ClassifyOptions.rule", absl::StrCat("unknown rule ", rule));
  }
  if (options.version < 0) {
    return Invalid("ClassifyOptions.version", absl::StrCat("must be >= 0, got ", options.version));
  }
  return RequireNoise(options.noise, "ClassifyOptions.noise");
}

absl::Status ValidatePathOptions(const PathOptions& options) {
  if (absl::Status s = ValidateNoise(options.start, "PathOptions.start", 1); !s.ok()) return s;
  if (absl::Status s = ValidateNoise(options.end, "PathOptions.end", 1); !s.ok()) return s;
  if (options.points < 2) {
    return Invalid("PathOptions.points", absl::StrCat("must be >= 2, got ", options.points));
  }
  const int mode = static_cast<int>(options.mode);
  if (mode < 1 || mode > 3) {
    return Invalid("PathOptions.mode", absl::StrCat("unknown mode ", mode));
  }
  if (options.version < 0) {
    return Invalid("PathOptions.version", absl::StrCat("must be >= 0, got ", options.version));
  }
  const bool has_inputs = !IsUnset(options.inputs);
  const bool has_labels = !IsUnset(options.labels);
  if (has_inputs != has_labels) {
    return Invalid(has_inputs ? "PathOptions.labels" : "PathOptions.inputs",
                   "inputs and labels must be set together");
  }
  if (has_inputs) {
    if (absl::Status s = ValidatePathInputs(options); !s.ok()) return s;
  }
  if (absl::Status s = RequireNoise(options.start, "PathOptions.start"); !s.ok()) return s;
  return RequireNoise(options.end, "PathOptions.end");
}

}  // namespace hnet::client
