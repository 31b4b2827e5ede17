// mixq validate DIR [--json]: conformance of a compressed-tensors checkpoint with vLLM's loader
// rules (src/quant/ct_validate.h). Exit 0 only when there is no error; every finding is listed.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <filesystem>

#include "cli/command.h"
#include "io/checkpoint.h"
#include "util/error.h"
#include "quant/ct_validate.h"

namespace {

struct Opts {
  std::string dir;
  bool json = false;
};

// What is not a checkpoint to check is the user's input error (exit 2, one line), not a finding:
// a missing or unreadable path, an interrupted quantize run, a model that is not compressed-tensors.
void check_input(const std::string& dir) {
  using namespace mixq;
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto st = fs::status(dir, ec);
  if (!fs::exists(st)) fail("{}: no such file or directory", dir);
  if (!fs::is_directory(st)) fail("{}: not a directory (validate takes a checkpoint directory)", dir);
  if (::access(dir.c_str(), R_OK | X_OK) != 0) fail("{}: cannot read the directory", dir);
  Checkpoint ck(dir);  // names an incomplete quantize run, a directory without weights
  if (!ck.has_config()) fail("{}: no config.json", dir);
  const nlohmann::json cfg = ck.config();
  const auto q = cfg.find("quantization_config");
  if (q == cfg.end() || !q->is_object())
    fail("{}: not a compressed-tensors checkpoint (config.json has no quantization_config); `mixq inspect {}` describes it", dir, dir);
  const std::string method = q->value("quant_method", std::string());
  if (method != "compressed-tensors")
    fail("{}: not a compressed-tensors checkpoint (quantization_config.quant_method is '{}')", dir, method);
}

mixq::cli::RunFn setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  app.add_option("dir", o->dir, "compressed-tensors checkpoint directory")->required();
  app.add_flag("--json", o->json, "Machine-readable report");
  return [o]() -> int {
    using namespace mixq;
    check_input(o->dir);
    ValidationReport r = validate_checkpoint(o->dir);
    static const char* sev[] = {"error", "warning", "info"};
    if (o->json) {
      nlohmann::json j;
      j["ok"] = r.ok();
      j["errors"] = r.errors();
      j["servable_tp"] = r.servable_tp;
      j["servable_tp_non_marlin_moe"] = r.non_marlin_moe_tp;
      j["requirements"] = r.requirements;
      j["modules_checked"] = r.modules_checked;
      j["tensors_checked"] = r.tensors_checked;
      j["findings"] = nlohmann::json::array();
      for (const auto& f : r.findings) j["findings"].push_back({{"severity", sev[f.severity]}, {"where", f.where}, {"message", f.message}});
      std::cout << j.dump(2) << "\n";
    } else {
      for (const auto& f : r.findings) fmt::print("{:<7} {}: {}\n", sev[f.severity], f.where, f.message);
      for (const auto& q : r.requirements) fmt::print("needs   {}\n", q);
      std::string slow;
      for (int tp : r.non_marlin_moe_tp) slow += fmt::format("{}TP {}", slow.empty() ? "" : ", ", tp);
      fmt::print("{}: {} modules, {} tensors checked; servable at TP {}{}; {}\n", o->dir, r.modules_checked, r.tensors_checked,
                 r.servable_tp.empty() ? std::string("none") : fmt::format("{}", fmt::join(r.servable_tp, "/")),
                 slow.empty() ? "" : " (" + slow + " on the slower non-Marlin MoE kernel)",
                 r.ok() ? "OK" : fmt::format("{} error(s)", r.errors()));
    }
    return r.ok() ? 0 : 1;
  };
}

}  // namespace

MIXQ_COMMAND("validate", "Check a compressed-tensors checkpoint against vLLM's loading rules (exit 0 only when clean)", setup);
