// Memory gauges read at scrape time: the process's resident set size and, in builds against a CUDA
// LibTorch, the CUDA caching allocator's per-device statistics.
#ifndef HNET_SERVER_PROCESS_STATS_H_
#define HNET_SERVER_PROCESS_STATS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hnet::server {

// Resident set size of this process in bytes (/proc/self/statm), or nullopt where unreadable.
std::optional<int64_t> ProcessResidentBytes();

struct DeviceMemory {
  std::string device;           // "cuda:0", ...
  int64_t allocated_bytes = 0;  // Held by live tensors.
  int64_t reserved_bytes = 0;   // Held by the caching allocator (allocated + cached).
};

// One entry per visible CUDA device; empty in CPU-only builds or without a device.
std::vector<DeviceMemory> DeviceMemoryStats();

// Appends hnet_process_resident_memory_bytes and, where there are devices,
// hnet_device_memory_bytes{device} and hnet_device_memory_reserved_bytes{device} to `out`.
void AppendProcessMetrics(std::string* out);

}  // namespace hnet::server

#endif  // HNET_SERVER_PROCESS_STATS_H_
