#include "api/cli/args.hpp"

#include <charconv>
#include <cmath>
#include <iostream>

#include "core/error.hpp"

namespace minima::cli {

ArgParser::ArgParser(std::string verb, std::string summary)
    : verb_(std::move(verb)), summary_(std::move(summary)) {}

ArgParser& ArgParser::opt(std::string name, std::string alias, std::string metavar,
                          std::string help) {
  specs_.push_back({std::move(name), std::move(alias), std::move(metavar), std::move(help), true});
  return *this;
}

ArgParser& ArgParser::multi(std::string name, std::string alias, std::string metavar,
                            std::string help) {
  specs_.push_back(
      {std::move(name), std::move(alias), std::move(metavar), std::move(help), true, true});
  return *this;
}

std::vector<std::string> ArgParser::get_all(std::string_view name) const {
  auto it = multi_.find(name);
  return it == multi_.end() ? std::vector<std::string>{} : it->second;
}

ArgParser& ArgParser::flag(std::string name, std::string help) {
  specs_.push_back({std::move(name), "", "", std::move(help), false});
  return *this;
}

const ArgParser::Spec* ArgParser::find(std::string_view token) const {
  for (const auto& s : specs_)
    if (s.name == token || (!s.alias.empty() && s.alias == token)) return &s;
  return nullptr;
}

bool ArgParser::parse(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    std::string_view tok = argv[i];
    if (tok == "--help" || tok == "-h") {
      std::cout << help();
      return false;
    }
    std::string_view value;
    bool inline_value = false;
    if (const auto eq = tok.find('='); tok.starts_with("--") && eq != std::string_view::npos) {
      value = tok.substr(eq + 1);
      tok = tok.substr(0, eq);
      inline_value = true;
    }
    const Spec* s = find(tok);
    if (!s) {
      std::string known;
      for (const auto& sp : specs_) known.append(" ").append(sp.name);
      fail("minima ", verb_, ": unknown option '", tok, "' (known:", known, "; see --help)");
    }
    if (values_.count(s->name) && !s->repeatable)
      fail("minima ", verb_, ": option ", s->name, " given twice");
    if (!s->takes_value) {
      if (inline_value) fail("minima ", verb_, ": option ", s->name, " takes no value");
      values_.insert_or_assign(s->name, std::string(1, '1'));
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argc)
        fail("minima ", verb_, ": option ", s->name, " needs a value (", s->metavar, ")");
      value = argv[++i];
    }
    values_[s->name] = std::string(value);
    if (s->repeatable) multi_[s->name].emplace_back(value);
  }
  return true;
}

bool ArgParser::has(std::string_view name) const {
  return values_.find(name) != values_.end();
}

std::optional<std::string> ArgParser::get(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string ArgParser::required(std::string_view name) const {
  auto v = get(name);
  if (!v) fail("minima ", verb_, ": option ", name, " is required (see --help)");
  return *v;
}

int64_t ArgParser::get_int(std::string_view name, int64_t def, int64_t lo, int64_t hi) const {
  auto v = get(name);
  if (!v) return def;
  int64_t x = 0;
  const auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
  if (ec != std::errc() || p != v->data() + v->size())
    fail("minima ", verb_, ": option ", name, ": expected an integer, got '", *v, "'");
  if (x < lo || x > hi)
    fail("minima ", verb_, ": option ", name, ": ", x, " is out of range [", lo, ", ", hi, "]");
  return x;
}

double ArgParser::get_float(std::string_view name, double def) const {
  auto v = get(name);
  if (!v) return def;
  char* end = nullptr;
  const double x = std::strtod(v->c_str(), &end);
  if (v->empty() || end != v->c_str() + v->size() || std::isnan(x))
    fail("minima ", verb_, ": option ", name, ": expected a number, got '", *v, "'");
  return x;
}

bool ArgParser::get_flag(std::string_view name) const {
  return has(name);
}

std::string ArgParser::help() const {
  std::string h = "usage: minima " + verb_ + " [options]\n" + summary_ + "\n\noptions:\n";
  for (const auto& s : specs_) {
    std::string left = "  " + s.name + (s.alias.empty() ? "" : ", " + s.alias) +
                       (s.takes_value ? " " + s.metavar : "");
    if (left.size() < 30)
      left.resize(30, ' ');
    else
      left += "  ";
    h += left + s.help + "\n";
  }
  return h;
}

std::vector<int32_t> parse_int_list(std::string_view s, std::string_view what) {
  std::vector<int32_t> out;
  size_t i = 0;
  while (i <= s.size()) {
    const size_t j = std::min(s.find(',', i), s.size());
    const std::string_view part = s.substr(i, j - i);
    int32_t x = 0;
    const auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), x);
    if (part.empty() || ec != std::errc() || p != part.data() + part.size())
      fail(what, ": '", part, "' is not an integer (expected a comma-separated list like 1,2,3)");
    out.push_back(x);
    i = j + 1;
  }
  return out;
}

}  // namespace minima::cli
