#include "runtime/grammar/json_schema.hpp"

#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

#include "runtime/grammar/grammar.hpp"
#include "runtime/grammar/json_strings.hpp"

namespace minima::grammar {
namespace {

using json = nlohmann::ordered_json;

// Shared building blocks. A string character is any code point but '"', '\\' and controls, or
// an escape; \u escapes exclude surrogates so every escape is one code point (minLength and
// maxLength count code points).
constexpr const char* kBase = R"(ws ::= | " " | "\n" [ \t]{0,20}
json-char ::= [^"\\\x00-\x1F] | "\\" (["\\/bfnrt] | "u" ([0-9a-cA-CefEF] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2}))
json-string ::= "\"" json-char{0,2000} "\""
json-key ::= "\"" json-char{0,64} "\""
json-int ::= "-"? ("0" | [1-9] [0-9]{0,15})
json-number ::= json-int ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})?
json-bool ::= "true" | "false"
json-null ::= "null"
json-value ::= json-object | json-array | json-string | json-number | json-bool | json-null
json-object ::= "{" ws ( json-key ws ":" ws json-value ws ( "," ws json-key ws ":" ws json-value ws )* )? "}"
json-array ::= "[" ws ( json-value ws ( "," ws json-value ws )* )? "]"
)";

const std::set<std::string> kAnnotations = {"title",    "description", "default",  "examples",
                                            "$schema",  "$id",         "$comment", "deprecated",
                                            "readOnly", "writeOnly"};
const std::set<std::string> kSupported = {
    "type",     "properties",    "required",      "additionalProperties",
    "enum",     "const",         "anyOf",         "$ref",
    "$defs",    "definitions",   "items",         "minItems",
    "maxItems", "minLength",     "maxLength",     "minimum",
    "maximum",  "minProperties", "maxProperties", "pattern",
    "format",   "allOf",         "prefixItems"};

