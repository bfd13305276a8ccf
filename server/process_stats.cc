#include "server/process_stats.h"

#include <unistd.h>

#include <fstream>

#include "server/metrics.h"

#ifdef HNET_HAVE_CUDA_ALLOCATOR_STATS
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace hnet::server {

std::optional<int64_t> ProcessResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size_pages = 0;
  int64_t resident_pages = 0;
  if (!(statm >> size_pages >> resident_pages)) return std::nullopt;
  const long page = ::sysconf(_SC_PAGESIZE);
  if (page <= 0) return std::nullopt;
  return resident_pages * static_cast<int64_t>(page);
}

std::vector<DeviceMemory> DeviceMemoryStats() {
  std::vector<DeviceMemory> out;
#ifdef HNET_HAVE_CUDA_ALLOCATOR_STATS
  try {
    const int devices = static_cast<int>(c10::cuda::device_count());
    for (int d = 0; d < devices; ++d) {
      const auto stats =
          c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(d));
      // Index 0 is StatType::AGGREGATE (all pools) in every LibTorch version; the enum moved
      // namespaces in 2.5, the index did not.
      DeviceMemory m;
      m.device = "cuda:" + std::to_string(d);
      m.allocated_bytes = stats.allocated_bytes[0].current;
      m.reserved_bytes = stats.reserved_bytes[0].current;
      out.push_back(m);
    }
  } catch (const std::exception&) {
    out.clear();  // No driver or no initialised device: report none rather than
                  // fail a scrape.
  }
#endif
  return out;
}

void AppendProcessMetrics(std::string* out) {
  if (std::optional<int64_t> rss = ProcessResidentBytes(); rss.has_value()) {
    ValueFamily family(ValueFamily::Kind::kGauge, "hnet_process_resident_memory_bytes",
                       "Resident set size of the server process", {});
    family.Set({}, static_cast<double>(*rss));
    family.Render(out);
  }
  const std::vector<DeviceMemory> devices = DeviceMemoryStats();
  if (devices.empty()) return;
  ValueFamily allocated(ValueFamily::Kind::kGauge, "hnet_device_memory_bytes",
                        "Device memory held by live tensors (CUDA caching allocator)", {"device"});
  ValueFamily reserved(ValueFamily::Kind::kGauge, "hnet_device_memory_reserved_bytes",
                       "Device memory reserved by the CUDA caching allocator", {"device"});
  for (const DeviceMemory& m : devices) {
    allocated.Set({m.device}, static_cast<double>(m.allocated_bytes));
    reserved.Set({m.device}, static_cast<double>(m.reserved_bytes));
  }
  allocated.Render(out);
  reserved.Render(out);
}

}  // namespace hnet::server
