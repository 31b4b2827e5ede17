#include "server/openai_server.h"

#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "io/checkpoint.h"
#include "io/residency.h"
#include "runtime/generate.h"
#include "runtime/kv_pool.h"
#include "runtime/model.h"
#include "runtime/scheduler.h"
#include "server/api_error.h"
#include "server/choice_output.h"
#include "server/gen_request.h"
#include "server/metrics.h"
#include "text/chat.h"
#include "text/tokenizer.h"
#include "util/error.h"
#include "util/file_util.h"
#include "util/log.h"

namespace mixq::server {

namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

std::string random_hex(int n) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < n; ++i) s += hex[rng() & 15];
  return s;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Everything the server holds once the model is loaded.
struct Engine {
  std::unique_ptr<Model> model;
  std::unique_ptr<text::Tokenizer> tokenizer;
  std::unique_ptr<text::ChatTemplate> chat_template;
  std::unique_ptr<KvPool> pool;
  std::unique_ptr<Scheduler> scheduler;
  ServingContext ctx;
};

// One HTTP request's state, shared by its HTTP thread and the engine thread's sinks.
struct Pending {
  GenRequest req;
  std::mutex mu;
  std::condition_variable cv;
  struct Choice {
    std::unique_ptr<ChoiceOutput> out;
    std::shared_ptr<SeqHandle> handle;
    Clock::time_point last_token;
    bool any_token = false, role_sent = false, final_sent = false;
  };
  std::vector<Choice> choices;
  bool dirty = false;
  Clock::time_point arrival = Clock::now();
  ServerMetrics* metrics = nullptr;

  bool all_done() const {
    for (const auto& c : choices)
      if (!c.out->finished()) return false;
    return true;
  }
  void cancel_all() {
    for (auto& c : choices)
      if (c.handle) c.handle->cancelled.store(true);
  }
};

class Sink : public SeqSink {
 public:
  Sink(std::shared_ptr<Pending> p, size_t i) : p_(std::move(p)), i_(i) {}
  bool on_token(const TokenEvent& ev) override {
    std::lock_guard<std::mutex> lk(p_->mu);
    auto& c = p_->choices[i_];
    const auto now = Clock::now();
    if (!c.any_token) p_->metrics->first_token(std::chrono::duration<double>(now - p_->arrival).count());
    else p_->metrics->inter_token(std::chrono::duration<double>(now - c.last_token).count());
    c.any_token = true;
    c.last_token = now;
    const bool go = c.out->add_token(ev);
    p_->dirty = true;
    p_->cv.notify_all();
    return go && !(c.handle && c.handle->cancelled.load());
  }
  void on_finish(const SeqResult& r) override {
    std::lock_guard<std::mutex> lk(p_->mu);
    auto& c = p_->choices[i_];
    c.out->finish(r);
    p_->metrics->finished(c.out->finish_reason(), seconds_since(p_->arrival), r.prompt_tokens, r.generated);
    p_->dirty = true;
    p_->cv.notify_all();
  }

 private:
  std::shared_ptr<Pending> p_;
  size_t i_;
};

Json usage_json(const Pending& p) {
  int64_t prompt = 0, completion = 0, cached = 0;
  const size_t n = size_t(p.req.n);
  for (size_t i = 0; i < p.choices.size(); ++i) {
    const SeqResult& r = p.choices[i].out->result();
    completion += r.generated;
    if (i % n == 0) {  // the prompt of each prompt group counts once
      prompt += int64_t(p.req.prompts[i / n].size());
      cached += r.cached_tokens;
    }
  }
  return {{"prompt_tokens", prompt}, {"total_tokens", prompt + completion}, {"completion_tokens", completion},
          {"prompt_tokens_details", {{"cached_tokens", cached}}}};
}

class Server {
 public:
  explicit Server(const ServerOptions& o) : o_(o) {}
  int run(const std::function<bool()>& stop);

