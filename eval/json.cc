#include "eval/json.h"

#include <cmath>
#include <cstdio>

#include "absl/strings/str_format.h"

namespace hnet::eval {
namespace {

void Escape(const std::string& s, std::string* out) {
  out->push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\r':
        out->append("\\r");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", static_cast<int>(c));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

}  // namespace

Json::Json(const std::vector<double>& values) : type_(Type::kArray) {
  for (double v : values) array_.emplace_back(v);
}

Json& Json::Push(Json value) {
  if (type_ == Type::kNull) type_ = Type::kArray;
  array_.push_back(std::move(value));
  return array_.back();
}

Json& Json::Set(const std::string& key, Json value) {
  Json& slot = (*this)[key];
  slot = std::move(value);
  return slot;
}

Json& Json::operator[](const std::string& key) {
  if (type_ == Type::kNull) type_ = Type::kObject;
  for (auto& [k, v] : object_) {
    if (k == key) return v;
  }
  object_.emplace_back(key, Json());
  return object_.back().second;
}

std::string Json::Dump() const {
  std::string out;
  DumpTo(&out, 0);
  out.push_back('\n');
  return out;
}

void Json::DumpTo(std::string* out, int indent) const {
  const std::string pad(indent + 2, ' ');
  switch (type_) {
    case Type::kNull:
      out->append("null");
      break;
    case Type::kBool:
      out->append(bool_ ? "true" : "false");
      break;
    case Type::kNumber:
      if (!std::isfinite(number_)) {
        out->append("null");
      } else if (number_ == std::floor(number_) && std::abs(number_) < 1e15) {
        absl::StrAppendFormat(out, "%.0f", number_);
      } else {
        absl::StrAppendFormat(out, "%.17g", number_);
      }
      break;
    case Type::kString:
      Escape(string_, out);
      break;
    case Type::kArray: {
      // Arrays of numbers on one line; others one element per line.
      bool flat = true;
      for (const Json& v : array_) flat = flat && v.type_ == Type::kNumber;
      out->push_back('[');
      for (size_t i = 0; i < array_.size(); ++i) {
        if (i > 0) out->append(flat ? ", " : ",");
        if (!flat) out->append("\n" + pad);
        array_[i].DumpTo(out, indent + 2);
      }
      if (!flat && !array_.empty()) out->append("\n" + std::string(indent, ' '));
      out->push_back(']');
      break;
    }
    case Type::kObject:
      out->push_back('{');
      for (size_t i = 0; i < object_.size(); ++i) {
        if (i > 0) out->push_back(',');
        out->append("\n" + pad);
        Escape(object_[i].first, out);
        out->append(": ");
        object_[i].second.DumpTo(out, indent + 2);
      }
      if (!object_.empty()) out->append("\n" + std::string(indent, ' '));
      out->push_back('}');
      break;
  }
}

}  // namespace hnet::eval
