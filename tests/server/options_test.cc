// ServerOptions: every limit, time and port is range-checked, by main() and Server::Start.
#include "server/options.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "tests/server/server_test_util.h"

namespace hnet::server {
namespace {

struct BadOption {
  std::function<void(ServerOptions&)> set;
  std::string flag;
};

TEST(ValidateServerOptions, DefaultsPassAndEveryBadValueNamesItsFlag) {
  EXPECT_TRUE(ValidateServerOptions(ServerOptions{}).ok());
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<BadOption> cases = {
      {[](ServerOptions& o) { o.workers = 0; }, "--workers"},
      {[](ServerOptions& o) { o.queue_capacity = -1; }, "--queue_capacity"},
      {[](ServerOptions& o) { o.limits.max_networks = 0; }, "--max_networks"},
      {[](ServerOptions& o) { o.limits.max_stream_networks = 0; }, "--max_stream_networks"},
      {[](ServerOptions& o) { o.limits.max_streams = 0; }, "--max_streams"},
      {[](ServerOptions& o) { o.limits.max_ensemble_size = -3; }, "--max_ensemble_size"},
      {[](ServerOptions& o) { o.limits.max_inputs = 0; }, "--max_inputs"},
      {[](ServerOptions& o) { o.limits.max_path_points = 0; }, "--max_path_points"},
      {[](ServerOptions& o) { o.limits.max_message_bytes = 1000; }, "--max_message_mb"},
      {[](ServerOptions& o) { o.batching.max_batch_inputs = 0; }, "--max_batch_inputs"},
      {[](ServerOptions& o) { o.batching.batch_delay_ms = -1; }, "--batch_delay_ms"},
      {[](ServerOptions& o) { o.batching.weight_cache_mb = -1; }, "--weight_cache_mb"},
      {[](ServerOptions& o) { o.batching.weight_cache_mb = int64_t{1} << 44; },
       "--weight_cache_mb"},
      {[inf](ServerOptions& o) { o.drain_timeout_s = inf; }, "--drain_timeout_s"},
      {[](ServerOptions& o) { o.drain_timeout_s = std::nan(""); }, "--drain_timeout_s"},
      {[](ServerOptions& o) { o.drain_timeout_s = -1; }, "--drain_timeout_s"},
      {[inf](ServerOptions& o) { o.lifecycle.watch_interval_s = inf; }, "--watch_interval_s"},
      {[](ServerOptions& o) { o.port = 70000; }, "--port"},
      {[](ServerOptions& o) { o.metrics_port = -7; }, "--metrics_port"},
  };
  for (const BadOption& c : cases) {
    ServerOptions options;
    c.set(options);
    const absl::Status s = ValidateServerOptions(options);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.flag;
    EXPECT_EQ(s.message().rfind(c.flag, 0), 0u) << c.flag << ": " << s;
  }
}

class ServerOptionsTest : public testing::ServerTest {};

TEST_F(ServerOptionsTest, StartRefusesOptionsOutOfRange) {
  auto registry = ModelRegistry::LoadDirectory(dir_.string(), registry_options_);
  ASSERT_TRUE(registry.ok()) << registry.status();
  options_.drain_timeout_s = std::numeric_limits<double>::infinity();
  auto server = Server::Start(std::move(*registry), options_);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace hnet::server
