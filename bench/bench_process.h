// Process set-up shared by the Google Benchmark programs in bench/.
#ifndef HNET_BENCH_BENCH_PROCESS_H_
#define HNET_BENCH_BENCH_PROCESS_H_

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "core/log.h"
#include "core/runtime.h"

namespace hnet::bench {

// Sets the process up as hnet's programs do (log to stderr, core::ConfigureRuntime) with the
// LibTorch threads of --threads=N, else $HNET_BENCH_THREADS, else 2, and records them and
// OpenBLAS's kernel choice in the benchmark context. Call first in main(); returns the threads.
inline int SetUpBenchProcess(int argc, char** argv) {
  int threads = 2;
  if (const char* env = std::getenv("HNET_BENCH_THREADS")) threads = std::atoi(env);
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0) threads = std::atoi(argv[i] + 10);
  }
  hnet::log::Init("info");
  hnet::core::ConfigureRuntime(threads);
  benchmark::AddCustomContext("torch_threads", std::to_string(threads));
  const char* kernels = std::getenv("OPENBLAS_CORETYPE");
  benchmark::AddCustomContext("openblas_coretype", kernels != nullptr ? kernels : "(detected)");
  return threads;
}

}  // namespace hnet::bench

#endif  // HNET_BENCH_BENCH_PROCESS_H_
