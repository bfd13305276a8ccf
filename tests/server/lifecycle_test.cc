// Health, reflection, draining shutdown, and the hnet-server binary end to end.
#include <fcntl.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdlib>
#include <future>
#include <thread>

#include "hnet/v1/admin.grpc.pb.h"
#include "tests/server/server_process.h"
#include "tests/server/server_test_util.h"

namespace hnet::server {
namespace {

using testing::Bytes;
using testing::Context;
using testing::HealthStatus;
using testing::ToString;

// Service names listed by grpc.reflection.v1alpha (raw response bytes).
std::string ReflectionListServices(grpc::Channel* channel) {
  grpc::GenericStub stub(channel->shared_from_this());
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag;
  bool ok;
  auto step = [&](int expected) {
    EXPECT_TRUE(cq.Next(&tag, &ok));
    EXPECT_EQ(tag, reinterpret_cast<void*>(expected));
    return ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  step(1);
  // ServerReflectionRequest{list_services = 7: ""}.
  grpc::ByteBuffer request = Bytes(std::string("\x3a\x00", 2));
  call->Write(request, reinterpret_cast<void*>(2));
  step(2);
  call->WritesDone(reinterpret_cast<void*>(3));
  step(3);
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(4));
  const bool read = step(4);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  step(5);
  return read ? ToString(response) : "";
}

class LifecycleTest : public testing::ServerTest {};

TEST_F(LifecycleTest, ReportsHealthAndOffersReflection) {
  StartServer();
  EXPECT_EQ(HealthStatus(channel_.get(), ""), 1);
  EXPECT_EQ(HealthStatus(channel_.get(), "hnet.v1.HyperNet"), 1);
  const std::string services = ReflectionListServices(channel_.get());
  EXPECT_NE(services.find("hnet.v1.HyperNet"), std::string::npos);
  EXPECT_NE(services.find("grpc.health.v1.Health"), std::string::npos);
}

TEST_F(LifecycleTest, ShutdownFinishesInFlightCallsThenRefusesNewOnes) {
  StartServer();
  hnet::v1::SampleWeightsRequest request;
  request.set_model("tiny");
  request.set_n(300);
  request.mutable_noise()->set_seed(1);
  auto context = Context();
  auto reader = stub_->StreamWeights(context.get(), request);
  hnet::v1::GeneratedNetwork network;
  ASSERT_TRUE(reader->Read(&network));  // The call is in flight.
  std::thread shutdown([&] { server_->Shutdown(); });
  // While draining: health says NOT_SERVING (2) and new calls are refused.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (HealthStatus(channel_.get(), "") != 2 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(HealthStatus(channel_.get(), "hnet.v1.HyperNet"), 2);
  hnet::v1::ListModelsResponse list;
  EXPECT_EQ(stub_->ListModels(Context(5).get(), {}, &list).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  int count = 1;  // The call in flight completes.
  while (reader->Read(&network)) ++count;
  grpc::Status status = reader->Finish();
  EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_EQ(count, 300);
  shutdown.join();
  EXPECT_EQ(stub_->ListModels(Context(5).get(), {}, &list).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(LifecycleTest, APortInUseIsAnErrorNotASharedPort) {
  StartServer();
  auto registry = ModelRegistry::LoadDirectory(dir_.string(), registry_options_);
  ASSERT_TRUE(registry.ok()) << registry.status();
  ServerOptions same_port = options_;
  same_port.port = server_->port();
  auto second = Server::Start(std::move(*registry), same_port);
  ASSERT_FALSE(second.ok()) << "a second server started on port " << same_port.port;
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("cannot listen"), std::string::npos) << second.status();
}

TEST_F(LifecycleTest, BinaryServesModelAdminOnlyWhenItsFlagIsGiven) {
  for (const bool admin : {false, true}) {
    testing::ServerProcess server;
    ASSERT_EQ(::access(server.BinaryPath().c_str(), X_OK), 0)
        << server.BinaryPath() << " is not built (server_tests depends on hnet-server)";
    std::vector<std::string> flags;
    if (admin) flags.push_back("--admin_service");  // A bare flag turns it on.
    ASSERT_TRUE(server.Start(dir_.string(), flags)) << server.output();
    auto stub = hnet::v1::ModelAdmin::NewStub(testing::Channel(server.endpoint()));
    hnet::v1::ModelChanges changes;
    const grpc::Status status = stub->ReloadModels(Context().get(), {}, &changes);
    EXPECT_EQ(status.error_code(), admin ? grpc::StatusCode::OK : grpc::StatusCode::UNIMPLEMENTED)
        << status.error_message();
    EXPECT_EQ(server.Stop(), 0);
  }
  // Flags appended to a container's ENTRYPOINT cannot turn it back on (deploy/README.md).
  testing::ServerProcess repeated;
  EXPECT_FALSE(repeated.Start(dir_.string(), {"--admin_service=false", "--admin_service=true"}))
      << repeated.output();
  EXPECT_NE(repeated.Stop(), 0);
}

TEST_F(LifecycleTest, BinaryPrintsItsPortServesAndExitsCleanlyOnSigterm) {
  testing::ServerProcess server;
  ASSERT_EQ(::access(server.BinaryPath().c_str(), X_OK), 0)
      << server.BinaryPath() << " is not built (server_tests depends on hnet-server)";
  ASSERT_TRUE(server.Start(dir_.string())) << "no 'listening on' line; got: " << server.output();
  auto channel = testing::Channel(server.endpoint());
  auto stub = hnet::v1::HyperNet::NewStub(channel);
  hnet::v1::ListModelsResponse list;
  EXPECT_TRUE(stub->ListModels(Context().get(), {}, &list).ok());
  EXPECT_EQ(list.models_size(), 1);
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace hnet::server
