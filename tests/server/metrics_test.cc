// Metrics: the Prometheus text exposition format (escaping, number formatting, histogram buckets),
// the hnet_* series of Metrics, and the HTTP endpoint.
#include "server/metrics.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "server/call_log.h"
#include "server/metrics_http.h"

namespace hnet::server {
namespace {

// The lines of `text` that start with `prefix`.
std::vector<std::string> LinesStartingWith(const std::string& text, absl::string_view prefix) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, prefix)) out.emplace_back(line);
  }
  return out;
}

TEST(MetricsFormatTest, EscapesLabelValues) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue("a\"b"), "a\\\"b");
  EXPECT_EQ(EscapeLabelValue("a\\b"), "a\\\\b");
  EXPECT_EQ(EscapeLabelValue("a\nb"), "a\\nb");
  EXPECT_EQ(EscapeLabelValue("\\\"\n"), "\\\\\\\"\\n");
}

TEST(MetricsFormatTest, EscapesHelpButNotQuotes) {
  EXPECT_EQ(EscapeHelp("say \"hi\"\\\n"), "say \"hi\"\\\\\\n");
}

TEST(MetricsFormatTest, FormatsSampleValues) {
  EXPECT_EQ(FormatSampleValue(0), "0");
  EXPECT_EQ(FormatSampleValue(3), "3");
  EXPECT_EQ(FormatSampleValue(-2), "-2");
  EXPECT_EQ(FormatSampleValue(1e15), "1000000000000000");
  EXPECT_EQ(FormatSampleValue(0.25), "0.25");
  EXPECT_EQ(FormatSampleValue(0.1), "0.1");
  EXPECT_EQ(FormatSampleValue(1e-5), "1e-05");
  EXPECT_EQ(FormatSampleValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatSampleValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatSampleValue(std::nan("")), "NaN");
  // Shortest round trip.
  EXPECT_EQ(std::stod(FormatSampleValue(2.0 / 3.0)), 2.0 / 3.0);
}

TEST(MetricsFormatTest, CounterRendersHelpTypeAndSortedSeries) {
  ValueFamily family(ValueFamily::Kind::kCounter, "x_total", "Things\ncounted", {"a", "b"});
  family.Add({"z", "1"});
  family.Add({"y", "q\"uote"}, 2.5);
  family.Add({"z", "1"}, 2);
  family.Add({"z", "1"}, -5);  // Counters never go down.
  std::string out;
  family.Render(&out);
  EXPECT_EQ(out,
            "# HELP x_total Things\\ncounted\n"
            "# TYPE x_total counter\n"
            "x_total{a=\"y\",b=\"q\\\"uote\"} 2.5\n"
            "x_total{a=\"z\",b=\"1\"} 3\n");
  EXPECT_EQ(family.Value({"z", "1"}), 3);
  EXPECT_EQ(family.Value({"nope", "0"}), 0);
}

TEST(MetricsFormatTest, GaugeSetsAndRemoves) {
  ValueFamily family(ValueFamily::Kind::kGauge, "g", "A gauge", {});
  family.Set({}, 5);
  family.Add({}, -7);
  std::string out;
  family.Render(&out);
  EXPECT_EQ(out, "# HELP g A gauge\n# TYPE g gauge\ng -2\n");
  family.Remove({});
  out.clear();
  family.Render(&out);
  EXPECT_EQ(out, "# HELP g A gauge\n# TYPE g gauge\n");
}

TEST(MetricsFormatTest, HistogramBucketsAreCumulativeAndInclusive) {
  // Bounds are sorted and deduplicated.
  HistogramFamily family("h", "Sizes", {"m"}, {10, 1, 5, 5});
  for (double v : {0.5, 1.0, 1.5, 5.0, 7.0, 11.0, 1000.0}) family.Observe({"x"}, v);
  std::optional<HistogramFamily::Snapshot> s = family.Get({"x"});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->bounds, (std::vector<double>{1, 5, 10}));
  // <= 1: {0.5, 1}; <= 5: + {1.5, 5}; <= 10: + {7}; +Inf: + {11, 1000}.
  EXPECT_EQ(s->cumulative, (std::vector<uint64_t>{2, 4, 5, 7}));
  EXPECT_EQ(s->count, 7u);
  EXPECT_DOUBLE_EQ(s->sum, 1026.0);
  EXPECT_FALSE(family.Get({"other"}).has_value());

  std::string out;
  family.Render(&out);
  EXPECT_EQ(out,
            "# HELP h Sizes\n"
            "# TYPE h histogram\n"
            "h_bucket{m=\"x\",le=\"1\"} 2\n"
            "h_bucket{m=\"x\",le=\"5\"} 4\n"
            "h_bucket{m=\"x\",le=\"10\"} 5\n"
            "h_bucket{m=\"x\",le=\"+Inf\"} 7\n"
            "h_sum{m=\"x\"} 1026\n"
            "h_count{m=\"x\"} 7\n");
}

