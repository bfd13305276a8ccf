// Prometheus metrics of hnet-server (text exposition format 0.0.4): counter, gauge and histogram
// families with labels, and Metrics, the server's set of hnet_* series. Every method is thread-safe
// (one mutex per family); recording is a map lookup and an add.
#ifndef HNET_SERVER_METRICS_H_
#define HNET_SERVER_METRICS_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace hnet::server {

// A label value escaped for the exposition format: backslash, double quote and line feed become \\,
// \" and \n.
std::string EscapeLabelValue(absl::string_view value);
// HELP text escaped for the exposition format: backslash and line feed become \\ and \n.
std::string EscapeHelp(absl::string_view help);
// A sample value: integers exactly ("3", "-2"), others in the shortest form that reads back as the
// same double ("0.25", "1e-05"), and "+Inf", "-Inf", "NaN".
std::string FormatSampleValue(double value);

// Label values of one series, in the order of the family's label names.
using LabelValues = std::vector<std::string>;

// A family of counters (monotonic) or gauges (set at will) sharing a name and label names.
class ValueFamily {
 public:
  enum class Kind { kCounter, kGauge };
  ValueFamily(Kind kind, std::string name, std::string help, std::vector<std::string> labels);

  // Adds `delta` to the series `labels` (created at 0). Counters ignore negative deltas.
  void Add(const LabelValues& labels, double delta = 1);
  // Gauges: sets the series `labels` to `value`.
  void Set(const LabelValues& labels, double value);
  // Removes the series `labels` (e.g. an unloaded model's gauge).
  void Remove(const LabelValues& labels);
  // The value of series `labels`, 0 when it does not exist.
  double Value(const LabelValues& labels) const;
  // Appends "# HELP", "# TYPE" and one line per series (sorted by label values) to `out`.
  void Render(std::string* out) const;

 private:
  const Kind kind_;
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> labels_;
  mutable std::mutex mu_;
  std::map<LabelValues, double> series_;
};

// A family of histograms with fixed bucket upper bounds.
class HistogramFamily {
 public:
  // `bounds`: bucket upper bounds (sorted and deduplicated here; +Inf is implicit).
  HistogramFamily(std::string name, std::string help, std::vector<std::string> labels,
                  std::vector<double> bounds);

  struct Snapshot {
    std::vector<double> bounds;        // Upper bounds, +Inf excluded.
    std::vector<uint64_t> cumulative;  // Observations <= bounds[i]; one extra entry for +Inf.
    double sum = 0;
    uint64_t count = 0;
  };

  // Counts `value` in series `labels`: in every bucket whose bound is >= value.
  void Observe(const LabelValues& labels, double value);
  // The series `labels`, or nullopt when nothing was observed in it.
  std::optional<Snapshot> Get(const LabelValues& labels) const;
  // Appends the family with _bucket{le=...}, _sum and _count lines per series to `out`.
  void Render(std::string* out) const;

 private:
  struct Series {
    std::vector<uint64_t> counts;  // Per bucket, not cumulative; last = above every bound.
    double sum = 0;
    uint64_t count = 0;
  };

  const std::string name_;
  const std::string help_;
  const std::vector<std::string> labels_;
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<LabelValues, Series> series_;
};

// Time the executor tasks of one call spent queued and running (accumulated over its tasks).
struct CallTiming {
  int tasks = 0;               // Tasks that started.
  double queue_seconds = 0;    // Waiting in the batcher and the executor queue.
  double compute_seconds = 0;  // Running on a worker.
};

// Accumulates CallTiming for one call. Shared (shared_ptr) between the waiting call and its
// executor tasks, which may outlive it. Thread-safe.
class TaskTimer {
 public:
  using Duration = std::chrono::steady_clock::duration;
  // A task of the call started after waiting `queued`.
  void Started(Duration queued);
  // A task of the call finished after running for `ran`.
  void Finished(Duration ran);
  CallTiming Timing() const;

 private:
  std::atomic<int> tasks_{0};
  std::atomic<int64_t> queued_ns_{0};
  std::atomic<int64_t> running_ns_{0};
};

// The hnet_* series of one server. Constructed by the Server and passed by pointer to the service,
// executor users and batcher; must outlive them.
class Metrics {
 public:
  // `version` is exported as hnet_build_info{version}.
  explicit Metrics(std::string version);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // One finished RPC: hnet_requests_total{method,model,code} and
  // hnet_request_duration_seconds{method}; when timing.tasks > 0 also the queue and compute
  // histograms. A model that is not loaded is counted as model="-" (bounded label values).
  void RecordRequest(absl::string_view method, absl::string_view model, absl::StatusCode code,
                     double seconds, const CallTiming& timing);
  // One executed Classify batch of `inputs` images from `requests` requests.
  void RecordClassifyBatch(int64_t inputs, int64_t requests);
  // `count` networks generated by model `model`.
  void RecordNetworksGenerated(absl::string_view model, int64_t count);
  // Model `model` (version `version`) loaded or reloaded in `seconds`: sets
  // hnet_model_load_seconds{model} and hnet_model_info{model,version} (replacing an older version's
  // series), and admits `model` as a label value of hnet_requests_total.
  void RecordModelLoad(absl::string_view model, absl::string_view version, double seconds);
  // Model `model` unloaded: removes its load-time and info series.
  void RecordModelUnload(absl::string_view model);
  // hnet_models_loaded.
  void SetModelsLoaded(int64_t count);
  // One refused call: hnet_auth_failures_total{reason}.
  void RecordAuthFailure(absl::string_view reason);
  // hnet_executor_queue_depth is read from `source` at each scrape (empty: 0).
  void SetQueueDepthSource(std::function<int64_t()> source);

  // The whole exposition (text format 0.0.4), process and device memory included.
  std::string Render() const;

  // Families, for tests and embedding.
  const ValueFamily& requests() const { return requests_; }
  const ValueFamily& auth_failures() const { return auth_failures_; }
  const ValueFamily& networks_generated() const { return networks_generated_; }
  const HistogramFamily& request_duration() const { return request_duration_; }
  const HistogramFamily& request_queue() const { return request_queue_; }
  const HistogramFamily& request_compute() const { return request_compute_; }
  const HistogramFamily& classify_batch_inputs() const { return classify_batch_inputs_; }
  const HistogramFamily& classify_batch_requests() const { return classify_batch_requests_; }

 private:
  std::string ModelLabel(absl::string_view model) const;

  ValueFamily requests_;
  HistogramFamily request_duration_;
  HistogramFamily request_queue_;
  HistogramFamily request_compute_;
  HistogramFamily classify_batch_inputs_;
  HistogramFamily classify_batch_requests_;
  ValueFamily networks_generated_;
  ValueFamily model_load_seconds_;
  ValueFamily model_info_;
  ValueFamily models_loaded_;
  ValueFamily auth_failures_;
  ValueFamily build_info_;

  mutable std::mutex mu_;                                           // Guards the two members below.
  std::map<std::string, std::string, std::less<>> model_versions_;  // Loaded model -> version.
  std::function<int64_t()> queue_depth_source_;
};

}  // namespace hnet::server

#endif  // HNET_SERVER_METRICS_H_
