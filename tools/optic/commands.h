// Subcommands of the `optic` executable. Each cmd_<name>.cc registers itself with a static
// CommandRegistrar; its Add function declares flags on `app` and sets ctx.exit_code when it runs:
// 0 success, 1 a check failed (parity, a bench cell), 2 bad usage or input.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "optic/model_source.h"

namespace optic::cli {

struct Context {
  int exit_code = 0;
};

using AddCommandFn = void (*)(CLI::App& app, Context& ctx);

struct CommandRegistrar {
  CommandRegistrar(const char* name, AddCommandFn add);
};

// "a,b,c" -> {"a","b","c"}; empty items dropped.
std::vector<std::string> SplitList(const std::string& text);

// CLI11 checks through optic's number parser (optic/parse_number.h), so a bad flag value reads
// "--flag: '-1' is out of range (expected a number > 0 ...)" and exits 2 like any usage error.
CLI::Validator RealCheck(double min, bool min_exclusive, double max = 1e12);
CLI::Validator IntegerCheck(int64_t min, int64_t max);

// --shape, --input-range and --input-data: how a model's inputs are fed (bench, predict, parity).
struct ModelInputFlags {
  std::vector<std::string> shapes, ranges;
  std::string data;
  // Parses --shape and --input-range into *settings and sets its data_file to --input-data as
  // given; a bad value is kInvalidArgument naming its flag.
  Status AddTo(InputSettings* settings) const;
};
// Declares the three flags on `cmd`. The help says what a variable first dim takes (`first_dim`,
// empty: nothing to say), the float values without --input-range (`float_default`) and what the
// file's rows are (`data_use`).
void AddModelInputOptions(CLI::App* cmd, ModelInputFlags* flags, const std::string& first_dim,
                          const std::string& float_default, const std::string& data_use);

}  // namespace optic::cli
