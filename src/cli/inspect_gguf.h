// `mixq inspect FILE.gguf`: what a GGUF file holds (io/gguf_reader.h does the bounds-checked
// parsing; a hostile file is an InputError, exit 2). For a minimax-m2 file it also checks every key
// llama.cpp's loader needs (with its type) and every tensor's shape: exit 1 with the problems listed.
#pragma once
#include <string>

namespace mixq::cli {

bool looks_like_gguf(const std::string& path);  // a regular file starting with "GGUF"
int inspect_gguf(const std::string& path, bool json);

}  // namespace mixq::cli
