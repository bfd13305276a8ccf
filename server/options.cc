#include "server/options.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace hnet::server {
namespace {

constexpr double kMaxSeconds = 86400;  // A day: longer waits are mistakes, and overflow.

absl::Status AtLeastOne(int64_t value, absl::string_view flag) {
  if (value >= 1) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(flag, " must be >= 1, got ", value));
}

absl::Status Seconds(double value, absl::string_view flag) {
  if (std::isfinite(value) && value >= 0 && value <= kMaxSeconds) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(flag, " must be in [0, ", kMaxSeconds, "] seconds, got ", value));
}

}  // namespace

absl::Status ValidateServerOptions(const ServerOptions& o) {
  const Limits& l = o.limits;
  for (const auto& [value, flag] : {std::pair<int64_t, absl::string_view>{o.workers, "--workers"},
                                    {o.queue_capacity, "--queue_capacity"},
                                    {l.max_networks, "--max_networks"},
                                    {l.max_stream_networks, "--max_stream_networks"},
                                    {l.max_streams, "--max_streams"},
                                    {l.max_ensemble_size, "--max_ensemble_size"},
                                    {l.max_inputs, "--max_inputs"},
                                    {l.max_path_points, "--max_path_points"},
                                    {o.batching.max_batch_inputs, "--max_batch_inputs"}}) {
    if (absl::Status s = AtLeastOne(value, flag); !s.ok()) return s;
  }
  if (l.max_message_bytes < (int64_t{1} << 20) || l.max_message_bytes > (int64_t{2047} << 20)) {
    return absl::InvalidArgumentError(absl::StrCat("--max_message_mb must be in [1, 2047], got ",
                                                   l.max_message_bytes / double{1 << 20}));
  }
  if (o.batching.batch_delay_ms < 0 || o.batching.batch_delay_ms > 60000) {
    return absl::InvalidArgumentError(
        absl::StrCat("--batch_delay_ms must be in [0, 60000], got ", o.batching.batch_delay_ms));
  }
  if (o.batching.weight_cache_mb < 0 || o.batching.weight_cache_mb > (int64_t{1} << 20)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--weight_cache_mb must be in [0, 1048576], got ", o.batching.weight_cache_mb));
  }
  if (absl::Status s = Seconds(o.drain_timeout_s, "--drain_timeout_s"); !s.ok()) return s;
  if (absl::Status s = Seconds(o.lifecycle.watch_interval_s, "--watch_interval_s"); !s.ok()) {
    return s;
  }
  if (o.port < 0 || o.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("--port must be in [0, 65535], got ", o.port));
  }
  if (o.metrics_port < kEphemeralMetricsPort || o.metrics_port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics_port must be in [0, 65535], got ", o.metrics_port));
  }
  return absl::OkStatus();
}

}  // namespace hnet::server
