// Models by Hub id against a local Hub (fake_hub.h): the cache that results is
// compared entry by entry with the layout huggingface_hub documents
// (https://huggingface.co/docs/huggingface_hub/guides/manage-cache), written
// out by hand here; resume, checksums, errors, tokens, offline use.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "bertkit/core/error.h"
#include "bertkit/hub/download.h"
#include "bertkit/hub/resolve.h"
#include "bertkit/hub/settings.h"
#include "fake_hub.h"
#include "hub_test_env.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace bertkit;
using namespace bertkit::test;

namespace {

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";
const std::string kRepo = "tiny-org/bert-seqcls";

class HubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BERTKIT_NEED_SHARED("fixtures/hf-tiny/seqcls/model.safetensors");
    home = make_temp_dir("bertkit-hub");
    cache = home + "/hub";
    env.set("HF_HOME", home);
    env.set("HF_ENDPOINT", hub.endpoint());
    for (const char* v : {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH",
                          "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"})
      env.unset(v);
    config = slurp(shared_path("fixtures/hf-tiny/seqcls/config.json"));
    weights = slurp(shared_path("fixtures/hf-tiny/seqcls/model.safetensors"));
    FakeRepo repo;
    repo.id = kRepo;
    repo.commit = kCommit;
    repo.refs["v1"] = kCommit;
    repo.files["config.json"] = {config, false};
    repo.files["model.safetensors"] = {weights, true};
    // Not what a BERT needs: never downloaded.
    repo.files["README.md"] = {"# tiny\n", false};
    repo.files[".gitattributes"] = {"*.safetensors filter=lfs\n", false};
    repo.files["pytorch_model.bin"] = {"the same weights in the old format", true};
    repo.files["onnx/model.onnx"] = {"onnx", true};
    hub.add_repo(repo);
  }
  void TearDown() override {
    if (!home.empty()) fs::remove_all(home);
  }

  hub::HubSettings settings() const { return hub::hub_settings_from_env(); }
  std::string storage() const { return cache + "/models--tiny-org--bert-seqcls"; }

  // The cache huggingface_hub leaves after downloading config.json and model.safetensors of kRepo.
  std::map<std::string, std::string> expected_cache() const {
    const std::string cfg = git_blob_sha1(config), st = sha256_hex(weights);
    const std::string s = "models--tiny-org--bert-seqcls";
    return {
        {"CACHEDIR.TAG", "file:Signature: 8a477f597d28d172789f06886806bc55\n"
                         "# This file is a cache directory tag created by huggingface_hub.\n"
                         "# For information about cache directory tags, see:\n"
                         "#\thttps://bford.info/cachedir/\n"},
        {".locks", "dir"},
        {".locks/" + s, "dir"},
        {".locks/" + s + "/" + cfg + ".lock", "file:"},
        {".locks/" + s + "/" + st + ".lock", "file:"},
        {s, "dir"},
        {s + "/blobs", "dir"},
        {s + "/blobs/" + cfg, "file:" + config},
        {s + "/blobs/" + st, "file:" + weights},
        {s + "/refs", "dir"},
        {s + "/refs/main", "file:" + kCommit},
        {s + "/snapshots", "dir"},
        {s + "/snapshots/" + kCommit, "dir"},
        {s + "/snapshots/" + kCommit + "/config.json", "link:../../blobs/" + cfg},
        {s + "/snapshots/" + kCommit + "/model.safetensors", "link:../../blobs/" + st},
    };
  }

  FakeHub hub;
  ScopedEnv env;
  std::string home, cache, config, weights;
};

hub::RepoRef ref(const std::string& id, const std::string& rev = "main") { return {id, rev}; }

}  // namespace

TEST_F(HubTest, DownloadLaysOutTheCacheAsHuggingFaceHubDoes) {
  hub::DownloadOptions quiet;
  quiet.progress = false;
  std::string dir = hub::snapshot_download(ref(kRepo), settings(), quiet);
  EXPECT_EQ(dir, storage() + "/snapshots/" + kCommit);
  EXPECT_EQ(tree(cache), expected_cache());
  // The LFS file came through the redirect, once.
  EXPECT_EQ(hub.lfs_gets.load(), 1);
}

