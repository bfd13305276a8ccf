// Health, reflection, draining shutdown, and the hnet-server binary end to end.
#include <fcntl.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cstdlib>
#include <future>
#include <regex>
#include <thread>

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

TEST_F(LifecycleTest, BinaryPrintsItsPortServesAndExitsCleanlyOnSigterm) {
  // $HNET_BIN_DIR, else the folder of this test binary (both land in build/bin).
  const char* bin_dir = std::getenv("HNET_BIN_DIR");
  const std::string dir =
      bin_dir != nullptr ? std::string(bin_dir)
                         : std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
  const std::string bin = dir + "/hnet-server";
  if (::access(bin.c_str(), X_OK) != 0) GTEST_SKIP() << bin << " is not built";
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  const std::string models = dir_.string();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::execl(bin.c_str(), bin.c_str(), "--models", models.c_str(), "--port", "0", "--address",
            "127.0.0.1", "--device", "cpu", "--threads", "1", "--log_level", "warn",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string text;
  std::smatch match;
  const std::regex listening("listening on ([0-9.]+):([0-9]+)\n");
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!std::regex_search(text, match, listening) && std::chrono::steady_clock::now() < give_up) {
    pollfd fd{out[0], POLLIN, 0};
    if (::poll(&fd, 1, 1000) <= 0) continue;
    char buffer[256];
    const ssize_t n = ::read(out[0], buffer, sizeof(buffer));
    if (n <= 0) break;
    text.append(buffer, n);
  }
  ASSERT_FALSE(match.empty()) << "no 'listening on' line; got: " << text;
  auto channel = testing::Channel(match[1].str() + ":" + match[2].str());
  auto stub = hnet::v1::HyperNet::NewStub(channel);
  hnet::v1::ListModelsResponse list;
  EXPECT_TRUE(stub->ListModels(Context().get(), {}, &list).ok());
  EXPECT_EQ(list.models_size(), 1);
  ::kill(pid, SIGTERM);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  EXPECT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
  ::close(out[0]);
}

}  // namespace
}  // namespace hnet::server
