#include "eval/report.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "eval/json.h"
#include "eval/options.h"
#include "eval/plots.h"

namespace hnet::eval {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(JsonTest, DumpsOrderedObjectsArraysAndEscapes) {
  Json root = Json::Object();
  root.Set("b", 1.5);
  root.Set("a", "x\"y\n");
  root.Set("list", std::vector<double>{1, 2.25});
  root["nested"].Set("ok", true);
  root.Set("nan", std::nan(""));
  const std::string text = root.Dump();
  EXPECT_LT(text.find("\"b\""), text.find("\"a\""));
  google::protobuf::Struct parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(text, &parsed).ok()) << text;
  EXPECT_DOUBLE_EQ(parsed.fields().at("b").number_value(), 1.5);
  EXPECT_EQ(parsed.fields().at("a").string_value(), "x\"y\n");
  EXPECT_EQ(parsed.fields().at("list").list_value().values(1).number_value(), 2.25);
  EXPECT_TRUE(parsed.fields().at("nested").struct_value().fields().at("ok").bool_value());
  EXPECT_EQ(parsed.fields().at("nan").kind_case(), google::protobuf::Value::kNullValue);
}

TEST(ReportTest, WritesMarkdownJsonAndCsvWithEveryRow) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("hnet_report_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  Report report;
  report.SetTitle("t");
  report.AddRow({"4.2.2 ensembles", "majority vote", "99.20 %", "99.14 %", "a, \"quoted\" note"});
  report.AddBar({"bar", ">= 1", "2", "met"});
  report.AddSection("Section A", "body | with pipe\n");
  report.data().Set("x", 3);
  ASSERT_TRUE(report.Write(dir.string()).ok());
  const std::string md = ReadFile(dir / "report.md");
  EXPECT_NE(md.find("| 4.2.2 ensembles | majority vote | 99.20 % | 99.14 % |"), std::string::npos)
      << md;
  EXPECT_NE(md.find("## Section A"), std::string::npos);
  EXPECT_NE(md.find("## Bars"), std::string::npos);
  google::protobuf::Struct parsed;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(ReadFile(dir / "results.json"), &parsed).ok());
  EXPECT_EQ(parsed.fields().at("comparison").list_value().values_size(), 1);
  EXPECT_EQ(parsed.fields().at("x").number_value(), 3);
  const std::string csv = ReadFile(dir / "comparison.csv");
  EXPECT_NE(csv.find("\"a, \"\"quoted\"\" note\""), std::string::npos) << csv;
  std::filesystem::remove_all(dir);
}

TEST(ReportTest, FormatsPercentages) {
  EXPECT_EQ(Percent(0.99141), "99.14 %");
  EXPECT_EQ(PercentMeanSd(0.99, 0.0012), "99.00 ± 0.12 %");
  EXPECT_EQ(FigureLink("a", ""), "*(figure \"a\" not rendered)*\n\n");
  EXPECT_EQ(FigureLink("a", "x.png"), "![a](figures/x.png)\n\n");
}

TEST(PlotterTest, DisabledPlotterRefusesWithAReason) {
  Plotter plotter("/nonexistent", /*enabled=*/false);
  EXPECT_FALSE(plotter.available());
  EXPECT_FALSE(plotter.Render("x", 10, 10, "plot x").ok());
  EXPECT_NE(plotter.unavailable_reason().find("disabled"), std::string::npos);
}

TEST(OptionsTest, ValidationNamesTheBadOption) {
  EvalOptions o;
  o.checkpoint = "x.hnet";
  o.out_dir = "out";
  EXPECT_TRUE(ValidateOptions(o).ok());
  EvalOptions bad = o;
  bad.sections = {"accuracy", "nonsense"};
  EXPECT_NE(ValidateOptions(bad).message().find("nonsense"), std::string::npos);
  bad = o;
  bad.ensemble_sizes = {1, 500};
  EXPECT_NE(ValidateOptions(bad).message().find("--ensemble_sizes"), std::string::npos);
  bad = o;
  bad.networks = 1;
  EXPECT_NE(ValidateOptions(bad).message().find("--networks"), std::string::npos);
  EXPECT_TRUE(ValidateOptions(QuickOptions(o)).ok());
}

TEST(OptionsTest, DefaultEnsembleSizesFitTheEnsembleSize) {
  const std::vector<int64_t> defaults = EvalOptions{}.ensemble_sizes;
  EXPECT_EQ(FitEnsembleSizes(defaults, 200), defaults);
  EXPECT_EQ(FitEnsembleSizes(defaults, 100), (std::vector<int64_t>{1, 5, 10, 50, 100}));
  EXPECT_EQ(FitEnsembleSizes(defaults, 30), (std::vector<int64_t>{1, 5, 10, 30}));
  EXPECT_EQ(FitEnsembleSizes(defaults, 1), (std::vector<int64_t>{1}));
  EXPECT_EQ(FitEnsembleSizes(defaults, 300), (std::vector<int64_t>{1, 5, 10, 50, 100, 200, 300}));
  EXPECT_EQ(FitEnsembleSizes({1, 2, 4, 8}, 6), (std::vector<int64_t>{1, 2, 4, 6}));
  EvalOptions o;
  o.checkpoint = "x.hnet";
  o.out_dir = "out";
  o.ensemble_size = 100;
  EXPECT_FALSE(ValidateOptions(o).ok());  // The struct's defaults are taken as given ...
  o.ensemble_sizes = FitEnsembleSizes(o.ensemble_sizes, o.ensemble_size);
  EXPECT_TRUE(ValidateOptions(o).ok());  // ... hnet-eval fits them when none are given.
}

}  // namespace
}  // namespace hnet::eval
