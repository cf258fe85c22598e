#include "bertkit/core/checksums.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include <zlib.h>

#include "bertkit/core/error.h"
#include "bertkit/core/json.h"

namespace fs = std::filesystem;

namespace bertkit {

namespace {

struct FileSum {
  uint64_t size = 0;
  uint32_t crc = 0;
};

FileSum sum_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open for reading");
  std::vector<char> buf(1 << 20);
  FileSum s;
  uLong crc = crc32(0L, Z_NULL, 0);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = in.gcount();
    if (n <= 0) break;
    crc = crc32(crc, reinterpret_cast<const Bytef*>(buf.data()), static_cast<uInt>(n));
    s.size += static_cast<uint64_t>(n);
  }
  if (in.bad()) throw RuntimeError(path + ": read failed");
  s.crc = static_cast<uint32_t>(crc);
  return s;
}

std::string hex32(uint32_t v) {
  char b[9];
  std::snprintf(b, sizeof b, "%08x", v);
  return b;
}

}  // namespace

void write_checksums(const std::string& dir) {
  json::Json files = json::Json::object();
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = fs::relative(e.path(), dir).generic_string();
    if (rel == kChecksumsFile) continue;
    const FileSum s = sum_file(e.path().string());
    files[rel] = {{"size", s.size}, {"crc32", hex32(s.crc)}};
  }
  json::save_file(dir + "/" + kChecksumsFile,
                  {{"format", "bertkit-checksums"}, {"algorithm", "crc32"}, {"files", files}});
}

ChecksumReport verify_checksums(const std::string& dir) {
  ChecksumReport r;
  const std::string manifest = dir + "/" + kChecksumsFile;
  std::error_code ec;
  if (!fs::is_regular_file(manifest, ec)) return r;
  r.has_manifest = true;
  json::Json j;
  try {
    j = json::load_file(manifest);
  } catch (const Error& e) {
    r.problem = e.what();
    return r;
  }
  if (!j.is_object() || !j.contains("files") || !j["files"].is_object()) {
    r.problem = manifest + ": expected {\"files\": {name: {\"size\", \"crc32\"}}}";
    return r;
  }
  for (const auto& [name, want] : j["files"].items()) {
    const std::string path = dir + "/" + name;
    if (!want.is_object() || !want.contains("size") || !want["size"].is_number_unsigned() ||
        !want.contains("crc32") || !want["crc32"].is_string()) {
      r.problem = manifest + ": files[\"" + name + "\"] must be {\"size\", \"crc32\"}";
      return r;
    }
    if (!fs::is_regular_file(path, ec)) {
      r.problem = path + ": missing (listed in " + kChecksumsFile + ")";
      return r;
    }
    const FileSum s = sum_file(path);
    const auto size = want["size"].get<uint64_t>();
    if (s.size != size) {
      r.problem = path + ": " + std::to_string(s.size) + " bytes, " + std::to_string(size) +
                  " when written (truncated or changed)";
      return r;
    }
    if (hex32(s.crc) != want["crc32"].get<std::string>()) {
      r.problem = path + ": CRC-32 " + hex32(s.crc) + ", " + want["crc32"].get<std::string>() +
                  " when written (corrupted)";
      return r;
    }
  }
  return r;
}

}  // namespace bertkit
