// Helpers shared by the server tests: a tiny checkpoint written in the test, its local core
// computation, and an in-process server on 127.0.0.1 with a free port.
#ifndef HNET_TESTS_SERVER_SERVER_TEST_UTIL_H_
#define HNET_TESTS_SERVER_SERVER_TEST_UTIL_H_

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <string>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/hypernetwork.h"
#include "core/target_spec.h"
#include "hnet/v1/service.grpc.pb.h"
#include "server/model_registry.h"
#include "server/server.h"

namespace hnet::server::testing {

// The MNIST target with a tiny hypernetwork. init_scale 4 makes the generated networks
// decisive (no near-ties between classes), so predicted classes compare exactly.
inline hnet::v1::TrainingConfig TinyConfig() {
  hnet::v1::TrainingConfig config;
  config.set_name("tiny");
  *config.mutable_target() = core::MnistTargetSpec();
  hnet::v1::HyperNetConfig* h = config.mutable_hypernet();
  h->set_z_dim(8);
  h->add_extractor_hidden(16);
  h->set_code_size(4);
  for (int l = 0; l < 4; ++l) h->add_generators()->add_hidden(8);
  h->set_init_scale(4.0);
  return core::WithDefaults(config);
}

// Writes a checkpoint of a freshly initialised tiny hypernetwork (parameters from
// `torch_seed`, batch-norm statistics moved off their initial values by a few training-mode
// passes) to `path`.
inline void WriteTinyCheckpoint(const std::string& path, uint64_t torch_seed = 1) {
  const hnet::v1::TrainingConfig config = TinyConfig();
  torch::manual_seed(torch_seed);
  core::HyperNetwork model(core::TargetLayout::Create(config.target()).value(), config.hypernet());
  {
    torch::NoGradGuard no_grad;
    model->train();
    for (int i = 0; i < 3; ++i) model->forward(torch::rand({16, 8}) * 2 - 1);
  }
  hnet::v1::Checkpoint ckpt;
  ckpt.set_format_version(core::kCheckpointFormatVersion);
  *ckpt.mutable_config() = config;
  ckpt.set_step(42);
  ckpt.set_lambda(1000);
  ckpt.set_learning_rate(3e-4);
  core::SaveModule(*model, &ckpt);
  ckpt.mutable_last_validation()->set_step(42);
  ckpt.mutable_last_validation()->set_mean_accuracy(0.5);
  ckpt.set_created_by("server_tests");
  ASSERT_TRUE(core::WriteCheckpoint(path, ckpt).ok());
}

// Flips one payload byte of checkpoint `path` in place: its CRC check then fails.
inline void CorruptCheckpoint(const std::string& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(100);
  const char c = static_cast<char>(f.get());
  f.seekp(100);
  f.put(static_cast<char>(c ^ 0x5a));
}

// The hypernetwork of checkpoint `path`, loaded with core only, in eval mode on the CPU.
inline core::HyperNetwork LoadLocal(const std::string& path) {
  const hnet::v1::Checkpoint ckpt = core::ReadCheckpoint(path).value();
  core::HyperNetwork model(core::TargetLayout::Create(ckpt.config().target()).value(),
                           ckpt.config().hypernet());
  EXPECT_TRUE(core::LoadModule(ckpt, model.get()).ok());
  model->eval();
  return model;
}

// A client channel that accepts messages of any size (the server enforces its limits).
inline std::shared_ptr<grpc::Channel> Channel(const std::string& endpoint) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  return grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
}

// SampleWeights (or StreamWeights) of `n` networks of model tiny from `seed`.
inline hnet::v1::SampleWeightsRequest TinyRequest(int64_t n, uint64_t seed) {
  hnet::v1::SampleWeightsRequest request;
  request.set_model("tiny");
  request.set_n(n);
  request.mutable_noise()->set_seed(seed);
  return request;
}

// A per-test directory with tiny.hnet, and an in-process server over it.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    at::set_num_threads(1);
    dir_ = std::filesystem::temp_directory_path() /
           ("hnet_server_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    WriteTinyCheckpoint(ModelPath("tiny"));
    options_.address = "127.0.0.1";
    options_.port = 0;
    options_.workers = 2;
    options_.drain_timeout_s = 5;
  }
  void TearDown() override {
    StopServer();
    std::filesystem::remove_all(dir_);
  }

  std::string ModelPath(const std::string& name) const {
    return (dir_ / (name + ".hnet")).string();
  }

  // (Re)starts the server over the directory with options_ and registry_options_ (watching
  // the directory only when options_.lifecycle.models_dir is set).
  void StartServer() {
    StopServer();
    auto registry = ModelRegistry::LoadDirectory(dir_.string(), registry_options_);
    ASSERT_TRUE(registry.ok()) << registry.status();
    auto server = Server::Start(std::move(*registry), options_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = Channel(server_->endpoint());
    stub_ = hnet::v1::HyperNet::NewStub(channel_);
  }

  void StopServer() {
    stub_.reset();
    channel_.reset();
    server_.reset();
  }

  std::filesystem::path dir_;
  ServerOptions options_;
  RegistryOptions registry_options_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<hnet::v1::HyperNet::Stub> stub_;
};

// ServerTest with tiny.hnet loaded in-process as model_ (no server started).
class TinyModelTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    auto model = LoadModel(ModelPath("tiny"), "tiny", RegistryOptions{});
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = *model;
  }
  ModelPtr model_;
};

// A context with a generous deadline, so a hung server fails the test instead of hanging it.
inline std::unique_ptr<grpc::ClientContext> Context(int seconds = 60) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return context;
}

inline at::Tensor FromProto(const hnet::v1::TensorProto& proto) {
  return core::TensorFromProto(proto).value();
}

// Raw bytes <-> a gRPC byte buffer (for calls without generated stubs).
inline grpc::ByteBuffer Bytes(const std::string& s) {
  grpc::Slice slice(s);
  return grpc::ByteBuffer(&slice, 1);
}

inline std::string ToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  std::string out;
  for (const grpc::Slice& s : slices)
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// grpc.health.v1.Health/Check for `service`; returns the ServingStatus (1 = SERVING).
inline int HealthStatus(grpc::Channel* channel, const std::string& service) {
  grpc::GenericStub stub(channel->shared_from_this());
  // HealthCheckRequest{service = 1}: tag 0x0a, length, bytes.
  std::string request;
  if (!service.empty())
    request = std::string("\x0a", 1) + static_cast<char>(service.size()) + service;
  grpc::ByteBuffer request_bytes = Bytes(request);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request_bytes,
                 &response, [&](grpc::Status s) { done.set_value(s); });
  grpc::Status status = done.get_future().get();
  if (!status.ok()) return -status.error_code();
  const std::string bytes = ToString(response);  // HealthCheckResponse{status = 1}: 0x08 N.
  return bytes.size() == 2 && bytes[0] == 0x08 ? bytes[1] : 0;
}

}  // namespace hnet::server::testing

#endif  // HNET_TESTS_SERVER_SERVER_TEST_UTIL_H_
