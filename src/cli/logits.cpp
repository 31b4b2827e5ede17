// mixq logits --model DIR --tokens IDS.json --output OUT.safetensors
// IDS.json is a JSON list of token-id lists, or one flat list of ids (`mixq tokenize`'s output). OUT holds one float32 tensor "input<i>" of shape
// [tokens, vocab] per list: the logits of every position (a fresh context per list). Scripts and
// outside checks rely on this contract. The KV cache is fp32 by default so the result is the
// engine's exact fp32 forward; --kv bf16|fp8 measures the effect of a compressed cache.
#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "io/safetensors_writer.h"
#include "runtime/model.h"
#include "util/error.h"
#include "util/file_util.h"

namespace {

struct Opts {
  mixq::cli::ResidencyFlags residency;
  std::string model, tokens, output, kv = "f32";
  int64_t chunk = 256;
};

mixq::cli::RunFn setup(CLI::App& app) {
  auto o = std::make_shared<Opts>();
  app.add_option("--model", o->model, "Model directory")->required();
  app.add_option("--tokens", o->tokens, "JSON file: a list of token ids (as mixq tokenize prints) or a list of such lists")->required();
  app.add_option("--output", o->output, "Output .safetensors (tensors input0, input1, ...)")->required();
  app.add_option("--kv", o->kv, "KV cache type: f32 (default), bf16, fp8");
  app.add_option("--prefill-chunk", o->chunk, "Tokens per forward step");
  mixq::cli::add_residency_flags(app, o->residency);
  return [o]() -> int {
    using namespace mixq;
    auto j = nlohmann::json::parse(read_file(o->tokens), nullptr, false);
    if (j.is_discarded() || !j.is_array() || j.empty())
      fail("{}: expected a JSON list of token ids (as `mixq tokenize` prints it) or a list of such lists", o->tokens);
    // A flat list, as `mixq tokenize` prints it, is one input.
    if (std::all_of(j.begin(), j.end(), [](const nlohmann::json& x) { return x.is_number(); })) j = nlohmann::json::array({j});
    std::vector<std::vector<int32_t>> lists;
    for (size_t i = 0; i < j.size(); ++i) {
      if (!j[i].is_array() || j[i].empty()) fail("{}: entry {} is not a non-empty list of token ids", o->tokens, i);
      std::vector<int32_t> ids;
      for (auto& x : j[i]) {
        if (!x.is_number_integer()) fail("{}: entry {} holds a non-integer token id", o->tokens, i);
        ids.push_back(x.get<int32_t>());
      }
      lists.push_back(std::move(ids));
    }
    const auto kv = parse_kv_type(o->kv);
    Model m(o->model, mixq::cli::resolve_residency(o->residency, {o->model}).residency);
    const int64_t V = m.vocab();
    for (size_t i = 0; i < lists.size(); ++i)
      for (int32_t id : lists[i])
        if (id < 0 || id >= V) fail("{}: entry {} holds token id {} outside the vocabulary [0, {})", o->tokens, i, id, V);
    std::vector<TensorSpec> specs;
    for (size_t i = 0; i < lists.size(); ++i)
      specs.push_back({fmt::format("input{}", i), DType::F32, {int64_t(lists[i].size()), V}});
    // Written under a temporary name in the output's directory, renamed when complete.
    const auto slash = o->output.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : o->output.substr(0, slash);
    WriterOptions wo;
    wo.max_shard_bytes = ~0ull;
    wo.prefix = fmt::format(".mixq-logits-{}", ::getpid());
    {
      SafetensorsWriter w(dir, specs, wo);
      for (size_t i = 0; i < lists.size(); ++i) {
        const int64_t T = int64_t(lists[i].size());
        KvCache cache(m.config(), T, kv);
        std::vector<float> logits(size_t(T * V));
        m.forward(lists[i].data(), T, cache, logits.data(), nullptr, ForwardOptions{o->chunk});
        w.write(specs[i].name, logits.data(), logits.size() * 4);
      }
      w.finish();
    }
    const std::string tmp = path_join(dir, wo.prefix + ".safetensors");
    if (std::rename(tmp.c_str(), o->output.c_str()) != 0) fail("{}: cannot write (rename from {} failed)", o->output, tmp);
    fmt::print(stderr, "wrote {} ({} inputs, vocab {})\n", o->output, lists.size(), V);
    return 0;
  };
}

}  // namespace

MIXQ_COMMAND("logits", "Logits of every position for lists of token ids (float32 safetensors)", setup);
