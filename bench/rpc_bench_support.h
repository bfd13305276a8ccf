// rpc_bench's plumbing: timing and statistics helpers, the raw gRPC baseline service, and a
// spdlog sink that reads the server's access log (see rpc_bench.cc for what is measured).
#ifndef HNET_BENCH_RPC_BENCH_SUPPORT_H_
#define HNET_BENCH_RPC_BENCH_SUPPORT_H_

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/byte_buffer.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/message_lite.h"
#include "spdlog/sinks/base_sink.h"

namespace hnet::bench {

using Clock = std::chrono::steady_clock;

// Seeds of the benchmarked requests.
inline constexpr uint64_t kSampleSeed = 12345;
inline constexpr uint64_t kEnsembleSeed = 2018;

double Seconds(Clock::time_point a, Clock::time_point b);

// Prints "rpc_bench: <what>" to stderr and exits with status 1.
[[noreturn]] void Die(const std::string& what);

// The value of `v`, or Die naming `what` and the status.
template <typename T>
T Check(absl::StatusOr<T> v, const std::string& what) {
  if (!v.ok()) Die(what + ": " + v.status().ToString());
  return *std::move(v);
}

// Die naming `what` unless `s` is OK.
void CheckGrpc(const grpc::Status& s, const std::string& what);

// Nearest-rank percentile of `v` (q in [0, 1]); NaN when empty.
double Percentile(std::vector<double> v, double q);

// Arithmetic mean; NaN when empty.
double Mean(const std::vector<double>& v);

// The three load averages of /proc/loadavg, space-separated.
std::string LoadAverage();

// An insecure channel to `endpoint` without message size limits.
std::shared_ptr<grpc::Channel> UnlimitedChannel(const std::string& endpoint);

// The raw baseline: a generic callback service answering method "/bench.Raw/<n>" with a
// pre-built ByteBuffer (copies of a ByteBuffer share its slices: no per-call copy or encode).
class RawPayloadService final : public grpc::CallbackGenericService {
 public:
  // Not thread-safe; fill before the server starts.
  void Add(const std::string& method, const std::string& bytes);

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override;

 private:
  std::map<std::string, grpc::ByteBuffer> payloads_;
};

// One blocking unary call through the generic stub (120 s deadline); fills `response`.
grpc::Status RawCall(grpc::GenericStub& stub, const std::string& method,
                     const grpc::ByteBuffer& request, grpc::ByteBuffer* response);

// `message` serialized into a one-slice ByteBuffer.
grpc::ByteBuffer SerializeToByteBuffer(const google::protobuf::MessageLite& message);

// The server's access log ("rpc=<method> model=... size=... code=OK latency_ms=<x>", one line
// per call, written by the handler before it returns, so before the client has the response):
// the handler latency of each call, without touching the server. Thread-safe.
class AccessLogSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // Latency (s) of the latest `method` call logged since the last Take, if any.
  std::optional<double> TakeLast(const std::string& method);
  // Every `method` latency (s) logged since the last call.
  std::vector<double> TakeAll(const std::string& method);

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  std::mutex mu_;
  std::map<std::string, double> last_;
  std::map<std::string, std::vector<double>> all_;
};

}  // namespace hnet::bench

#endif  // HNET_BENCH_RPC_BENCH_SUPPORT_H_
