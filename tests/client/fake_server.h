// An in-process hnet.v1.HyperNet server for client tests: deterministic, scriptable answers
// (fail the first N calls with UNAVAILABLE, delay, count calls, record the last requests).
#ifndef HNET_TESTS_CLIENT_FAKE_SERVER_H_
#define HNET_TESTS_CLIENT_FAKE_SERVER_H_

#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "hnet/v1/service.grpc.pb.h"

namespace hnet::client::testing {

// Weights of layer `layer` of network `index` under `seed`: [2, columns] for layer 0,
// [1, columns] for layer 1, element k = seed * 1000 + index * 10 + layer + k / 8 (exact in
// float32 for the default 3 columns).
inline hnet::v1::TensorProto FakeLayer(uint64_t seed, int n, int first_index, int layer,
                                       bool batched, int columns = 3) {
  const int rows = layer == 0 ? 2 : 1;
  hnet::v1::TensorProto t;
  t.set_dtype(hnet::v1::TensorProto::FLOAT32);
  if (batched) t.add_shape(n);
  t.add_shape(rows);
  t.add_shape(columns);
  std::string data;
  data.reserve(static_cast<size_t>(n) * rows * columns * sizeof(float));
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < rows * columns; ++k) {
      const float v = seed * 1000.0f + (first_index + i) * 10.0f + layer + k / 8.0f;
      data.append(reinterpret_cast<const char*>(&v), sizeof(v));
    }
  }
  t.set_data(data);
  return t;
}

class FakeHyperNet final : public hnet::v1::HyperNet::Service {
 public:
  explicit FakeHyperNet(std::string name) : name_(std::move(name)) {}

  std::atomic<int> calls{0};
  std::atomic<int> unavailable_first{0};   // calls answered UNAVAILABLE before serving
  std::atomic<int> stream_fail_after{-1};  // StreamWeights: UNAVAILABLE after k messages
  absl::Duration delay = absl::ZeroDuration();
  std::atomic<int> missing_predictions{0};    // Classify: answer this many inputs too few
  std::atomic<int> list_pages{1};             // ListModels: pages of one model each, tokens "p<k>"
  std::atomic<bool> list_token_stuck{false};  // ListModels: always answer token "p1"
  std::atomic<int> max_networks{0};    // SampleWeights: RESOURCE_EXHAUSTED past this n (0: any)
  std::atomic<int> sample_calls{0};    // SampleWeights calls
  std::atomic<int> stream_calls{0};    // StreamWeights calls
  std::atomic<int> classify_calls{0};  // Classify calls
  std::atomic<int> in_flight{0};       // calls inside a handler now
  std::atomic<int> max_in_flight{0};   // most calls inside handlers at once so far
  std::atomic<int> columns{3};         // columns of every generated layer ([2, c] and [1, c])
  absl::Duration stream_interval = absl::ZeroDuration();  // StreamWeights: wait before each
  absl::Mutex mu;
  hnet::v1::SampleWeightsRequest last_sample ABSL_GUARDED_BY(mu);
  hnet::v1::ClassifyRequest last_classify ABSL_GUARDED_BY(mu);
  hnet::v1::InterpolatePathRequest last_path ABSL_GUARDED_BY(mu);
  std::vector<hnet::v1::ListModelsRequest> list_requests ABSL_GUARDED_BY(mu);
  // The "authorization" metadata of every call, in arrival order ("" when absent).
  std::vector<std::string> authorizations ABSL_GUARDED_BY(mu);

  grpc::Status ListModels(grpc::ServerContext* ctx, const hnet::v1::ListModelsRequest* req,
                          hnet::v1::ListModelsResponse* response) override {
    const InFlight in_flight_scope(this);
    if (grpc::Status s = Enter(ctx); !s.ok()) return s;
    {
      absl::MutexLock lock(&mu);
      list_requests.push_back(*req);
    }
    const int page = req->page_token().empty() ? 0 : std::stoi(req->page_token().substr(1));
    *response->add_models() = Info();
    if (list_pages > 1) response->mutable_models(0)->set_version_number(page + 1);
    if (list_token_stuck) {
      response->set_next_page_token("p1");
    } else if (page + 1 < list_pages) {
      response->set_next_page_token("p" + std::to_string(page + 1));
    }
    return grpc::Status::OK;
  }

