// A small ordered JSON value for the evaluation's data files: objects keep insertion order so
// that results.json reads in the order of the report. Not a parser (tests parse with
// protobuf's JSON reader).
#ifndef HNET_EVAL_JSON_H_
#define HNET_EVAL_JSON_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace hnet::eval {

class Json {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Json() = default;                                                     // null
  Json(bool b) : type_(Type::kBool), bool_(b) {}                        // NOLINT
  Json(double v) : type_(Type::kNumber), number_(v) {}                  // NOLINT
  Json(int v) : Json(static_cast<double>(v)) {}                         // NOLINT
  Json(int64_t v) : Json(static_cast<double>(v)) {}                     // NOLINT
  Json(const char* s) : type_(Type::kString), string_(s) {}             // NOLINT
  Json(std::string s) : type_(Type::kString), string_(std::move(s)) {}  // NOLINT
  Json(const std::vector<double>& values);                              // NOLINT: number array

  static Json Array() { return Json(Type::kArray); }
  static Json Object() { return Json(Type::kObject); }

  // Appends to an array (a null value becomes an array).
  Json& Push(Json value);
  // Sets key in an object (a null value becomes an object); replaces an existing key.
  Json& Set(const std::string& key, Json value);
  // The value at key, inserting null when missing (a null value becomes an object).
  Json& operator[](const std::string& key);

  Type type() const { return type_; }
  // Serialises with two-space indentation; non-finite numbers become null.
  std::string Dump() const;

 private:
  explicit Json(Type type) : type_(type) {}
  void DumpTo(std::string* out, int indent) const;

  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<Json> array_;
  std::vector<std::pair<std::string, Json>> object_;
};

}  // namespace hnet::eval

#endif  // HNET_EVAL_JSON_H_
