#include "optic/parse_number.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace optic {
namespace {

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string Num(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

std::vector<std::string> Items(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = Trim(item);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

Status ParseInteger(const std::string& text, const std::string& what, int64_t min, int64_t max,
                    int64_t* out) {
  const std::string t = Trim(text);
  const std::string range = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  char* end = nullptr;
  errno = 0;
  const long long v = t.empty() ? 0 : std::strtoll(t.c_str(), &end, 10);
  if (t.empty() || *end != '\0') {
    return Status::InvalidArgument(what + ": '" + text + "' is not an integer (expected " + range + ")");
  }
  if (errno == ERANGE || v < min || v > max) {
    return Status::InvalidArgument(what + ": '" + t + "' is out of range (expected " + range + ")");
  }
  *out = v;
  return Status::OK();
}

Status ParseInteger(const std::string& text, const std::string& what, int min, int max, int* out) {
  int64_t v = 0;
  OPTIC_RETURN_IF_ERROR(ParseInteger(text, what, static_cast<int64_t>(min), static_cast<int64_t>(max), &v));
  *out = static_cast<int>(v);
  return Status::OK();
}

Status ParseReal(const std::string& text, const std::string& what, double min, bool min_exclusive,
                 double max, double* out) {
  const std::string t = Trim(text);
  const std::string range = std::string("a number ") + (min_exclusive ? "> " : ">= ") + Num(min) +
                            " and <= " + Num(max);
  char* end = nullptr;
  const double v = t.empty() ? 0 : std::strtod(t.c_str(), &end);
  if (t.empty() || *end != '\0' || !std::isfinite(v)) {
    return Status::InvalidArgument(what + ": '" + text + "' is not a number (expected " + range + ")");
  }
  if (v < min || (min_exclusive && v == min) || v > max) {
    return Status::InvalidArgument(what + ": '" + t + "' is out of range (expected " + range + ")");
  }
  *out = v;
  return Status::OK();
}

Status ParseIntegerList(const std::string& text, const std::string& what, int min, int max,
                        std::vector<int>* out) {
  std::vector<int> values;
  for (const auto& item : Items(text)) {
    OPTIC_RETURN_IF_ERROR(ParseInteger(item, what, min, max, &values.emplace_back()));
  }
  if (values.empty()) return Status::InvalidArgument(what + ": no values in '" + text + "'");
  *out = std::move(values);
  return Status::OK();
}

Status ParseRealList(const std::string& text, const std::string& what, double min,
                     bool min_exclusive, double max, std::vector<double>* out) {
  std::vector<double> values;
  for (const auto& item : Items(text)) {
    OPTIC_RETURN_IF_ERROR(ParseReal(item, what, min, min_exclusive, max, &values.emplace_back()));
  }
  if (values.empty()) return Status::InvalidArgument(what + ": no values in '" + text + "'");
  *out = std::move(values);
  return Status::OK();
}

}  // namespace optic
