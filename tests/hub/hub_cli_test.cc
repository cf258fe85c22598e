// The CLI side of Hub ids: `bertkit download`, a command loading a model by
// id (then offline, from the cache), concurrent downloads, and the error a
// run config naming `bert-base-uncased` gives without network.
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <vector>

#include "fake_hub.h"
#include "hub_test_env.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace bertkit::test;

namespace {

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";

class HubCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BERTKIT_NEED_SHARED("fixtures/hf-tiny/seqcls/model.safetensors");
    home = make_temp_dir("bertkit-hub-cli");
    env.set("HF_HOME", home);
    env.set("HF_ENDPOINT", hub->endpoint());
    for (const char* v : {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH",
                          "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"})
      env.unset(v);
    weights = slurp(shared_path("fixtures/hf-tiny/seqcls/model.safetensors"));
    FakeRepo repo;
    repo.id = "tiny-org/bert-seqcls";
    repo.commit = kCommit;
    repo.files["config.json"] = {slurp(shared_path("fixtures/hf-tiny/seqcls/config.json")), false};
    repo.files["model.safetensors"] = {weights, true};
    hub->add_repo(repo);
  }
  void TearDown() override {
    if (!home.empty()) fs::remove_all(home);
  }
  std::string snapshot() const { return home + "/hub/models--tiny-org--bert-seqcls/snapshots/" + kCommit; }

  std::unique_ptr<FakeHub> hub = std::make_unique<FakeHub>();
  ScopedEnv env;
  std::string home, weights;
};

}  // namespace

TEST_F(HubCliTest, DownloadPrintsTheSnapshotDirectory) {
  std::string out;
  ASSERT_EQ(run_command("(" + bertkit_binary() + " download tiny-org/bert-seqcls --cache-dir " + home + "/c 2>/dev/null)", &out), 0)
      << out;
  EXPECT_EQ(out, home + "/c/models--tiny-org--bert-seqcls/snapshots/" + kCommit + "\n");
  // Not a terminal: one plain line per file on stderr instead of a bar.
  ASSERT_EQ(run_command("(" + bertkit_binary() + " download tiny-org/bert-seqcls --include '*.safetensors' 2>&1 >/dev/null)", &out), 0);
  EXPECT_NE(out.find("downloading model.safetensors (" ), std::string::npos) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos) << out;
}

TEST_F(HubCliTest, DownloadRejectsBadIds) {
  for (const std::string id : {"a/b/c", "..", "''", "org/name@../x"}) {
    std::string out;
    EXPECT_EQ(run_command(bertkit_binary() + " download " + id, &out), 2) << id << ": " << out;
    EXPECT_NE(out.find("not a Hub model id"), std::string::npos) << out;
  }
  EXPECT_EQ(hub->api_requests.load(), 0);
}

TEST_F(HubCliTest, AModelLoadsByIdThenOfflineFromTheCache) {
  std::string out;
  ASSERT_EQ(run_command(bertkit_binary() + " info tiny-org/bert-seqcls", &out), 0) << out;
  EXPECT_NE(out.find("directory:      " + snapshot()), std::string::npos) << out;
  EXPECT_NE(out.find("architecture:   BertForSequenceClassification"), std::string::npos) << out;
  EXPECT_NE(out.find("0 missing, 0 unexpected"), std::string::npos) << out;
  hub.reset();  // the Hub is gone
  env.set("HF_HUB_OFFLINE", "1");
  ASSERT_EQ(run_command(bertkit_binary() + " info tiny-org/bert-seqcls", &out), 0) << out;
  EXPECT_NE(out.find("directory:      " + snapshot()), std::string::npos) << out;
  EXPECT_EQ(run_command(bertkit_binary() + " info tiny-org/other", &out), 2) << out;
  EXPECT_NE(out.find("DIR: 'tiny-org/other' is not a local path"), std::string::npos) << out;
  EXPECT_NE(out.find("HF_HUB_OFFLINE=1"), std::string::npos) << out;
}

TEST_F(HubCliTest, ConcurrentDownloadsOfOneModelDoNotCorruptIt) {
  hub->drops = 2;  // interrupted transfers while others wait on the lock
  std::vector<std::future<std::pair<int, std::string>>> runs;
  for (int i = 0; i < 4; ++i)
    runs.push_back(std::async(std::launch::async, [] {
      std::string out;
      int rc = run_command("(" + bertkit_binary() + " download tiny-org/bert-seqcls 2>/dev/null)", &out);
      return std::make_pair(rc, out);
    }));
  for (auto& r : runs) {
    auto [rc, out] = r.get();
    EXPECT_EQ(rc, 0) << out;
    EXPECT_EQ(out, snapshot() + "\n");
  }
  EXPECT_EQ(slurp(snapshot() + "/model.safetensors"), weights);
  for (const auto& e : fs::directory_iterator(home + "/hub/models--tiny-org--bert-seqcls/blobs"))
    EXPECT_EQ(e.path().string().find(".incomplete"), std::string::npos) << e.path();
  // One download, resumed twice; the other processes found the blob in place.
  EXPECT_EQ(hub->lfs_gets.load(), 3);
}

TEST_F(HubCliTest, ARunConfigNamingBertBaseUncasedSaysWhatToDoOffline) {
  env.set("HF_HUB_OFFLINE", "1");
  std::string out;
  EXPECT_EQ(run_command(bertkit_binary() + " train " + source_dir() + "/configs/sst2.json -o " + home + "/run", &out), 2)
      << out;
  EXPECT_NE(out.find("model.pretrained: 'bert-base-uncased' is not a local path"), std::string::npos) << out;
  EXPECT_NE(out.find("HF_HUB_OFFLINE=1"), std::string::npos) << out;
  EXPECT_NE(out.find("bertkit download bert-base-uncased"), std::string::npos) << out;
  // Without a network (here: nothing listening), a runtime error that says the same.
  env.unset("HF_HUB_OFFLINE");
  env.set("HF_ENDPOINT", "http://127.0.0.1:1");
  EXPECT_EQ(run_command(bertkit_binary() + " train " + source_dir() + "/configs/sst2.json -o " + home + "/run", &out), 1)
      << out;
  EXPECT_NE(out.find("model.pretrained: 'bert-base-uncased' is not a local path"), std::string::npos) << out;
  EXPECT_NE(out.find("cannot reach http://127.0.0.1:1"), std::string::npos) << out;
}
