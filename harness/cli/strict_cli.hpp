// Strictness the CLI11 defaults lack (issue 15, items 12 and 13): every integer and
// number flag is range-checked as typed, and a parse error names the unknown word (verb,
// scenario, flag) with the valid ones instead of "A subcommand is required".
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace gpc::cli {

// Adds a strict check to every integer and floating-point option of `app` and of its
// subcommands, recursively. Call once, after every verb has registered its options.
//   INT   (every signed option is an `int`): decimal, -2147483648 .. 2147483647
//   UINT  (uint64_t, size_t): decimal, 0 .. 18446744073709551615, no sign
//   FLOAT: a finite decimal number (no nan, inf or hex)
// CLI11 2.1 alone takes "-1" for an unsigned option (wrapping to 2^64-1), saturates on
// overflow, and reads "010" as octal and "0x10" as hex.
void make_numbers_strict(CLI::App& app);

// The one-line message for a parse error that is not --help/--version: what was wrong
// (the unknown verb, scenario or flag by name), the valid choices, and where to look.
std::string explain_parse_error(CLI::App& app, const CLI::ParseError& error);

// The closest of `choices` to `word` within two edits, or "" (for "did you mean").
std::string closest_word(const std::string& word, const std::vector<std::string>& choices);

}  // namespace gpc::cli
