// The built-in tasks, registered by name for the trainer (training/task.h):
// "pretraining" and "mlm" (tasks/pretraining_task.h), "classification" (alias
// "text_classification"), "ner" (alias "token_classification"), "qa" (alias
// "question_answering").
// Call once before building a Trainer; the CLI does it
// at start-up. Safe to call more than once and from several threads.
#pragma once

namespace bertkit {

void register_builtin_tasks();

}  // namespace bertkit
