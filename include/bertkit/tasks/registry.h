// The built-in fine-tuning tasks, registered by name for the trainer
// (training/task.h): "classification" (alias "text_classification"), "ner"
// (alias "token_classification"), "qa" (alias "question_answering").
// Call once before building a Trainer for a fine-tuning task; the CLI does it
// at start-up. Safe to call more than once and from several threads.
#pragma once

namespace bertkit {

void register_builtin_tasks();

}  // namespace bertkit