std::string escape_pointer(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

// Decimal digit strings of a non-negative range, no leading zeros: GBNF alternatives.
std::string same_len(const std::string& lo, const std::string& hi) {
  if (lo.empty()) return "\"\"";
  // Every digit free: one repetition (without this the split below doubles per digit).
  if (lo.find_first_not_of('0') == std::string::npos &&
      hi.find_first_not_of('9') == std::string::npos)
    return "[0-9]{" + std::to_string(lo.size()) + "}";
  if (lo.size() == 1) return std::string("[") + lo[0] + "-" + hi[0] + "]";
  if (lo[0] == hi[0])
    return std::string("\"") + lo[0] + "\" (" + same_len(lo.substr(1), hi.substr(1)) + ")";
  const size_t rest = lo.size() - 1;
  std::string out =
      std::string("\"") + lo[0] + "\" (" + same_len(lo.substr(1), std::string(rest, '9')) + ")";
  if (hi[0] - lo[0] > 1)
    out += std::string(" | [") + char(lo[0] + 1) + "-" + char(hi[0] - 1) + "] [0-9]{" +
           std::to_string(rest) + "}";
  out +=
      std::string(" | \"") + hi[0] + "\" (" + same_len(std::string(rest, '0'), hi.substr(1)) + ")";
  return out;
}

// [lo, hi] with 0 <= lo <= hi (hi < 0: unbounded, up to 16 digits).
std::string nonneg_range(int64_t lo, int64_t hi) {
  std::vector<std::string> alts;
  const std::string slo = std::to_string(lo);
  const size_t max_digits = hi < 0 ? 16 : std::to_string(hi).size();
  for (size_t d = slo.size(); d <= max_digits; ++d) {
    const int64_t first =
        d == 1 ? 0 : static_cast<int64_t>(std::stoll("1" + std::string(d - 1, '0')));
    const int64_t last = static_cast<int64_t>(std::stoll(std::string(d, '9')));
    const int64_t a = std::max(lo, first);
    const int64_t b = hi < 0 ? last : std::min(hi, last);
    if (a > b) continue;
    alts.push_back("(" + same_len(std::to_string(a), std::to_string(b)) + ")");
  }
  std::string out;
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out;
}

class Compiler {
 public:
  Compiler(const json& root, const SchemaOptions& opt, std::string prefix)
      : root_(root), opt_(opt), prefix_(std::move(prefix)) {}

  SchemaRules run() {
    SchemaRules out;
    out.root = visit(root_, "");
    std::ostringstream os;
    for (const auto& [name, body] : rules_) os << name << " ::= " << body << "\n";
    out.rules = os.str();
    return out;
  }

 private:
  [[noreturn]] void fail_at(const std::string& keyword, const std::string& ptr,
                            const std::string& why) {
    throw SchemaError(keyword, ptr + "/" + escape_pointer(keyword),
                      "json schema keyword '" + keyword + "' at '" + ptr + "/" +
                          escape_pointer(keyword) + "': " + why);
  }

  std::string new_rule(const std::string& body) {
    const std::string name = prefix_ + "s" + std::to_string(rules_.size());
    rules_.emplace_back(name, body);
    return name;
  }

  std::string literal(const json& v) { return gbnf_literal(v.dump()); }

  // A rule name (or inline GBNF) matching exactly the values of schema s at JSON pointer ptr.
  std::string visit(const json& s, const std::string& ptr) {
    if (s.is_boolean()) {
      if (!s.get<bool>()) fail_at("false", ptr, "the schema 'false' matches no value");
      return "json-value";
    }
    if (!s.is_object())
      throw SchemaError("", ptr, "json schema at '" + ptr + "' must be an object or a boolean");
    for (const auto& [k, v] : s.items()) {
      if (kAnnotations.count(k) || kSupported.count(k)) continue;
      fail_at(k, ptr,
              "not supported (minima supports: type, properties, required, "
              "additionalProperties, minProperties/maxProperties without properties, "
              "enum, const, anyOf, allOf, $ref/$defs, items, prefixItems, minItems, "
              "maxItems, minLength, maxLength, pattern, format, minimum/maximum)");
    }
    if (s.contains("allOf")) return visit(merge_all_of(s, ptr), ptr);
    if (s.contains("$ref")) return ref(s, ptr);
    if (s.contains("const")) return literal(s["const"]);
    if (s.contains("enum")) {
      const json& e = s["enum"];
      if (!e.is_array() || e.empty()) fail_at("enum", ptr, "must be a non-empty array");
      std::string body;
      for (size_t i = 0; i < e.size(); ++i) body += (i ? " | " : "") + literal(e[i]);
      return new_rule(body);
    }
    if (s.contains("anyOf")) {
      const json& a = s["anyOf"];
      if (!a.is_array() || a.empty()) fail_at("anyOf", ptr, "must be a non-empty array");
      std::string body;
      for (size_t i = 0; i < a.size(); ++i)
        body += (i ? " | " : "") + visit(a[i], ptr + "/anyOf/" + std::to_string(i));
      return new_rule(body);
    }
    std::vector<std::string> types;
    if (s.contains("type")) {
      const json& t = s["type"];
      if (t.is_string()) {
        types.push_back(t.get<std::string>());
      } else if (t.is_array() && !t.empty()) {
        for (const json& x : t) {
          if (!x.is_string()) fail_at("type", ptr, "must be a string or an array of strings");
          types.push_back(x.get<std::string>());
        }
      } else {
        fail_at("type", ptr, "must be a string or an array of strings");
      }
    } else if (s.contains("properties") || s.contains("additionalProperties")) {
      types = {"object"};
    } else if (s.contains("items") || s.contains("minItems") || s.contains("maxItems")) {
      types = {"array"};
    } else if (s.contains("minLength") || s.contains("maxLength") || s.contains("pattern") ||
               s.contains("format")) {
      types = {"string"};
    } else if (s.contains("minimum") || s.contains("maximum")) {
      types = {"number"};
    } else if (s.contains("prefixItems")) {
      types = {"array"};
    } else {
      return "json-value";
    }
    std::string body;
    for (size_t i = 0; i < types.size(); ++i) body += (i ? " | " : "") + typed(s, types[i], ptr);
    return types.size() == 1 ? body : new_rule(body);
  }

  std::string ref(const json& s, const std::string& ptr) {
    const json& r = s["$ref"];
    if (!r.is_string()) fail_at("$ref", ptr, "must be a string");
    const std::string target = r.get<std::string>();
    if (auto it = refs_.find(target); it != refs_.end()) return it->second;
    const json* node = resolve(target);
    if (node == nullptr)
      fail_at("$ref", ptr,
              "'" + target + "' does not name \"#\" or an entry of $defs / definitions");
    // Name the rule before compiling its body, so recursive references find it.
    const std::string name = prefix_ + "s" + std::to_string(rules_.size());
    rules_.emplace_back(name, "");
    const size_t slot = rules_.size() - 1;
    refs_.emplace(target, name);
    const std::string body = visit(*node, target.substr(1));
    rules_[slot].second = body;
    return name;
  }

  const json* resolve(const std::string& target) const {
    if (target == "#") return &root_;
    for (const char* prefix : {"#/$defs/", "#/definitions/"}) {
      const std::string p = prefix;
      if (target.rfind(p, 0) != 0) continue;
      const std::string key = target.substr(p.size());
      const auto defs = root_.find(p.substr(2, p.size() - 3));
      if (defs != root_.end() && defs->is_object() && defs->contains(key)) return &(*defs)[key];
    }
    return nullptr;
  }

  // allOf: the members (and the schema's own keywords) merged into one schema. Objects merge
  // their properties and required lists; any other keyword must agree where two members give it.
  json merge_all_of(const json& s, const std::string& ptr) {
    const json& all = s["allOf"];
    if (!all.is_array() || all.empty()) fail_at("allOf", ptr, "must be a non-empty array");
    json merged = s;
    merged.erase("allOf");
    std::vector<const json*> closed;  // members with additionalProperties: false
    if (merged.contains("additionalProperties") && merged["additionalProperties"] == false)
      closed.push_back(&s);
    for (size_t i = 0; i < all.size(); ++i) {
      const std::string mptr = ptr + "/allOf/" + std::to_string(i);
      const json* m = &all[i];
      if (m->is_object() && m->contains("$ref") && (*m)["$ref"].is_string()) {
        m = resolve((*m)["$ref"].get<std::string>());
        if (m == nullptr)
          fail_at("$ref", mptr, "does not name \"#\" or an entry of $defs / definitions");
      }
      if (!m->is_object()) fail_at("allOf", ptr, "members must be schema objects");
      if (m->contains("allOf")) fail_at("allOf", mptr, "nested allOf is not supported");
      for (const auto& [k, v] : m->items()) {
        if (kAnnotations.count(k) || k == "$defs" || k == "definitions") continue;
        if (k == "properties") {
          json& props = merged["properties"];
          if (props.is_null()) props = json::object();
          for (const auto& [name, sub] : v.items()) {
            if (props.contains(name) && props[name] != sub)
              fail_at("allOf", ptr, "members give property '" + name + "' different schemas");
            props[name] = sub;
          }
        } else if (k == "required") {
          json& req = merged["required"];
          if (req.is_null()) req = json::array();
          for (const json& r : v)
            if (std::find(req.begin(), req.end(), r) == req.end()) req.push_back(r);
        } else if (k == "additionalProperties" && v == false) {
          closed.push_back(m);
          merged["additionalProperties"] = false;
        } else if (merged.contains(k) && merged[k] != v) {
          fail_at("allOf", ptr, "members disagree on '" + k + "'");
        } else {
          merged[k] = v;
        }
      }
    }
    // A member closed to other properties would reject the ones another member adds.
    const json all_props = merged.value("properties", json::object());
    for (const json* c : closed)
      for (const auto& [name, sub] : all_props.items())
        if (!c->contains("properties") || !(*c)["properties"].contains(name))
          fail_at("allOf", ptr,
                  "property '" + name +
                      "' is forbidden by a member with \"additionalProperties\": false");
    return merged;
  }

  int64_t count(const json& s, const char* key, const std::string& ptr, int64_t dflt) {
    if (!s.contains(key)) return dflt;
    const json& v = s[key];
    if (!v.is_number_integer() || v.get<int64_t>() < 0)
      fail_at(key, ptr, "must be a non-negative integer");
    return v.get<int64_t>();
  }

  std::string typed(const json& s, const std::string& t, const std::string& ptr) {
    if (t == "null") return "json-null";
    if (t == "boolean") return "json-bool";
    if (t == "number") return number(s, ptr);
    if (t == "integer") return integer(s, ptr);
    if (t == "string") {
      if (s.contains("pattern") || s.contains("format")) {
        const char* key = s.contains("pattern") ? "pattern" : "format";
        if (s.contains("pattern") && s.contains("format"))
          fail_at("format", ptr, "together with pattern is not supported");
        if (s.contains("minLength") || s.contains("maxLength"))
          fail_at(s.contains("minLength") ? "minLength" : "maxLength", ptr,
                  std::string("together with ") + key + " is not supported");
        if (!s[key].is_string()) fail_at(key, ptr, "must be a string");
        try {
          return new_rule(std::string(key) == "pattern" ? pattern_gbnf(s[key].get<std::string>())
                                                        : format_gbnf(s[key].get<std::string>()));
        } catch (const StringConstraintError& e) {
          fail_at(key, ptr, e.what());
        }
      }
      const int64_t lo = count(s, "minLength", ptr, 0);
      const int64_t hi = count(s, "maxLength", ptr, kMaxStringChars);
      if (hi < lo) fail_at("maxLength", ptr, "is below minLength");
      if (hi > 100000) fail_at("maxLength", ptr, "above 100000 is not supported");
      return new_rule("\"\\\"\" json-char{" + std::to_string(lo) + "," + std::to_string(hi) +
                      "} \"\\\"\"");
    }
    if (t == "array") return array(s, ptr);
    if (t == "object") return object(s, ptr);
    fail_at("type", ptr, "unknown type '" + t + "'");
  }

  std::string integer(const json& s, const std::string& ptr) {
    if (!s.contains("minimum") && !s.contains("maximum")) return "json-int";
    auto bound = [&](const char* key) -> std::optional<int64_t> {
      if (!s.contains(key)) return std::nullopt;
      const json& v = s[key];
      if (v.is_number_integer()) return v.get<int64_t>();
      if (v.is_number_float()) {
        const double d = v.get<double>();
        if (d > 9e15 || d < -9e15) fail_at(key, ptr, "out of the supported range (|x| < 9e15)");
        return std::string(key) == "minimum" ? static_cast<int64_t>(std::ceil(d))
                                             : static_cast<int64_t>(std::floor(d));
      }
      fail_at(key, ptr, "must be a number");
    };
    const auto lo = bound("minimum"), hi = bound("maximum");
    constexpr int64_t kLimit = 9999999999999999;  // 16 digits, as json-int
    if ((lo && (*lo > kLimit || *lo < -kLimit)) || (hi && (*hi > kLimit || *hi < -kLimit)))
      fail_at(lo ? "minimum" : "maximum", ptr, "must be within 16 digits");
    if (lo && hi && *hi < *lo) fail_at("maximum", ptr, "is below minimum");
    std::vector<std::string> alts;
    // Non-negative part [max(lo, 0), hi].
    if (!hi || *hi >= 0)
      alts.push_back(nonneg_range(lo ? std::max<int64_t>(*lo, 0) : 0, hi ? *hi : -1));
    // Negative part: "-" then magnitudes [max(1, -hi), -lo].
    if (!lo || *lo < 0) {
      const int64_t mlo = hi ? std::max<int64_t>(1, -*hi) : 1;
      const int64_t mhi = lo ? -*lo : -1;
      if (mhi < 0 || mlo <= mhi) alts.push_back("\"-\" (" + nonneg_range(mlo, mhi) + ")");
    }
    std::string body;
    for (size_t i = 0; i < alts.size(); ++i) body += (i ? " | " : "") + ("(" + alts[i] + ")");
    return new_rule(body);
  }

  // A bound of a number or an integer: for numbers it must be a whole number (exact grammar:
  // integer part in range, and at the bound itself a zero fraction).
  std::optional<int64_t> whole_bound(const json& s, const char* key, const std::string& ptr) {
    if (!s.contains(key)) return std::nullopt;
    const json& v = s[key];
    if (!v.is_number()) fail_at(key, ptr, "must be a number");
    const double d = v.get<double>();
    if (d > 9e15 || d < -9e15) fail_at(key, ptr, "out of the supported range (|x| < 9e15)");
    if (d != std::floor(d))
      fail_at(key, ptr, "must be a whole number on type number (got " + v.dump() + ")");
    return static_cast<int64_t>(d);
  }

  std::string number(const json& s, const std::string& ptr) {
    if (!s.contains("minimum") && !s.contains("maximum")) return "json-number";
    const auto lo = whole_bound(s, "minimum", ptr), hi = whole_bound(s, "maximum", ptr);
    if (lo && hi && *hi < *lo) fail_at("maximum", ptr, "is below minimum");
    const std::string frac = "(\".\" [0-9]{1,16})?", zero = "(\".\" \"0\"{1,16})?";
    // Integer part in [a, b] (b < 0: unbounded) with any fraction, then b itself with a zero one.
    auto part = [&](int64_t a, int64_t b) {
      std::string out;
      if (b < 0) return "(" + nonneg_range(a, -1) + ") " + frac;
      if (b - 1 >= a) out = "(" + nonneg_range(a, b - 1) + ") " + frac + " | ";
      return out + "\"" + std::to_string(b) + "\" " + zero;
    };
    std::vector<std::string> alts;
    if (!hi || *hi >= 0) alts.push_back(part(lo ? std::max<int64_t>(*lo, 0) : 0, hi ? *hi : -1));
    if (!lo || *lo < 0) {
      // Negative values: magnitude m with m <= -lo, and m >= -hi when hi < 0.
      const int64_t jlo = hi && *hi < 0 ? -*hi : 0;
      const int64_t L = lo ? -*lo : -1;
      if (L < 0 || L >= jlo) alts.push_back("\"-\" (" + part(jlo, L) + ")");
    }
    std::string body;
    for (size_t i = 0; i < alts.size(); ++i) body += (i ? " | " : "") + ("(" + alts[i] + ")");
    return new_rule(body);
  }

  // Arrays: prefixItems (positional schemas), then items for the rest (false: no more; absent:
  // any value), between minItems and maxItems elements.
  std::string array(const json& s, const std::string& ptr) {
    std::vector<std::string> prefix;
    if (s.contains("prefixItems")) {
      const json& p = s["prefixItems"];
      if (!p.is_array()) fail_at("prefixItems", ptr, "must be an array of schemas");
      for (size_t i = 0; i < p.size(); ++i)
        prefix.push_back(visit(p[i], ptr + "/prefixItems/" + std::to_string(i)));
    }
    std::optional<std::string> rest = "json-value";
    if (s.contains("items")) {
      if (s["items"].is_boolean() && !s["items"].get<bool>()) {
        rest.reset();
      } else {
        rest = visit(s["items"], ptr + "/items");
      }
    }
    const auto k = static_cast<int64_t>(prefix.size());
    const int64_t lo = count(s, "minItems", ptr, 0);
    int64_t hi = count(s, "maxItems", ptr, -1);
    if (hi >= 0 && hi < lo) fail_at("maxItems", ptr, "is below minItems");
    if (lo > 1000 || hi > 1000)
      fail_at(lo > 1000 ? "minItems" : "maxItems", ptr, "above 1000 is not supported");
    if (!rest && (hi < 0 || hi > k)) hi = k;
    if (!rest && lo > k)
      fail_at("minItems", ptr, "cannot be met: items is false after the prefixItems");
    // Elements from index i on, i already written (so each needs a comma first when i > 0).
    std::function<std::string(int64_t)> tail = [&](int64_t i) -> std::string {
      if (hi >= 0 && i >= hi) return "\"\"";
      const std::string sep = i == 0 ? "" : "\",\" ws ";
      if (i >= k) {
        if (!rest) return "\"\"";
        const int64_t n_min = std::max<int64_t>(lo - i, 0);
        const int64_t n_max = hi < 0 ? -1 : hi - i;
        const std::string one = "(\",\" ws " + *rest + " ws)";
        auto reps = [](int64_t a, int64_t b) {
          return "{" + std::to_string(a) + "," + (b < 0 ? "" : std::to_string(b)) + "}";
        };
        if (i > 0) return one + reps(n_min, n_max);
        const std::string run = *rest + " ws " + one +
                                reps(std::max<int64_t>(n_min, 1) - 1, n_max < 0 ? -1 : n_max - 1);
        return n_min == 0 ? "(" + run + ")?" : run;
      }
      const std::string elem = sep + prefix[size_t(i)] + " ws " + tail(i + 1);
      return i >= lo ? "(" + elem + ")?" : elem;
    };
    return new_rule("\"[\" ws " + tail(0) + " \"]\"");
  }

  std::string object(const json& s, const std::string& ptr) {
    const json props = s.value("properties", json::object());
    if (!props.is_object()) fail_at("properties", ptr, "must be an object");
    std::set<std::string> required;
    if (s.contains("required")) {
      if (!s["required"].is_array()) fail_at("required", ptr, "must be an array of names");
      for (const json& r : s["required"]) {
        if (!r.is_string()) fail_at("required", ptr, "must be an array of names");
        if (!props.contains(r.get<std::string>()))
          fail_at("required", ptr,
                  "names '" + r.get<std::string>() + "', which is not in properties");
        required.insert(r.get<std::string>());
      }
    }
    json additional = opt_.strict ? json(false) : json(true);
    if (s.contains("additionalProperties")) additional = s["additionalProperties"];
    if (!additional.is_boolean() && !additional.is_object())
      fail_at("additionalProperties", ptr, "must be a boolean or a schema");
    const int64_t min_props = count(s, "minProperties", ptr, 0);
    const int64_t max_props = count(s, "maxProperties", ptr, -1);
    if (props.empty()) {
      if (max_props >= 0 && max_props < min_props)
        fail_at("maxProperties", ptr, "is below minProperties");
      if (min_props > 100 || max_props > 100)
        fail_at(min_props > 100 ? "minProperties" : "maxProperties", ptr,
                "above 100 is not supported");
      const bool none = (additional.is_boolean() && !additional.get<bool>()) || max_props == 0;
      if (none) {
        if (min_props > 0) fail_at("minProperties", ptr, "cannot be met: no property is allowed");
        return new_rule("\"{\" ws \"}\"");
      }
      const std::string v =
          additional.is_boolean() ? "json-value" : visit(additional, ptr + "/additionalProperties");
      // Keys are free, so two members may share one; a parser keeps the last, and that value is
      // valid too. Counts then bound the members written, which is what min/maxProperties see
      // unless keys repeat: keep the keys of one object distinct would need a set-difference
      // grammar, so minProperties > 1 is refused.
      if (min_props > 1)
        fail_at("minProperties", ptr, "above 1 is not supported on objects without properties");
      const std::string member = "json-key ws \":\" ws " + v + " ws";
      const std::string more_reps =
          max_props < 0 ? "*" : "{0," + std::to_string(max_props - 1) + "}";
      const std::string members = member + " ( \",\" ws " + member + " )" + more_reps;
      return new_rule(min_props == 0 ? "\"{\" ws ( " + members + " )? \"}\""
                                     : "\"{\" ws " + members + " \"}\"");
    }
    if (s.contains("minProperties") || s.contains("maxProperties"))
      fail_at(s.contains("minProperties") ? "minProperties" : "maxProperties", ptr,
              "is supported only on objects without properties");
    if (additional.is_object()) visit(additional, ptr + "/additionalProperties");  // still checked
    // first_i: members from i on, none written yet; rest_i: from i on, after at least one.
    std::vector<std::pair<std::string, bool>> members;  // (member rule, required)
    for (const auto& [k, v] : props.items()) {
      const std::string value = visit(v, ptr + "/properties/" + escape_pointer(k));
      members.emplace_back(new_rule(gbnf_literal(json(k).dump()) + " ws \":\" ws " + value),
                           required.count(k) > 0);
    }
    const size_t n = members.size();
    std::vector<std::string> first(n + 1), rest(n + 1);
    // Reserve names first (bodies refer to later ones).
    for (size_t i = 0; i < n; ++i) {
      first[i] = new_rule("");
      rest[i] = new_rule("");
    }
    auto body_of = [&](const std::string& name) -> std::string& {
      for (auto& r : rules_)
        if (r.first == name) return r.second;
      throw Error("internal: rule " + name + " missing");
    };
    for (size_t i = 0; i < n; ++i) {
      const std::string next_rest = i + 1 < n ? " " + rest[i + 1] : "";
      const std::string next_first = i + 1 < n ? first[i + 1] : "";
      body_of(first[i]) = members[i].first + " ws" + next_rest;
      if (!members[i].second)
        body_of(first[i]) += " | " + (next_first.empty() ? std::string("\"\"") : next_first);
      body_of(rest[i]) = "\",\" ws " + members[i].first + " ws" + next_rest;
      if (!members[i].second)
        body_of(rest[i]) += " | " + (i + 1 < n ? rest[i + 1] : std::string("\"\""));
    }
    return new_rule("\"{\" ws " + first[0] + " \"}\"");
  }

  const json& root_;
  SchemaOptions opt_;
  std::string prefix_;
  std::vector<std::pair<std::string, std::string>> rules_;
  std::map<std::string, std::string> refs_;
};

}  // namespace

SchemaRules json_schema_rules(const json& schema, const SchemaOptions& opt,
                              const std::string& prefix) {
  return Compiler(schema, opt, prefix).run();
}

std::string json_base_gbnf() {
  return kBase;
}

std::string json_schema_to_gbnf(const json& schema, const SchemaOptions& opt) {
  const SchemaRules r = json_schema_rules(schema, opt, "");
  return "root ::= " + r.root + "\n" + kBase + r.rules;
}

std::string json_value_gbnf(bool object_only) {
  return std::string("root ::= ") + (object_only ? "json-object" : "json-value") + "\n" + kBase;
}

}  // namespace minima::grammar
