// The evaluation report: a Markdown file (report.md) with a table of every number next to
// the paper's, one section per experiment with its figures, plus results.json (all numbers)
// and comparison.csv (the table). Experiments add to it in order; Write() emits the files.
#ifndef HNET_EVAL_REPORT_H_
#define HNET_EVAL_REPORT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "eval/json.h"

namespace hnet::eval {

// One line of the "ours vs paper" table. Empty `paper` means the paper has no such number.
struct ComparisonRow {
  std::string experiment;
  std::string quantity;
  std::string ours;
  std::string paper;
  std::string note;  // Targets, MNFG's number, protocol differences.
};

// A bar from the issue: the target, our measured value and whether it is met.
struct Bar {
  std::string name;
  std::string target;
  std::string measured;
  std::string status;  // "met", "not met" or "n/a (...)".
};

class Report {
 public:
  void SetTitle(std::string title) { title_ = std::move(title); }
  // Free Markdown placed after the title (checkpoint, command, settings).
  void AddPreamble(const std::string& markdown) { preamble_ += markdown; }
  void AddRow(ComparisonRow row) { rows_.push_back(std::move(row)); }
  void AddBar(Bar bar) { bars_.push_back(std::move(bar)); }
  // Appends a "## title" section with `markdown` as its body.
  void AddSection(const std::string& title, const std::string& markdown);
  // results.json's root object; experiments set their own key.
  Json& data() { return data_; }

  // Writes report.md, results.json and comparison.csv into `dir` (which must exist).
  absl::Status Write(const std::string& dir) const;

  // The Markdown text of the report.
  std::string Markdown() const;

 private:
  std::string title_ = "hnet evaluation";
  std::string preamble_;
  std::vector<ComparisonRow> rows_;
  std::vector<Bar> bars_;
  std::vector<std::pair<std::string, std::string>> sections_;
  Json data_ = Json::Object();
};

// Formatting helpers for report cells: a fraction as a percentage with `digits` decimals
// ("99.14 %"), mean +- sd of percentages, and a plain number with %.4g.
std::string Percent(double fraction, int digits = 2);
std::string PercentMeanSd(double mean, double sd, int digits = 2);
std::string Number(double value);
// A Markdown image link to figures/<png> with `alt` text, or a note when `png` is empty.
std::string FigureLink(const std::string& alt, const std::string& png);

}  // namespace hnet::eval

#endif  // HNET_EVAL_REPORT_H_
