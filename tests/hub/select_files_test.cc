// Which files of a repository a BERT needs (hand-written lists of real repository layouts).
#include <gtest/gtest.h>

#include "bertkit/hub/download.h"

using bertkit::hub::filter_by_globs;
using bertkit::hub::select_model_files;
using Files = std::vector<std::string>;

TEST(SelectModelFiles, ShardedSafetensorsWinOverPytorchBin) {
  Files repo = {".gitattributes", "README.md", "config.json", "model-00001-of-00002.safetensors",
                "model-00002-of-00002.safetensors", "model.safetensors.index.json", "pytorch_model-00001-of-00002.bin",
                "pytorch_model-00002-of-00002.bin", "pytorch_model.bin.index.json", "tf_model.h5", "flax_model.msgpack",
                "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json", "coreml/model.mlmodel"};
  EXPECT_EQ(select_model_files(repo),
            (Files{"config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                   "model.safetensors.index.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt",
                   "special_tokens_map.json"}));
}

TEST(SelectModelFiles, PytorchBinOnlyWithoutSafetensors) {
  // bert-base-uncased's early layout.
  Files repo = {"config.json", "pytorch_model.bin", "tf_model.h5", "vocab.txt", "tokenizer.json", "tokenizer_config.json"};
  EXPECT_EQ(select_model_files(repo),
            (Files{"config.json", "pytorch_model.bin", "vocab.txt", "tokenizer.json", "tokenizer_config.json"}));
}

TEST(SelectModelFiles, SentenceTransformersModulesIncludingTheLegacyTransformerFolder) {
  Files repo = {"modules.json", "config_sentence_transformers.json", "0_BERT/config.json", "0_BERT/pytorch_model.bin",
                "0_BERT/vocab.txt", "0_BERT/sentence_bert_config.json", "1_Pooling/config.json", "2_Normalize/.gitkeep",
                "onnx/model.onnx", "data/train.txt"};
  EXPECT_EQ(select_model_files(repo),
            (Files{"modules.json", "config_sentence_transformers.json", "0_BERT/config.json", "0_BERT/pytorch_model.bin",
                   "0_BERT/vocab.txt", "0_BERT/sentence_bert_config.json", "1_Pooling/config.json"}));
}

TEST(FilterByGlobs, StarMatchesSlashesAndAFolderPatternTakesItsContents) {
  Files repo = {"config.json", "1_Pooling/config.json", "onnx/model.onnx", "onnx/sub/x.bin", "model.safetensors"};
  EXPECT_EQ(filter_by_globs(repo, {"*.json"}), (Files{"config.json", "1_Pooling/config.json"}));
  EXPECT_EQ(filter_by_globs(repo, {"onnx/"}), (Files{"onnx/model.onnx", "onnx/sub/x.bin"}));
  EXPECT_EQ(filter_by_globs(repo, {"model.safetensors", "nothing*"}), (Files{"model.safetensors"}));
}
