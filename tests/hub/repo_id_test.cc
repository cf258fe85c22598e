// Hub ids: what is accepted and rejected (huggingface_hub's validate_repo_id),
// and the cache folder names huggingface_hub gives them.
#include <gtest/gtest.h>

#include "bertkit/hub/repo_id.h"

using bertkit::hub::is_commit_hash;
using bertkit::hub::parse_repo_ref;
using bertkit::hub::repo_folder_name;

TEST(RepoId, AcceptsNamesOrgNamesAndRevisions) {
  auto a = parse_repo_ref("bert-base-uncased");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->repo_id, "bert-base-uncased");
  EXPECT_EQ(a->revision, "main");
  auto b = parse_repo_ref("sentence-transformers/all-MiniLM-L6-v2@v1.0");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->repo_id, "sentence-transformers/all-MiniLM-L6-v2");
  EXPECT_EQ(b->revision, "v1.0");
  auto c = parse_repo_ref("org/name@refs/pr/1");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->revision, "refs/pr/1");
}

TEST(RepoId, RejectsWhatCouldEscapeTheCache) {
  for (const char* bad : {"", "..", "a/b/c", "/abs", "org/", "/name", "org/..", "../x", "org--x/y", "x..y", "-x",
                          "name.git", "org/na me", "org/name@", "org/name@../main", "org/name@a//b", "org/name@./x"}) {
    std::string why;
    EXPECT_FALSE(parse_repo_ref(bad, &why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

TEST(RepoId, CacheFolderNamesAreHuggingFaceHubs) {
  // Examples from huggingface_hub's docs: models--julien-c--EsperBERTo-small.
  EXPECT_EQ(repo_folder_name("julien-c/EsperBERTo-small"), "models--julien-c--EsperBERTo-small");
  EXPECT_EQ(repo_folder_name("bert-base-uncased"), "models--bert-base-uncased");
}

TEST(RepoId, CommitHashesAreFortyLowerCaseHexDigits) {
  EXPECT_TRUE(is_commit_hash("86b5e0934494bd15c9632b12f734a8a67f723594"));
  EXPECT_FALSE(is_commit_hash("86b5e09"));
  EXPECT_FALSE(is_commit_hash("86B5E0934494BD15C9632B12F734A8A67F723594"));
  EXPECT_FALSE(is_commit_hash("main"));
}
