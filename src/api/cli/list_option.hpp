// Options that take a list of values in one go (`--corpus a.jsonl b.txt c.jsonl`), for verbs that
// read several input files. ArgParser takes one value per occurrence, so the list is rewritten as
// repeated occurrences (`--corpus a.jsonl --corpus b.txt ...`) before parsing.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace minima::cli {

// A copy of argv[first..argc) in which every bare value following one of `names` (up to the next
// token that starts with '-') is preceded by that option's name again. Pointers into argv and
// into `storage`, which must outlive the result.
std::vector<char*> expand_list_options(int argc, char** argv, int first,
                                       std::initializer_list<std::string_view> names,
                                       std::vector<std::string>& storage);

}  // namespace minima::cli
