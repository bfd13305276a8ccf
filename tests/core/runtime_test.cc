#include "core/runtime.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>

namespace hnet::core {
namespace {

TEST(ParseDevice, AcceptsCpuAndAutoAndRejectsOtherKindsNamingTheFlag) {
  EXPECT_TRUE(ParseDevice("cpu").value().is_cpu());
  auto automatic = ParseDevice("auto");
  ASSERT_TRUE(automatic.ok());
  EXPECT_EQ(automatic->is_cuda(), torch::cuda::is_available());
  for (const char* bad : {"tpu:3", "", "gpu", "cuda:x"}) {
    auto device = ParseDevice(bad);
    ASSERT_FALSE(device.ok()) << bad;
    EXPECT_EQ(device.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(device.status().message().find("--device"), std::string::npos) << bad;
  }
}

TEST(ParseDevice, CudaWithoutAGpuIsAFailedPrecondition) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a GPU is visible";
  EXPECT_EQ(ParseDevice("cuda").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ParseDevice("cuda:1").status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace hnet::core
