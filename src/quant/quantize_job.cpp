#include "quant/quantize_job.h"

#include <dirent.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <vector>

#include "io/checkpoint.h"
#include "io/safetensors_writer.h"
#include "model/conformance.h"
#include "model/minimax_m2_config.h"
#include "quant/fp8_block_source.h"
#include "quant/rtn_int4.h"
#include "util/error.h"
#include "util/file_util.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/sha256.h"

namespace mixq {

namespace fs = std::filesystem;

std::string input_fingerprint(const std::string& model_dir) {
  Checkpoint ck(model_dir);
  Sha256 h;
  for (const auto& sh : ck.shards()) {
    std::string name = fs::path(sh->path()).filename().string();
    uint64_t size = sh->mapped().size();
    h.update(name.data(), name.size() + 1);
    h.update(&size, sizeof size);
    h.update(sh->mapped().data(), size_t(sh->data_start()));  // 8-byte length + JSON header
  }
  return h.hex();
}

namespace {

constexpr size_t kCopyWindow = 64ull << 20;

// Reads input tensors and drops what was consumed from the page cache.
struct Source {
  const Checkpoint& ck;
  TensorView view(const std::string& n) const { return ck.view(n); }
  // The kernel's fault-around maps up to 64 KiB around every faulting page, so touching tensor
  // N+1 re-maps the tail of an already dropped tensor N; those pages would accumulate (RSS growing
  // by a few MB per layer). Dropping a slack around each consumed range cleans them up; pages of a
  // neighbour still to be read are simply faulted in again from the page cache.
  static constexpr size_t kSlack = 256 << 10;
  void done(const std::string& n) const {
    const auto& sh = ck.shard_of(n);
    const auto& i = ck.info(n);
    size_t begin = size_t(sh.data_start() + i.begin), end = size_t(sh.data_start() + i.end);
    begin = begin > kSlack ? begin - kSlack : 0;
    sh.mapped().dont_need(begin, end + kSlack - begin);
  }
};

void copy_stream(SafetensorsWriter& w, const std::string& out_name, const TensorView& v, Progress& prog) {
  w.begin_tensor(out_name);
  for (size_t off = 0; off < v.nbytes; off += kCopyWindow) {
    size_t n = std::min(kCopyWindow, v.nbytes - off);
    w.append(v.data + off, n);
    prog.advance(n);
  }
  w.end_tensor();
}

void skip(SafetensorsWriter& w, const TensorSpec& s) {  // a tensor of an already complete shard
  w.begin_tensor(s.name);
  w.append(nullptr, s.nbytes());
  w.end_tensor();
}

std::vector<float> dense_to_f32(const TensorView& v) { return v.to_f32(); }

std::vector<uint8_t> from_f32(const std::vector<float>& x, DType t) {
  std::vector<uint8_t> out(x.size() * dtype_size(t));
  for (size_t i = 0; i < x.size(); ++i) {
    switch (t) {
      case DType::BF16: { uint16_t b = f32_to_bf16(x[i]); std::memcpy(&out[2 * i], &b, 2); break; }
      case DType::F16: { uint16_t b = f32_to_f16(x[i]); std::memcpy(&out[2 * i], &b, 2); break; }
      case DType::F32: std::memcpy(&out[4 * i], &x[i], 4); break;
      default: fail("transform: cannot write dtype {}", dtype_name(t));
    }
  }
  return out;
}

struct Job {
  const Checkpoint& ck;
  const MiniMaxM2Config& cfg;
  SafetensorsWriter& w;
  WeightTransform* tr;
  Progress& prog;
  Source src{ck};
  size_t next_tensor = 0;  // index of the module's first output in the writer's declared order