TEST(MetricsFormatTest, HistogramWithoutLabelsAndFractionalBounds) {
  HistogramFamily family("lat", "Latency", {}, {0.005, 0.25});
  family.Observe({}, 0.005);
  family.Observe({}, 0.3);
  family.Observe({}, std::nan(""));  // Ignored.
  std::string out;
  family.Render(&out);
  EXPECT_NE(out.find("lat_bucket{le=\"0.005\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_bucket{le=\"0.25\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_bucket{le=\"+Inf\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("lat_count 2\n"), std::string::npos) << out;
}

TEST(MetricsFormatTest, ConcurrentCountsAreExact) {
  ValueFamily counter(ValueFamily::Kind::kCounter, "c_total", "c", {"t"});
  HistogramFamily histogram("h", "h", {}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        counter.Add({"x"});
        histogram.Observe({}, i % 2);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(counter.Value({"x"}), 4000);
  EXPECT_EQ(histogram.Get({})->count, 4000u);
  EXPECT_EQ(histogram.Get({})->cumulative[0], 4000u);  // 0 and 1 are both <= 1.
}

TEST(MetricsTest, RequestsUseBoundedModelLabels) {
  Metrics metrics("1.2.3");
  metrics.RecordModelLoad("mnist", "abc", 0.5);
  CallTiming timing;
  metrics.RecordRequest("Classify", "mnist", absl::StatusCode::kOk, 0.01, timing);
  metrics.RecordRequest("Classify", "no-such-model", absl::StatusCode::kNotFound, 0.001, timing);
  EXPECT_EQ(metrics.requests().Value({"Classify", "mnist", "OK"}), 1);
  EXPECT_EQ(metrics.requests().Value({"Classify", "-", "NOT_FOUND"}), 1);
  EXPECT_EQ(metrics.requests().Value({"Classify", "no-such-model", "NOT_FOUND"}), 0);
  EXPECT_EQ(metrics.request_duration().Get({"Classify"})->count, 2u);
  // Calls that ran no executor task leave the queue and compute histograms alone.
  EXPECT_FALSE(metrics.request_queue().Get({"Classify"}).has_value());
  timing.tasks = 1;
  timing.queue_seconds = 0.002;
  timing.compute_seconds = 0.2;
  metrics.RecordRequest("Classify", "mnist", absl::StatusCode::kOk, 0.21, timing);
  EXPECT_EQ(metrics.request_queue().Get({"Classify"})->count, 1u);
  EXPECT_DOUBLE_EQ(metrics.request_compute().Get({"Classify"})->sum, 0.2);
}

TEST(MetricsTest, CallsPinningAVersionCountUnderTheModelName) {
  Metrics metrics("1.2.3");
  metrics.RecordModelLoad("mnist", "3", 0.5);
  CallLog pinned("SampleWeights", &metrics);
  pinned.set_model("mnist", 3);  // Logged as "mnist@3".
  EXPECT_TRUE(pinned.Finish(absl::OkStatus()).ok());
  CallLog latest("SampleWeights", &metrics);
  latest.set_model("mnist");
  EXPECT_TRUE(latest.Finish(absl::OkStatus()).ok());
  EXPECT_EQ(metrics.requests().Value({"SampleWeights", "mnist", "OK"}), 2);
  EXPECT_EQ(metrics.requests().Value({"SampleWeights", "-", "OK"}), 0);
}

TEST(MetricsTest, ModelReloadReplacesTheVersionAndUnloadRemovesIt) {
  Metrics metrics("1.2.3");
  metrics.RecordModelLoad("m", "v1", 1.5);
  metrics.RecordModelLoad("m", "v2", 0.75);
  metrics.SetModelsLoaded(1);
  std::string text = metrics.Render();
  EXPECT_NE(text.find("hnet_model_info{model=\"m\",version=\"v2\"} 1\n"), std::string::npos);
  EXPECT_EQ(text.find("version=\"v1\""), std::string::npos) << text;
  EXPECT_NE(text.find("hnet_model_load_seconds{model=\"m\"} 0.75\n"), std::string::npos);
  EXPECT_NE(text.find("hnet_models_loaded 1\n"), std::string::npos);
  metrics.RecordModelUnload("m");
  text = metrics.Render();
  EXPECT_EQ(text.find("hnet_model_info{"), std::string::npos) << text;
  EXPECT_EQ(text.find("hnet_model_load_seconds{"), std::string::npos) << text;
}

TEST(MetricsTest, RenderHasEveryFamilyOnce) {
  Metrics metrics("9.9.9");
  metrics.SetQueueDepthSource([] { return int64_t{7}; });
  metrics.RecordClassifyBatch(96, 3);
  metrics.RecordNetworksGenerated("m", 64);
  metrics.RecordAuthFailure("bad_token");
  const std::string text = metrics.Render();
  for (const char* family :
       {"hnet_build_info", "hnet_requests_total", "hnet_request_duration_seconds",
        "hnet_request_queue_seconds", "hnet_request_compute_seconds", "hnet_classify_batch_inputs",
        "hnet_classify_batch_requests", "hnet_executor_queue_depth",
        "hnet_networks_generated_total", "hnet_model_load_seconds", "hnet_models_loaded",
        "hnet_auth_failures_total", "hnet_process_resident_memory_bytes"}) {
    EXPECT_EQ(LinesStartingWith(text, absl::StrCat("# TYPE ", family, " ")).size(), 1u) << family;
  }
  EXPECT_NE(text.find("hnet_build_info{version=\"9.9.9\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("hnet_executor_queue_depth 7\n"), std::string::npos);
  EXPECT_NE(text.find("hnet_classify_batch_inputs_bucket{le=\"128\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("hnet_classify_batch_inputs_bucket{le=\"64\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("hnet_classify_batch_requests_sum 3\n"), std::string::npos);
  EXPECT_NE(text.find("hnet_networks_generated_total{model=\"m\"} 64\n"), std::string::npos);
  EXPECT_NE(text.find("hnet_auth_failures_total{reason=\"bad_token\"} 1\n"), std::string::npos);
  const std::vector<std::string> rss =
      LinesStartingWith(text, "hnet_process_resident_memory_bytes ");
  ASSERT_EQ(rss.size(), 1u);
  EXPECT_GT(std::stod(rss[0].substr(rss[0].find(' ') + 1)),
            1e6);  // A test binary: > 1 MB.
  // Every line is a comment or "name[{labels}] value".
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "#")) continue;
    EXPECT_TRUE(absl::StartsWith(line, "hnet_")) << line;
    EXPECT_EQ(std::count(line.begin(), line.end(), ' '), 1) << line;
  }
}

TEST(MetricsHttpTest, ServesMetricsAndHealthAndStops) {
  Metrics metrics("1.0.0");
  metrics.RecordAuthFailure("missing_token");
  std::atomic<bool> serving{true};
  auto http = MetricsHttpServer::Start("127.0.0.1", 0, &metrics, [&] { return serving.load(); });
  ASSERT_TRUE(http.ok()) << http.status();
  ASSERT_GT((*http)->port(), 0);
  httplib::Client client("127.0.0.1", (*http)->port());
  httplib::Result metrics_response = client.Get("/metrics");
  ASSERT_TRUE(metrics_response) << httplib::to_string(metrics_response.error());
  EXPECT_EQ(metrics_response->status, 200);
  EXPECT_EQ(metrics_response->get_header_value("Content-Type"),
            "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(metrics_response->body.find("hnet_auth_failures_total{reason=\"missing_token\"} 1"),
            std::string::npos);
  httplib::Result health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");
  serving = false;
  health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503);
  httplib::Result missing = client.Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  const int port = (*http)->port();
  (*http)->Stop();
  (*http)->Stop();  // Idempotent.
  httplib::Client after("127.0.0.1", port);
  after.set_connection_timeout(2, 0);
  EXPECT_FALSE(after.Get("/metrics"));
}

TEST(MetricsHttpTest, PortInUseIsAnErrorNamingTheFlag) {
  Metrics metrics("1.0.0");
  auto first = MetricsHttpServer::Start("127.0.0.1", 0, &metrics, nullptr);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = MetricsHttpServer::Start("127.0.0.1", (*first)->port(), &metrics, nullptr);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("--metrics_port"), std::string::npos);
}

}  // namespace
}  // namespace hnet::server
