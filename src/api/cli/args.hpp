// Command-line parsing for the CLI verbs: each verb declares its options (so --help is generated
// and unknown options are refused with the list of known ones) and reads typed values that are
// validated with messages naming the option.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace minima::cli {

class ArgParser {
 public:
  ArgParser(std::string verb, std::string summary);

  // An option taking a value: --name VALUE or --name=VALUE. `alias` may be "" or e.g. "-m".
  ArgParser& opt(std::string name, std::string alias, std::string metavar, std::string help);
  ArgParser& flag(std::string name, std::string help);
  // An option that may be given several times (get_all returns every value in order).
  ArgParser& multi(std::string name, std::string alias, std::string metavar, std::string help);

  // Throws Error on unknown options, missing values or a repeated option. Returns false when
  // --help was given (the help text has been printed).
  bool parse(int argc, char** argv, int first);

  bool has(std::string_view name) const;
  std::optional<std::string> get(std::string_view name) const;
  std::vector<std::string> get_all(std::string_view name) const;
  std::string required(std::string_view name) const;
  int64_t get_int(std::string_view name, int64_t def, int64_t lo, int64_t hi) const;
  double get_float(std::string_view name, double def) const;
  bool get_flag(std::string_view name) const;
  std::string help() const;

 private:
  struct Spec {
    std::string name, alias, metavar, help;
    bool takes_value;
    bool repeatable = false;
  };
  const Spec* find(std::string_view token) const;

  std::string verb_, summary_;
  std::vector<Spec> specs_;
  std::map<std::string, std::string, std::less<>> values_;
  std::map<std::string, std::vector<std::string>, std::less<>> multi_;
};

// "1,2,3" -> {1, 2, 3}; Error naming `what` on anything else.
std::vector<int32_t> parse_int_list(std::string_view s, std::string_view what);

}  // namespace minima::cli