  void int4(const ModuleDecision& d) {
    const int64_t out = d.shape[0], in = d.shape[1], G = in / d.outputs[1].shape[1];
    std::vector<uint32_t> packed(size_t(out * in / 8));
    std::vector<uint16_t> scales(size_t(out * in / G));
    TensorView wv = src.view(d.module + ".weight");
    if (d.source_dtype == DType::BF16 && !tr) {
      quantize_pack_int4_bf16(wv.as<uint16_t>().data(), out, in, G, packed.data(), scales.data());
    } else if (d.source_dtype == DType::F8_E4M3 && !tr && cfg.fp8.block_k % G == 0) {
      TensorView sv = src.view(d.module + ".weight_scale_inv");
      quantize_pack_int4_fp8block(wv.data, sv.as<float>().data(), out, in, cfg.fp8.block_n, cfg.fp8.block_k, G, packed.data(), scales.data());
      src.done(sv.name);
    } else {
      std::vector<float> f(size_t(out * in));
      if (d.source_dtype == DType::F8_E4M3) {
        TensorView sv = src.view(d.module + ".weight_scale_inv");
        dequantize_fp8_block_rows(wv.data, sv.as<float>().data(), out, in, cfg.fp8.block_n, cfg.fp8.block_k, 0, out, f.data());
        src.done(sv.name);
      } else {
        auto b = wv.as<uint16_t>();
        for (size_t i = 0; i < f.size(); ++i) f[i] = bf16_to_f32(b[i]);
      }
      if (tr) {
        tr->transform_linear(d.module, f.data(), out, in);
        for (auto& x : f) x = round_bf16(x);
      }
      quantize_pack_int4(f.data(), out, in, G, packed.data(), scales.data());
    }
    src.done(wv.name);
    int64_t shape[2] = {out, in};
    w.write(d.outputs[0].name, packed.data(), packed.size() * 4);
    w.write(d.outputs[1].name, scales.data(), scales.size() * 2);
    w.write(d.outputs[2].name, shape, sizeof shape);
    prog.advance(wv.nbytes);
  }

  void fp8_keep(const ModuleDecision& d) {
    TensorView wv = src.view(d.module + ".weight"), sv = src.view(d.module + ".weight_scale_inv");
    copy_stream(w, d.outputs[0].name, wv, prog);
    copy_stream(w, d.outputs[1].name, sv, prog);  // same F32 multipliers, renamed (§4.3)
    src.done(wv.name);
    src.done(sv.name);
  }

  void fp8_to_dense(const ModuleDecision& d) {
    const int64_t out = d.shape[0], in = d.shape[1], bn = cfg.fp8.block_n;
    TensorView wv = src.view(d.module + ".weight"), sv = src.view(d.module + ".weight_scale_inv");
    std::vector<uint16_t> buf(size_t(bn * in));
    w.begin_tensor(d.outputs[0].name);
    for (int64_t r0 = 0; r0 < out; r0 += bn) {
      int64_t r1 = std::min(out, r0 + bn);
      dequantize_fp8_block_rows_bf16(wv.data, sv.as<float>().data(), out, in, bn, cfg.fp8.block_k, r0, r1, buf.data());
      w.append(buf.data(), size_t((r1 - r0) * in) * 2);
      prog.advance(size_t((r1 - r0) * in));
    }
    w.end_tensor();
    src.done(wv.name);
    src.done(sv.name);
  }

  void copy(const ModuleDecision& d) {
    const TensorSpec& s = d.outputs[0];
    TensorView v = src.view(s.name);
    if (tr && dtype_is_float(v.dtype)) {
      std::vector<float> f = dense_to_f32(v);
      if (tr->transform_dense(s.name, f)) {
        auto bytes = from_f32(f, v.dtype);
        w.write(s.name, bytes.data(), bytes.size());
        prog.advance(v.nbytes);
        src.done(s.name);
        return;
      }
    }
    copy_stream(w, s.name, v, prog);
    src.done(s.name);
  }

