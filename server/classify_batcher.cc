#include "server/classify_batcher.h"

#include <torch/torch.h>

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "core/evaluation.h"
#include "core/torch_status.h"
#include "server/generation.h"

namespace hnet::server {
namespace {

// Network-images per member chunk: bounds memory and the time between cancellation checks.
constexpr int64_t kChunkNetworkImages = 16384;
// core::PredictProbabilities runs networks in groups of 32 (its chunk 2048 / 64); member
// chunks of a multiple of that keep the same groups as one call over all members.
constexpr int64_t kPredictGroup = 32;

}  // namespace

std::string BatchKey(const ClassifyJob& job) {
  return absl::StrCat(ModelKey(*job.model), *job.noise.seed, "|", job.noise.count);
}

absl::StatusOr<EnsembleAccumulator> EvaluateEnsemble(const core::TargetLayout& layout,
                                                     const core::WeightBatch& weights,
                                                     const at::Tensor& images, bool keep_members,
                                                     const std::function<bool()>& stop) {
  return core::TorchCall("classifying", [&]() -> absl::StatusOr<EnsembleAccumulator> {
    const int64_t k = weights.front().size(0);
    const int64_t n = images.size(0);
    int64_t per_chunk = std::max<int64_t>(1, kChunkNetworkImages / n);
    if (per_chunk >= kPredictGroup) per_chunk -= per_chunk % kPredictGroup;
    EnsembleAccumulator acc(k, n, layout.num_classes(), keep_members);
    for (int64_t first = 0; first < k; first += per_chunk) {
      if (stop && stop()) return absl::CancelledError("cancelled while classifying");
      const int64_t last = std::min(k, first + per_chunk);
      acc.Add(core::PredictProbabilities(layout, core::SliceNetworks(weights, first, last), images),
              first);
    }
    return acc;
  });
}

ClassifyBatcher::ClassifyBatcher(Executor* executor, WeightCache* cache, BatchingOptions options,
                                 Metrics* metrics)
    : executor_(executor), cache_(cache), options_(options), metrics_(metrics) {
  timer_ = std::thread([this] { TimerLoop(); });
}

ClassifyBatcher::~ClassifyBatcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  timer_.join();
}

std::shared_ptr<ResultSlot<EnsembleResult>> ClassifyBatcher::Submit(ClassifyJob job) {
  auto slot = std::make_shared<ResultSlot<EnsembleResult>>();
  job.submitted = std::chrono::steady_clock::now();
  if (!job.noise.seed.has_value()) {
    std::vector<Pending> single;
    single.push_back(Pending{std::move(job), slot});
    Dispatch(std::move(single));
    return slot;
  }
  const std::string key = BatchKey(job);
  const int64_t inputs = job.images.size(0);
  std::vector<std::vector<Pending>> ready;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      slot->Set(absl::UnavailableError("server is shutting down"));
      return slot;
    }
    Group& group = groups_[key];
    if (!group.entries.empty() && group.inputs + inputs > options_.max_batch_inputs) {
      ready.push_back(std::move(group.entries));
      group = Group{};
    }
    if (group.entries.empty()) {
      group.deadline = std::chrono::steady_clock::now() +
                       std::chrono::milliseconds(std::max<int64_t>(0, options_.batch_delay_ms));
    }
    group.entries.push_back(Pending{std::move(job), slot});
    group.inputs += inputs;
    if (group.inputs >= options_.max_batch_inputs || options_.batch_delay_ms <= 0) {
      ready.push_back(std::move(group.entries));
      groups_.erase(key);
    }
  }
  cv_.notify_all();
  for (auto& entries : ready) Dispatch(std::move(entries));
  return slot;
}

void ClassifyBatcher::TimerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (groups_.empty()) {
      if (stopping_) return;
      cv_.wait(lock, [&] { return stopping_ || !groups_.empty(); });
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    auto earliest = std::chrono::steady_clock::time_point::max();
    std::vector<std::vector<Pending>> ready;
    for (auto it = groups_.begin(); it != groups_.end();) {
      if (stopping_ || it->second.deadline <= now) {
        ready.push_back(std::move(it->second.entries));
        it = groups_.erase(it);
      } else {
        earliest = std::min(earliest, it->second.deadline);
        ++it;
      }
    }
    if (!ready.empty()) {
      lock.unlock();
      for (auto& entries : ready) Dispatch(std::move(entries));
      lock.lock();
      continue;
    }
    cv_.wait_until(lock, earliest);
  }
}

