// `bertkit serve` on a model directory that came from elsewhere: the files the
// server reads itself (config.json to choose the model kind, modules.json,
// the sentence-transformers Pooling config 1_Pooling/config.json) go through
// model_file() like the weights and tokenizer do, so a symbolic link cannot
// make it read outside the directory; a HuggingFace cache snapshot's links
// into blobs/ still load.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/pipelines/pipelines.h"
#include "bertkit/serving/server.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace bertkit;

namespace {

std::string st_fixture() { return test::shared_path("fixtures/pipelines/sentence-transformers"); }

// A copy of the sentence-transformers fixture at `dst` (real files, no links).
void copy_st_model(const std::string& dst) {
  fs::create_directories(fs::path(dst).parent_path());
  fs::copy(st_fixture(), dst, fs::copy_options::recursive);
}

// The InputError message of constructing a server on `dir` ("" if none).
std::string server_error(const std::string& dir) {
  serving::ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  try {
    serving::Server server(dir, o);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

const char* kOutside = "outside the model directory";

}  // namespace

TEST(ServeModelDir, ConfigJsonLinkingOutIsRefusedBeforeItIsRead) {
  std::string root = test::make_temp_dir("serve-config-escape");
  // The outside file names an architecture the server refuses by name: if it
  // were read, that refusal would be the message.
  write_file_atomic(root + "/config.json", R"({"architectures": ["BertForMaskedLM"], "hidden_size": 32})");
  make_dirs(root + "/model");
  fs::create_symlink("../config.json", root + "/model/config.json");
  std::string err = server_error(root + "/model");
  EXPECT_NE(err.find(kOutside), std::string::npos) << err;
  EXPECT_EQ(err.find("BertForMaskedLM"), std::string::npos) << err;
  fs::remove_all(root);
}

TEST(ServeModelDir, PoolingConfigLinkingOutIsRefused) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/sentence-transformers/modules.json");
  std::string root = test::make_temp_dir("serve-pooling-escape");
  copy_st_model(root + "/st");
  write_file_atomic(root + "/pooling.json", R"({"pooling_mode": "cls"})");
  fs::remove(root + "/st/1_Pooling/config.json");
  fs::create_symlink("../../pooling.json", root + "/st/1_Pooling/config.json");
  std::string err = server_error(root + "/st");
  EXPECT_NE(err.find(kOutside), std::string::npos) << err;
  EXPECT_NE(err.find("1_Pooling/config.json"), std::string::npos) << err;
  EXPECT_THROW(pipelines::load_embedding_model(root + "/st"), InputError);
  fs::remove_all(root);
}

TEST(ServeModelDir, ModulesJsonLinkingOutIsRefused) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/sentence-transformers/modules.json");
  std::string root = test::make_temp_dir("serve-modules-escape");
  copy_st_model(root + "/st");
  fs::rename(root + "/st/modules.json", root + "/modules.json");
  fs::create_symlink("../modules.json", root + "/st/modules.json");
  std::string err = server_error(root + "/st");
  EXPECT_NE(err.find(kOutside), std::string::npos) << err;
  EXPECT_NE(err.find("modules.json"), std::string::npos) << err;
  fs::remove_all(root);
}

TEST(ServeModelDir, HubCacheSnapshotLinksIntoBlobsStillServe) {
  BERTKIT_NEED_SHARED("fixtures/pipelines/sentence-transformers/modules.json");
  // huggingface_hub's layout: <repo>/snapshots/<commit>/<file> -> ../../blobs/<etag>,
  // one level deeper for a module folder's files.
  std::string repo = test::make_temp_dir("serve-hub-cache") + "/models--org--st";
  std::string snap = repo + "/snapshots/0123abc";
  copy_st_model(snap);
  make_dirs(repo + "/blobs");
  for (const std::string name : {"config.json", "modules.json", "1_Pooling/config.json"}) {
    const std::string blob = repo + "/blobs/" + std::to_string(std::hash<std::string>{}(name));
    fs::rename(snap + "/" + name, blob);
    const std::string up = name.find('/') == std::string::npos ? "../../blobs/" : "../../../blobs/";
    fs::create_symlink(up + fs::path(blob).filename().string(), snap + "/" + name);
  }
  EXPECT_EQ(server_error(snap), "");
  fs::remove_all(fs::path(repo).parent_path());
}