  void module(const ModuleDecision& d) {
    if (tr)
      for (size_t i = next_tensor; i < next_tensor + d.outputs.size(); ++i)
        if ((i == 0 || w.shard_of(i) != w.shard_of(i - 1)) && w.needed(w.specs()[i].name)) tr->resume_point(w.specs()[i].name);
    next_tensor += d.outputs.size();
    bool needed = false;
    for (const auto& s : d.outputs) needed = needed || w.needed(s.name);
    if (!needed) {
      for (const auto& s : d.outputs) skip(w, s);
      uint64_t in_bytes = 0;
      for (const auto& s : d.outputs) in_bytes += s.nbytes();
      prog.advance(d.action == Action::Int4Pack ? uint64_t(shape_numel(d.shape)) * dtype_size(d.source_dtype) : in_bytes);
      return;
    }
    switch (d.action) {
      case Action::Int4Pack: int4(d); break;
      case Action::Fp8Keep: fp8_keep(d); break;
      case Action::Fp8ToDense: fp8_to_dense(d); break;
      case Action::Copy: copy(d); break;
    }
  }
};

nlohmann::json job_identity(const Recipe& recipe, const QuantizeOptions& opt, const std::string& fingerprint) {
  nlohmann::json j;
  j["tool"] = "mixq";
  j["tool_version"] = MIXQ_VERSION;
  j["recipe_sha256"] = sha256_hex(recipe.text.data(), recipe.text.size());
  j["input_fingerprint"] = fingerprint;
  j["options"] = {{"keep_fp8", opt.plan.keep_fp8}, {"max_shard_bytes", opt.plan.max_shard_bytes},
                  {"transform", opt.transform ? opt.transform->name() : "rtn"}};
  return j;
}

// Files of the model directory that travel with the weights: tokenizer, chat template,
// generation config, remote code. Other files (READMEs, data) describe the source, not the output.
bool travels(const std::string& n) {
  auto ends = [&](const char* suf) { size_t k = std::strlen(suf); return n.size() >= k && n.compare(n.size() - k, k, suf) == 0; };
  return n.rfind("tokenizer", 0) == 0 || n.rfind("chat_template", 0) == 0 || n == "generation_config.json" ||
         n == "special_tokens_map.json" || n == "added_tokens.json" || n == "vocab.json" || n == "merges.txt" || n == "preprocessor_config.json" ||
         ends(".jinja") || ends(".tiktoken") || ends(".py");
}

std::vector<std::string> side_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::string n = e.path().filename().string();
    if (travels(n)) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// What a non-resumable output directory holds, for the refusal: another quantize job (and what
// differs from this one) or other files (a few named).
std::string describe_dir(const std::string& dir, const nlohmann::json* prev, const nlohmann::json& ident) {
  if (prev) {
    std::vector<std::string> diff;
    if (prev->value("recipe_sha256", "") != ident.value("recipe_sha256", "")) diff.push_back("recipe");
    if (prev->value("input_fingerprint", "") != ident.value("input_fingerprint", "")) diff.push_back("input model");
    if (prev->value("options", nlohmann::json()) != ident.value("options", nlohmann::json())) diff.push_back("options");
    if (prev->value("tool_version", "") != ident.value("tool_version", "")) diff.push_back("mixq version");
    std::string d;
    for (const auto& x : diff) d += (d.empty() ? "" : ", ") + x;
    return fmt::format("a mixq quantize output of another job (different {})", d.empty() ? "job" : d);
  }
  std::vector<std::string> names;
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    ++n;
    if (names.size() < 3) names.push_back(e.path().filename().string() + (e.is_directory() ? "/" : ""));
  }
  std::sort(names.begin(), names.end());
  std::string s;
  for (const auto& x : names) s += (s.empty() ? "" : ", ") + x;
  if (file_exists(path_join(dir, "config.json")))
    return fmt::format("a model or other files ({} entries: {}{})", n, s, n > names.size() ? ", ..." : "");
  return fmt::format("{} unrelated entr{} ({}{})", n, n == 1 ? "y" : "ies", s, n > names.size() ? ", ..." : "");
}

}  // namespace

