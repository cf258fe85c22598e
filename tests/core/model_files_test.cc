// model_file: a model directory from elsewhere cannot lead reads outside it.
#include <filesystem>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/core/model_files.h"
#include "test_util.h"

namespace bertkit::test {
namespace {

namespace fs = std::filesystem;

std::string refusal(const std::string& dir, const std::string& name) {
  try {
    model_file(dir, name, "modules.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(ModelFiles, PlainNamesAndSubdirectoriesAreJoined) {
  std::string dir = make_temp_dir("model-files");
  EXPECT_EQ(model_file(dir, "config.json", "x"), dir + "/config.json");  // need not exist
  make_dirs(dir + "/1_Pooling");
  EXPECT_EQ(model_file(dir, "1_Pooling", "x"), dir + "/1_Pooling");
}

TEST(ModelFiles, AbsoluteNamesAndDotDotAreRefused) {
  std::string dir = make_temp_dir("model-files");
  for (const std::string name : {"/etc/passwd", "../x", "a/../../x", ".."}) {
    std::string msg = refusal(dir, name);
    EXPECT_NE(msg.find("modules.json"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'" + name + "'"), std::string::npos) << msg;
  }
}

TEST(ModelFiles, SymlinksMustStayInside) {
  std::string root = make_temp_dir("model-files");
  std::string dir = root + "/model";
  make_dirs(dir + "/sub");
  write_file_atomic(root + "/secret.txt", "secret");
  write_file_atomic(dir + "/vocab.txt", "[PAD]\n");
  fs::create_symlink(root + "/secret.txt", dir + "/absolute-link");
  fs::create_symlink("../secret.txt", dir + "/relative-link");
  fs::create_symlink(root, dir + "/dir-link");
  fs::create_symlink("../vocab.txt", dir + "/sub/inside-link");
  EXPECT_NE(refusal(dir, "absolute-link").find("outside the model directory"), std::string::npos);
  EXPECT_NE(refusal(dir, "relative-link").find("secret.txt"), std::string::npos);
  EXPECT_NE(refusal(dir, "dir-link/secret.txt").find("outside"), std::string::npos);
  EXPECT_EQ(model_file(dir, "sub/inside-link", "x"), dir + "/sub/inside-link");
  // The directory given may itself be a link: its own target is the boundary.
  fs::create_symlink(dir, root + "/model-link");
  EXPECT_EQ(model_file(root + "/model-link", "vocab.txt", "x"), root + "/model-link/vocab.txt");
  EXPECT_NE(refusal(root + "/model-link", "relative-link").find("outside"), std::string::npos);
}

TEST(ModelFiles, HubCacheSnapshotsMayLinkIntoTheirBlobs) {
  // <cache>/models--org--name/snapshots/<commit>/config.json -> ../../blobs/<etag>, as huggingface_hub writes.
  std::string cache = make_temp_dir("model-files-hub");
  std::string repo = cache + "/models--org--name";
  std::string snap = repo + "/snapshots/abc123";
  make_dirs(snap);
  make_dirs(repo + "/blobs");
  write_file_atomic(repo + "/blobs/e7a1", "{}");
  write_file_atomic(cache + "/elsewhere", "{}");
  fs::create_symlink("../../blobs/e7a1", snap + "/config.json");
  fs::create_symlink("../../../elsewhere", snap + "/vocab.txt");
  EXPECT_EQ(model_file(snap, "config.json", "x"), snap + "/config.json");
  EXPECT_NE(refusal(snap, "vocab.txt").find("outside"), std::string::npos);
}

TEST(ModelFiles, WritingReplacesALinkInsteadOfWritingThroughIt) {
  // Saving into a model directory whose vocab.txt links elsewhere leaves the target untouched.
  std::string root = make_temp_dir("model-files-write");
  make_dirs(root + "/model");
  write_file_atomic(root + "/precious.txt", "keep me");
  fs::create_symlink("../precious.txt", root + "/model/vocab.txt");
  write_file_atomic(root + "/model/vocab.txt", "[PAD]\n");
  EXPECT_EQ(read_file(root + "/precious.txt"), "keep me");
  EXPECT_FALSE(fs::is_symlink(root + "/model/vocab.txt"));
  EXPECT_EQ(read_file(root + "/model/vocab.txt"), "[PAD]\n");
}

}  // namespace
}  // namespace bertkit::test
