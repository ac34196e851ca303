#include "api/cli/list_option.hpp"

#include <algorithm>

namespace minima::cli {

std::vector<char*> expand_list_options(int argc, char** argv, int first,
                                       std::initializer_list<std::string_view> names,
                                       std::vector<std::string>& storage) {
  // Every name is stored first: pointers into `storage` must not move when it grows.
  storage.assign(names.begin(), names.end());
  std::vector<char*> out;
  int list = -1;  // index in `storage` of the list option being read, or -1
  for (int i = first; i < argc; ++i) {
    const std::string_view tok = argv[i];
    if (tok.starts_with("-")) {
      // "--corpus=a.jsonl b.txt": the first value is inline, the rest follow.
      const size_t eq = tok.find('=');
      const auto it = std::find(names.begin(), names.end(), tok.substr(0, eq));
      list = it == names.end() ? -1 : static_cast<int>(it - names.begin());
      out.push_back(argv[i]);
      // The option's own first value is taken by the parser as usual.
      if (list >= 0 && eq == std::string_view::npos && i + 1 < argc) out.push_back(argv[++i]);
      continue;
    }
    if (list >= 0) out.push_back(storage[static_cast<size_t>(list)].data());
    out.push_back(argv[i]);
  }
  return out;
}

}  // namespace minima::cli
