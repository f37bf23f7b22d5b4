#include "cli/strict_cli.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <vector>

namespace gpc::cli {
namespace {

// CLI11 validators return "" when the value is fine, else the message CLI11 prefixes
// with the flag's name. A valid value is rewritten in canonical decimal, because CLI11
// converts with base 0 afterwards ("010" would be octal 8).
template <typename T>
std::string check_integer(std::string& text, T lo, T hi) {
  const std::string range = "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
  const bool sign_ok = text.size() > 1 && text[0] == '-' && lo < 0;
  const std::string_view digits = sign_ok ? std::string_view(text).substr(1) : std::string_view(text);
  const bool plain = !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
  if (!plain) return "'" + text + "' is not " + range + " (decimal digits only)";
  T value{};
  const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (err != std::errc() || end != text.data() + text.size() || value < lo || value > hi)
    return "'" + text + "' is out of range: give " + range;
  text = std::to_string(value);
  return "";
}

std::string check_finite(const std::string& text) {
  const bool plain = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || c == '.' || c == '-' || c == 'e' || c == 'E' || c == '+';
  });
  char* end = nullptr;
  const double v = plain ? std::strtod(text.c_str(), &end) : 0;
  if (!plain || end != text.c_str() + text.size() || !std::isfinite(v))
    return "'" + text + "' is not a finite decimal number (e.g. 2.5 or 1e-3)";
  return "";
}

CLI::Validator strict_validator(const std::string& type) {
  if (type == "INT")
    return CLI::Validator(
        [](std::string& s) { return check_integer<int64_t>(s, std::numeric_limits<int>::min(), std::numeric_limits<int>::max()); },
        "", "strict INT");
  if (type == "UINT")
    return CLI::Validator([](std::string& s) { return check_integer<uint64_t>(s, 0, UINT64_MAX); }, "", "strict UINT");
  return CLI::Validator([](std::string& s) { return check_finite(s); }, "", "strict FLOAT");
}

std::string command_path(const CLI::App* app) {
  std::string path;
  for (const CLI::App* a = app; a; a = a->get_parent())
    path = a->get_name() + (path.empty() ? "" : " " + path);
  return path;
}

// The deepest subcommand the parse selected: where an unknown word was met.
CLI::App* deepest_selected(CLI::App* app) {
  for (CLI::App* sub : app->get_subcommands())
    if (sub->parsed()) return deepest_selected(sub);
  return app;
}

// The first command on the selected chain, from the top, that holds arguments it did not
// expect ("--json x info": the top level holds --json), or nullptr.
CLI::App* holder_of_extras(CLI::App* app) {
  if (!app->remaining(false).empty()) return app;
  for (CLI::App* sub : app->get_subcommands())
    if (sub->parsed()) return holder_of_extras(sub);
  return nullptr;
}

// What the subcommands of `app` are called in messages.
std::string noun_for_subcommands(const CLI::App* app) {
  if (!app->get_parent()) return "verb";
  if (app->get_name() == "run") return "scenario";
  return "subcommand";
}

std::vector<std::string> subcommand_names(const CLI::App* app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app->get_subcommands({})) names.push_back(sub->get_name());
  return names;
}

std::vector<std::string> flag_names(const CLI::App* app) {
  std::vector<std::string> names;
  for (const CLI::Option* o : app->get_options())
    if (o->nonpositional()) names.push_back(o->get_name());
  return names;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& choices) {
  const std::string best = closest_word(word, choices);
  return best.empty() || best == word ? "" : " (did you mean '" + best + "'?)";
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string unknown_flag(const CLI::App* at, const std::string& flag) {
  const auto flags = flag_names(at);
  return "unknown flag '" + flag + "' for '" + command_path(at) + "'" + did_you_mean(flag, flags) +
         "; its flags: " + joined(flags) + " (see '" + command_path(at) + " --help')";
}

std::string missing_or_unknown_subcommand(const CLI::App* at, const std::string& word) {
  const std::string noun = noun_for_subcommands(at);
  const auto names = subcommand_names(at);
  if (word.empty())
    return "'" + command_path(at) + "' needs a " + noun + ": one of " + joined(names);
  if (word[0] == '-') return unknown_flag(at, word) + "; it also needs a " + noun + ": one of " + joined(names);
  return "unknown " + noun + " '" + word + "'" + did_you_mean(word, names) + "; valid " + noun + "s: " +
         joined(names);
}

}  // namespace

void make_numbers_strict(CLI::App& app) {
  for (CLI::Option* o : app.get_options()) {
    // get_type_name() appends the validators' descriptions ("FLOAT:FLOAT in [0 - 1000]").
    const std::string full = o->get_type_name();
    const std::string type = full.substr(0, full.find(':'));
    if (type == "INT" || type == "UINT" || type == "FLOAT") o->transform(strict_validator(type));  // transform: it may rewrite the text
  }
  for (CLI::App* sub : app.get_subcommands({})) make_numbers_strict(*sub);
}

std::string explain_parse_error(CLI::App& app, const CLI::ParseError& error) {
  CLI::App* at = deepest_selected(&app);
  const std::vector<std::string> remaining = app.remaining(true);
  const std::string first = remaining.empty() ? "" : remaining.front();
  const bool wants_subcommand = at->get_require_subcommand_min() > 0;
  if (dynamic_cast<const CLI::RequiredError*>(&error) && wants_subcommand)
    return missing_or_unknown_subcommand(at, first);
  if (CLI::App* holder = holder_of_extras(&app); dynamic_cast<const CLI::ExtrasError*>(&error) && holder) {
    const std::string word = holder->remaining(false).front();
    if (!word.empty() && word[0] == '-') return unknown_flag(holder, word);
    return "unexpected argument '" + word + "' for '" + command_path(holder) + "' (see '" +
           command_path(holder) + " --help')";
  }
  return std::string(error.what()) + " (see '" + command_path(at) + " --help')";
}

std::string closest_word(const std::string& typed, const std::vector<std::string>& choices) {
  std::string best;
  size_t best_distance = 3;  // at most two edits, case ignored ("INFO" is "info")
  const std::string word = lower(typed);
  for (const auto& choice : choices) {
    const std::string c = lower(choice);
    // Levenshtein distance, one row at a time.
    std::vector<size_t> row(c.size() + 1);
    for (size_t j = 0; j <= c.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= word.size(); ++i) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= c.size(); ++j) {
        const size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (word[i - 1] == c[j - 1] ? 0 : 1)});
        diagonal = up;
      }
    }
    if (row[c.size()] < best_distance) {
      best_distance = row[c.size()];
      best = choice;
    }
  }
  return best;
}

}  // namespace gpc::cli
