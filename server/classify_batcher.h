// Dynamic batching of Classify: concurrent requests for the same model version (the same load
// of it) and the same seeded noise (seed and K; the rule does not matter) are merged into one
// ensemble pass over their concatenated inputs, then split. A batch is dispatched to the executor
// when it holds max_batch_inputs images or its oldest request has waited batch_delay_ms.
#ifndef HNET_SERVER_CLASSIFY_BATCHER_H_
#define HNET_SERVER_CLASSIFY_BATCHER_H_

#include <ATen/core/Tensor.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "server/ensemble.h"
#include "server/executor.h"
#include "server/metrics.h"
#include "server/model_registry.h"
#include "server/options.h"
#include "server/request_parsing.h"
#include "server/weight_cache.h"

namespace hnet::server {

// One validated Classify request.
struct ClassifyJob {
  std::shared_ptr<const LoadedModel> model;
  NoiseSpec noise;    // K = noise.count members.
  at::Tensor images;  // [N, C, H, W] as sent (ParseImages), normalized by the batch's task.
  hnet::v1::EnsembleRule rule = hnet::v1::MEAN_PROBABILITY;
  bool return_members = false;
  std::shared_ptr<Cancellation> cancellation = std::make_shared<Cancellation>();
  std::shared_ptr<TaskTimer> timer;                 // Optional: time waiting and running.
  std::chrono::steady_clock::time_point submitted;  // Set by Submit().
};

// Batches and cached weights are keyed by this: ModelKey(*job.model) (name, version, content
// hash, load id), then the seed and K. Only for jobs with a seed.
std::string BatchKey(const ClassifyJob& job);

// Runs the K networks of `weights` on images [N, C, H, W] and accumulates their statistics,
// in member chunks that keep the probabilities small. CANCELLED when `stop()` is true between
// chunks.
absl::StatusOr<EnsembleAccumulator> EvaluateEnsemble(const core::TargetLayout& layout,
                                                     const core::WeightBatch& weights,
                                                     const at::Tensor& images, bool keep_members,
                                                     const std::function<bool()>& stop);

class ClassifyBatcher {
 public:
  // `executor`, `cache` and `metrics` (may be null) must outlive the batcher.
  ClassifyBatcher(Executor* executor, WeightCache* cache, BatchingOptions options,
                  Metrics* metrics = nullptr);
  ~ClassifyBatcher();  // Dispatches what is pending, stops the timer thread.

  // Queues `job`; its result (or error, e.g. RESOURCE_EXHAUSTED from a full executor queue)
  // arrives through the returned slot. Jobs with explicit z run alone.
  std::shared_ptr<ResultSlot<EnsembleResult>> Submit(ClassifyJob job);

  // Ensemble passes run so far (a batch of several jobs counts once).
  int64_t batches_run() const { return batches_run_.load(); }

 private:
  struct Pending {
    ClassifyJob job;
    std::shared_ptr<ResultSlot<EnsembleResult>> slot;
  };
  struct Group {
    std::vector<Pending> entries;
    int64_t inputs = 0;
    std::chrono::steady_clock::time_point deadline;
  };

  void Dispatch(std::vector<Pending> entries);
  void RunBatch(const std::vector<Pending>& entries);
  void TimerLoop();

  Executor* const executor_;
  WeightCache* const cache_;
  const BatchingOptions options_;
  Metrics* const metrics_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Group> groups_;
  bool stopping_ = false;
  std::atomic<int64_t> batches_run_{0};
  std::thread timer_;
};

}  // namespace hnet::server

#endif  // HNET_SERVER_CLASSIFY_BATCHER_H_
