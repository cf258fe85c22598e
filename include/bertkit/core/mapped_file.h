// A whole regular file mapped read-only into memory (RAII: unmapped when the
// object dies). The one mmap wrapper; safetensors and pretraining shards use it.
#pragma once

#include <cstddef>
#include <string>

namespace bertkit {

class MappedFile {
 public:
  // InputError naming the path when it cannot be opened or is not a regular
  // file; RuntimeError when mmap fails. An empty file maps to size() == 0.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;

  const unsigned char* data() const { return static_cast<const unsigned char*>(map_); }
  std::size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  void release();
  std::string path_;
  void* map_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace bertkit