 private:
  void load();
  void routes();
  bool authorized(const httplib::Request& req) const;
  void send_error(httplib::Response& res, int status, const std::string& msg, const std::string& param = "") const {
    res.status = status;
    res.set_content(error_json(status, msg, param).dump(), "application/json");
  }
  Json parse_body(const httplib::Request& req) const;
  Engine& ready_engine() const;
  void generate(const httplib::Request& req, httplib::Response& res, bool chat);
  void respond_stream(const std::shared_ptr<Pending>& p, httplib::Response& res, const std::string& id, int64_t created);
  void respond_whole(const std::shared_ptr<Pending>& p, httplib::Response& res, const std::string& id, int64_t created);

  ServerOptions o_;
  httplib::Server http_;
  std::unique_ptr<Engine> engine_;
  std::atomic<bool> ready_{false};
  std::string load_error_;
  ServerMetrics metrics_;
};

Json Server::parse_body(const httplib::Request& req) const {
  Json b = Json::parse(req.body, nullptr, false);
  if (b.is_discarded()) throw ApiError(400, "the request body is not valid JSON");
  if (!b.is_object()) throw ApiError(400, "the request body must be a JSON object");
  return b;
}

Engine& Server::ready_engine() const {
  if (!ready_.load()) throw ApiError(503, "the model is still loading");
  return *engine_;
}

bool Server::authorized(const httplib::Request& req) const {
  if (o_.api_key.empty() || req.path.rfind("/v1", 0) != 0) return true;
  return req.get_header_value("Authorization") == "Bearer " + o_.api_key;
}

void Server::load() {
  auto e = std::make_unique<Engine>();
  e->model = std::make_unique<Model>(o_.model_dir, o_.residency);
  const auto& cfg = e->model->config();
  if (!file_exists(path_join(o_.model_dir, "tokenizer.json"))) fail("{}: no tokenizer.json; mixq serve needs one", o_.model_dir);
  e->tokenizer = text::Tokenizer::load(o_.model_dir);
  if (!o_.chat_template.empty()) {
    std::string src = file_exists(o_.chat_template) ? read_file(o_.chat_template) : o_.chat_template;
    e->chat_template = std::make_unique<text::ChatTemplate>(src, nlohmann::ordered_json::object());
  } else {
    e->chat_template = text::ChatTemplate::load(o_.model_dir);
  }
  auto& ctx = e->ctx;
  ctx.served_name = o_.served_name;
  ctx.tokenizer = e->tokenizer.get();
  ctx.chat_template = e->chat_template.get();
  ctx.defaults = GenerationDefaults::load(o_.model_dir, o_.generation_config, o_.override_generation_config);
  ctx.eos_ids = default_stop_ids(*e->model);
  ctx.max_model_len = o_.max_model_len > 0 ? o_.max_model_len : cfg.max_position_embeddings;
  ctx.max_n = o_.max_n;
  ctx.auto_tool_choice = o_.enable_auto_tool_choice;
  ctx.tool_parser = o_.tool_call_parser == "minimax_m2";
  ctx.reasoning = o_.reasoning_parser == "minimax_m2" ? text::OutputParsers::Reasoning::MinimaxM2
                  : o_.reasoning_parser == "minimax_m2_append_think" ? text::OutputParsers::Reasoning::MinimaxM2AppendThink
                                                                     : text::OutputParsers::Reasoning::None;
  if (ctx.max_model_len > cfg.max_position_embeddings) {
    // vLLM refuses this (unless VLLM_ALLOW_LONG_MAX_MODEL_LEN=1); mixq caps it, so a card's launch
    // command also starts on a smaller model of the same family.
    MIXQ_WARN("serve: --max-model-len {} exceeds the model's max_position_embeddings {}; using {}", ctx.max_model_len,
              cfg.max_position_embeddings, cfg.max_position_embeddings);
    ctx.max_model_len = cfg.max_position_embeddings;
  }
  const auto kv_type = parse_kv_type(o_.kv_cache_dtype == "auto" ? "bf16" : o_.kv_cache_dtype);
  // KV pool: --kv-cache-memory, else what max_num_seqs full-length sequences need, capped at half
  // of the memory available after loading the weights (at least one full-length sequence).
  const uint64_t per_block = KvPool::bytes_per_block(cfg, o_.block_size, kv_type);
  const uint64_t one_seq = uint64_t((ctx.max_model_len + o_.block_size - 1) / o_.block_size) * per_block;
  uint64_t budget = o_.kv_cache_memory;
  if (budget == 0) {
    const uint64_t want = one_seq * uint64_t(std::max<int64_t>(1, o_.max_num_seqs));
    budget = std::max(one_seq, std::min(want, mem_available() / 2));
  }
  const int64_t blocks = KvPool::blocks_for_budget(cfg, o_.block_size, kv_type, budget);
  e->pool = std::make_unique<KvPool>(cfg, blocks, o_.block_size, kv_type);
  SchedulerOptions so;
  so.max_num_seqs = o_.max_num_seqs;
  so.max_batched_tokens = o_.max_num_batched_tokens;
  so.max_model_len = ctx.max_model_len;
  so.max_waiting = o_.max_waiting;
  so.prefix_caching = o_.prefix_caching;
  e->scheduler = std::make_unique<Scheduler>(*e->model, *e->pool, so);
  MIXQ_INFO("serve: {} ({}); KV pool {} blocks x {} positions = {} tokens, {:.1f} MiB {}; max-model-len {}",
            o_.model_dir, e->model->describe(), blocks, o_.block_size, blocks * o_.block_size,
            double(e->pool->bytes()) / (1 << 20), kernels::kv_type_name(kv_type), ctx.max_model_len);
  if (!ctx.defaults.to_json().empty()) MIXQ_INFO("serve: default sampling parameters {}", ctx.defaults.to_json().dump());
  for (const auto& k : ctx.defaults.ignored)
    MIXQ_INFO("serve: generation config key '{}' has no effect (vLLM keeps only repetition_penalty, temperature, "
              "top_k, top_p, min_p, max_new_tokens)", k);
  engine_ = std::move(e);
}

