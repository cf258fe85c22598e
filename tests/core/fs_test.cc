#include <filesystem>
#include <fstream>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace bertkit;

TEST(Fs, AtomicWriteReplacesWholeFile) {
  std::string dir = test::make_temp_dir();
  std::string p = dir + "/a.txt";
  write_file_atomic(p, "first");
  write_file_atomic(p, "second");
  EXPECT_EQ(read_file(p), "second");
  // No temporary files are left behind.
  int n = 0;
  for (auto& e : fs::directory_iterator(dir)) (void)e, ++n;
  EXPECT_EQ(n, 1);
  fs::remove_all(dir);
}

TEST(Fs, FailedWriteKeepsOldFile) {
  std::string dir = test::make_temp_dir();
  std::string p = dir + "/a.txt";
  write_file_atomic(p, "keep me");
  EXPECT_THROW(write_atomic(p, [](const std::string& tmp) {
                 std::ofstream(tmp) << "half";
                 throw RuntimeError("boom");
               }),
               RuntimeError);
  EXPECT_EQ(read_file(p), "keep me");
  int n = 0;
  for (auto& e : fs::directory_iterator(dir)) (void)e, ++n;
  EXPECT_EQ(n, 1);
  fs::remove_all(dir);
}

TEST(Fs, FailedDirWriteKeepsOldDir) {
  std::string dir = test::make_temp_dir();
  std::string d = dir + "/model";
  write_dir_atomic(d, [](const std::string& t) { write_file_atomic(t + "/x", "v1"); });
  EXPECT_THROW(write_dir_atomic(d, [](const std::string& t) {
                 write_file_atomic(t + "/x", "v2");
                 throw RuntimeError("crash");
               }),
               RuntimeError);
  EXPECT_EQ(read_file(d + "/x"), "v1");
  write_dir_atomic(d, [](const std::string& t) { write_file_atomic(t + "/y", "v3"); });
  EXPECT_FALSE(file_exists(d + "/x"));
  EXPECT_EQ(read_file(d + "/y"), "v3");
  fs::remove_all(dir);
}

TEST(Fs, MissingFileIsInputError) {
  try {
    read_file("/nonexistent/bertkit/file");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/bertkit/file"), std::string::npos);
  }
}

TEST(Fs, WriteDirAtomicSwapsAnExistingDirectoryWhole) {
  std::string root = test::make_temp_dir();
  const std::string dir = root + "/d";
  write_dir_atomic(dir, [](const std::string& tmp) {
    write_file_atomic(tmp + "/a", "old");
    write_file_atomic(tmp + "/only_old", "x");
  });
  write_dir_atomic(dir, [](const std::string& tmp) { write_file_atomic(tmp + "/a", "new"); });
  EXPECT_EQ(read_file(dir + "/a"), "new");
  EXPECT_FALSE(fs::exists(dir + "/only_old"));  // replaced, not merged
  int entries = 0;
  for (auto& e : fs::directory_iterator(root)) (void)e, ++entries;
  EXPECT_EQ(entries, 1);  // no temporary or old directory left
  fs::remove_all(root);
}
