#include "core/runtime.h"

#include <ATen/Parallel.h>
#include <malloc.h>

#include <climits>

namespace hnet::core {

void ConfigureRuntime(int threads) {
  if (threads > 0) at::set_num_threads(threads);
  // Serve every allocation from the heap (no per-allocation mmap) and never trim it: the
  // trainer's working set is steady, so its pages stay mapped and warm.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
}

}  // namespace hnet::core
