// The hnet-server binary rescans --models on SIGHUP (with periodic watching switched off)
// and keeps running.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <regex>
#include <thread>

#include "tests/server/server_test_util.h"

namespace hnet::server {
namespace {

using testing::Context;

// $HNET_BIN_DIR/hnet-server, else next to this test binary (both are build/bin).
std::string ServerBinary() {
  const char* bin_dir = std::getenv("HNET_BIN_DIR");
  const std::string dir =
      bin_dir != nullptr ? std::string(bin_dir)
                         : std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
  return dir + "/hnet-server";
}

std::vector<std::string> Names(hnet::v1::HyperNet::Stub& stub) {
  hnet::v1::ListModelsResponse list;
  EXPECT_TRUE(stub.ListModels(Context().get(), {}, &list).ok());
  std::vector<std::string> names;
  for (const hnet::v1::ModelInfo& m : list.models()) names.push_back(m.name());
  return names;
}

class SighupTest : public testing::ServerTest {};

TEST_F(SighupTest, BinaryRescansTheModelsDirectoryOnSighup) {
  const std::string bin = ServerBinary();
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
            "--watch_interval_s", "0", static_cast<char*>(nullptr));
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
  auto stub = hnet::v1::HyperNet::NewStub(testing::Channel(match[1].str() + ":" + match[2].str()));
  EXPECT_EQ(Names(*stub), (std::vector<std::string>{"tiny"}));

  testing::WriteTinyCheckpoint(ModelPath("second"), 5);
  EXPECT_EQ(Names(*stub), (std::vector<std::string>{"tiny"}));  // No polling.
  ASSERT_EQ(::kill(pid, SIGHUP), 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (Names(*stub).size() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Names(*stub), (std::vector<std::string>{"second", "tiny"}));

  ::kill(pid, SIGTERM);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  EXPECT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0);
  ::close(out[0]);
}

}  // namespace
}  // namespace hnet::server
