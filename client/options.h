// Options of the client and of each call, with their validation. Validation errors are
// INVALID_ARGUMENT and name the offending field, e.g. "SampleOptions.n: ...".
#ifndef HNET_CLIENT_OPTIONS_H_
#define HNET_CLIENT_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/tensor.h"

namespace hnet::client {

// Transport security. Disabled by default (plaintext); when enabled, server certificates are
// checked against `root_certificates_pem` (empty: the system roots) and the client presents
// `certificate_chain_pem` / `private_key_pem` if both are set (mutual TLS).
struct TlsOptions {
  bool enabled = false;
  std::string root_certificates_pem;
  std::string certificate_chain_pem;
  std::string private_key_pem;
  // Host name the server certificates must be valid for; empty: the host of addresses[0]. With
  // several addresses every server presents a certificate for this one name.
  std::string server_name;
};

inline constexpr int kMaxAsyncThreads = 256;

struct ClientOptions {
  // One gRPC target ("host:port", or any gRPC URI such as "unix:/path", "dns:///h:p"), or
  // several addresses over which calls are balanced round-robin. Several addresses must each
  // be "host:port" or "[v6]:port" (no URIs: Client::Connect answers INVALID_ARGUMENT naming
  // addresses[i]); host names are resolved once, by Connect, and every entry must have an
  // address of one family, all IPv4 or all IPv6 (the two cannot be mixed in one list).
  std::vector<std::string> addresses;
  // Budget of one call, retries included.
  absl::Duration deadline = absl::Seconds(30);
  // Largest message sent or received.
  int64_t max_message_bytes = int64_t{64} << 20;
  // Attempts per call when the server answers UNAVAILABLE (1 = no retry); waits between
  // attempts grow from initial_backoff by backoff_multiplier up to max_backoff (+-20% jitter).
  int max_attempts = 4;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  double backoff_multiplier = 2.0;
  absl::Duration max_backoff = absl::Seconds(2);
  // Worker threads running the *Async calls, at most kMaxAsyncThreads.
  int async_threads = 2;
  TlsOptions tls;
  // When set, every call (sync, async, streaming) carries the metadata
  // "authorization: Bearer <bearer_token>" (hnet-server --auth_token_file). Printable ASCII;
  // never logged or included in errors. Plaintext channels send it in the clear: use TLS.
  std::string bearer_token;
};

// Where noise vectors come from: a seed (the server draws them deterministically) or explicit
// vectors z (float32). Every call needs exactly one of them: with neither set, the Validate*
// functions below (and so every call, before anything is sent) answer INVALID_ARGUMENT naming
// the field, e.g. "SampleOptions.noise: set seed or z". The server has no default noise.
struct Noise {
  std::optional<uint64_t> seed;
  std::optional<Tensor> z;

  // Noise drawn by the server from `seed`.
  static Noise FromSeed(uint64_t seed);
  // Explicit noise vectors.
  static Noise FromZ(Tensor z);
};

struct SampleOptions {
  int32_t n = 1;                   // networks; ignored when noise.z is set
  Noise noise;                     // required: a seed, or z [n, z_dim] float32
  bool gauge_fixed = false;        // scale and logits-bias gauge
  bool permutation_gauge = false;  // also sort filters; requires gauge_fixed
  bool return_z = false;
  int64_t version = 0;  // model version; 0: the latest the server has loaded
};

enum class EnsembleRule { kMeanProbability = 2, kMajorityVote = 1, kMostConfident = 3 };

struct ClassifyOptions {
  int32_t ensemble_size = 10;  // K; ignored when noise.z is set
  Noise noise;                 // required: a seed, or z [K, z_dim] float32
  EnsembleRule rule = EnsembleRule::kMeanProbability;
  bool return_members = false;
  int64_t version = 0;  // model version; 0: the latest the server has loaded
};

enum class PathMode { kBoth = 3, kDirect = 1, kInterpolated = 2 };

struct PathOptions {
  Noise start;          // a seed or one z ([z_dim] or [1, z_dim]); required
  Noise end;            // required, as start
  int32_t points = 11;  // endpoints included, >= 2
  PathMode mode = PathMode::kBoth;
  Tensor inputs;        // optional labelled inputs; unset: the server's evaluation split
  Tensor labels;        // [N] int32/int64; set exactly when inputs are set
  bool return_weights = false;
  int64_t version = 0;  // model version; 0: the latest the server has loaded
};

// OK when the client options are usable.
absl::Status ValidateClientOptions(const ClientOptions& options);

// OK when `noise` is empty, a seed, or a well-formed float32 z of rank `z_rank` (or, when
// z_rank is 1, [1, z_dim]). `field` prefixes errors. The call-option checks below also
// require one of seed or z to be set.
absl::Status ValidateNoise(const Noise& noise, absl::string_view field, int z_rank);

// OK when a SampleWeights/StreamWeights call with `options` is well-formed, noise.seed or
// noise.z set included.
absl::Status ValidateSampleOptions(const SampleOptions& options);

// OK when `inputs` are uint8/float32 images [N, H, W] or [N, C, H, W] and `options` are
// well-formed, noise.seed or noise.z set included.
absl::Status ValidateClassifyOptions(const Tensor& inputs, const ClassifyOptions& options);

// OK when an InterpolatePath call with `options` is well-formed, a seed or z set for each of
// start and end included.
absl::Status ValidatePathOptions(const PathOptions& options);

}  // namespace hnet::client

#endif  // HNET_CLIENT_OPTIONS_H_
