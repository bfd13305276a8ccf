// Command-line helpers shared by every hnet binary (header-only over CLI11; no LibTorch, no
// gRPC, so the client CLI can use them too).
//
// CLI11 reads integers with strtoll(..., base 0): "--steps 010" would train 8 steps and
// "--seed 0x10" would seed 16, and values past 64 bits saturate silently. Every integer flag
// of an hnet binary is read as a decimal number instead (RequireDecimalIntegers).
#ifndef HNET_FLAGS_FLAGS_H_
#define HNET_FLAGS_FLAGS_H_

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdint>
#include <string>

namespace hnet::flags {

namespace internal {

inline bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Rewrites `value` as a canonical decimal integer ("+007" -> "7", " -0 " -> "0") and returns
// "", or returns why it is not one: not decimal digits after an optional sign ("0x10", "1e3",
// "1.5", "ten"), a minus sign when !`allow_negative`, or outside int64 (signed) or uint64
// (unsigned). Leading zeros are decimal: "010" is 10, not octal 8.
inline std::string CanonicalizeDecimal(std::string& value, bool allow_negative) {
  const std::string original = value;
  size_t begin = 0;
  size_t end = original.size();
  while (begin < end && IsSpace(original[begin])) ++begin;
  while (end > begin && IsSpace(original[end - 1])) --end;
  const std::string kind = allow_negative ? "a decimal integer" : "a decimal integer >= 0";
  const std::string got = ", got " + original;
  bool negative = false;
  if (begin < end && (original[begin] == '+' || original[begin] == '-')) {
    negative = original[begin] == '-';
    ++begin;
  }
  if (begin == end) return "must be " + kind + got;
  for (size_t i = begin; i < end; ++i) {
    if (original[i] < '0' || original[i] > '9') return "must be " + kind + got;
  }
  while (begin + 1 < end && original[begin] == '0') ++begin;
  const std::string digits = original.substr(begin, end - begin);
  if (digits == "0") negative = false;
  if (negative && !allow_negative) return "must be an integer >= 0" + got;
  // Range: a digit string of the limit's length compares like its number.
  const std::string bound = !allow_negative ? "18446744073709551615"  // uint64 max
                            : negative      ? "9223372036854775808"   // -int64 min
                                            : "9223372036854775807";       // int64 max
  if (digits.size() > bound.size() || (digits.size() == bound.size() && digits > bound)) {
    return "is out of range for a 64-bit integer" + got;
  }
  value = (negative ? "-" : "") + digits;
  return "";
}

}  // namespace internal

// A transform that accepts only a decimal integer (optionally signed, surrounding whitespace
// ignored) and hands CLI11 its canonical form; the error names the value. Empty description, so
// help text keeps the option's type name.
inline CLI::Validator DecimalInteger(bool allow_negative) {
  return CLI::Validator(
      [allow_negative](std::string& value) {
        return internal::CanonicalizeDecimal(value, allow_negative);
      },
      "");
}

// A decimal integer >= `min` (see DecimalInteger).
inline CLI::Validator IntAtLeast(int64_t min) {
  return CLI::Validator(
      [min](std::string& value) -> std::string {
        std::string error = internal::CanonicalizeDecimal(value, /*allow_negative=*/true);
        if (!error.empty()) return error;
        if (std::stoll(value) < min) {
          return "must be an integer >= " + std::to_string(min) + ", got " + value;
        }
        return "";
      },
      "INT >= " + std::to_string(min));
}

// A finite number in [`min`, `max`]: unlike CLI::Range, which lets "nan" through.
inline CLI::Validator FiniteInRange(double min, double max) {
  return CLI::Validator(
      [min, max](std::string& value) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(value, v) || !std::isfinite(v) || v < min || v > max) {
          return "must be a number in [" + CLI::detail::to_string(min) + ", " +
                 CLI::detail::to_string(max) + "], got " + value;
        }
        return "";
      },
      "FLOAT in [" + CLI::detail::to_string(min) + ", " + CLI::detail::to_string(max) + "]");
}

// Makes every integer option of `app` and of its subcommands accept decimal integers only:
// options whose CLI11 type name starts with INT or UINT (integers, and vectors and optionals of
// them; not flags, pairs or tuples). Unsigned ones also refuse a minus sign, which CLI11 would
// wrap to 2^64 - 1. Call once, after every option is added and before parsing. The check runs
// before the option's other validators and transforms, so those see decimal text only (an
// integer option cannot also take CLI::AsSizeValue's "1GB").
inline void RequireDecimalIntegers(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    if (option->get_expected_max() == 0) continue;  // A flag: takes no value.
    const std::string type = option->get_type_name();
    if (type.rfind("UINT", 0) == 0) {
      option->transform(DecimalInteger(/*allow_negative=*/false));
    } else if (type.rfind("INT", 0) == 0) {
      option->transform(DecimalInteger(/*allow_negative=*/true));
    }
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    RequireDecimalIntegers(*sub);
  }
}

}  // namespace hnet::flags

#endif  // HNET_FLAGS_FLAGS_H_