void Server::routes() {
  http_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    const std::string origin = req.get_header_value("Origin");
    if (!origin.empty() && !o_.allowed_origins.empty()) {
      bool ok = false;
      for (const auto& a : o_.allowed_origins) ok |= a == "*" || a == origin;
      if (ok) {
        res.set_header("Access-Control-Allow-Origin", origin);
        res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
      }
    }
    if (req.method == "OPTIONS") {
      res.status = 204;
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!authorized(req)) {
      send_error(res, 401, "Unauthorized: a valid API key is needed (Authorization: Bearer KEY)");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http_.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) send_error(res, 404, "no route " + req.method + " " + req.path);
    else if (res.status == 413) send_error(res, 413, fmt::format("the request body exceeds --max-request-bytes ({} bytes)", o_.max_request_bytes));
    else send_error(res, res.status, fmt::format("HTTP {}", res.status));
  });
  http_.set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const ApiError& e) {
      send_error(res, e.status(), e.what(), e.param());
    } catch (const InputError& e) {
      send_error(res, 400, e.what());
    } catch (const nlohmann::json::exception& e) {
      // A JSON field of an unexpected type met deeper than the request checks reach (the fuzz
      // target traps on these so they get fixed at their source): still the request's fault.
      send_error(res, 400, std::string("malformed request: ") + e.what());
    } catch (const std::exception& e) {
      send_error(res, 500, std::string("internal error: ") + e.what());
    } catch (...) {
      send_error(res, 500, "internal error");
    }
  });

  http_.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    if (ready_.load()) {
      res.status = 200;
      return;
    }
    if (!load_error_.empty()) return send_error(res, 503, "the model failed to load: " + load_error_);
    send_error(res, 503, "Loading model");
  });
  http_.Get("/version", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(Json{{"version", MIXQ_VERSION}, {"server", "mixq"}}.dump(), "application/json");
  });
  http_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    const SchedulerStats s = ready_.load() ? engine_->scheduler->stats() : SchedulerStats{};
    res.set_content(metrics_.render(o_.served_name, s), "text/plain; version=0.0.4");
  });
  http_.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    Json m = {{"id", o_.served_name}, {"object", "model"}, {"created", unix_now()}, {"owned_by", "mixq"},
              {"root", o_.model_dir},  {"parent", nullptr}};
    m["max_model_len"] = ready_.load() ? engine_->ctx.max_model_len : o_.max_model_len;
    m["permission"] = Json::array();
    res.set_content(Json{{"object", "list"}, {"data", Json::array({m})}}.dump(), "application/json");
  });
  http_.Post("/tokenize", [this](const httplib::Request& req, httplib::Response& res) {
    Engine& e = ready_engine();
    const Json b = parse_body(req);
    check_model_name(b, e.ctx);
    std::vector<int32_t> ids;
    if (b.contains("messages")) {
      Json cb = b;
      if (!cb.contains("add_generation_prompt")) cb["add_generation_prompt"] = true;
      cb["max_tokens"] = 1;
      ids = parse_chat_request(cb, e.ctx).prompts.at(0);
    } else if (b.contains("prompt") && b["prompt"].is_string()) {
      if (b.contains("add_special_tokens") && !b["add_special_tokens"].is_boolean())
        bad_request("add_special_tokens", "'add_special_tokens' must be a boolean");
      const bool special = !b.contains("add_special_tokens") || b["add_special_tokens"].get<bool>();
      ids = e.tokenizer->encode(b["prompt"].get<std::string>(), special);
    } else {
      bad_request("prompt", "give 'prompt' (a string) or 'messages'");
    }
    res.set_content(Json{{"count", ids.size()}, {"max_model_len", e.ctx.max_model_len}, {"tokens", ids},
                         {"token_strs", nullptr}}.dump(),
                    "application/json");
  });
  http_.Post("/detokenize", [this](const httplib::Request& req, httplib::Response& res) {
    Engine& e = ready_engine();
    const Json b = parse_body(req);
    check_model_name(b, e.ctx);
    if (!b.contains("tokens")) bad_request("tokens", "'tokens' must be a list of token ids");
    const std::vector<int32_t> ids = parse_token_ids(b["tokens"], "tokens", int64_t(e.tokenizer->vocab_size()));
    res.set_content(Json{{"prompt", e.tokenizer->decode(ids, false)}}.dump(), "application/json");
  });
  http_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) { generate(req, res, true); });
  http_.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) { generate(req, res, false); });
}

