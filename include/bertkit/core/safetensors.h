// Safetensors files (https://github.com/huggingface/safetensors), read through
// a memory map and written atomically. Core layer: no torch here; the torch
// glue is nn/tensor_io.h.
//
// Layout: u64 little-endian N, then N bytes of JSON header
//   {"__metadata__": {str: str}, "<name>": {"dtype": "F32", "shape": [..],
//    "data_offsets": [begin, end]}, ...}
// then the byte buffer; offsets are relative to the buffer's start.
//
// Every header field is validated when a file is opened: header length within
// the file, JSON object, known dtype, non-negative shape, offsets inside the
// buffer, tensors sorted and non-overlapping, dtype size x numel == byte length.
// Any violation is an InputError naming the file (and the tensor), never a
// crash or an out-of-bounds read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bertkit/core/mapped_file.h"

namespace bertkit {

enum class StDType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL };

// "F32" -> StDType::F32; InputError listing the valid names otherwise.
StDType parse_st_dtype(const std::string& s, const std::string& where = "");
const char* st_dtype_name(StDType d);
size_t st_dtype_size(StDType d);

struct StTensorInfo {
  std::string name;
  StDType dtype = StDType::F32;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte offsets into the data buffer
  int64_t numel() const;
  uint64_t nbytes() const { return end - begin; }
};

// A read-only, memory-mapped safetensors file.
class SafetensorsReader {
 public:
  explicit SafetensorsReader(const std::string& path);

  const std::string& path() const { return path_; }
  // Tensor names in file order (sorted by offset).
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const { return index_.count(name) > 0; }
  // InputError naming the file and the tensor when absent.
  const StTensorInfo& info(const std::string& name) const;
  // Pointer to the tensor's bytes inside the map (valid while the reader lives).
  const void* data(const std::string& name) const;
  const std::vector<StTensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  std::string path_;
  MappedFile file_;
  const unsigned char* buffer_ = nullptr;  // start of the data buffer
  std::vector<StTensorInfo> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// Parse and validate a header against a buffer of `buffer_size` bytes.
// Exposed for tests; `where` names the file in errors.
std::vector<StTensorInfo> parse_safetensors_header(const std::string& header_json, uint64_t buffer_size,
                                                   const std::string& where,
                                                   std::map<std::string, std::string>* metadata = nullptr);

// One tensor to write: the bytes are copied from `data` (nbytes must equal
// dtype size x numel).
struct StTensorView {
  std::string name;
  StDType dtype = StDType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;
  size_t nbytes = 0;
};

// Write a safetensors file atomically (temporary name, then rename). Tensors
// are stored in name order; the header is padded with spaces to 8 bytes.
void write_safetensors(const std::string& path, const std::vector<StTensorView>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace bertkit