void ClassifyBatcher::Dispatch(std::vector<Pending> entries) {
  auto batch = std::make_shared<std::vector<Pending>>(std::move(entries));
  // Once every request of the batch was cancelled, RunBatch only reports it: the batch then
  // holds no place in a full queue.
  auto abandoned = [batch] {
    return std::all_of(batch->begin(), batch->end(),
                       [](const Pending& p) { return p.job.cancellation->cancelled(); });
  };
  absl::Status submitted = executor_->Submit(
      [this, batch] {
        // An exception fails the requests not yet answered (a slot keeps its first result).
        absl::Status ran = absl::InternalError("classify batch: unknown exception");
        try {
          ran = core::TorchCall("classify batch", [&] { RunBatch(*batch); });
        } catch (...) {  // Not a std::exception: TorchCall lets it through.
        }
        if (!ran.ok()) {
          for (Pending& p : *batch) p.slot->Set(ran);
        }
      },
      abandoned);
  if (!submitted.ok()) {
    for (Pending& p : *batch) p.slot->Set(submitted);
  }
}

void ClassifyBatcher::RunBatch(const std::vector<Pending>& entries) {
  // The requests still in the batch: all at first, then those whose pixels passed.
  std::vector<const Pending*> live;
  for (const Pending& p : entries) live.push_back(&p);
  auto all_cancelled = [&] {
    return std::all_of(live.begin(), live.end(),
                       [](const Pending* p) { return p->job.cancellation->cancelled(); });
  };
  // Once the batch runs, each request's timer gets the batch's run time before its result is
  // delivered (the waiting call reads its timer as soon as it wakes).
  std::optional<std::chrono::steady_clock::time_point> started;
  auto deliver = [&](const Pending& p, absl::StatusOr<EnsembleResult> result) {
    if (started.has_value() && p.job.timer != nullptr) {
      p.job.timer->Finished(std::chrono::steady_clock::now() - *started);
    }
    p.slot->Set(std::move(result));
  };
  auto fail = [&](const absl::Status& status) {
    for (const Pending* p : live) deliver(*p, status);
  };
  if (all_cancelled()) return fail(absl::CancelledError("cancelled before it started"));
  started = std::chrono::steady_clock::now();
  for (const Pending& p : entries) {
    if (p.job.timer != nullptr) p.job.timer->Started(*started - p.job.submitted);
  }
  // Pixel values are checked here, off gRPC's threads; a request with bad ones fails alone.
  live.clear();
  std::vector<at::Tensor> parts;
  bool keep_members = false;
  int64_t batch_inputs = 0;
  for (const Pending& p : entries) {
    absl::StatusOr<at::Tensor> images = NormalizeImages(p.job.images, "inputs");
    if (!images.ok()) {
      deliver(p, images.status());
      continue;
    }
    live.push_back(&p);
    parts.push_back(*std::move(images));
    keep_members = keep_members || p.job.return_members;
    batch_inputs += p.job.images.size(0);
  }
  if (live.empty()) return;
  if (all_cancelled()) return fail(absl::CancelledError("cancelled before it started"));
  batches_run_.fetch_add(1);
  if (metrics_ != nullptr) {
    metrics_->RecordClassifyBatch(batch_inputs, static_cast<int64_t>(live.size()));
  }
  const ClassifyJob& first = entries.front().job;
  const LoadedModel& model = *first.model;
  std::shared_ptr<const core::WeightBatch> weights;
  const std::string key = first.noise.seed.has_value() ? BatchKey(first) : "";
  if (!key.empty()) weights = cache_->Get(key);
  if (weights == nullptr) {
    auto generated = GenerateWeights(model, first.noise.Resolve(model), {}, all_cancelled);
    if (!generated.ok()) return fail(generated.status());
    if (metrics_ != nullptr) metrics_->RecordNetworksGenerated(model.name, first.noise.count);
    weights = std::make_shared<const core::WeightBatch>(*std::move(generated));
    if (!key.empty()) cache_->Put(key, weights);
  }
  auto images = core::TorchCall(
      "batching inputs", [&] { return parts.size() == 1 ? parts.front() : torch::cat(parts, 0); });
  if (!images.ok()) return fail(images.status());
  auto acc = EvaluateEnsemble(model.layout, *weights, *images, keep_members, all_cancelled);
  if (!acc.ok()) return fail(acc.status());
  int64_t offset = 0;
  for (const Pending* p : live) {
    const int64_t n = p->job.images.size(0);
    auto result = core::TorchCall("classifying",
                                  [&] { return acc->Finish(offset, offset + n, p->job.rule); });
    if (result.ok() && !p->job.return_members) result->members = at::Tensor();
    deliver(*p, std::move(result));
    offset += n;
  }
}

}  // namespace hnet::server