void Server::generate(const httplib::Request& hreq, httplib::Response& res, bool chat) {
  Engine& e = ready_engine();
  const Json b = parse_body(hreq);
  auto p = std::make_shared<Pending>();
  p->metrics = &metrics_;
  p->req = chat ? parse_chat_request(b, e.ctx) : parse_completion_request(b, e.ctx);
  const size_t per = size_t(p->req.n);
  p->choices.resize(p->req.prompts.size() * per);
  for (auto& c : p->choices) c.out = std::make_unique<ChoiceOutput>(p->req, *e.tokenizer);
  // Submit every choice; a full queue cancels what was already queued and answers 503.
  for (size_t i = 0; i < p->choices.size(); ++i) {
    SeqParams sp = p->req.params;
    sp.sampling.seed += uint64_t(i % per);  // choice j of a seeded request: seed + j (reproducible, distinct)
    try {
      auto h = e.scheduler->submit(p->req.prompts[i / per], sp, std::make_shared<Sink>(p, i));
      std::lock_guard<std::mutex> lk(p->mu);
      p->choices[i].handle = h;
    } catch (const QueueFull& q) {
      p->cancel_all();
      throw ApiError(503, q.what());
    }
  }
  const std::string id = (chat ? "chatcmpl-" : "cmpl-") + random_hex(32);
  const int64_t created = unix_now();
  if (p->req.stream) respond_stream(p, res, id, created);
  else respond_whole(p, res, id, created);
}

