// A small LRU cache of generated ensemble weights, so repeated Classify calls with the same
// noise skip the hypernetwork. Keys start with ModelKey (name, version, content hash, load
// id), then seed and K: a reloaded or other version never gets another's weights.
// Thread-safe.
#ifndef HNET_SERVER_WEIGHT_CACHE_H_
#define HNET_SERVER_WEIGHT_CACHE_H_

#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/target_forward.h"

namespace hnet::server {

class WeightCache {
 public:
  // Holds at most `capacity_bytes` of tensors; 0 disables caching.
  explicit WeightCache(int64_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}

  // The cached batch for `key`, or null; a hit makes the entry most recently used.
  std::shared_ptr<const core::WeightBatch> Get(const std::string& key);

  // Stores `weights` under `key`, evicting least recently used entries to fit; batches
  // larger than the capacity, and keys under a prefix erased before, are not stored.
  void Put(const std::string& key, std::shared_ptr<const core::WeightBatch> weights);

  // Drops every entry whose key starts with `prefix` (e.g. ModelKey of an unloaded model) and
  // refuses later Puts under it (weights of that model still being generated); the latest
  // kMaxRetired prefixes are remembered.
  void EraseByPrefix(const std::string& prefix);

  static constexpr size_t kMaxRetired = 1024;

  int64_t size_bytes() const;
  int64_t entries() const;

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const core::WeightBatch>>;
  const int64_t capacity_bytes_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // Most recently used first.
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  int64_t bytes_ = 0;
  std::deque<std::string> retired_;  // Prefixes erased, oldest first.
};

}  // namespace hnet::server

#endif  // HNET_SERVER_WEIGHT_CACHE_H_
