#include "server/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/process_stats.h"

namespace hnet::server {
namespace {

// Latency buckets (seconds): 1 ms .. 60 s.
const std::vector<double> kSecondsBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                             0.5,   1,      2.5,   5,    10,    30,   60};

std::vector<double> PowersOfTwo(int max_exponent) {
  std::vector<double> bounds;
  for (int e = 0; e <= max_exponent; ++e) bounds.push_back(std::ldexp(1.0, e));
  return bounds;
}

// `name{a="x",b="y"}` (no braces without labels); `extra` is one more pre-rendered label.
std::string SeriesName(absl::string_view name, const std::vector<std::string>& labels,
                       const LabelValues& values, absl::string_view extra = {}) {
  std::string out(name);
  if (labels.empty() && extra.empty()) return out;
  out += '{';
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ',';
    absl::StrAppend(&out, labels[i], "=\"", EscapeLabelValue(values[i]), "\"");
  }
  if (!extra.empty()) absl::StrAppend(&out, labels.empty() ? "" : ",", extra);
  out += '}';
  return out;
}

void AppendHeader(std::string* out, absl::string_view name, absl::string_view help,
                  absl::string_view type) {
  absl::StrAppend(out, "# HELP ", name, " ", EscapeHelp(help), "\n# TYPE ", name, " ", type, "\n");
}

}  // namespace

std::string EscapeLabelValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string EscapeHelp(absl::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatSampleValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {  // 2^53
    return absl::StrCat(static_cast<int64_t>(value));
  }
  char buffer[64];
  const std::to_chars_result r = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, r.ptr);
}

ValueFamily::ValueFamily(Kind kind, std::string name, std::string help,
                         std::vector<std::string> labels)
    : kind_(kind), name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)) {}

void ValueFamily::Add(const LabelValues& labels, double delta) {
  if (kind_ == Kind::kCounter && !(delta >= 0)) return;
  std::lock_guard<std::mutex> lock(mu_);
  series_[labels] += delta;
}

void ValueFamily::Set(const LabelValues& labels, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  series_[labels] = value;
}

void ValueFamily::Remove(const LabelValues& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  series_.erase(labels);
}

double ValueFamily::Value(const LabelValues& labels) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = series_.find(labels);
  return it == series_.end() ? 0 : it->second;
}

void ValueFamily::Render(std::string* out) const {
  AppendHeader(out, name_, help_, kind_ == Kind::kCounter ? "counter" : "gauge");
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [values, value] : series_) {
    absl::StrAppend(out, SeriesName(name_, labels_, values), " ", FormatSampleValue(value), "\n");
  }
}

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> labels, std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      labels_(std::move(labels)),
      bounds_(std::move(bounds)) {
  bounds_.erase(std::remove_if(bounds_.begin(), bounds_.end(),
                               [](double b) { return std::isnan(b) || std::isinf(b); }),
                bounds_.end());
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
}

void HistogramFamily::Observe(const LabelValues& labels, double value) {
  if (std::isnan(value)) return;
  // The first bucket whose upper bound is >= value; bounds_.size() means only +Inf.
  const size_t bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  std::lock_guard<std::mutex> lock(mu_);
  Series& s = series_[labels];
  if (s.counts.empty()) s.counts.assign(bounds_.size() + 1, 0);
  ++s.counts[bucket];
  s.sum += value;
  ++s.count;
}

std::optional<HistogramFamily::Snapshot> HistogramFamily::Get(const LabelValues& labels) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = series_.find(labels);
  if (it == series_.end()) return std::nullopt;
  Snapshot snapshot;
  snapshot.bounds = bounds_;
  uint64_t running = 0;
  for (uint64_t c : it->second.counts) {
    running += c;
    snapshot.cumulative.push_back(running);
  }
  snapshot.sum = it->second.sum;
  snapshot.count = it->second.count;
  return snapshot;
}

void HistogramFamily::Render(std::string* out) const {
  AppendHeader(out, name_, help_, "histogram");
  std::lock_guard<std::mutex> lock(mu_);
  const std::string bucket_name = name_ + "_bucket";
  for (const auto& [values, s] : series_) {
    uint64_t running = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      running += s.counts[i];
      const std::string le =
          i < bounds_.size() ? FormatSampleValue(bounds_[i]) : std::string("+Inf");
      absl::StrAppend(out,
                      SeriesName(bucket_name, labels_, values, absl::StrCat("le=\"", le, "\"")),
                      " ", running, "\n");
    }
    absl::StrAppend(out, SeriesName(name_ + "_sum", labels_, values), " ", FormatSampleValue(s.sum),
                    "\n");
    absl::StrAppend(out, SeriesName(name_ + "_count", labels_, values), " ", s.count, "\n");
  }
}

void TaskTimer::Started(Duration queued) {
  tasks_.fetch_add(1);
  queued_ns_.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(queued).count());
}

void TaskTimer::Finished(Duration ran) {
  running_ns_.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(ran).count());
}

CallTiming TaskTimer::Timing() const {
  CallTiming timing;
  timing.tasks = tasks_.load();
  timing.queue_seconds = static_cast<double>(queued_ns_.load()) * 1e-9;
  timing.compute_seconds = static_cast<double>(running_ns_.load()) * 1e-9;
  return timing;
}

