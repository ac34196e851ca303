#include "runtime/chat/json_value.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "runtime/chat/error.hpp"
#include "runtime/chat/interp.hpp"
#include "runtime/chat/ops.hpp"
#include "runtime/chat/pystr.hpp"
#include "runtime/chat/value_str.hpp"
#include "runtime/tokenizer/utf8.hpp"

namespace minima::jinja {

namespace {

class Dumper {
 public:
  Dumper(Interp& in, const JsonStyle& style) : in_(in), style_(style) {}

  void value(const Value& v, int level) {
    in_.charge(1);
    switch (v.kind()) {
      case Kind::kNone:
        put("null");
        return;
      case Kind::kBool:
        put(v.bool_value() ? "true" : "false");
        return;
      case Kind::kInt:
        put(std::to_string(v.int_value()));
        return;
      case Kind::kFloat:
        put(float_text(v.float_value()));
        return;
      case Kind::kString:
        string(v.str());
        return;
      case Kind::kList:
      case Kind::kTuple: {
        const List& items = v.items();
        if (items.empty()) {
          put("[]");
          return;
        }
        put("[");
        for (size_t i = 0; i < items.size(); ++i) {
          if (i > 0) put(style_.item_sep);
          newline(level + 1);
          value(items[i], level + 1);
        }
        newline(level);
        put("]");
        return;
      }
      case Kind::kDict:
        object(v.dict(), level);
        return;
      default:
        type_error("Object of type " + type_name(v) + " is not JSON serializable");
    }
  }

  std::string take() { return std::move(out_); }

 private:
  void put(std::string_view s) {
    in_.check_size(out_.size() + s.size());
    out_.append(s);
  }

  void newline(int level) {
    if (!style_.indent) return;
    put("\n");
    for (int i = 0; i < level; ++i) put(*style_.indent);
  }

  static std::string float_text(double d) {
    if (std::isnan(d)) return "NaN";
    if (std::isinf(d)) return d < 0 ? "-Infinity" : "Infinity";
    return float_repr(d);
  }

  std::string key_text(const Value& k) {
    switch (k.kind()) {
      case Kind::kString:
        return k.str();
      case Kind::kFloat:
        return float_text(k.float_value());
      case Kind::kBool:
        return k.bool_value() ? "true" : "false";
      case Kind::kNone:
        return "null";
      case Kind::kInt:
        return std::to_string(k.int_value());
      default:
        type_error("keys must be str, int, float, bool or None, not " + type_name(k));
    }
  }

  void object(const Dict& d, int level) {
    if (d.empty()) {
      put("{}");
      return;
    }
    std::vector<const std::pair<Value, Value>*> entries;
    for (const auto& e : d.entries()) entries.push_back(&e);
    if (style_.sort_keys) {
      // Python sorts the items by key (mixed key types raise TypeError).
      std::vector<const std::pair<Value, Value>*> sorted;
      for (auto* e : entries) {
        auto at = sorted.begin();
        while (at != sorted.end() && !py_less(in_, e->first, (*at)->first)) ++at;
        sorted.insert(at, e);
      }
      entries = std::move(sorted);
    }
    put("{");
    bool first = true;
    for (const auto* e : entries) {
      if (!first) put(style_.item_sep);
      first = false;
      newline(level + 1);
      string(key_text(e->first));
      put(style_.key_sep);
      value(e->second, level + 1);
    }
    newline(level);
    put("}");
  }

  void string(std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string q;
    q.reserve(s.size() + 2);
    q.push_back('"');
    auto u_escape = [&](uint32_t c) {
      q += "\\u";
      for (int k = 3; k >= 0; --k) q.push_back(kHex[(c >> (4 * k)) & 0xF]);
    };
    size_t i = 0;
    while (i < s.size()) {
      const auto b = static_cast<unsigned char>(s[i]);
      if (b < 0x80) {
        switch (b) {
          case '"':
            q += "\\\"";
            break;
          case '\\':
            q += "\\\\";
            break;
          case '\n':
            q += "\\n";
            break;
          case '\r':
            q += "\\r";
            break;
          case '\t':
            q += "\\t";
            break;
          case '\b':
            q += "\\b";
            break;
          case '\f':
            q += "\\f";
            break;
          default:
            if (b < 0x20) {
              u_escape(b);
            } else {
              q.push_back(static_cast<char>(b));
            }
        }
        ++i;
        continue;
      }
      const utf8::ScanResult r = utf8::scan(s, i);
      if (!style_.ensure_ascii) {
        if (r.kind == utf8::Scan::Valid) {
          q.append(s.substr(i, r.len));
        } else {
          utf8::append(q, utf8::kReplacement);
        }
      } else if (r.cp >= 0x10000) {
        const uint32_t v = r.cp - 0x10000;
        u_escape(0xD800 + (v >> 10));
        u_escape(0xDC00 + (v & 0x3FF));
      } else {
        u_escape(r.cp);
      }
      i += r.len;
    }
    q.push_back('"');
    put(q);
  }

  Interp& in_;
  const JsonStyle& style_;
  std::string out_;
};

Value convert(const nlohmann::ordered_json& j, int depth) {
  if (depth > kMaxDepth) {
    throw Error("chat template context: JSON nested more than " + std::to_string(kMaxDepth) +
                " levels deep");
  }
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return Value::none();
    case nlohmann::json::value_t::boolean:
      return Value::boolean(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value::integer(j.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      const auto u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Value::integer(static_cast<int64_t>(u));
      return Value::number(static_cast<double>(u));
    }
    case nlohmann::json::value_t::number_float:
      return Value::number(j.get<double>());
    case nlohmann::json::value_t::string:
      return Value::string(j.get_ref<const std::string&>());
    case nlohmann::json::value_t::array: {
      List items;
      items.reserve(j.size());
      for (const auto& x : j) items.push_back(convert(x, depth + 1));
      return Value::list(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      Dict d;
      for (auto it = j.begin(); it != j.end(); ++it) {
        d.set(Value::string(it.key()), convert(it.value(), depth + 1));
      }
      return Value::dict(std::move(d));
    }
    default:
      throw Error("chat template context: binary JSON values are not supported");
  }
}

}  // namespace

std::string dumps(Interp& in, const Value& v, const JsonStyle& style) {
  Dumper d(in, style);
  d.value(v, 0);
  return d.take();
}

Value from_json(const nlohmann::ordered_json& j) {
  return convert(j, 0);
}

}  // namespace minima::jinja
