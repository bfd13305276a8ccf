// The hnet-server binary rescans --models on SIGHUP (with periodic watching switched off)
// and keeps running.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

#include "tests/server/server_process.h"
#include "tests/server/server_test_util.h"

namespace hnet::server {
namespace {

using testing::Context;

std::vector<std::string> Names(hnet::v1::HyperNet::Stub& stub) {
  hnet::v1::ListModelsResponse list;
  EXPECT_TRUE(stub.ListModels(Context().get(), {}, &list).ok());
  std::vector<std::string> names;
  for (const hnet::v1::ModelInfo& m : list.models()) names.push_back(m.name());
  return names;
}

class SighupTest : public testing::ServerTest {};

TEST_F(SighupTest, BinaryRescansTheModelsDirectoryOnSighup) {
  testing::ServerProcess server;
  ASSERT_EQ(::access(server.BinaryPath().c_str(), X_OK), 0)
      << server.BinaryPath() << " is not built (server_tests depends on hnet-server)";
  ASSERT_TRUE(server.Start(dir_.string(), {"--watch_interval_s", "0"}))
      << "no 'listening on' line; got: " << server.output();
  auto stub = hnet::v1::HyperNet::NewStub(testing::Channel(server.endpoint()));
  EXPECT_EQ(Names(*stub), (std::vector<std::string>{"tiny"}));

  testing::WriteTinyCheckpoint(ModelPath("second"), 5);
  EXPECT_EQ(Names(*stub), (std::vector<std::string>{"tiny"}));  // No polling.
  ASSERT_TRUE(server.Signal(SIGHUP));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (Names(*stub).size() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Names(*stub), (std::vector<std::string>{"second", "tiny"}));

  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace hnet::server
