// The training layer's own tasks need no registration call.
#include <gtest/gtest.h>

#include <algorithm>

#include "bertkit/training/task.h"

using namespace bertkit;

TEST(TaskRegistry, PretrainingTasksAreKnownWithoutRegistration) {
  auto names = bertkit::task_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "pretraining"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "mlm"), names.end());
  // The fine-tuning tasks live in the tasks layer, which this suite does not link.
  EXPECT_EQ(std::find(names.begin(), names.end(), "classification"), names.end());
}
