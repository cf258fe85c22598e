// checksums.json: the size and CRC-32 of every file of a directory, recorded
// when the directory is written (checkpoints: docs/training.md, "Faults and
// recovery"), so a file changed or cut short later is found before it is used.
//
//   {"format": "bertkit-checksums", "algorithm": "crc32",
//    "files": {"model.safetensors": {"size": 4194312, "crc32": "8c2f5a1e"}, ...}}
#pragma once

#include <string>

namespace bertkit {

inline constexpr const char* kChecksumsFile = "checksums.json";

// Write DIR/checksums.json over every regular file under DIR (itself excluded).
void write_checksums(const std::string& dir);

struct ChecksumReport {
  bool has_manifest = false;  // false: written before checksums existed (not verified)
  std::string problem;        // "" when every listed file matches; else names the file
  bool ok() const { return problem.empty(); }
};

// Check every file DIR/checksums.json lists: present, same size, same CRC-32.
ChecksumReport verify_checksums(const std::string& dir);

}  // namespace bertkit
