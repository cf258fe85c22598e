#include "bertkit/training/task.h"

#include <mutex>

#include "bertkit/core/error.h"

namespace bertkit {

namespace {
std::map<std::string, TaskFactory>& registry() {
  static std::map<std::string, TaskFactory> r;
  return r;
}
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
}  // namespace

void register_task(const std::string& name, TaskFactory factory) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  if (!registry().emplace(name, std::move(factory)).second)
    throw RuntimeError("task \"" + name + "\" registered twice");
}

std::vector<std::string> task_names() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  std::vector<std::string> names;
  for (const auto& kv : registry()) names.push_back(kv.first);
  return names;
}

std::unique_ptr<Task> create_task(const std::string& name, const TaskInputs& inputs) {
  TaskFactory factory;
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    auto it = registry().find(name);
    if (it != registry().end()) factory = it->second;
  }
  if (!factory) {
    std::string list;
    for (const auto& n : task_names()) list += (list.empty() ? "" : ", ") + n;
    throw InputError(inputs.task_path + ".type: unknown task \"" + name + "\" (known tasks: " + list +
                     "; a program linking the library registers the fine-tuning tasks with "
                     "bertkit::register_builtin_tasks())");
  }
  return factory(inputs);
}

}  // namespace bertkit
