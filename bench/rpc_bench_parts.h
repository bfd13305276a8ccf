// rpc_bench's two parts (see rpc_bench.cc): SampleWeights throughput next to a raw gRPC
// baseline, and Classify latency from concurrent clients.
#ifndef HNET_BENCH_RPC_BENCH_PARTS_H_
#define HNET_BENCH_RPC_BENCH_PARTS_H_

#include <grpcpp/generic/generic_stub.h>

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

#include "bench/rpc_bench_support.h"
#include "client/client.h"
#include "hnet/v1/service.grpc.pb.h"
#include "server/model_registry.h"
#include "server/server.h"

namespace hnet::bench {

struct SampleRow {
  int n = 0;
  int64_t payload_bytes = 0;
  int rounds = 0;
  double handler_s = 0;    // server handler of the hnet::client calls (access log)
  double client_s = 0;     // hnet::client::Client::SampleWeights
  double stub_s = 0;       // generated HyperNet::Stub::SampleWeights
  double raw_s = 0;        // generic stub, pre-built payload, bytes only
  double raw_parse_s = 0;  // as raw, then parsed into SampleWeightsResponse
  double serialize_s = 0;  // gRPC's proto serialization of the response (the server skips it)
  double client_transport_s = 0;  // median over hnet::client calls of (call − its handler)
  double stub_transport_s = 0;    // median over stub calls of (call − its handler)
  bool identical = false;  // the server's response bytes equal the in-process ones
};

// SampleWeights of n networks (seed kSampleSeed, raw weights) through `client`, `stub` and the
// raw baseline (`raw_stub`, method "/bench.Raw/<n>" answering `payload`, the in-process bytes of
// the same response), interleaved round by round after `gap` idle each, until both min_rounds
// and min_seconds are reached (at most max_rounds). Writes every call to `dump` as CSV when not
// null. Medians in the row; Die on any failed call.
SampleRow BenchSampleWeights(int n, const hnet::server::LoadedModel& model,
                             AccessLogSink& access_log, const std::string& payload,
                             const hnet::client::Client& client, hnet::v1::HyperNet::Stub& stub,
                             grpc::GenericStub& raw_stub, double min_seconds, int min_rounds,
                             int max_rounds, std::chrono::milliseconds gap, std::ostream* dump);

struct LatencyRow {
  std::string label;
  int clients = 0;
  int64_t requests = 0;
  double p50_s = 0, p99_s = 0, mean_s = 0, max_s = 0;
  double wall_s = 0;
  int64_t passes = 0;  // ensemble passes the batcher ran during the timed phase
  double handler_p50_s = 0, handler_p99_s = 0;  // server handler latencies (access log)
};

// Classify of one fixed uint8 image by a K = `ensemble` network mean-probability ensemble from
// `clients` concurrent hnet::client::Clients on `endpoint`, each `warmup_per_client` untimed
// then `requests_per_client` timed calls; seed kEnsembleSeed, or a fresh seed per call when
// `fresh_seeds`. Die on any failed call.
LatencyRow BenchClassify(const std::string& label, int clients, int requests_per_client,
                         int warmup_per_client, bool fresh_seeds, const std::string& endpoint,
                         const hnet::server::LoadedModel& model, int ensemble,
                         const hnet::server::Server& server, AccessLogSink& access_log);

}  // namespace hnet::bench

#endif  // HNET_BENCH_RPC_BENCH_PARTS_H_