TEST_F(HubTest, ATagIsWrittenAsARef) {
  hub::DownloadOptions quiet;
  quiet.progress = false;
  hub::snapshot_download(ref(kRepo, "v1"), settings(), quiet);
  auto expected = expected_cache();
  expected.erase("models--tiny-org--bert-seqcls/refs/main");
  expected["models--tiny-org--bert-seqcls/refs/v1"] = "file:" + kCommit;
  EXPECT_EQ(tree(cache), expected);
}

TEST_F(HubTest, ADroppedConnectionIsResumedWithRange) {
  hub.drops = 1;
  hub::DownloadOptions quiet;
  quiet.progress = false;
  hub::snapshot_download(ref(kRepo), settings(), quiet);
  // First GET got half of the bytes; the second asked for the rest.
  EXPECT_EQ(hub.lfs_ranges(), (std::vector<std::string>{"", "bytes=" + std::to_string(weights.size() / 2) + "-"}));
  EXPECT_EQ(tree(cache), expected_cache());
}

TEST_F(HubTest, AnIncompleteFileFromAnEarlierRunIsResumed) {
  const std::string blob = storage() + "/blobs/" + sha256_hex(weights);
  fs::create_directories(storage() + "/blobs");
  std::ofstream(blob + ".incomplete", std::ios::binary) << weights.substr(0, 1000);
  hub::DownloadOptions quiet;
  quiet.progress = false;
  hub::snapshot_download(ref(kRepo), settings(), quiet);
  EXPECT_EQ(hub.lfs_ranges(), (std::vector<std::string>{"bytes=1000-"}));
  EXPECT_EQ(tree(cache), expected_cache());
}