Metrics::Metrics(std::string version)
    : requests_(ValueFamily::Kind::kCounter, "hnet_requests_total",
                "hnet.v1 calls by method, model and gRPC status code", {"method", "model", "code"}),
      request_duration_("hnet_request_duration_seconds",
                        "Time from receiving an hnet.v1 call to its status", {"method"},
                        kSecondsBuckets),
      request_queue_("hnet_request_queue_seconds",
                     "Time a call's work waited in the Classify batcher and the executor queue",
                     {"method"}, kSecondsBuckets),
      request_compute_("hnet_request_compute_seconds", "Time a call's work ran on executor workers",
                       {"method"}, kSecondsBuckets),
      classify_batch_inputs_("hnet_classify_batch_inputs", "Images per executed Classify batch", {},
                             PowersOfTwo(16)),
      classify_batch_requests_("hnet_classify_batch_requests",
                               "Requests merged into one executed Classify batch", {},
                               PowersOfTwo(8)),
      networks_generated_(ValueFamily::Kind::kCounter, "hnet_networks_generated_total",
                          "Target networks generated by the hypernetwork", {"model"}),
      model_load_seconds_(ValueFamily::Kind::kGauge, "hnet_model_load_seconds",
                          "Time the last load of the model took (read, build, warm-up)", {"model"}),
      model_info_(ValueFamily::Kind::kGauge, "hnet_model_info", "Loaded model version (always 1)",
                  {"model", "version"}),
      models_loaded_(ValueFamily::Kind::kGauge, "hnet_models_loaded", "Models being served", {}),
      auth_failures_(ValueFamily::Kind::kCounter, "hnet_auth_failures_total",
                     "Calls refused by bearer-token authentication", {"reason"}),
      build_info_(ValueFamily::Kind::kGauge, "hnet_build_info", "hnet-server build (always 1)",
                  {"version"}) {
  build_info_.Set({std::move(version)}, 1);
  models_loaded_.Set({}, 0);
}

std::string Metrics::ModelLabel(absl::string_view model) const {
  std::lock_guard<std::mutex> lock(mu_);
  return model_versions_.find(model) != model_versions_.end() ? std::string(model) : "-";
}

void Metrics::RecordRequest(absl::string_view method, absl::string_view model,
                            absl::StatusCode code, double seconds, const CallTiming& timing) {
  const std::string m(method);
  requests_.Add({m, ModelLabel(model), absl::StatusCodeToString(code)});
  request_duration_.Observe({m}, seconds);
  if (timing.tasks > 0) {
    request_queue_.Observe({m}, timing.queue_seconds);
    request_compute_.Observe({m}, timing.compute_seconds);
  }
}

void Metrics::RecordClassifyBatch(int64_t inputs, int64_t requests) {
  classify_batch_inputs_.Observe({}, static_cast<double>(inputs));
  classify_batch_requests_.Observe({}, static_cast<double>(requests));
}

void Metrics::RecordNetworksGenerated(absl::string_view model, int64_t count) {
  networks_generated_.Add({std::string(model)}, static_cast<double>(count));
}

void Metrics::RecordModelLoad(absl::string_view model, absl::string_view version, double seconds) {
  const std::string name(model);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = model_versions_.find(name);
    if (it != model_versions_.end() && it->second != version) {
      model_info_.Remove({name, it->second});
    }
    model_versions_[name] = std::string(version);
  }
  model_info_.Set({name, std::string(version)}, 1);
  model_load_seconds_.Set({name}, seconds);
}

void Metrics::RecordModelUnload(absl::string_view model) {
  const std::string name(model);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = model_versions_.find(name);
  if (it == model_versions_.end()) return;
  model_info_.Remove({name, it->second});
  model_load_seconds_.Remove({name});
  model_versions_.erase(it);
}

void Metrics::SetModelsLoaded(int64_t count) { models_loaded_.Set({}, static_cast<double>(count)); }

void Metrics::RecordAuthFailure(absl::string_view reason) {
  auth_failures_.Add({std::string(reason)});
}

void Metrics::SetQueueDepthSource(std::function<int64_t()> source) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_depth_source_ = std::move(source);
}

std::string Metrics::Render() const {
  std::function<int64_t()> depth;
  {
    std::lock_guard<std::mutex> lock(mu_);
    depth = queue_depth_source_;
  }
  // Read at scrape time.
  ValueFamily queue_depth(ValueFamily::Kind::kGauge, "hnet_executor_queue_depth",
                          "Tasks waiting in the executor queue", {});
  queue_depth.Set({}, depth ? static_cast<double>(depth()) : 0.0);

  std::string out;
  build_info_.Render(&out);
  requests_.Render(&out);
  request_duration_.Render(&out);
  request_queue_.Render(&out);
  request_compute_.Render(&out);
  classify_batch_inputs_.Render(&out);
  classify_batch_requests_.Render(&out);
  queue_depth.Render(&out);
  networks_generated_.Render(&out);
  model_load_seconds_.Render(&out);
  model_info_.Render(&out);
  models_loaded_.Render(&out);
  auth_failures_.Render(&out);
  AppendProcessMetrics(&out);
  return out;
}

}  // namespace hnet::server