void Server::respond_whole(const std::shared_ptr<Pending>& p, httplib::Response& res, const std::string& id,
                           int64_t created) {
  const std::string model = o_.served_name;
  // The body is sent when every choice is done. While waiting, a space (valid leading JSON
  // whitespace) every second finds out whether the client is still there: a failed write cancels
  // the sequences, which the scheduler then frees at its next step.
  res.set_chunked_content_provider("application/json", [p, id, created, model](size_t, httplib::DataSink& sink) {
    for (;;) {
      std::unique_lock<std::mutex> lk(p->mu);
      p->cv.wait_for(lk, std::chrono::seconds(1), [&] { return p->all_done(); });
      if (!p->all_done()) {
        lk.unlock();
        if (!sink.write(" ", 1)) {
          p->cancel_all();
          return false;
        }
        continue;
      }
      Json choices = Json::array();
      for (size_t i = 0; i < p->choices.size(); ++i) {
        const ChoiceOutput& out = *p->choices[i].out;
        Json c = {{"index", i}};
        if (p->req.chat) c["message"] = out.message();
        else c["text"] = p->req.echo_prompt + out.text();
        c["logprobs"] = out.all_logprobs();
        c["finish_reason"] = out.finish_reason();
        c["stop_reason"] = out.stop_reason();
        choices.push_back(c);
      }
      Json body = {{"id", id}, {"object", p->req.chat ? "chat.completion" : "text_completion"}, {"created", created},
                   {"model", model}, {"choices", choices}, {"usage", usage_json(*p)}};
      lk.unlock();
      const std::string s = body.dump(-1, ' ', false, Json::error_handler_t::replace);
      sink.write(s.data(), s.size());
      sink.done();
      return true;
    }
  });
}

void Server::respond_stream(const std::shared_ptr<Pending>& p, httplib::Response& res, const std::string& id,
                            int64_t created) {
  const std::string model = o_.served_name;
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider("text/event-stream", [p, id, created, model](size_t, httplib::DataSink& sink) {
    const bool chat = p->req.chat;
    auto chunk = [&](Json choices) {
      Json c = {{"id", id}, {"object", chat ? "chat.completion.chunk" : "text_completion"}, {"created", created},
                {"model", model}, {"choices", std::move(choices)}};
      return "data: " + c.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n\n";
    };
    auto last_write = Clock::now();
    for (;;) {
      std::vector<std::string> events;
      bool done = false;
      {
        std::unique_lock<std::mutex> lk(p->mu);
        p->cv.wait_for(lk, std::chrono::milliseconds(500), [&] { return p->dirty || p->all_done(); });
        p->dirty = false;
        for (size_t i = 0; i < p->choices.size(); ++i) {
          auto& c = p->choices[i];
          if (c.final_sent) continue;
          if (!c.role_sent) {
            c.role_sent = true;
            Json first = {{"index", i}};
            if (chat) first["delta"] = {{"role", "assistant"}, {"content", ""}};
            else first["text"] = p->req.echo_prompt;
            first["logprobs"] = nullptr;
            first["finish_reason"] = nullptr;
            if (chat || !p->req.echo_prompt.empty()) events.push_back(chunk(Json::array({first})));
          }
          // Logprobs of tokens whose text is still held back wait for the chunk that carries it.
          std::vector<Json> ds = c.out->take_deltas();
          Json lp = ds.empty() && !c.out->finished() ? Json(nullptr) : c.out->take_logprobs();
          for (auto& d : ds) {
            Json ch = {{"index", i}};
            if (chat) ch["delta"] = d;
            else ch["text"] = d["text"];
            ch["logprobs"] = lp;
            lp = nullptr;  // a token's logprobs go with the first chunk carrying its text
            ch["finish_reason"] = nullptr;
            events.push_back(chunk(Json::array({ch})));
          }
          if (c.out->finished()) {
            Json ch = {{"index", i}};
            if (chat) ch["delta"] = Json::object();
            else ch["text"] = "";
            ch["logprobs"] = lp;
            ch["finish_reason"] = c.out->finish_reason();
            ch["stop_reason"] = c.out->stop_reason();
            events.push_back(chunk(Json::array({ch})));
            c.final_sent = true;
          }
        }
        done = p->all_done();
        if (done) {
          for (auto& c : p->choices) done &= c.final_sent;
        }
        if (done && p->req.include_usage) {
          Json u = {{"id", id}, {"object", chat ? "chat.completion.chunk" : "text_completion"}, {"created", created},
                    {"model", model}, {"choices", Json::array()}, {"usage", usage_json(*p)}};
          events.push_back("data: " + u.dump() + "\n\n");
        }
      }
      bool ok = true;
      for (const auto& ev : events) ok = ok && sink.write(ev.data(), ev.size());
      if (!events.empty()) last_write = Clock::now();
      else if (!done && seconds_since(last_write) > 2.0) {
        static const char kAlive[] = ": keep-alive\n\n";  // an SSE comment: clients ignore it
        ok = sink.write(kAlive, sizeof(kAlive) - 1);
        last_write = Clock::now();
      }
      if (!ok) {
        p->cancel_all();
        return false;
      }
      if (done) {
        static const char kDone[] = "data: [DONE]\n\n";
        sink.write(kDone, sizeof(kDone) - 1);
        sink.done();
        return true;
      }
    }
  });
}

