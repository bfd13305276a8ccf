#include "core/runtime.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <string>

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

// The kernels OpenBLAS runs, or "" when the BLAS is not OpenBLAS.
std::string OpenBlasCore() {
  using CoreName = char* (*)();
  auto core_name = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  return core_name == nullptr ? "" : core_name();
}

// In a child process (kernels and the environment are process-wide): exits 0 when
// SelectBlasKernels replaced exactly a Prescott fallback on a CPU with AVX2 or better, the
// products it then computes are right, and a second call changes nothing. Unless the user
// chose kernels, OpenBLAS is first put on Prescott as if it had not recognised the CPU.
void CheckSelectBlasKernels() {
  auto fail = [](const std::string& what) {
    std::fprintf(stderr, "%s\n", what.c_str());
    std::exit(1);
  };
  const bool user_choice = std::getenv("OPENBLAS_CORETYPE") != nullptr;
  using Hook = void (*)();
  auto quit = reinterpret_cast<Hook>(dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit"));
  auto init = reinterpret_cast<Hook>(dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init"));
  if (!user_choice && quit != nullptr && init != nullptr) {
    setenv("OPENBLAS_CORETYPE", "Prescott", 1);
    quit();
    init();
    unsetenv("OPENBLAS_CORETYPE");
  }
  const std::string before = OpenBlasCore();
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const std::string chosen = SelectBlasKernels();
  const std::string after = OpenBlasCore();
  if (before == "Prescott" && avx2 && !user_choice) {
    if (chosen != "SkylakeX" && chosen != "Haswell") fail("chose '" + chosen + "'");
    if (after != chosen) fail("OpenBLAS runs " + after + ", not " + chosen);
    if (std::string(std::getenv("OPENBLAS_CORETYPE")) != chosen) fail("OPENBLAS_CORETYPE");
  } else if (!chosen.empty() || after != before) {
    fail("changed kernels " + before + " -> " + after + " (returned '" + chosen + "')");
  }
  torch::manual_seed(1);
  const at::Tensor a = torch::randn({257, 300});
  const at::Tensor b = torch::randn({300, 801});
  const at::Tensor exact = torch::mm(a.to(torch::kFloat64), b.to(torch::kFloat64));
  if (!torch::allclose(torch::mm(a, b).to(torch::kFloat64), exact, 1e-4, 1e-4)) {
    fail("wrong matrix product with " + after);
  }
  if (!SelectBlasKernels().empty() || OpenBlasCore() != after) fail("second call changed");
  std::exit(0);
}

TEST(BlasName, NamesOpenBlasAndTheKernelsInUse) {
  const std::string name = BlasName();
  if (OpenBlasCore().empty()) {
    EXPECT_EQ(name, "not OpenBLAS");
  } else {
    EXPECT_NE(name.find("OpenBLAS"), std::string::npos) << name;
    EXPECT_NE(name.find(OpenBlasCore()), std::string::npos) << name;
  }
}

TEST(SelectBlasKernels, ReplacesOnlyTheSse3FallbackAndKeepsProductsRight) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(CheckSelectBlasKernels(), testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace hnet::core
