// The fine-tuning tasks the trainer runs (training/task.h), registered as:
//   "classification" (alias "text_classification"): GLUE TSV / CSV / JSONL,
//       single sentences or pairs, single-label, regression, multi-label;
//   "ner" (alias "token_classification"): CoNLL files, seqeval metrics;
//   "qa" (alias "question_answering"): SQuAD v1.1 / v2.0 JSON, EM/F1.
// Their `task` / `data` keys are documented in docs/tasks.md.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bertkit/training/task.h"

namespace bertkit {

// Build a fine-tuning task directly (the registry calls these).
std::unique_ptr<Task> make_classification_task(const TaskInputs& inputs);
std::unique_ptr<Task> make_ner_task(const TaskInputs& inputs);
std::unique_ptr<Task> make_qa_task(const TaskInputs& inputs);

// The fine-tuning task names (for --help texts).
std::vector<std::string> finetune_task_names();

}  // namespace bertkit