QuantizeResult run_quantize(const Recipe& recipe, const QuantizeOptions& opt) {
  auto t0 = std::chrono::steady_clock::now();
  QuantizeResult res;
  Checkpoint ck(opt.model_dir);
  if (!ck.has_config()) fail("{}: no config.json", opt.model_dir);
  MiniMaxM2Config cfg = load_minimax_m2_config(ck.config_path());
  ConformanceReport rep = check_checkpoint(ck, cfg);
  if (!rep.ok()) {
    const Finding* first = nullptr;
    for (const auto& f : rep.findings) if (f.severity == Finding::Error) { first = &f; break; }
    fail("{}: fails the MiniMax-M2 checks ({} problem(s); first: {}: {}); run `mixq inspect {}`", opt.model_dir, rep.errors(),
         first->tensor, first->message, opt.model_dir);
  }
  QuantPlan plan = plan_quantization(ck, cfg, recipe, opt.plan);
  for (const auto& d : plan.modules) res.fp8_kept += d.action == Action::Fp8Keep;

  const std::string fp = input_fingerprint(opt.model_dir);
  nlohmann::json ident = job_identity(recipe, opt, fp);
  const std::string out = opt.output_dir;
  const std::string job_path = path_join(out, kJobName), man_path = path_join(out, kManifestName);
  // Temporaries of an interrupted run (shards "*.tmp", atomic writes "*.tmp.<pid>"): never complete.
  auto is_temporary = [](const fs::directory_entry& e) {
    const std::string n = e.path().filename().string();
    const auto t = n.rfind(".tmp");
    return e.is_regular_file() && t != std::string::npos && (t + 4 == n.size() || n[t + 4] == '.');
  };
  if (fs::exists(out)) {
    if (!fs::is_directory(out)) fail("{}: exists and is not a directory", out);
    // Never write into (or --overwrite) the model being read.
    std::error_code ec;
    const fs::path in_abs = fs::weakly_canonical(opt.model_dir, ec), out_abs = fs::weakly_canonical(out, ec);
    const auto rel = in_abs.lexically_relative(out_abs);
    if (!rel.empty() && *rel.begin() != "..")
      fail("{}: is the input model's directory{}; choose another --output", out, in_abs == out_abs ? "" : " (or holds it)");
    nlohmann::json prev;
    bool have = false;
    for (const auto& p : {job_path, man_path}) {
      if (!file_exists(p)) continue;
      try { prev = nlohmann::json::parse(read_file(p)); } catch (const nlohmann::json::exception&) { fail("{}: unreadable", p); }
      if (p == man_path) prev = prev.value("job", nlohmann::json());
      have = true;
      break;
    }
    // A run killed before its identity file landed leaves at most its temporaries: that is empty.
    bool empty = true;
    for (const auto& e : fs::directory_iterator(out)) empty = empty && is_temporary(e);
    if (!empty && (!have || prev != ident)) {
      if (opt.overwrite) {
        MIXQ_WARN("{}: --overwrite: removing what it holds ({})", out, describe_dir(out, have ? &prev : nullptr, ident));
        for (const auto& e : fs::directory_iterator(out)) fs::remove_all(e.path());
      } else {
        fail("{}: holds {}, not a resumable run of this job; choose another --output, or pass --overwrite to replace it", out,
             describe_dir(out, have ? &prev : nullptr, ident));
      }
    }
  } else {
    std::error_code ec;
    fs::create_directories(out, ec);
    if (ec) fail("{}: cannot create: {}", out, ec.message());
  }
  // Warnings after the output checks: a refused --output is one line, not a page.
  for (const auto& wmsg : plan.warnings) MIXQ_WARN("{}", wmsg);
  if (recipe.awq.enabled && !opt.transform && !opt.rtn_requested)
    MIXQ_WARN("{}: AWQModifier: no calibration statistics in this run, smoothing scales are identity (plain RTN of the recipe's scheme)",
              recipe.source);
  res.warnings = plan.warnings;
  for (const auto& e : fs::directory_iterator(out))
    if (is_temporary(e)) fs::remove(e.path());
  if (!file_exists(man_path)) write_file_atomic(job_path, ident.dump(2) + "\n");

  WriterOptions wo;
  wo.max_shard_bytes = opt.plan.max_shard_bytes;
  SafetensorsWriter writer(out, plan.specs, wo);
  for (size_t s = 0; s < writer.num_shards(); ++s) res.shards_resumed += writer.shard_done(s);
  // Progress in input bytes (FP8 weights count as their bytes; BF16 dequantized rows as elements).
  uint64_t total = 0;
  for (const auto& sh : ck.shards()) total += sh->mapped().size() - sh->data_start();
  res.input_bytes = total;
  {
    Progress prog("quantize", total, "B");
    Job job{ck, cfg, writer, opt.transform, prog};
    for (const auto& d : plan.modules) job.module(d);
    prog.set(total);
    prog.finish();
  }
  std::vector<std::string> files = writer.finish();

  // config.json: the input's, with quantization_config replaced (keys sorted, as CT writes it).
  nlohmann::json config = ck.config();
  config["quantization_config"] = plan.quantization_config();
  write_file_atomic(path_join(out, "config.json"), config.dump(2) + "\n");
  nlohmann::json copied = nlohmann::json::array();
  for (const auto& n : side_files(opt.model_dir)) {
    write_file_atomic(path_join(out, n), read_file(path_join(opt.model_dir, n)));
    copied.push_back(n);
  }
  nlohmann::json man;
  man["job"] = ident;
  man["recipe"] = {{"path", recipe.source}, {"text", recipe.text}};
  man["input"] = {{"dir", opt.model_dir}, {"fingerprint", fp}};
  man["predicted_bytes"] = plan.predicted_bytes;
  man["copied_files"] = copied;
  nlohmann::json shards = nlohmann::json::object();
  for (const auto& f : files) {
    shards[f] = sha256_file(path_join(out, f));
    res.output_bytes += file_size(path_join(out, f));
  }
  man["shards"] = shards;
  write_file_atomic(man_path, man.dump(2) + "\n");
  std::remove(job_path.c_str());
  res.shards = files.size();
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace mixq
