#include "eval/report.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "eval/plots.h"
#include "io/file_io.h"

namespace hnet::eval {
namespace {

namespace fs = std::filesystem;

std::string Cell(const std::string& s) {
  return s.empty() ? "—" : absl::StrReplaceAll(s, {{"|", "\\|"}, {"\n", " "}});
}

}  // namespace

void Report::AddSection(const std::string& title, const std::string& markdown) {
  sections_.emplace_back(title, markdown);
}

std::string Report::Markdown() const {
  std::string md = absl::StrCat("# ", title_, "\n\n", preamble_, "\n");
  if (!bars_.empty()) {
    md += "## Bars\n\n| bar | target | measured | status |\n| --- | --- | --- | --- |\n";
    for (const Bar& b : bars_) {
      absl::StrAppend(&md, "| ", Cell(b.name), " | ", Cell(b.target), " | ", Cell(b.measured),
                      " | ", Cell(b.status), " |\n");
    }
    md += "\n";
  }
  md +=
      "## Ours vs the paper\n\nEvery number this run measured, next to the paper's where it "
      "reports one (— where it does not).\n\n"
      "| experiment | quantity | ours | paper | note |\n| --- | --- | --- | --- | --- |\n";
  for (const ComparisonRow& r : rows_) {
    absl::StrAppend(&md, "| ", Cell(r.experiment), " | ", Cell(r.quantity), " | ", Cell(r.ours),
                    " | ", Cell(r.paper), " | ", Cell(r.note), " |\n");
  }
  md += "\n";
  for (const auto& [title, body] : sections_)
    absl::StrAppend(&md, "## ", title, "\n\n", body, "\n");
  return md;
}

absl::Status Report::Write(const std::string& dir) const {
  if (absl::Status s = io::WriteFile((fs::path(dir) / "report.md").string(), Markdown()); !s.ok()) {
    return s;
  }
  Json root = data_;
  Json& rows = root.Set("comparison", Json::Array());
  for (const ComparisonRow& r : rows_) {
    Json row = Json::Object();
    row.Set("experiment", r.experiment);
    row.Set("quantity", r.quantity);
    row.Set("ours", r.ours);
    row.Set("paper", r.paper);
    row.Set("note", r.note);
    rows.Push(std::move(row));
  }
  Json& bars = root.Set("bars", Json::Array());
  for (const Bar& b : bars_) {
    Json bar = Json::Object();
    bar.Set("name", b.name);
    bar.Set("target", b.target);
    bar.Set("measured", b.measured);
    bar.Set("status", b.status);
    bars.Push(std::move(bar));
  }
  if (absl::Status s = io::WriteFile((fs::path(dir) / "results.json").string(), root.Dump());
      !s.ok()) {
    return s;
  }
  CsvTable table({"experiment", "quantity", "ours", "paper", "note"});
  for (const ComparisonRow& r : rows_) {
    table.AddRow(std::vector<std::string>{r.experiment, r.quantity, r.ours, r.paper, r.note});
  }
  return table.Write((fs::path(dir) / "comparison.csv").string());
}

std::string Percent(double fraction, int digits) {
  return absl::StrFormat("%.*f %%", digits, 100 * fraction);
}

std::string PercentMeanSd(double mean, double sd, int digits) {
  return absl::StrFormat("%.*f ± %.*f %%", digits, 100 * mean, digits, 100 * sd);
}

std::string Number(double value) { return absl::StrFormat("%.4g", value); }

std::string FigureLink(const std::string& alt, const std::string& png) {
  if (png.empty()) return absl::StrCat("*(figure \"", alt, "\" not rendered)*\n\n");
  return absl::StrCat("![", alt, "](figures/", png, ")\n\n");
}

}  // namespace hnet::eval
