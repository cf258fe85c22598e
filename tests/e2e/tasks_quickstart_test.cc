// The README's main command: `bertkit quickstart` runs the whole path offline
// (license texts of base-files -> vocab -> MLM pretraining -> fine-tuning ->
// evaluation -> export) and genuinely learns.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "test_util.h"

using namespace bertkit;

TEST(TasksQuickstart, LearnsWellAboveMajorityAndExports) {
  if (!test::path_exists("/usr/share/common-licenses/GPL-3")) {
    // Every Debian system has them (base-files); CI (BERTKIT_REQUIRE_SHARED=1) must run this test.
    if (test::shared_required()) FAIL() << "/usr/share/common-licenses/GPL-3 is missing (base-files)";
    GTEST_SKIP() << "no /usr/share/common-licenses (not Debian)";
  }
  const std::string dir = test::make_temp_dir("bertkit-quickstart");
  std::string out;
  ASSERT_EQ(test::run_command(test::bertkit_binary() + " quickstart --out " + dir + " --set threads=1", &out), 0) << out;
  std::ifstream f(dir + "/quickstart_report.json");
  auto r = nlohmann::json::parse(f);
  std::cout << "[quickstart] dev accuracy " << r["dev_accuracy"] << " (majority " << r["majority_baseline"] << "), MLM loss "
            << r["pretrain_mlm_loss_first"] << " -> " << r["pretrain_mlm_loss_last"] << "\n";
  EXPECT_GT(r["dev_accuracy"].get<double>(), r["majority_baseline"].get<double>() + 0.2);
  EXPECT_LT(r["pretrain_mlm_loss_last"].get<double>(), r["pretrain_mlm_loss_first"].get<double>());
  const std::string model = r["model_dir"];
  EXPECT_TRUE(test::path_exists(model + "/config.json"));
  EXPECT_TRUE(test::path_exists(model + "/model.safetensors"));
  EXPECT_TRUE(test::path_exists(model + "/vocab.txt") || test::path_exists(model + "/tokenizer.json"));
  EXPECT_NE(out.find("Exported model: " + model), std::string::npos);
  // the printed next step works
  ASSERT_EQ(test::run_command(test::bertkit_binary() + " predict " + model + " \"Licensed under the Apache License, Version 2.0\"", &out),
            0)
      << out;
  EXPECT_NE(out.find("Apache-2.0"), std::string::npos) << out;
}