  grpc::Status GetModelInfo(grpc::ServerContext* ctx, const hnet::v1::GetModelInfoRequest* req,
                            hnet::v1::ModelInfo* response) override {
    const InFlight in_flight_scope(this);
    if (grpc::Status s = Enter(ctx); !s.ok()) return s;
    if (req->model() != name_) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "model '" + req->model() + "' not found");
    }
    *response = Info();
    return grpc::Status::OK;
  }

  grpc::Status SampleWeights(grpc::ServerContext* ctx, const hnet::v1::SampleWeightsRequest* req,
                             hnet::v1::SampleWeightsResponse* response) override {
    const InFlight in_flight_scope(this);
    if (grpc::Status s = Enter(ctx); !s.ok()) return s;
    sample_calls.fetch_add(1);
    {
      absl::MutexLock lock(&mu);
      last_sample = *req;
    }
    const int n = req->noise().has_z() ? static_cast<int>(req->noise().z().shape(0)) : req->n();
    if (max_networks > 0 && n > max_networks) {
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          "n: " + std::to_string(n) + " networks exceed --max_networks " +
                              std::to_string(max_networks) + "; use StreamWeights");
    }
    for (int layer = 0; layer < 2; ++layer) {
      hnet::v1::LayerWeights* l = response->add_layers();
      l->set_name("layer" + std::to_string(layer));
      *l->mutable_weights() = FakeLayer(req->noise().seed(), n, 0, layer, true, columns);
    }
    if (req->return_z()) {
      hnet::v1::TensorProto* z = response->mutable_z();
      z->set_dtype(hnet::v1::TensorProto::FLOAT32);
      z->add_shape(n);
      z->add_shape(1);
      for (int i = 0; i < n; ++i) {
        const float v = static_cast<float>(i);
        z->mutable_data()->append(reinterpret_cast<const char*>(&v), sizeof(v));
      }
    }
    SetModel(req->version(), response->mutable_model());
    return grpc::Status::OK;
  }

  grpc::Status StreamWeights(grpc::ServerContext* ctx, const hnet::v1::SampleWeightsRequest* req,
                             grpc::ServerWriter<hnet::v1::GeneratedNetwork>* writer) override {
    const InFlight in_flight_scope(this);
    if (grpc::Status s = Enter(ctx); !s.ok()) return s;
    stream_calls.fetch_add(1);
    {
      absl::MutexLock lock(&mu);
      last_sample = *req;
    }
    const int n = req->noise().has_z() ? static_cast<int>(req->noise().z().shape(0)) : req->n();
    for (int i = 0; i < n; ++i) {
      if (i == stream_fail_after.load()) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream broke");
      }
      const absl::Time next = absl::Now() + stream_interval;
      while (absl::Now() < next && !ctx->IsCancelled()) absl::SleepFor(absl::Milliseconds(5));
      hnet::v1::GeneratedNetwork network;
      network.set_index(i);
      for (int layer = 0; layer < 2; ++layer) {
        hnet::v1::LayerWeights* l = network.add_layers();
        l->set_name("layer" + std::to_string(layer));
        *l->mutable_weights() = FakeLayer(req->noise().seed(), 1, i, layer, false, columns);
      }
      if (req->return_z()) {  // As SampleWeights: z_i = [i].
        hnet::v1::TensorProto* z = network.mutable_z();
        z->set_dtype(hnet::v1::TensorProto::FLOAT32);
        z->add_shape(1);
        const float v = static_cast<float>(i);
        z->mutable_data()->assign(reinterpret_cast<const char*>(&v), sizeof(v));
      }
      SetModel(req->version(), network.mutable_model());
      if (!writer->Write(network)) return grpc::Status(grpc::StatusCode::CANCELLED, "gone");
    }
    return grpc::Status::OK;
  }

  grpc::Status Classify(grpc::ServerContext* ctx, const hnet::v1::ClassifyRequest* req,
                        hnet::v1::ClassifyResponse* response) override {
    const InFlight in_flight_scope(this);
    if (grpc::Status s = Enter(ctx); !s.ok()) return s;
    classify_calls.fetch_add(1);
    {
      absl::MutexLock lock(&mu);
      last_classify = *req;
    }
    SetModel(req->version(), response->mutable_model());
    const int n = static_cast<int>(req->inputs().shape(0));
    for (int i = 0; i < n - missing_predictions.load(); ++i) {
      hnet::v1::Prediction* p = response->add_predictions();
      p->set_predicted_class(i % 10);
      for (int c = 0; c < 10; ++c) p->add_probabilities(c == i % 10 ? 0.91f : 0.01f);
      for (int c = 0; c < 10; ++c) p->add_votes(c == i % 10 ? req->ensemble_size() : 0);
      p->set_agreement(1.0f);
      p->set_predictive_entropy(0.5f);
      p->set_mutual_information(0.25f);
    }
    if (req->return_members()) {
      hnet::v1::TensorProto* m = response->mutable_member_predictions();
      m->set_dtype(hnet::v1::TensorProto::INT32);
      m->add_shape(req->ensemble_size());
      m->add_shape(n);
      for (int k = 0; k < req->ensemble_size() * n; ++k) {
        const int32_t v = (k % n) % 10;
        m->mutable_data()->append(reinterpret_cast<const char*>(&v), sizeof(v));
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status InterpolatePath(grpc::ServerContext* ctx,
                               const hnet::v1::InterpolatePathRequest* req,
                               hnet::v1::InterpolatePathResponse* response) override {
    const InFlight in_flight_scope(this);
    if (grpc::Status s = Enter(ctx); !s.ok()) return s;
    {
      absl::MutexLock lock(&mu);
      last_path = *req;
    }
    for (int i = 0; i < req->points(); ++i) {
      hnet::v1::PathPoint* p = response->add_points();
      p->set_t(static_cast<double>(i) / (req->points() - 1));
      p->set_direct_accuracy(1.0 - 0.5 * p->t());
      p->set_interpolated_accuracy(0.75);
    }
    response->set_evaluated_inputs(req->inputs().shape_size() > 0 ? req->inputs().shape(0) : 10000);
    return grpc::Status::OK;
  }

 private:
  // Counts a call in in_flight (and max_in_flight) for the life of its handler.
  class InFlight {
   public:
    explicit InFlight(FakeHyperNet* service) : service_(service) {
      const int now = service_->in_flight.fetch_add(1) + 1;
      int most = service_->max_in_flight.load();
      while (most < now && !service_->max_in_flight.compare_exchange_weak(most, now)) {
      }
    }
    ~InFlight() { service_->in_flight.fetch_sub(1); }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

   private:
    FakeHyperNet* const service_;
  };

  // Counts the call, applies the delay and the scripted UNAVAILABLE answers.
  grpc::Status Enter(grpc::ServerContext* ctx) {
    calls.fetch_add(1);
    {
      const auto& metadata = ctx->client_metadata();
      auto it = metadata.find("authorization");
      absl::MutexLock lock(&mu);
      authorizations.push_back(
          it == metadata.end() ? "" : std::string(it->second.data(), it->second.size()));
    }
    const absl::Time until = absl::Now() + delay;
    while (absl::Now() < until && !ctx->IsCancelled()) absl::SleepFor(absl::Milliseconds(5));
    if (unavailable_first.fetch_sub(1) > 0) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "fake " + name_ + " warming up");
    }
    return grpc::Status::OK;
  }

  // The served version: the pinned one, else the latest (3).
  void SetModel(int64_t version, hnet::v1::ModelVersion* model) const {
    model->set_name(name_);
    model->set_version(version == 0 ? 3 : version);
    model->set_content_hash("deadbeef");
  }

  hnet::v1::ModelInfo Info() const {
    hnet::v1::ModelInfo info;
    info.set_name(name_);
    info.set_version("deadbeef");
    info.set_version_number(3);
    info.set_latest(true);
    info.mutable_target()->set_name("tiny");
    info.mutable_target()->set_input_channels(1);
    info.mutable_target()->set_input_height(2);
    info.mutable_target()->set_input_width(2);
    info.mutable_target()->add_layers()->mutable_conv()->set_filters(2);
    info.mutable_target()->add_layers()->mutable_dense()->set_units(1);
    for (int layer = 0; layer < 2; ++layer) {
      hnet::v1::LayerInfo* l = info.add_layers();
      l->set_name("layer" + std::to_string(layer));
      l->set_kind(layer == 0 ? "conv" : "dense");
      l->add_shape(layer == 0 ? 2 : 1);
      l->add_shape(columns);
      l->set_weight_count((layer == 0 ? 2 : 1) * columns);
    }
    info.set_weight_count(3 * columns);
    info.set_z_dim(1);
    info.set_z_distribution(hnet::v1::HyperNetConfig::NORMAL);
    info.set_lambda(1e5);
    info.set_step(42);
    info.mutable_validation()->set_networks(200);
    info.mutable_validation()->set_mean_accuracy(0.97);
    info.set_device("cpu");
    info.set_parameter_count(1234);
    return info;
  }

  const std::string name_;
};

// A FakeHyperNet listening on 127.0.0.1 at a free port.
class FakeServer {
 public:
  explicit FakeServer(std::string name = "fake") : service_(std::move(name)) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~FakeServer() { server_->Shutdown(absl::ToChronoTime(absl::Now())); }

  FakeHyperNet& service() { return service_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  FakeHyperNet service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace hnet::client::testing

#endif  // HNET_TESTS_CLIENT_FAKE_SERVER_H_
