// `hnet classify`: ensemble predictions for IDX or PNG images.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/cli/commands.h"
#include "client/cli/flags.h"
#include "client/cli/inputs.h"

namespace hnet::cli {
namespace {

absl::StatusOr<client::EnsembleRule> ParseRule(const std::string& rule) {
  if (rule == "mean") return client::EnsembleRule::kMeanProbability;
  if (rule == "vote") return client::EnsembleRule::kMajorityVote;
  if (rule == "confident") return client::EnsembleRule::kMostConfident;
  return absl::InvalidArgumentError(
      absl::StrCat("--rule: '", rule, "' is not mean, vote or confident"));
}

// Rows [begin, end) of `tensor`.
client::Tensor Rows(const client::Tensor& tensor, int64_t begin, int64_t end) {
  client::Tensor rows = tensor;
  const size_t row_bytes = tensor.bytes.size() / static_cast<size_t>(tensor.shape[0]);
  rows.shape[0] = end - begin;
  rows.bytes = tensor.bytes.substr(begin * row_bytes, (end - begin) * row_bytes);
  return rows;
}

}  // namespace

absl::Status CheckClassifyArgs(const ClassifyArgs& args) {
  if (absl::Status s = CheckModelVersion(args.model_version); !s.ok()) return s;
  if (absl::Status s = ParseRule(args.rule).status(); !s.ok()) return s;
  if (args.images.empty()) return absl::InvalidArgumentError("--images: no file given");
  if (args.batch < 1) return absl::InvalidArgumentError("--batch: must be >= 1");
  if (args.ensemble_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("-k/--ensemble_size: must be >= 1, got ", args.ensemble_size));
  }
  if (args.show < 0) {
    return absl::InvalidArgumentError(absl::StrCat("--show: must be >= 0, got ", args.show));
  }
  if (args.limit < 0) {
    return absl::InvalidArgumentError(absl::StrCat("--limit: must be >= 0, got ", args.limit));
  }
  return absl::OkStatus();
}

absl::Status RunClassify(const client::Client& client, const std::string& model,
                         const ClassifyArgs& args, std::ostream& out) {
  if (absl::Status s = CheckClassifyArgs(args); !s.ok()) return s;
  absl::StatusOr<client::EnsembleRule> rule = ParseRule(args.rule);
  if (!rule.ok()) return rule.status();
  absl::StatusOr<client::Tensor> images = LoadImages(args.images);
  if (!images.ok()) return images.status();
  if (images->shape.empty() || images->shape[0] == 0) {
    return absl::InvalidArgumentError("--images: no images");
  }
  std::vector<int64_t> labels;
  if (!args.labels.empty()) {
    absl::StatusOr<client::Tensor> loaded = LoadLabels(args.labels);
    if (!loaded.ok()) return loaded.status();
    // The whole files are compared, before --limit: labels of another set that merely has
    // enough entries would give a meaningless accuracy.
    if (loaded->shape[0] != images->shape[0]) {
      return absl::InvalidArgumentError(absl::StrCat("--labels: ", loaded->shape[0], " labels for ",
                                                     images->shape[0], " images"));
    }
    labels = *client::ToVector<int64_t>(Head(*loaded, args.limit));
  }
  *images = Head(*images, args.limit);
  const int64_t n = images->shape[0];

  client::ClassifyOptions options;
  options.ensemble_size = args.ensemble_size;
  options.noise = client::Noise::FromSeed(args.seed);  // same members for every batch
  options.rule = *rule;
  // Every batch from one version: pin the one serving now unless --model_version names one.
  options.version = args.model_version;
  if (options.version == 0) {
    absl::StatusOr<client::ModelInfo> info = client.GetModelInfo(model);
    if (!info.ok()) return info.status();
    options.version = info->version_number;
  }
  // Batches go out client.options().async_threads at a time, the next as soon as one
  // finishes: each call's deadline starts when it is sent (queueing every batch at once would
  // start the later ones' clocks long before they run). After an error no more are sent.
  const int64_t batch_count = (n + args.batch - 1) / args.batch;
  std::vector<std::optional<client::ClassifyResult>> results(batch_count);
  std::atomic<int64_t> next_batch{0};
  std::mutex error_mu;
  absl::Status first_error;  // guarded by error_mu
  std::atomic<bool> failed{false};
  auto send_batches = [&] {
    while (!failed.load()) {
      const int64_t b = next_batch.fetch_add(1);
      if (b >= batch_count) return;
      const int64_t begin = b * args.batch;
      absl::StatusOr<client::ClassifyResult> result =
          client.Classify(model, Rows(*images, begin, std::min(n, begin + args.batch)), options);
      if (!result.ok()) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (first_error.ok()) first_error = result.status();
        failed.store(true);
        return;
      }
      results[b] = *std::move(result);
    }
  };
  const int64_t workers =
      std::min<int64_t>(std::max(1, client.options().async_threads), batch_count);
  std::vector<std::thread> threads;
  for (int64_t i = 1; i < workers; ++i) threads.emplace_back(send_batches);
  send_batches();
  for (std::thread& t : threads) t.join();
  if (!first_error.ok()) return first_error;

  std::vector<client::Prediction> predictions;
  client::ModelVersion served;
  for (std::optional<client::ClassifyResult>& result : results) {
    if (served.content_hash.empty()) served = result->model;
    if (result->model.content_hash != served.content_hash) {
      return absl::AbortedError(absl::StrCat("model ", model, " version ", served.version,
                                             " was reloaded during classification (content ",
                                             served.content_hash, " -> ",
                                             result->model.content_hash, "); run again"));
    }
    for (client::Prediction& p : result->predictions) predictions.push_back(std::move(p));
  }
  if (static_cast<int64_t>(predictions.size()) != n) {
    return absl::InternalError(
        absl::StrCat("server returned ", predictions.size(), " predictions for ", n, " inputs"));
  }

  out << absl::StrFormat("model %s version %d (content %s): %d inputs, %d members, rule %s\n",
                         model, served.version, served.content_hash, n, args.ensemble_size,
                         args.rule);
  out << absl::StrFormat("%8s %6s %9s %9s %s\n", "input", "class", "agreement", "entropy",
                         labels.empty() ? "" : "label");
  int64_t correct = 0;
  double agreement = 0;
  for (int64_t i = 0; i < n; ++i) {
    const client::Prediction& p = predictions[i];
    agreement += p.agreement;
    if (!labels.empty() && p.predicted_class == labels[i]) ++correct;
    if (i < args.show) {
      out << absl::StrFormat("%8d %6d %9.3f %9.4f %s\n", i, p.predicted_class, p.agreement,
                             p.predictive_entropy, labels.empty() ? "" : absl::StrCat(labels[i]));
    }
  }
  out << absl::StrFormat("mean agreement %.4f\n", agreement / n);
  if (!labels.empty()) {
    out << absl::StrFormat("accuracy %.4f (%d/%d)\n", static_cast<double>(correct) / n, correct, n);
  }
  return absl::OkStatus();
}

}  // namespace hnet::cli
