// The `hnet` CLI's signal handling: a write killed by SIGTERM leaves no temporary file.
#include "client/cli/signals.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "client/file_io.h"
#include "tests/client/python_util.h"

namespace hnet::cli {
namespace {

namespace fs = std::filesystem;

TEST(SignalsDeathTest, SigtermDuringAWriteLeavesNoTemporaryFile) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const fs::path dir = client::testing::UniqueTempPath("signals");
  fs::create_directories(dir);
  const std::string path = dir / "big.npz";
  EXPECT_EXIT(
      {
        InstallTemporaryFileCleanup();
        (void)client::WriteFileFrom(path, [](client::ByteSink sink) {
          (void)sink(std::string(1 << 20, 'x'));  // the temporary file exists and has data
          ::raise(SIGTERM);
          return sink("never");
        });
        std::_Exit(0);
      },
      ::testing::KilledBySignal(SIGTERM), "");
  EXPECT_TRUE(fs::is_empty(dir)) << fs::directory_iterator(dir)->path();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace hnet::cli
