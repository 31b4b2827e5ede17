#include "plan/launch_command.h"

#include <gtest/gtest.h>

using namespace mixq;

TEST(LaunchCommand, ServedNameRule) {
  EXPECT_EQ(served_name_from("MiniMax-M2.7-AWQ-G32-STRIX-2H"), "minimax-m2-7-awq-g32-strix-2h");
  EXPECT_EQ(served_name_from("/models/MiniMax-M2.7-AWQ-G32-STRIX-2H/"), "minimax-m2-7-awq-g32-strix-2h");
  EXPECT_EQ(served_name_from("../shared/recipes/minimax-m2.7-awq-g32-strix-2h.yaml"), "minimax-m2-7-awq-g32-strix-2h");
}

TEST(LaunchCommand, ShellQuote) {
  EXPECT_EQ(shell_quote("ayysasha/MiniMax-M2.7-AWQ-G32-STRIX-2H"), "ayysasha/MiniMax-M2.7-AWQ-G32-STRIX-2H");
  EXPECT_EQ(shell_quote("{\"a\": 1}"), "'{\"a\": 1}'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote(""), "''");
}

TEST(LaunchCommand, TwoNodeStrixFlags) {
  LaunchOptions o;
  o.model = "/models/MiniMax-M2.7-AWQ-G32-STRIX-2H";
  o.served_model_name = "minimax-m2-7-awq-g32-strix-2h";
  o.tp = 2;
  o.nodes = 2;
  o.devices_per_node = 1;
  o.max_model_len = 196608;
  o.max_num_seqs = 1;
  o.max_num_batched_tokens = 20480;
  o.gpu_memory_utilization = 0.92;
  o.platform = Platform::Rocm;
  o.has_w4a16 = true;
  o.unified = true;
  o.enforce_eager = true;
  const LaunchPlan p = make_launch_plan(o);
  const std::vector<std::string> expect = {
      "vllm", "serve", "/models/MiniMax-M2.7-AWQ-G32-STRIX-2H", "--served-model-name", "minimax-m2-7-awq-g32-strix-2h",
      "--host", "0.0.0.0", "--port", "8000", "--tensor-parallel-size", "2", "--distributed-executor-backend", "ray",
      "--enforce-eager", "--gpu-memory-utilization", "0.92", "--max-model-len", "196608", "--max-num-seqs", "1",
      "--max-num-batched-tokens", "20480", "--trust-remote-code", "--tool-call-parser", "minimax_m2",
      "--reasoning-parser", "minimax_m2", "--enable-auto-tool-choice", "--override-generation-config",
      R"({"temperature": 1.0, "top_p": 0.95, "top_k": 40})"};
  EXPECT_EQ(p.vllm_args, expect);
  EXPECT_EQ(p.source, "mixq");
  EXPECT_NE(p.vllm_command().find("--override-generation-config '{\"temperature\": 1.0, \"top_p\": 0.95, \"top_k\": 40}'"),
            std::string::npos);
  ASSERT_FALSE(p.env.empty());
  EXPECT_EQ(p.env[0].first, "VLLM_USE_TRITON_AWQ");
  auto has_env = [&](const std::string& k, const std::string& v) {
    for (const auto& [a, b] : p.env)
      if (a == k) return b == v;
    return false;
  };
  EXPECT_TRUE(has_env("VLLM_ROCM_USE_AITER", "0"));
  EXPECT_TRUE(has_env("NCCL_IB_DISABLE", "1"));
  EXPECT_TRUE(has_env("RAY_EXPERIMENTAL_NOSET_ROCR_VISIBLE_DEVICES", "1"));
  EXPECT_NE(p.ray_head.find("ray start --head --port=6379"), std::string::npos);
  EXPECT_NE(p.ray_worker.find("--address=<HEAD_IP>:6379"), std::string::npos);
  EXPECT_EQ(p.mixq_args[0], "mixq");
  EXPECT_EQ(p.mixq_args[1], "serve");
}

TEST(LaunchCommand, OneMachineNoRayFp8Kv) {
  LaunchOptions o;
  o.model = "m";
  o.tp = 4;
  o.max_model_len = 1000;
  o.max_num_seqs = 8;
  o.max_num_batched_tokens = 8192;
  o.kv_cache_dtype = "fp8";
  const LaunchPlan p = make_launch_plan(o);
  EXPECT_TRUE(p.ray_head.empty());
  EXPECT_TRUE(p.env.empty());  // CUDA, one machine
  const std::string c = p.vllm_command();
  EXPECT_NE(c.find("--kv-cache-dtype fp8"), std::string::npos);
  EXPECT_EQ(c.find("--served-model-name"), std::string::npos);
  EXPECT_EQ(c.find("--enforce-eager"), std::string::npos);
  // Multiline form: one flag with its value per line.
  EXPECT_NE(p.vllm_command_multiline().find(" \\\n  --tensor-parallel-size 4 \\\n"), std::string::npos);
}

TEST(LaunchCommand, CardGivesItsFlagsAndEnvironmentAndMixqAdvisesApart) {
  LaunchOptions o;
  o.model = "/path/to/model";
  o.served_model_name = "minimax-m2-7-awq-g32-strix-2h";
  o.tp = 2;
  o.nodes = 2;
  o.max_model_len = 196608;
  o.max_num_seqs = 2;
  o.max_num_batched_tokens = 20480;
  o.gpu_memory_utilization = 0.92;
  o.platform = Platform::Rocm;
  o.has_w4a16 = true;
  o.unified = true;
  o.enforce_eager = true;
  o.card = find_launch_card("strix-2h");
  ASSERT_NE(o.card, nullptr);
  const LaunchPlan p = make_launch_plan(o);
  EXPECT_EQ(p.source, "strix-2h");
  const std::string c = p.vllm_command();
  for (const char* f : {"--host 127.0.0.1", "--port 8000", "--dtype auto", "--load-format safetensors",
                        "--reasoning-parser minimax_m2_append_think", "--distributed-executor-backend ray",
                        R"(--override-generation-config '{"max_new_tokens": 10000, "temperature": 0.2, "top_p": 0.9, "repetition_penalty": 1.08}')"})
    EXPECT_NE(c.find(f), std::string::npos) << f << "\n" << c;
  EXPECT_EQ(p.env, o.card->env);  // exactly the card's
  bool host = false, triton = false;
  for (const auto& g : p.suggestions) {
    host = host || g.what == "--host 0.0.0.0";
    triton = triton || g.what == "export VLLM_USE_TRITON_AWQ=1";
    EXPECT_FALSE(g.why.empty()) << g.what;
  }
  EXPECT_TRUE(host && triton);
  // The user's choice wins over the card's.
  o.host = "10.1.2.3";
  o.reasoning_parser = "minimax_m2";
  const LaunchPlan q = make_launch_plan(o);
  EXPECT_NE(q.vllm_command().find("--host 10.1.2.3"), std::string::npos);
  EXPECT_NE(q.vllm_command().find("--reasoning-parser minimax_m2 "), std::string::npos);
  for (const auto& g : q.suggestions) EXPECT_NE(g.what, "--host 0.0.0.0");
}

TEST(LaunchCommand, CardForRecipe) {
  EXPECT_EQ(launch_card_for_recipe("../shared/recipes/minimax-m2.7-awq-g32-strix-2h.yaml")->name, "strix-2h");
  EXPECT_EQ(launch_card_for_recipe("recipes/minimax-m2.1-fp8-int4-awq.yaml")->name, "frankenquant");
  EXPECT_EQ(launch_card_for_recipe("my-recipe.yaml"), nullptr);
}
