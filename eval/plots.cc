#include "eval/plots.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "core/log.h"
#include "io/file_io.h"

namespace hnet::eval {
namespace {

namespace fs = std::filesystem;

std::string ShellQuote(absl::string_view s) {
  return absl::StrCat("'", absl::StrReplaceAll(s, {{"'", "'\\''"}}), "'");
}

std::string CsvCell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  return absl::StrCat("\"", absl::StrReplaceAll(s, {{"\"", "\"\""}}), "\"");
}

// Runs a shell command, returning its exit status and combined output.
int RunCapture(const std::string& command, std::string* output) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) output->append(buffer, n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

void CsvTable::AddRow(const std::vector<double>& values) {
  std::vector<std::string> cells;
  cells.reserve(values.size());
  for (double v : values) cells.push_back(absl::StrFormat("%.8g", v));
  rows_.push_back(std::move(cells));
}

void CsvTable::AddRow(const std::vector<std::string>& cells) { rows_.push_back(cells); }

absl::Status CsvTable::Write(const std::string& path) const {
  std::string text;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      absl::StrAppend(&text, i > 0 ? "," : "", CsvCell(cells[i]));
    }
    text += "\n";
  };
  line(header_);
  for (const auto& row : rows_) line(row);
  return io::WriteFile(path, text);
}

std::string GnuplotQuote(absl::string_view path) {
  return absl::StrCat("'", absl::StrReplaceAll(path, {{"'", "''"}}), "'");
}

Plotter::Plotter(std::string figures_dir, bool enabled, bool deferred)
    : dir_(std::move(figures_dir)) {
  if (!enabled) {
    reason_ = "figures disabled (--no_plots)";
    return;
  }
  if (deferred) {
    terminal_ = "pngcairo";
    deferred_ = true;
    return;
  }
  for (const char* terminal : {"pngcairo", "png"}) {
    std::string output;
    if (RunCapture(absl::StrCat("gnuplot -e ", ShellQuote(absl::StrCat("set terminal ", terminal))),
                   &output) == 0 &&
        output.find("unknown") == std::string::npos) {
      terminal_ = terminal;
      return;
    }
    if (output.find("not found") != std::string::npos) break;
  }
  reason_ =
      "gnuplot with a pngcairo or png terminal was not found on PATH (install the Debian "
      "package gnuplot or gnuplot-nox); figures skipped, their data files are still written";
}

absl::StatusOr<std::string> Plotter::Render(absl::string_view name, int width, int height,
                                            absl::string_view body) const {
  if (!available()) return absl::FailedPreconditionError(reason_);
  const std::string script = (fs::path(dir_) / absl::StrCat(name, ".gp")).string();
  const std::string png_name = absl::StrCat(name, ".png");
  const std::string png = (fs::path(dir_) / png_name).string();
  const std::string text = absl::StrCat(
      "# Written by hnet-eval; re-run with: gnuplot ", name, ".gp\n", "set terminal ", terminal_,
      " size ", width, ",", height, terminal_ == "pngcairo" ? " font 'sans,10'" : "", "\n",
      "set output ", GnuplotQuote(png_name), "\n", "set datafile separator ','\n", body, "\n",
      "unset output\n");
  if (absl::Status s = io::WriteFile(script, text); !s.ok()) return s;
  if (deferred_) return png_name;
  std::error_code ec;
  fs::remove(png, ec);
  std::string output;
  const int rc = RunCapture(
      absl::StrCat("cd ", ShellQuote(dir_), " && gnuplot ", ShellQuote(absl::StrCat(name, ".gp"))),
      &output);
  if (rc != 0 || !fs::exists(png, ec) || fs::file_size(png, ec) == 0) {
    return absl::InternalError(
        absl::StrCat("gnuplot failed on ", script, " (exit ", rc, "): ", output));
  }
  return png_name;
}

}  // namespace hnet::eval
