#include "bertkit/tasks/registry.h"

#include <mutex>

#include "bertkit/tasks/finetune.h"
#include "bertkit/tasks/pretraining_task.h"

namespace bertkit {

std::vector<std::string> finetune_task_names() { return {"classification", "ner", "qa"}; }

void register_builtin_tasks() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_task("pretraining", make_pretraining_task);
    register_task("mlm", make_mlm_task);
    register_task("classification", make_classification_task);
    register_task("text_classification", make_classification_task);
    register_task("ner", make_ner_task);
    register_task("token_classification", make_ner_task);
    register_task("qa", make_qa_task);
    register_task("question_answering", make_qa_task);
  });
}

}  // namespace bertkit
