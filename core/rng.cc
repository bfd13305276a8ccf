#include "core/rng.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cstring>
#include <mutex>

#include "core/torch_status.h"

namespace hnet::core {

at::Generator MakeGenerator(uint64_t seed) {
  return at::make_generator<at::CPUGeneratorImpl>(seed);
}

std::string GeneratorState(const at::Generator& generator) {
  at::Generator handle = generator;  // Shares the implementation; mutex() is non-const.
  std::lock_guard<std::mutex> lock(handle.mutex());
  at::Tensor state = handle.get_state();
  return std::string(static_cast<const char*>(state.data_ptr()), state.nbytes());
}

absl::Status SetGeneratorState(at::Generator& generator, const std::string& state) {
  return TorchCall("restoring the random generator state", [&] {
    at::Tensor bytes = torch::empty({static_cast<int64_t>(state.size())}, torch::kUInt8);
    std::memcpy(bytes.data_ptr(), state.data(), state.size());
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(bytes);
  });
}

}  // namespace hnet::core
