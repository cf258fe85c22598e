// checksums.json: recorded sizes and CRC-32s find a changed, cut or missing file.
#include <filesystem>
#include <fstream>

#include "bertkit/core/checksums.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/json.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace bertkit;

namespace {

std::string dir_with_files() {
  std::string dir = test::make_temp_dir("bertkit-checksums");
  write_file_atomic(dir + "/check.txt", "123456789");
  write_file_atomic(dir + "/sub/b.bin", std::string(3000, 'x'));
  return dir;
}

}  // namespace

TEST(Checksums, RecordsSizeAndTheStandardCrc32) {
  std::string dir = dir_with_files();
  write_checksums(dir);
  auto j = json::load_file(dir + "/checksums.json");
  EXPECT_EQ(j["algorithm"], "crc32");
  // CRC-32 (IEEE) of "123456789" is the check value 0xCBF43926.
  EXPECT_EQ(j["files"]["check.txt"]["crc32"], "cbf43926");
  EXPECT_EQ(j["files"]["check.txt"]["size"], 9);
  EXPECT_EQ(j["files"]["sub/b.bin"]["size"], 3000);
  EXPECT_FALSE(j["files"].contains("checksums.json"));
  ChecksumReport r = verify_checksums(dir);
  EXPECT_TRUE(r.has_manifest);
  EXPECT_TRUE(r.ok()) << r.problem;
  fs::remove_all(dir);
}

TEST(Checksums, FindsAChangedByte) {
  std::string dir = dir_with_files();
  write_checksums(dir);
  {
    std::fstream f(dir + "/sub/b.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1500);
    f.put('y');
  }
  ChecksumReport r = verify_checksums(dir);
  EXPECT_NE(r.problem.find(dir + "/sub/b.bin"), std::string::npos) << r.problem;
  EXPECT_NE(r.problem.find("corrupted"), std::string::npos) << r.problem;
  fs::remove_all(dir);
}

TEST(Checksums, FindsATruncatedAndAMissingFile) {
  std::string dir = dir_with_files();
  write_checksums(dir);
  fs::resize_file(dir + "/check.txt", 4);
  ChecksumReport r = verify_checksums(dir);
  EXPECT_NE(r.problem.find("check.txt: 4 bytes, 9 when written"), std::string::npos) << r.problem;
  fs::remove(dir + "/check.txt");
  r = verify_checksums(dir);
  EXPECT_NE(r.problem.find("check.txt: missing"), std::string::npos) << r.problem;
  fs::remove_all(dir);
}

TEST(Checksums, NoManifestIsReportedAsUnverified) {
  std::string dir = dir_with_files();
  ChecksumReport r = verify_checksums(dir);
  EXPECT_FALSE(r.has_manifest);
  EXPECT_TRUE(r.ok());
  write_file_atomic(dir + "/checksums.json", "{\"files\": 3}");
  r = verify_checksums(dir);
  EXPECT_TRUE(r.has_manifest);
  EXPECT_NE(r.problem.find("checksums.json"), std::string::npos) << r.problem;
  fs::remove_all(dir);
}
