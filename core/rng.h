// Deterministic random streams: one CPU generator per purpose, so that results do not depend
// on the device and a checkpoint can restore the exact stream.
#ifndef HNET_CORE_RNG_H_
#define HNET_CORE_RNG_H_

#include <ATen/core/Generator.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace hnet::core {

// A new CPU generator seeded with `seed`.
at::Generator MakeGenerator(uint64_t seed);

// The generator's full state as bytes; thread-safe (takes the generator's lock).
std::string GeneratorState(const at::Generator& generator);

// Restores GeneratorState()'s output; an error (generator unchanged) if malformed.
absl::Status SetGeneratorState(at::Generator& generator, const std::string& state);

}  // namespace hnet::core

#endif  // HNET_CORE_RNG_H_
