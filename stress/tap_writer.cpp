#include "stress/tap_writer.hpp"

namespace gpc::stress {

std::string tap_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '#') out += "\\#";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out;
}

std::string yaml_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

void TapWriter::version_and_plan(int points) {
  std::fprintf(out_, "TAP version 13\n1..%d\n", points);
  std::fflush(out_);
}

void TapWriter::point(bool ok, const std::string& description, const std::string& directive,
                      const TapDiagnostics& diagnostics) {
  ++written_;
  std::fprintf(out_, "%s %d - %s", ok ? "ok" : "not ok", written_, tap_escape(description).c_str());
  if (!directive.empty()) std::fprintf(out_, " # %s", tap_escape(directive).c_str());
  std::fputc('\n', out_);
  if (!diagnostics.empty()) {
    std::fputs("  ---\n", out_);
    for (const auto& [key, value] : diagnostics) {
      if (value.find('\n') == std::string::npos) {
        std::fprintf(out_, "  %s: %s\n", key.c_str(), yaml_quote(value).c_str());
        continue;
      }
      std::fprintf(out_, "  %s: |\n", key.c_str());
      size_t begin = 0;
      while (begin < value.size()) {
        size_t end = value.find('\n', begin);
        if (end == std::string::npos) end = value.size();
        std::fprintf(out_, "    %s\n", value.substr(begin, end - begin).c_str());
        begin = end + 1;
      }
    }
    std::fputs("  ...\n", out_);
  }
  std::fflush(out_);
}

void TapWriter::comment(const std::string& text) {
  size_t begin = 0;
  do {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    std::fprintf(out_, "# %s\n", text.substr(begin, end - begin).c_str());
    begin = end + 1;
  } while (begin < text.size());
  std::fflush(out_);
}

void TapWriter::bail_out(const std::string& reason) {
  std::fprintf(out_, "Bail out! %s\n", tap_escape(reason).c_str());
  std::fflush(out_);
}

}  // namespace gpc::stress
