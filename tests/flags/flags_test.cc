#include "flags/flags.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hnet::flags {
namespace {

// `value` canonicalized, or "error: <message>".
std::string Canonical(std::string value, bool allow_negative) {
  const std::string error = internal::CanonicalizeDecimal(value, allow_negative);
  return error.empty() ? value : "error: " + error;
}

TEST(CanonicalizeDecimal, LeadingZerosSignsAndSpacesAreDecimal) {
  EXPECT_EQ(Canonical("10", true), "10");
  EXPECT_EQ(Canonical("010", true), "10");
  EXPECT_EQ(Canonical("0", false), "0");
  EXPECT_EQ(Canonical("000", false), "0");
  EXPECT_EQ(Canonical("+007", false), "7");
  EXPECT_EQ(Canonical(" 42\t", false), "42");
  EXPECT_EQ(Canonical("-5", true), "-5");
  EXPECT_EQ(Canonical("-007", true), "-7");
  EXPECT_EQ(Canonical("-0", false), "0");
}

TEST(CanonicalizeDecimal, AnythingButDecimalDigitsIsRefusedNamingTheValue) {
  for (const std::string value :
       {"0x10", "0X1f", "1e3", "1.5", "ten", "10abc", "", " ", "-", "+", "1 0", "--1", "0b101"}) {
    EXPECT_EQ(Canonical(value, true), "error: must be a decimal integer, got " + value) << value;
  }
  EXPECT_EQ(Canonical("0x10", false), "error: must be a decimal integer >= 0, got 0x10");
}

TEST(CanonicalizeDecimal, MinusIsRefusedForUnsignedValues) {
  EXPECT_EQ(Canonical("-1", false), "error: must be an integer >= 0, got -1");
  EXPECT_EQ(Canonical("-18446744073709551615", false),
            "error: must be an integer >= 0, got -18446744073709551615");
}

TEST(CanonicalizeDecimal, ValuesPast64BitsAreRefusedNotSaturated) {
  EXPECT_EQ(Canonical("9223372036854775807", true), "9223372036854775807");
  EXPECT_EQ(Canonical("9223372036854775808", true),
            "error: is out of range for a 64-bit integer, got 9223372036854775808");
  EXPECT_EQ(Canonical("-9223372036854775808", true), "-9223372036854775808");
  EXPECT_EQ(Canonical("-9223372036854775809", true),
            "error: is out of range for a 64-bit integer, got -9223372036854775809");
  EXPECT_EQ(Canonical("18446744073709551615", false), "18446744073709551615");
  EXPECT_EQ(Canonical("00018446744073709551615", false), "18446744073709551615");
  EXPECT_EQ(Canonical("18446744073709551616", false),
            "error: is out of range for a 64-bit integer, got 18446744073709551616");
  EXPECT_EQ(Canonical("99999999999999999999999", false),
            "error: is out of range for a 64-bit integer, got 99999999999999999999999");
}

// An app with options of every kind hnet's binaries register, and a subcommand.
struct TestApp {
  TestApp() {
    app.add_option("--steps", steps);
    app.add_option("--seed", seed);
    app.add_option("--version", version)->check(IntAtLeast(0));
    app.add_option("--sizes", sizes);
    app.add_option("--lambda", lambda);
    app.add_option("--name", name);
    app.add_flag("--verbose", verbose);
    sub = app.add_subcommand("sample");
    sub->add_option("-n", n);
    RequireDecimalIntegers(app);
  }
  // "" on success, else the CLI11 error message.
  std::string Parse(std::vector<std::string> args) {
    std::reverse(args.begin(), args.end());  // CLI11 takes a reversed vector.
    try {
      app.parse(args);
    } catch (const CLI::ParseError& e) {
      return e.what();
    }
    return "";
  }
  CLI::App app;
  CLI::App* sub = nullptr;
  int32_t steps = 0;
  uint64_t seed = 0;
  int64_t version = 0;
  std::vector<int> sizes;
  double lambda = 0;
  std::string name;
  int verbose = 0;
  std::optional<int32_t> n;
};

TEST(RequireDecimalIntegers, IntegerOptionsReadLeadingZerosAsDecimal) {
  TestApp t;
  ASSERT_EQ(t.Parse({"--steps", "010", "--seed", "010", "--version", "007", "--sizes", "010", "020",
                     "sample", "-n", "010"}),
            "");
  EXPECT_EQ(t.steps, 10);
  EXPECT_EQ(t.seed, 10u);
  EXPECT_EQ(t.version, 7);
  EXPECT_EQ(t.sizes, (std::vector<int>{10, 20}));
  ASSERT_TRUE(t.n.has_value());
  EXPECT_EQ(*t.n, 10);
}

TEST(RequireDecimalIntegers, HexAndExponentsAreRefusedNamingTheFlag) {
  EXPECT_EQ(TestApp().Parse({"--steps", "0x10"}), "--steps: must be a decimal integer, got 0x10");
  EXPECT_EQ(TestApp().Parse({"--seed=1e3"}), "--seed: must be a decimal integer >= 0, got 1e3");
  EXPECT_EQ(TestApp().Parse({"--sizes", "5", "0x5"}),
            "--sizes: must be a decimal integer, got 0x5");
  EXPECT_EQ(TestApp().Parse({"sample", "-n", "0x10"}), "-n: must be a decimal integer, got 0x10");
}

TEST(RequireDecimalIntegers, UnsignedOptionsRefuseAMinusSignInsteadOfWrapping) {
  TestApp t;
  EXPECT_EQ(t.Parse({"--seed", "-1"}), "--seed: must be an integer >= 0, got -1");
  EXPECT_EQ(t.seed, 0u);
  TestApp u;
  ASSERT_EQ(u.Parse({"--seed", "18446744073709551615"}), "");
  EXPECT_EQ(u.seed, UINT64_MAX);
}

TEST(RequireDecimalIntegers, ValuesTooBigForTheOptionAreRefused) {
  // Fits int64, not the int32 option: CLI11's own conversion check names the flag.
  EXPECT_NE(TestApp().Parse({"--steps", "3000000000"}).find("--steps"), std::string::npos);
  EXPECT_EQ(TestApp().Parse({"--version", "99999999999999999999"}),
            "--version: is out of range for a 64-bit integer, got 99999999999999999999");
}

TEST(RequireDecimalIntegers, OwnValidatorsSeeTheDecimalValue) {
  EXPECT_EQ(TestApp().Parse({"--version", "-01"}), "--version: must be an integer >= 0, got -1");
  EXPECT_EQ(TestApp().Parse({"--version", "0x1"}), "--version: must be a decimal integer, got 0x1");
}

TEST(RequireDecimalIntegers, OtherOptionsAndFlagsAreUntouched) {
  TestApp t;
  ASSERT_EQ(t.Parse({"--lambda", "1e-3", "--name", "0x10", "--verbose", "--verbose"}), "");
  EXPECT_DOUBLE_EQ(t.lambda, 1e-3);
  EXPECT_EQ(t.name, "0x10");
  EXPECT_EQ(t.verbose, 2);
}

TEST(RequireDecimalIntegers, HelpKeepsTheTypeNames) {
  TestApp t;
  EXPECT_EQ(t.app.get_option("--steps")->get_type_name(), "INT");
  EXPECT_EQ(t.app.get_option("--seed")->get_type_name(), "UINT");
  EXPECT_EQ(t.app.get_option("--version")->get_type_name(), "INT:INT >= 0");
}

TEST(FiniteInRange, RefusesNaNInfinityAndValuesOutside) {
  CLI::App app;
  double mb = 64;
  app.add_option("--max_message_mb", mb)->check(FiniteInRange(0.5, 2047));
  const auto parse = [&app](const std::string& value) -> std::string {
    try {
      app.parse(std::vector<std::string>{value, "--max_message_mb"});
    } catch (const CLI::ParseError& e) {
      return e.what();
    }
    return "";
  };
  for (const std::string bad : {"nan", "-nan", "inf", "-inf", "0.25", "2048", "x"}) {
    EXPECT_NE(parse(bad).find("--max_message_mb: must be a number in [0.5"), std::string::npos)
        << bad << ": " << parse(bad);
  }
  ASSERT_EQ(parse("1.5"), "");
  EXPECT_DOUBLE_EQ(mb, 1.5);
  ASSERT_EQ(parse("2047"), "");
  EXPECT_DOUBLE_EQ(mb, 2047);
}

}  // namespace
}  // namespace hnet::flags
