// mixq validate DIR [--json]: conformance of a compressed-tensors checkpoint with vLLM's loader
// rules (src/quant/ct_validate.h). Exit 0 only when there is no error; every finding is listed.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "quant/ct_validate.h"

namespace {

struct Opts {
  std::string dir;
  bool json = false;
};

mixq::cli::RunFn setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  app.add_option("dir", o->dir, "compressed-tensors checkpoint directory")->required();
  app.add_flag("--json", o->json, "Machine-readable report");
  return [o]() -> int {
    using namespace mixq;
    ValidationReport r = validate_checkpoint(o->dir);
    static const char* sev[] = {"error", "warning", "info"};
    if (o->json) {
      nlohmann::json j;
      j["ok"] = r.ok();
      j["errors"] = r.errors();
      j["servable_tp"] = r.servable_tp;
      j["modules_checked"] = r.modules_checked;
      j["tensors_checked"] = r.tensors_checked;
      j["findings"] = nlohmann::json::array();
      for (const auto& f : r.findings) j["findings"].push_back({{"severity", sev[f.severity]}, {"where", f.where}, {"message", f.message}});
      std::cout << j.dump(2) << "\n";
    } else {
      for (const auto& f : r.findings) fmt::print("{:<7} {}: {}\n", sev[f.severity], f.where, f.message);
      fmt::print("{}: {} modules, {} tensors checked; servable at TP {}; {}\n", o->dir, r.modules_checked, r.tensors_checked,
                 r.servable_tp.empty() ? std::string("none") : fmt::format("{}", fmt::join(r.servable_tp, "/")),
                 r.ok() ? "OK" : fmt::format("{} error(s)", r.errors()));
    }
    return r.ok() ? 0 : 1;
  };
}

}  // namespace

MIXQ_COMMAND("validate", "Check a compressed-tensors checkpoint against vLLM's loading rules (exit 0 only when clean)", setup);