TEST_F(HubTest, ABlobThatFailsItsSha256IsNotMovedIntoPlace) {
  const std::string blob = storage() + "/blobs/" + sha256_hex(weights);
  fs::create_directories(storage() + "/blobs");
  std::string wrong = weights.substr(0, 1000);
  wrong[10] ^= 1;  // a corrupted partial file
  std::ofstream(blob + ".incomplete", std::ios::binary) << wrong;
  hub::DownloadOptions quiet;
  quiet.progress = false;
  try {
    hub::snapshot_download(ref(kRepo), settings(), quiet);
    FAIL() << "expected a sha256 mismatch";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("sha256"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(blob));
  EXPECT_FALSE(fs::exists(blob + ".incomplete"));
  EXPECT_FALSE(fs::exists(storage() + "/snapshots/" + kCommit + "/model.safetensors"));
  // The next run starts over and succeeds.
  hub::snapshot_download(ref(kRepo), settings(), quiet);
  EXPECT_EQ(tree(cache), expected_cache());
}

TEST_F(HubTest, SentenceTransformersFilesAndModuleFoldersAreSelected) {
  FakeRepo st;
  st.id = "tiny-org/st";
  st.commit = "89abcdef0123456789abcdef0123456789abcdef";
  for (const char* f : {"config.json", "modules.json", "config_sentence_transformers.json", "sentence_bert_config.json",
                        "1_Pooling/config.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json",
                        "vocab.txt", "README.md", "train_script.py", "onnx/config.json"})
    st.files[f] = {std::string("content of ") + f, false};
  st.files["model.safetensors"] = {weights, true};
  st.files["pytorch_model.bin"] = {"old weights", true};
  st.files["2_Dense/pytorch_model.bin"] = {"dense weights (no safetensors beside them)", true};
  st.files["openvino/openvino_model.bin"] = {"ov", true};
  hub.add_repo(st);
  hub::DownloadOptions quiet;
  quiet.progress = false;
  std::string dir = hub::snapshot_download(ref("tiny-org/st"), settings(), quiet);
  std::map<std::string, std::string> expected;
  for (const char* f : {"config.json", "modules.json", "config_sentence_transformers.json", "sentence_bert_config.json",
                        "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json", "vocab.txt"})
    expected[f] = "link:../../blobs/" + git_blob_sha1(std::string("content of ") + f);
  expected["1_Pooling"] = "dir";
  expected["1_Pooling/config.json"] = "link:../../../blobs/" + git_blob_sha1("content of 1_Pooling/config.json");
  expected["2_Dense"] = "dir";
  expected["2_Dense/pytorch_model.bin"] = "link:../../../blobs/" + sha256_hex("dense weights (no safetensors beside them)");
  expected["model.safetensors"] = "link:../../blobs/" + sha256_hex(weights);
  EXPECT_EQ(tree(dir), expected);
}

TEST_F(HubTest, IncludeGlobsChooseTheFilesAsAllowPatternsDo) {
  hub::DownloadOptions o;
  o.progress = false;
  o.include = {"*.md", "onnx/"};
  std::string dir = hub::snapshot_download(ref(kRepo), settings(), o);
  std::map<std::string, std::string> expected = {
      {"README.md", "link:../../blobs/" + git_blob_sha1("# tiny\n")},
      {"onnx", "dir"},
      {"onnx/model.onnx", "link:../../../blobs/" + sha256_hex("onnx")},
  };
  EXPECT_EQ(tree(dir), expected);
}

TEST_F(HubTest, ResolvingUsesTheCacheFirst) {
  std::string dir = hub::resolve_model_dir(kRepo);
  EXPECT_EQ(dir, storage() + "/snapshots/" + kCommit);
  int api = hub.api_requests, resolves = hub.resolve_requests;
  EXPECT_EQ(hub::resolve_model_dir(kRepo), dir);
  EXPECT_EQ(hub.api_requests.load(), api);
  EXPECT_EQ(hub.resolve_requests.load(), resolves);
  // A local directory always wins over an id of the same spelling.
  std::string local = home + "/tiny-org/bert-seqcls";
  fs::create_directories(local);
  const fs::path cwd = fs::current_path();
  fs::current_path(home);
  EXPECT_EQ(hub::resolve_model_dir("tiny-org/bert-seqcls"), "tiny-org/bert-seqcls");
  fs::current_path(cwd);
}

TEST_F(HubTest, OfflineUsesOnlyTheCache) {
  env.set("HF_HUB_OFFLINE", "1");
  try {
    hub::resolve_model_dir(kRepo, "model.pretrained");
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    std::string m = e.what();
    EXPECT_EQ(m.rfind("model.pretrained: ", 0), 0u) << m;
    EXPECT_NE(m.find(kRepo), std::string::npos) << m;
    EXPECT_NE(m.find(storage()), std::string::npos) << m;
    EXPECT_NE(m.find("HF_HUB_OFFLINE"), std::string::npos) << m;
  }
  EXPECT_EQ(hub.api_requests.load() + hub.resolve_requests.load(), 0);
  env.unset("HF_HUB_OFFLINE");
  std::string dir = hub::resolve_model_dir(kRepo);
  env.set("HF_HUB_OFFLINE", "1");
  int before = hub.api_requests + hub.resolve_requests;
  EXPECT_EQ(hub::resolve_model_dir(kRepo), dir);
  EXPECT_EQ(hub::resolve_model_dir(kRepo + "@" + kCommit), dir);
  EXPECT_EQ(hub.api_requests + hub.resolve_requests, before);
}

TEST_F(HubTest, ACacheWrittenByPythonIsFoundOfflineUnderHfHome) {
  // What huggingface_hub leaves after from_pretrained, built by hand.
  const std::string s = cache + "/models--org--py";
  const std::string commit = "fedcba9876543210fedcba9876543210fedcba98";
  fs::create_directories(s + "/refs");
  fs::create_directories(s + "/blobs");
  fs::create_directories(s + "/snapshots/" + commit);
  std::ofstream(s + "/refs/main") << commit;
  std::ofstream(s + "/blobs/" + git_blob_sha1(config), std::ios::binary) << config;
  std::ofstream(s + "/blobs/" + sha256_hex(weights), std::ios::binary) << weights;
  fs::create_symlink("../../blobs/" + git_blob_sha1(config), s + "/snapshots/" + commit + "/config.json");
  fs::create_symlink("../../blobs/" + sha256_hex(weights), s + "/snapshots/" + commit + "/model.safetensors");
  env.set("HF_HUB_OFFLINE", "1");
  EXPECT_EQ(hub::resolve_model_dir("org/py"), s + "/snapshots/" + commit);
  // HF_HUB_CACHE wins over HF_HOME.
  env.set("HF_HUB_CACHE", home + "/elsewhere");
  EXPECT_THROW(hub::resolve_model_dir("org/py"), InputError);
}

TEST_F(HubTest, HubErrorsNameTheIdAndSayWhatToDo) {
  FakeRepo gated;
  gated.id = "tiny-org/gated";
  gated.commit = kCommit;
  gated.gated = true;
  gated.files["config.json"] = {config, false};
  hub.add_repo(gated);
  auto message = [&](const std::string& id) -> std::string {
    try {
      hub::resolve_model_dir(id, "MODEL");
    } catch (const InputError& e) {
      return e.what();
    }
    return "no InputError";
  };
  std::string m = message("tiny-org/missing");
  EXPECT_NE(m.find("tiny-org/missing: repository not found"), std::string::npos) << m;
  EXPECT_NE(m.find("HF_TOKEN"), std::string::npos) << m;
  m = message(kRepo + "@no-such-branch");
  EXPECT_NE(m.find("revision 'no-such-branch' not found"), std::string::npos) << m;
  m = message("tiny-org/gated");
  EXPECT_NE(m.find("tiny-org/gated: a gated repository"), std::string::npos) << m;
  EXPECT_NE(m.find(hub.endpoint() + "/tiny-org/gated"), std::string::npos) << m;
  m = message("a/b/c");
  EXPECT_NE(m.find("MODEL: 'a/b/c' is neither an existing path nor a Hub model id"), std::string::npos) << m;
}

TEST_F(HubTest, TheTokenIsSentAsBearerFromHfTokenOrTheTokenFile) {
  FakeRepo priv;
  priv.id = "tiny-org/private";
  priv.commit = kCommit;
  priv.token = "hf_secret";
  priv.files["config.json"] = {config, false};
  priv.files["model.safetensors"] = {weights, true};
  hub.add_repo(priv);
  EXPECT_THROW(hub::resolve_model_dir("tiny-org/private"), InputError);
  EXPECT_EQ(hub.last_authorization(), "");
  std::ofstream(home + "/token") << "hf_secret\n";
  EXPECT_NO_THROW(hub::resolve_model_dir("tiny-org/private"));
  EXPECT_EQ(hub.last_authorization(), "Bearer hf_secret");
  fs::remove_all(cache);
  fs::remove(home + "/token");
  env.set("HF_TOKEN", "hf_secret");
  EXPECT_NO_THROW(hub::resolve_model_dir("tiny-org/private"));
  EXPECT_EQ(hub.last_authorization(), "Bearer hf_secret");
}

TEST_F(HubTest, AnUnreachableHubIsARuntimeErrorNamingTheCache) {
  env.set("HF_ENDPOINT", "http://127.0.0.1:1");  // nothing listens on port 1
  try {
    hub::resolve_model_dir(kRepo, "model.pretrained");
    FAIL() << "expected a RuntimeError";
  } catch (const RuntimeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("model.pretrained: 'tiny-org/bert-seqcls'"), std::string::npos) << m;
    EXPECT_NE(m.find("cannot reach http://127.0.0.1:1"), std::string::npos) << m;
    EXPECT_NE(m.find(storage()), std::string::npos) << m;
  }
}
