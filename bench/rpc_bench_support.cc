#include "bench/rpc_bench_support.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <numeric>

#include "absl/strings/str_cat.h"

namespace hnet::bench {
namespace {

class RawReactor final : public grpc::ServerGenericBidiReactor {
 public:
  explicit RawReactor(const grpc::ByteBuffer* payload) : payload_(payload) {
    if (payload_ == nullptr) {
      Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "unknown method"));
      return;
    }
    StartRead(&request_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request"));
      return;
    }
    response_ = *payload_;  // Shares the slices.
    StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
  }
  void OnDone() override { delete this; }

 private:
  const grpc::ByteBuffer* payload_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

}  // namespace

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

void Die(const std::string& what) {
  std::cerr << "rpc_bench: " << what << "\n";
  std::exit(1);
}

void CheckGrpc(const grpc::Status& s, const std::string& what) {
  if (!s.ok()) Die(absl::StrCat(what, ": gRPC ", s.error_code(), " ", s.error_message()));
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

double Mean(const std::vector<double>& v) {
  return v.empty() ? NAN : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return absl::StrCat(a, " ", b, " ", c);
}

std::shared_ptr<grpc::Channel> UnlimitedChannel(const std::string& endpoint) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  return grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
}

void RawPayloadService::Add(const std::string& method, const std::string& bytes) {
  grpc::Slice slice(bytes);
  payloads_.emplace(method, grpc::ByteBuffer(&slice, 1));
}

grpc::ServerGenericBidiReactor* RawPayloadService::CreateReactor(
    grpc::GenericCallbackServerContext* ctx) {
  auto it = payloads_.find(ctx->method());
  return new RawReactor(it == payloads_.end() ? nullptr : &it->second);
}

grpc::Status RawCall(grpc::GenericStub& stub, const std::string& method,
                     const grpc::ByteBuffer& request, grpc::ByteBuffer* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &request, response,
                 [&](grpc::Status s) {
                   std::lock_guard<std::mutex> lock(mu);
                   status = std::move(s);
                   done = true;
                   cv.notify_one();
                 });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  return status;
}

grpc::ByteBuffer SerializeToByteBuffer(const google::protobuf::MessageLite& message) {
  const std::string bytes = message.SerializeAsString();
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::optional<double> AccessLogSink::TakeLast(const std::string& method) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = last_.find(method);
  if (it == last_.end()) return std::nullopt;
  const double v = it->second;
  last_.erase(it);
  return v;
}

std::vector<double> AccessLogSink::TakeAll(const std::string& method) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<double> out;
  out.swap(all_[method]);
  return out;
}

void AccessLogSink::sink_it_(const spdlog::details::log_msg& msg) {
  const std::string text(msg.payload.data(), msg.payload.size());
  if (text.rfind("rpc=", 0) != 0) return;
  const size_t method_end = text.find(' ');
  const size_t at = text.find("latency_ms=");
  if (method_end == std::string::npos || at == std::string::npos) return;
  const std::string method = text.substr(4, method_end - 4);
  const double seconds = std::strtod(text.c_str() + at + 11, nullptr) / 1e3;
  std::lock_guard<std::mutex> lock(mu_);
  last_[method] = seconds;
  all_[method].push_back(seconds);
}

}  // namespace hnet::bench
