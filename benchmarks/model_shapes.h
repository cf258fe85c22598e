// Model shapes by name for the benchmarks: --model tiny | bert-mini | bert-small |
// bert-medium | bert-base | bert-large, or a config.json path.
#pragma once

#include <string>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/models/config.h"

namespace bertkit::bench {

inline BertConfig named_config(const std::string& name) {
  BertConfig c;  // bert-base defaults, vocab 30522
  auto set = [&](int64_t layers, int64_t hidden) {
    c.num_hidden_layers = layers;
    c.hidden_size = hidden;
    c.num_attention_heads = hidden / 64;
    c.intermediate_size = hidden * 4;
  };
  if (name == "bert-base") return c;
  if (name == "bert-large") set(24, 1024);
  else if (name == "bert-medium") set(8, 512);
  else if (name == "bert-small") set(4, 512);
  else if (name == "bert-mini") set(4, 256);
  else if (name == "tiny") set(2, 128);
  else if (file_exists(name)) c = BertConfig::load(name);
  else throw InputError("--model " + name + ": expected tiny, bert-mini, bert-small, bert-medium, bert-base, bert-large or a config.json path");
  return c;
}

}  // namespace bertkit::bench
