#include <grpcpp/grpcpp.h>
#include <grpcpp/support/byte_buffer.h>

#include <cmath>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/rpc_bench_parts.h"

namespace hnet::bench {

SampleRow BenchSampleWeights(int n, const hnet::server::LoadedModel& model,
                             AccessLogSink& access_log, const std::string& payload, const hnet::client::Client& client,
                             hnet::v1::HyperNet::Stub& stub, grpc::GenericStub& raw_stub,
                             double min_seconds, int min_rounds, int max_rounds,
                             std::chrono::milliseconds gap, std::ostream* dump) {
  SampleRow row;
  row.n = n;
  row.payload_bytes = static_cast<int64_t>(payload.size());

  hnet::client::SampleOptions options;
  options.n = n;
  options.noise = hnet::client::Noise::FromSeed(kSampleSeed);
  options.gauge_fixed = false;

  hnet::v1::SampleWeightsRequest request;
  request.set_model(model.name);
  request.set_n(n);
  request.mutable_noise()->set_seed(kSampleSeed);
  request.set_gauge_fixed(false);
  const grpc::ByteBuffer raw_request = SerializeToByteBuffer(request);
  const std::string raw_method = absl::StrCat("/bench.Raw/", n);

  // The handler latency the server logged for the call that just returned.
  auto handler_latency = [&] {
    std::optional<double> v = access_log.TakeLast("SampleWeights");
    if (!v) Die("no access-log line for SampleWeights (log format changed?)");
    return *v;
  };
  auto via_client = [&] {
    auto r = Check(client.SampleWeights(model.name, options), "Client::SampleWeights");
    if (static_cast<int>(r.layers.size()) != model.layout.num_layers()) Die("client: layers");
  };
  hnet::v1::SampleWeightsResponse stub_response;
  auto via_stub = [&] {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    hnet::v1::SampleWeightsResponse r;
    CheckGrpc(stub.SampleWeights(&context, request, &r), "Stub::SampleWeights");
    stub_response.Swap(&r);
  };
  auto via_raw = [&] {
    grpc::ByteBuffer response;
    CheckGrpc(RawCall(raw_stub, raw_method, raw_request, &response), "raw call");
    if (static_cast<int64_t>(response.Length()) != row.payload_bytes) Die("raw: size differs");
  };
  hnet::v1::SampleWeightsResponse prebuilt;
  if (!prebuilt.ParseFromString(payload)) Die("payload does not parse");
  auto serialize = [&] {
    grpc::ByteBuffer buffer;
    bool own = false;
    CheckGrpc(grpc::SerializationTraits<hnet::v1::SampleWeightsResponse>::Serialize(prebuilt,
                                                                                   &buffer, &own),
              "serialize");
    if (static_cast<int64_t>(buffer.Length()) != row.payload_bytes) Die("serialize: size");
  };
  auto via_raw_parse = [&] {
    grpc::ByteBuffer response;
    CheckGrpc(RawCall(raw_stub, raw_method, raw_request, &response), "raw call");
    hnet::v1::SampleWeightsResponse r;
    CheckGrpc(grpc::SerializationTraits<hnet::v1::SampleWeightsResponse>::Deserialize(&response, &r),
              "raw parse");
  };

  // Warm-up (connections, allocator, first-touch of large buffers).
  for (int i = 0; i < 2; ++i) {
    via_raw();
    via_raw_parse();
    serialize();
    via_stub();
    via_client();
  }
  hnet::v1::SampleWeightsResponse weights_only = stub_response;
  weights_only.clear_model();  // The serving version, which the in-process payload lacks.
  row.identical = weights_only.SerializeAsString() == payload;

  enum Method { kRaw, kRawParse, kSerialize, kStub, kClient, kMethods };
  static const char* const kNames[] = {"raw", "raw_parse", "serialize", "stub", "client"};
  const std::function<void()> methods[kMethods] = {via_raw, via_raw_parse, serialize, via_stub,
                                                   via_client};
  std::vector<std::vector<double>> times(kMethods);
  std::vector<std::vector<double>> handler(kMethods);  // kStub and kClient only
  access_log.TakeLast("SampleWeights");
  const Clock::time_point start = Clock::now();
  int round = 0;
  while (round < max_rounds &&
         (round < min_rounds || Seconds(start, Clock::now()) < min_seconds)) {
    for (int k = 0; k < kMethods; ++k) {
      const int m = (k + round) % kMethods;  // Rotate the order.
      // Every call starts from an idle process: no OpenMP spin or buffer freeing left over
      // from the previous call lands on the next one (mostly matters for the raw baseline,
      // which would otherwise often follow a hypernetwork forward).
      std::this_thread::sleep_for(gap);
      const Clock::time_point t0 = Clock::now();
      methods[m]();
      times[m].push_back(Seconds(t0, Clock::now()));
      if (m == kStub || m == kClient) handler[m].push_back(handler_latency());
    }
    ++round;
  }
  row.rounds = round;
  if (dump != nullptr) {  // One CSV line per call: n, round, method, seconds, handler seconds.
    for (int m = 0; m < kMethods; ++m) {
      for (size_t r = 0; r < times[m].size(); ++r) {
        *dump << n << "," << r << "," << kNames[m] << "," << times[m][r] << ","
              << (handler[m].empty() ? NAN : handler[m][r]) << "\n";
      }
    }
  }
  auto transport = [&](int m) {
    std::vector<double> t(times[m].size());
    for (size_t r = 0; r < t.size(); ++r) t[r] = times[m][r] - handler[m][r];
    return Percentile(t, 0.5);
  };
  row.raw_s = Percentile(times[kRaw], 0.5);
  row.raw_parse_s = Percentile(times[kRawParse], 0.5);
  row.serialize_s = Percentile(times[kSerialize], 0.5);
  row.stub_s = Percentile(times[kStub], 0.5);
  row.client_s = Percentile(times[kClient], 0.5);
  row.handler_s = Percentile(handler[kClient], 0.5);
  row.client_transport_s = transport(kClient);
  row.stub_transport_s = transport(kStub);
  return row;
}

}  // namespace hnet::bench
