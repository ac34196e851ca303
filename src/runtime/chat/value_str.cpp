#include "runtime/chat/value_str.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "runtime/chat/error.hpp"
#include "runtime/chat/interp.hpp"
#include "runtime/chat/pystr.hpp"

namespace minima::jinja {

std::string float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  // Shortest round-trip digits in scientific form, then Python's layout: positional when the
  // decimal exponent is in [-4, 16), else d.ddde+XX; positional floats always show a fraction.
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  const size_t epos = sci.find('e');
  std::string mant = sci.substr(0, epos);
  const int exp = std::atoi(sci.c_str() + epos + 1);
  std::string sign;
  if (!mant.empty() && mant[0] == '-') {
    sign = "-";
    mant.erase(0, 1);
  }
  std::string digits;
  for (char c : mant) {
    if (c != '.') digits.push_back(c);
  }
  const int decpt = exp + 1;  // value = 0.digits * 10^decpt
  std::string out = sign;
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out += "0." + std::string(static_cast<size_t>(-decpt), '0') + digits;
    } else if (static_cast<size_t>(decpt) >= digits.size()) {
      out += digits + std::string(static_cast<size_t>(decpt) - digits.size(), '0') + ".0";
    } else {
      out += digits.substr(0, static_cast<size_t>(decpt)) + "." +
             digits.substr(static_cast<size_t>(decpt));
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  const int e = decpt - 1;
  out += e < 0 ? "e-" : "e+";
  const std::string ed = std::to_string(std::abs(e));
  if (ed.size() < 2) out += "0";
  out += ed;
  return out;
}

namespace {

class Writer {
 public:
  explicit Writer(size_t limit) : limit_(limit) {}

  void put(std::string_view s) {
    if (out_.size() + s.size() > limit_) {
      limit_error("text exceeds the output limit (RenderOptions::max_output_bytes)");
    }
    out_.append(s);
  }

  void str(const Value& v) {
    switch (v.kind()) {
      case Kind::kUndefined:
        return;
      case Kind::kString:
        put(v.str());
        return;
      default:
        repr(v);
    }
  }

  void repr(const Value& v) {
    switch (v.kind()) {
      case Kind::kUndefined:
        put("Undefined");
        return;
      case Kind::kNone:
        put("None");
        return;
      case Kind::kBool:
        put(v.bool_value() ? "True" : "False");
        return;
      case Kind::kInt:
        put(std::to_string(v.int_value()));
        return;
      case Kind::kFloat:
        put(float_repr(v.float_value()));
        return;
      case Kind::kString:
        if (v.is_markup()) {
          put("Markup(" + pystr::repr(v.str()) + ")");
        } else {
          put(pystr::repr(v.str()));
        }
        return;
      case Kind::kList:
      case Kind::kTuple: {
        put(v.is_list() ? "[" : "(");
        const List& items = v.items();
        for (size_t i = 0; i < items.size(); ++i) {
          if (i > 0) put(", ");
          repr(items[i]);
        }
        if (v.is_tuple() && items.size() == 1) put(",");
        put(v.is_list() ? "]" : ")");
        return;
      }
      case Kind::kDict:
        dict(v.dict());
        return;
      case Kind::kNamespace:
        // A namespace may contain itself; the depth bound turns that into an error, not a crash.
        if (++ns_depth_ > kMaxDepth) limit_error("namespace nested too deeply to print");
        put("<Namespace ");
        dict(v.ns().attrs);
        put(">");
        --ns_depth_;
        return;
      case Kind::kCallable:
        put(v.callable().repr());
        return;
      case Kind::kLoop:
        put(loop_repr(v));
        return;
      case Kind::kIterator:
        // Python also prints the object's address, which no other renderer can reproduce.
        put("<" + v.iterator().type + " object" +
            (v.iterator().name.empty() ? "" : " " + v.iterator().name) + ">");
        return;
    }
  }

  std::string take() { return std::move(out_); }

 private:
  void dict(const Dict& d) {
    put("{");
    bool first = true;
    for (const auto& [k, val] : d.entries()) {
      if (!first) put(", ");
      first = false;
      repr(k);
      put(": ");
      repr(val);
    }
    put("}");
  }

  static std::string loop_repr(const Value& v) {
    const LoopState& st = v.loop();
    return "<LoopContext " + std::to_string(st.index0 + 1) + "/" +
           std::to_string(st.items.items().size()) + ">";
  }

  size_t limit_;
  int ns_depth_ = 0;
  std::string out_;
};

}  // namespace

std::string to_str(const Value& v, size_t limit) {
  if (v.is_string() && v.str().size() <= limit) return v.str();
  Writer w(limit);
  w.str(v);
  return w.take();
}

std::string repr(const Value& v, size_t limit) {
  Writer w(limit);
  w.repr(v);
  return w.take();
}

}  // namespace minima::jinja
