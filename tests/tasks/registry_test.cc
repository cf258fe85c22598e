// Task registration is an explicit call (no static registration objects in a shared library).
#include <gtest/gtest.h>

#include <algorithm>

#include "bertkit/tasks/registry.h"
#include "bertkit/training/task.h"

using namespace bertkit;

namespace {
bool known(const std::string& name) {
  auto names = task_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}
}  // namespace

TEST(TaskRegistry, BuiltinTasksAreRegisteredByTheExplicitCallOnce) {
  register_builtin_tasks();
  register_builtin_tasks();  // a second call is harmless
  for (const char* name : {"pretraining", "mlm", "classification", "text_classification", "ner",
                           "token_classification", "qa", "question_answering"})
    EXPECT_TRUE(known(name)) << name;
}

TEST(TaskRegistry, UnknownTaskNamesTheKnownOnes) {
  register_builtin_tasks();
  TaskInputs in;
  try {
    create_task("summarisation", in);
    FAIL() << "expected an InputError";
  } catch (const std::exception& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("task.type: unknown task \"summarisation\""), std::string::npos) << msg;
    EXPECT_NE(msg.find("classification"), std::string::npos) << msg;
  }
}
