// SHA-256 through OpenSSL's EVP interface, streaming.
#pragma once
#include <cstddef>
#include <string>

namespace mixq {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t n);
  std::string hex();  // finalizes

 private:
  void* ctx_;
};

std::string sha256_hex(const void* data, size_t n);
std::string sha256_file(const std::string& path);  // throws InputError when unreadable

}  // namespace mixq