int Server::run(const std::function<bool()>& stop) {
  // SIGINT / SIGTERM go to a watcher thread (blocked everywhere else, inherited by every thread
  // started below); a client closing its socket must not kill the server.
  static sigset_t set;  // static: the watcher thread outlives this call when a stop callback ends it
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  const int threads = int(std::clamp<int64_t>(o_.max_num_seqs + o_.max_waiting + 16, 32, 1024));
  http_.new_task_queue = [threads] { return new httplib::ThreadPool(size_t(threads)); };
  http_.set_payload_max_length(size_t(o_.max_request_bytes));
  http_.set_read_timeout(30, 0);
  http_.set_write_timeout(10, 0);
  routes();
  if (o_.port == 0) {  // any free port; the log line below says which
    const int p = http_.bind_to_any_port(o_.host);
    if (p <= 0) fail("cannot listen on {} (not an address of this machine?)", o_.host);
    o_.port = p;
  } else if (!http_.bind_to_port(o_.host, o_.port)) {
    fail("cannot listen on {}:{} (in use, or not an address of this machine)", o_.host, o_.port);
  }
  if (o_.host != "127.0.0.1" && o_.host != "localhost" && o_.host != "::1" && o_.api_key.empty())
    MIXQ_WARN("serve: listening on {} without an API key: anyone who can reach this address can use the model "
              "(--api-key or MIXQ_API_KEY)", o_.host);
  std::thread http_thread([this] { http_.listen_after_bind(); });
  MIXQ_INFO("serve: listening on http://{}:{} (loading the model; /health answers 503 until it is ready)", o_.host, o_.port);

  std::atomic<bool> stop_engine{false};
  std::thread engine_thread;
  auto shutdown = [&] {
    stop_engine.store(true);
    if (engine_) engine_->scheduler->wake();
    if (engine_thread.joinable()) engine_thread.join();
    http_.stop();
    if (http_thread.joinable()) http_thread.join();
  };
  static std::atomic<bool> got_signal{false};
  static std::once_flag watcher;
  std::call_once(watcher, [] {
    std::thread([] {
      int sig = 0;
      sigwait(&set, &sig);
      got_signal.store(true);
    }).detach();
  });
  try {
    load();
  } catch (const std::exception& ex) {
    load_error_ = ex.what();
    shutdown();
    throw;
  }
  engine_thread = std::thread([&] { engine_->scheduler->run(stop_engine); });
  ready_.store(true);
  MIXQ_INFO("serve: ready: model '{}' at http://{}:{}/v1", o_.served_name, o_.host, o_.port);
  while (!got_signal.load() && !(stop && stop())) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  MIXQ_INFO("serve: stopping");
  shutdown();
  return 0;
}

}  // namespace

int run_server(const ServerOptions& o, const std::function<bool()>& stop) {
  Server s(o);
  return s.run(stop);
}

}  // namespace mixq::server
