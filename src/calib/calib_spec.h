// The calibration dataset spec: a YAML file mixing sources by share or count.
//
//   num_samples: 256          # total samples (optional when every source has a count)
//   max_seq_length: 2048      # tokens per sample after rendering; longer samples are truncated
//   seed: 1234                # sampling is a pure function of (spec, files, seed)
//   sources:
//     - name: chat            # unique; names the source in reports and errors
//       share: 0.40           # exactly one of share (0,1] / count (>= 0)
//       file: gsm8k_chat.jsonl        # .jsonl (one JSON object a line) or .txt; relative to the spec
//       format: chat          # chat: messages rendered by the model's chat template; text: raw text
//       messages:             # chat: one message per entry, content from a record field
//         - {role: user, field: question}
//         - {role: assistant, field: answer}
//       reasoning: true       # chat: split the LAST assistant message at reasoning_separator into
//       reasoning_separator: "#### "   #   reasoning_content (before) and content (from the separator on)
//     - name: code
//       count: 64
//       file: mbpp.jsonl
//       format: text
//       text: "{prompt}\n{canonical_solution}"   # text: jsonl fields substituted ({{ and }} escape)
//     - name: long
//       share: 0.15
//       file: frankenstein.txt
//       format: text
//       split: paragraphs     # txt records: paragraphs (blank-line separated) | lines | document
//       concat_min_chars: 12000   # long context: consecutive records joined until >= this many chars
//
// Shares must sum to 1; share sources split what the counts leave by largest remainder, so per-source
// counts are exact and sum to num_samples. Every error is an InputError naming the file and field.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mixq::calib {

enum class SampleFormat { Text, Chat };
enum class TxtSplit { Paragraphs, Lines, Document };

struct MessageSpec {
  std::string role, field;
};

struct CalibSourceSpec {
  std::string name;
  std::optional<double> share;
  std::optional<int64_t> count;
  std::string file;  // resolved: absolute or relative to the working directory
  SampleFormat format = SampleFormat::Text;
  std::string text_template;  // jsonl text sources; empty for txt (the record is the text)
  std::vector<MessageSpec> messages;
  bool reasoning = false;
  std::string reasoning_separator;
  TxtSplit split = TxtSplit::Paragraphs;
  int64_t concat_min_chars = 0;
};

struct CalibSpec {
  std::string path;  // the spec file (for messages)
  int64_t num_samples = 0;
  int64_t max_seq_length = 2048;
  uint64_t seed = 0;
  std::vector<CalibSourceSpec> sources;
};

CalibSpec load_calib_spec(const std::string& path);
// `what` names the text in errors; relative file paths resolve against `base_dir`.
CalibSpec parse_calib_spec(const std::string& yaml_text, const std::string& what, const std::string& base_dir);

// Exact per-source sample counts (same order as spec.sources), summing to spec.num_samples.
std::vector<int64_t> calib_source_counts(const CalibSpec& spec);

// The bundled default spec: $MIXQ_DATA_DIR/calib/default.yaml, else data/calib/default.yaml beside the
// build directory, else share/mixq/calib/ of an install. InputError when none exists.
std::string default_calib_spec_path();

}  // namespace mixq::calib
