// The `hnet` CLI's global flags: ServerAddresses and CheckModelVersion (the library side), and
// the hnet binary itself for what CLI11 parses (bad --model_version, --server, seeds).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>

#include "client/cli/commands.h"
#include "client/cli/flags.h"
#include "tests/client/fake_server.h"
#include "tests/client/python_util.h"

namespace hnet::cli {
namespace {

using Addresses = std::vector<std::string>;

TEST(ServerAddressesTest, FlagBeatsEnvironmentBeatsDefault) {
  EXPECT_EQ(*ServerAddresses(Addresses{"a:1", "b:2"}, "c:3"), (Addresses{"a:1", "b:2"}));
  EXPECT_EQ(*ServerAddresses(std::nullopt, "c:3,d:4"), (Addresses{"c:3", "d:4"}));
  EXPECT_EQ(*ServerAddresses(std::nullopt, nullptr), (Addresses{"localhost:50051"}));
  EXPECT_EQ(*ServerAddresses(std::nullopt, ""), (Addresses{"localhost:50051"}));
  EXPECT_EQ(*ServerAddresses(std::nullopt, "  "), (Addresses{"localhost:50051"}));
}

TEST(ServerAddressesTest, WhitespaceAroundAddressesIsDropped) {
  EXPECT_EQ(*ServerAddresses(std::nullopt, " 127.0.0.1:1, 127.0.0.1:2 "),
            (Addresses{"127.0.0.1:1", "127.0.0.1:2"}));
  EXPECT_EQ(*ServerAddresses(Addresses{" 127.0.0.1:1", "\t127.0.0.1:2"}, nullptr),
            (Addresses{"127.0.0.1:1", "127.0.0.1:2"}));
}

TEST(ServerAddressesTest, EmptyAddressesNameTheirSource) {
  absl::StatusOr<Addresses> a = ServerAddresses(Addresses{""}, "c:3");
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.status().message().rfind("--server: empty address", 0), 0u) << a.status();
  a = ServerAddresses(Addresses{}, nullptr);
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.status().message().rfind("--server: empty address", 0), 0u) << a.status();
  a = ServerAddresses(Addresses{"a:1", " "}, nullptr);
  EXPECT_EQ(a.status().message().rfind("--server: empty address", 0), 0u) << a.status();
  a = ServerAddresses(std::nullopt, "a:1,,b:2");
  EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(a.status().message().rfind("HNET_SERVER: empty address in 'a:1,,b:2'", 0), 0u)
      << a.status();
}

TEST(CheckModelVersionTest, NegativeVersionsNameTheFlag) {
  EXPECT_TRUE(CheckModelVersion(0).ok());
  EXPECT_TRUE(CheckModelVersion(7).ok());
  const absl::Status s = CheckModelVersion(-1);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("--model_version: must be >= 0", 0), 0u) << s;
}

TEST(CheckModelVersionTest, EveryCommandChecksItBeforeCallingTheServer) {
  client::testing::FakeServer server("m");
  client::ClientOptions options;
  options.addresses = {server.address()};
  auto client = *client::Client::Connect(options);
  std::ostringstream out;
  SampleArgs sample;
  sample.model_version = -1;
  sample.npz = client::testing::UniqueTempPath("w.npz");
  ClassifyArgs classify;
  classify.model_version = -2;
  classify.images = {"unused"};
  PathArgs path;
  path.model_version = -3;
  for (const absl::Status& s :
       {RunSample(*client, "m", sample, out), RunClassify(*client, "m", classify, out),
        RunPath(*client, "m", path, out), RunInfo(*client, "m", -4, out)}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_EQ(s.message().rfind("--model_version: must be >= 0", 0), 0u) << s;
  }
  EXPECT_EQ(server.service().calls.load(), 0);
}

// The hnet binary: $HNET_BIN_DIR/hnet, else next to this test binary (both in build/bin).
std::string HnetBinary() {
  const char* dir = std::getenv("HNET_BIN_DIR");
  const std::filesystem::path bin =
      dir != nullptr ? std::filesystem::path(dir)
                     : std::filesystem::read_symlink("/proc/self/exe").parent_path();
  return (bin / "hnet").string();
}

struct HnetRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `env -u HNET_SERVER -u HNET_TOKEN_FILE <env> hnet <args>` through the shell.
HnetRun RunHnet(const std::string& env, const std::string& args) {
  const std::string command =
      "env -u HNET_SERVER -u HNET_TOKEN_FILE " + env + " " + HnetBinary() + " " + args + " 2>&1";
  HnetRun run;
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  std::array<char, 4096> buffer;
  size_t got = 0;
  while ((got = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    run.output.append(buffer.data(), got);
  }
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

class HnetBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(HnetBinary())) GTEST_SKIP() << "no " << HnetBinary();
    out_ = client::testing::UniqueTempPath("w.npz");
  }
  std::string out_;
};

// Nothing listens on port 1: an error that needed the server would be UNAVAILABLE instead.
constexpr char kNoServer[] = "--server 127.0.0.1:1 --deadline 2 --max_attempts 1";

TEST_F(HnetBinaryTest, NegativeModelVersionIsRefusedNamingTheFlag) {
  for (const std::string& command : {std::string("info --model m"), "sample --npz " + out_,
                                     std::string("path"), std::string("classify --images x")}) {
    const HnetRun run = RunHnet("", std::string(kNoServer) + " --model_version -1 " + command);
    EXPECT_NE(run.exit_code, 0) << command;
    EXPECT_NE(run.output.find("--model_version: must be an integer >= 0, got -1"),
              std::string::npos)
        << command << ": " << run.output;
    EXPECT_EQ(run.output.find("UNAVAILABLE"), std::string::npos) << run.output;
  }
}

TEST_F(HnetBinaryTest, NegativeSeedsAreRefusedNamingTheFlag) {
  for (const auto& [command, flag] : std::vector<std::pair<std::string, std::string>>{
           {"sample --npz " + out_ + " --seed -1", "--seed"},
           {"classify --images x --seed -1", "--seed"},
           {"path --start_seed -1", "--start_seed"},
           {"path --end_seed=-5", "--end_seed"}}) {
    const HnetRun run = RunHnet("", std::string(kNoServer) + " " + command);
    EXPECT_NE(run.exit_code, 0) << command;
    EXPECT_NE(run.output.find(flag + ": must be an integer >= 0, got -"), std::string::npos)
        << command << ": " << run.output;
  }
}

TEST_F(HnetBinaryTest, EmptyServerIsRefusedNamingTheFlagOrVariable) {
  HnetRun run = RunHnet("", "--server '' info");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.output.find("--server: empty address"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("ClientOptions"), std::string::npos) << run.output;
  run = RunHnet("HNET_SERVER='127.0.0.1:1,,127.0.0.1:2'", "info");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.output.find("HNET_SERVER: empty address"), std::string::npos) << run.output;
}

TEST_F(HnetBinaryTest, SpacesAroundServerAddressesAreIgnored) {
  client::testing::FakeServer a("mnist"), b("mnist");
  HnetRun run = RunHnet("HNET_SERVER=' " + a.address() + ", " + b.address() + " '", "info");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("model mnist version 3"), std::string::npos) << run.output;
  run = RunHnet("", "--server ' " + a.address() + ", " + b.address() + "' info");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("model mnist version 3"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace hnet::cli
