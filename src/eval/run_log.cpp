#include "eval/run_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "util/error.h"
#include "util/file_util.h"
#include "util/sha256.h"

namespace mixq::eval {

std::string item_fingerprint(const std::string& task, const std::string& id, const nlohmann::json& request) {
  std::string s = task + "\n" + id + "\n" + request.dump();
  return sha256_hex(s.data(), s.size()).substr(0, 32);
}

std::string prompt_hash(const nlohmann::json& messages) {
  std::string s = messages.dump();
  return sha256_hex(s.data(), s.size()).substr(0, 16);
}

RunLog::RunLog(const std::string& path) : path_(path) {
  if (file_exists(path)) {
    std::istringstream in(read_file(path));
    std::string line;
    while (std::getline(in, line)) {
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_object() || !j.contains("fingerprint") || !j["fingerprint"].is_string() || !j.contains("score") ||
          !j["score"].is_object() || !j.contains("completion") || !j["completion"].is_object()) {
        ++skipped_;
        continue;
      }
      if (j["score"].value("outcome", "error") == "error") continue;
      std::string fp = j["fingerprint"].get<std::string>();  // before the move below (C++17 order)
      finished_[fp] = std::move(j);
    }
  }
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("{}: cannot open for appending: {}", path, std::strerror(errno));
  // A torn last line from a killed run: start the next record on a fresh line.
  if (skipped_ && file_size(path) > 0) {
    if (::write(fd_, "\n", 1) < 0) {}
  }
}

RunLog::~RunLog() {
  if (fd_ >= 0) ::close(fd_);
}

void RunLog::append(const nlohmann::json& line) {
  std::string s = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard<std::mutex> lk(mu_);
  size_t off = 0;
  while (off < s.size()) {
    ssize_t w = ::write(fd_, s.data() + off, s.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("{}: write failed: {}", path_, std::strerror(errno));
    }
    off += size_t(w);
  }
}

}  // namespace mixq::eval
