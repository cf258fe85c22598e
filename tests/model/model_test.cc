// Model behaviour beyond the fixture parity: sparse MLM head, save/load,
// legacy checkpoint names, missing/unexpected keys, sharded and .bin
// checkpoints, heads' losses as HF defines them, attentions, sinusoidal
// positions, HF init, SDPA kernel.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include <caffe2/serialize/inline_container.h>
#include <torch/serialize.h>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/nn/torch_compat.h"
#include "bertkit/models/heads.h"
#include "bertkit/nn/torch_bin.h"
#include "model_test_util.h"

namespace bertkit::test {
namespace {

namespace F = torch::nn::functional;

LoadOptions quiet(std::optional<Architecture> arch = std::nullopt) {
  LoadOptions o;
  o.verbose = false;
  o.architecture = arch;
  return o;
}

BertConfig tiny_config() {
  BertConfig c;
  c.vocab_size = 50;
  c.hidden_size = 16;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.intermediate_size = 32;
  c.max_position_embeddings = 24;
  return c;
}

Batch random_batch(int64_t B, int64_t T, int64_t vocab, uint64_t seed) {
  torch::manual_seed(seed);
  Batch b;
  b.input_ids = torch::randint(1, vocab, {B, T}, torch::kLong);
  b.token_type_ids = torch::zeros({B, T}, torch::kLong);
  b.attention_mask = torch::ones({B, T}, torch::kLong);
  b.attention_mask.index_put_({0, torch::indexing::Slice(T - 3, T)}, 0);
  return b;
}

void copy_dir_files(const std::string& from, const std::string& to) {
  std::filesystem::create_directories(to);
  for (const auto& e : std::filesystem::directory_iterator(from))
    std::filesystem::copy_file(e.path(), std::filesystem::path(to) / e.path().filename(),
                               std::filesystem::copy_options::overwrite_existing);
}

void expect_same_outputs(const ModelOutput& a, const ModelOutput& b) {
  auto same = [](const torch::Tensor& x, const torch::Tensor& y, const char* what) {
    ASSERT_EQ(x.defined(), y.defined()) << what;
    if (x.defined()) EXPECT_TRUE(torch::equal(x, y)) << what << " differs";
  };
  same(a.loss, b.loss, "loss");
  same(a.logits, b.logits, "logits");
  same(a.start_logits, b.start_logits, "start_logits");
  same(a.end_logits, b.end_logits, "end_logits");
  same(a.last_hidden_state, b.last_hidden_state, "last_hidden_state");
  same(a.pooler_output, b.pooler_output, "pooler_output");
  same(a.seq_relationship_logits, b.seq_relationship_logits, "seq_relationship_logits");
}

// HF's computation at every position, padding included (the default drops padding on the CPU).
ForwardOptions padded_like_hf() {
  ForwardOptions o;
  o.padding = PaddingMode::Padded;
  return o;
}

ModelOutput eval_forward(const BertPreTrainedModel& m, const Batch& b, ForwardOptions o = {}) {
  m->eval();
  torch::NoGradGuard ng;
  return m->forward(b, o);
}

// ------------------------------------------------------------ sparse MLM
TEST(SparseMlm, LossLogitsAndGradientsEqualTheDenseHead) {
  for (const std::string head : {"maskedlm", "pretraining"}) {
    BERTKIT_NEED_SHARED("fixtures/hf-tiny/" + head);
    SCOPED_TRACE(head);
    auto ref = load_safetensors(hf_tiny(head) + "/reference.safetensors");
    auto batch = batch_from(ref, torch::kCPU);
    auto dense_model = load_pretrained(hf_tiny(head), quiet());
    auto sparse_model = load_pretrained(hf_tiny(head), quiet());
    dense_model->eval();
    sparse_model->eval();
    auto dense = dense_model->forward(batch);
    ForwardOptions so;
    so.sparse_mlm = true;
    auto sparse = sparse_model->forward(batch, so);
    auto flat_labels = batch.labels.reshape({-1});
    int64_t P = (flat_labels != -100).sum().item<int64_t>();
    ASSERT_EQ(sparse.logits.sizes(), (std::vector<int64_t>{P, 1000}));
    auto rows = dense.logits.reshape({-1, 1000}).index_select(0, sparse.mlm_positions);
    EXPECT_TRUE(close_rel("sparse logits", sparse.logits, rows, 1e-6));
    EXPECT_NEAR(sparse.loss.item<double>(), dense.loss.item<double>(), 1e-6 * std::abs(dense.loss.item<double>()));
    EXPECT_TRUE(close_rel("loss vs HF", sparse.loss, ref.at("loss"), 1e-5));
    dense.loss.backward();
    sparse.loss.backward();
    auto dp = dense_model->named_parameters();
    for (const auto& p : sparse_model->named_parameters())
      EXPECT_TRUE(close_rel(p.key(), p.value().grad(), dp[p.key()].grad(), 1e-5, 1e-9));
  }
}

// ------------------------------------------------------------ save / load
TEST(SaveLoad, RoundTripIsBitIdenticalAndKeysMatchTheFixture) {
  for (const auto& head : hf_tiny_heads()) {
    BERTKIT_NEED_SHARED("fixtures/hf-tiny/" + head);
    SCOPED_TRACE(head);
    auto ref = load_safetensors(hf_tiny(head) + "/reference.safetensors");
    auto batch = batch_from(ref, torch::kCPU);
    auto model = load_pretrained(hf_tiny(head), quiet());
    auto before = eval_forward(model, batch);
    std::string dir = make_temp_dir("save") + "/out";
    save_pretrained(model, dir);
    // Keys, shapes and dtypes equal the HF fixture's (tied decoder omitted as HF omits it).
    SafetensorsReader saved(dir + "/model.safetensors"), fixture(hf_tiny(head) + "/model.safetensors");
    ASSERT_EQ(saved.names().size(), fixture.names().size());
    for (const auto& info : fixture.tensors()) {
      ASSERT_TRUE(saved.contains(info.name)) << info.name;
      EXPECT_EQ(saved.info(info.name).shape, info.shape) << info.name;
      EXPECT_EQ(saved.info(info.name).dtype, StDType::F32);
    }
    EXPECT_EQ(saved.metadata().at("format"), "pt");
    auto cfg = nlohmann::json::parse(read_file(dir + "/config.json"));
    auto fixture_cfg = nlohmann::json::parse(read_file(hf_tiny(head) + "/config.json"));
    EXPECT_EQ(cfg["architectures"], fixture_cfg["architectures"]);
    EXPECT_EQ(cfg["tie_word_embeddings"], true);  // an unknown key kept verbatim
    LoadReport report;
    auto again = load_pretrained(dir, quiet(), &report);
    EXPECT_TRUE(report.missing_keys.empty());
    EXPECT_TRUE(report.unexpected_keys.empty());
    expect_same_outputs(before, eval_forward(again, batch));
  }
}

TEST(SaveLoad, HalfPrecisionSaves) {
  BERTKIT_NEED_SHARED("fixtures/hf-tiny/seqcls");
  auto model = load_pretrained(hf_tiny("seqcls"), quiet());
  for (auto [dt, st, name] : {std::make_tuple(SaveDType::F16, StDType::F16, "float16"),
                              std::make_tuple(SaveDType::BF16, StDType::BF16, "bfloat16")}) {
    std::string dir = make_temp_dir("save") + "/half";
    save_pretrained(model, dir, dt);
    SafetensorsReader r(dir + "/model.safetensors");
    EXPECT_EQ(r.info("classifier.weight").dtype, st);
    EXPECT_EQ(nlohmann::json::parse(read_file(dir + "/config.json"))["dtype"], name);
    auto loaded = load_pretrained(dir, quiet());
    auto w = model->named_parameters()["classifier.weight"].detach();
    auto lw = loaded->named_parameters()["classifier.weight"].detach();
    EXPECT_EQ(lw.scalar_type(), torch::kFloat32);
    EXPECT_TRUE(torch::equal(lw, w.to(st == StDType::F16 ? torch::kFloat16 : torch::kBFloat16).to(torch::kFloat32)));
  }
  EXPECT_THROW(parse_save_dtype("fp8"), InputError);
}

TEST(SaveLoad, ExtraFilesHookAndTrainingCheckpointDirectory) {
  BERTKIT_NEED_SHARED("fixtures/hf-tiny/maskedlm");
  auto model = load_pretrained(hf_tiny("maskedlm"), quiet());
  std::string dir = make_temp_dir("save") + "/checkpoint-10";
  save_pretrained(model, dir, SaveDType::F32, [](const std::string& tmp) {
    save_safetensors(tmp + "/optimizer.safetensors", {{"step", torch::tensor({10}, torch::kLong)}});
    write_file_atomic(tmp + "/trainer_state.json", "{\"global_step\": 10}");
    write_file_atomic(tmp + "/vocab.txt", "[PAD]\n");
  });
  EXPECT_TRUE(file_exists(dir + "/optimizer.safetensors"));
  EXPECT_TRUE(file_exists(dir + "/vocab.txt"));
  LoadReport report;
  auto loaded = load_pretrained(dir, quiet(), &report);
  EXPECT_TRUE(report.unexpected_keys.empty());
  EXPECT_TRUE(report.missing_keys.empty());
  EXPECT_EQ(loaded->architecture(), Architecture::BertForMaskedLM);
}

// Rewrite the maskedlm fixture with every legacy spelling: no "bert." prefix,
// LayerNorm gamma/beta, an explicit tied decoder weight and decoder bias.
TEST(Load, LegacyNamesMapOntoTheSameModel) {
  BERTKIT_NEED_SHARED("fixtures/hf-tiny/maskedlm");
  auto weights = load_safetensors(hf_tiny("maskedlm") + "/model.safetensors");
  std::map<std::string, torch::Tensor> legacy;
  for (auto& [k, v] : weights) {
    std::string n = k;
    if (n.rfind("bert.", 0) == 0) n = n.substr(5);
    auto rep = [&](const std::string& from, const std::string& to) {
      if (n.size() >= from.size() && n.compare(n.size() - from.size(), from.size(), from) == 0 &&
          n.find("LayerNorm") != std::string::npos)
        n = n.substr(0, n.size() - from.size()) + to;
    };
    rep(".weight", ".gamma");
    rep(".bias", ".beta");
    legacy[n] = v;
  }
  legacy["cls.predictions.decoder.weight"] = weights.at("bert.embeddings.word_embeddings.weight");
  legacy["cls.predictions.decoder.bias"] = weights.at("cls.predictions.bias");
  legacy["embeddings.position_ids"] = torch::arange(64, torch::kLong).unsqueeze(0);
  std::string dir = make_temp_dir("legacy");
  std::filesystem::copy_file(hf_tiny("maskedlm") + "/config.json", dir + "/config.json");
  save_safetensors(dir + "/model.safetensors", legacy);
  LoadReport report;
  auto model = load_pretrained(dir, quiet(), &report);
  EXPECT_TRUE(report.missing_keys.empty()) << report.missing_keys.size();
  EXPECT_TRUE(report.unexpected_keys.empty()) << report.unexpected_keys[0];
  EXPECT_FALSE(report.renamed_keys.empty());
  auto ref = load_safetensors(hf_tiny("maskedlm") + "/reference.safetensors");
  auto out = eval_forward(model, batch_from(ref, torch::kCPU), padded_like_hf());
  EXPECT_TRUE(close_rel("logits", out.logits, ref.at("logits"), 1e-5));
  // A base BertModel loads the head checkpoint too (prefix stripped, head unexpected).
  LoadReport base_report;
  auto base = load_pretrained(hf_tiny("maskedlm"), quiet(Architecture::BertModel), &base_report);
  auto base_out = eval_forward(base, batch_from(ref, torch::kCPU), padded_like_hf());
  EXPECT_TRUE(close_rel("last_hidden_state", base_out.last_hidden_state, ref.at("last_hidden_state"), 1e-5));
  EXPECT_EQ(base_report.missing_keys, (std::vector<std::string>{"pooler.dense.weight", "pooler.dense.bias"}));
  EXPECT_EQ(base_report.unexpected_keys.size(), 5u);  // cls.predictions.*
}

TEST(Load, NewHeadIsInitialisedAndReportedAsHfDoes) {
  BERTKIT_NEED_SHARED("fixtures/hf-tiny/maskedlm");
  LoadOptions o = quiet(Architecture::BertForSequenceClassification);
  o.num_labels = 4;
  LoadReport report;
  auto model = load_pretrained(hf_tiny("maskedlm"), o, &report);
  std::set<std::string> missing(report.missing_keys.begin(), report.missing_keys.end());
  EXPECT_EQ(missing, (std::set<std::string>{"bert.pooler.dense.weight", "bert.pooler.dense.bias", "classifier.weight",
                                            "classifier.bias"}));
  EXPECT_EQ(report.unexpected_keys.size(), 5u);
  auto params = model->named_parameters();
  EXPECT_EQ(params["classifier.weight"].sizes(), (std::vector<int64_t>{4, 64}));
  EXPECT_TRUE(torch::equal(params["classifier.bias"], torch::zeros({4})));
  double std = params["classifier.weight"].std().item<double>();
  EXPECT_GT(std, 0.01);
  EXPECT_LT(std, 0.03);
  EXPECT_EQ(model->config.id2label.at(3), "LABEL_3");
}

TEST(Load, ShapeMismatchNamesTheKeyAndBothShapes) {
  BERTKIT_NEED_SHARED("fixtures/hf-tiny/seqcls");
  LoadOptions o = quiet();
  o.num_labels = 5;
  try {
    load_pretrained(hf_tiny("seqcls"), o);
    FAIL() << "no error";
  } catch (const InputError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("classifier.weight"), std::string::npos) << m;
    EXPECT_NE(m.find("[3, 64]"), std::string::npos) << m;
    EXPECT_NE(m.find("[5, 64]"), std::string::npos) << m;
  }
}

TEST(Load, ShardedSafetensorsIndex) {
  BERTKIT_NEED_SHARED("fixtures/hf-tiny/tokcls");
  auto weights = load_safetensors(hf_tiny("tokcls") + "/model.safetensors");
  std::map<std::string, torch::Tensor> a, b;
  nlohmann::json index;
  int i = 0;
  for (auto& [k, v] : weights) {
    bool second = (i++ % 2) == 1;
    std::string file = second ? "model-00002-of-00002.safetensors" : "model-00001-of-00002.safetensors";
    (second ? a : b)[k] = v;
    index["weight_map"][k] = file;
  }
  std::string dir = make_temp_dir("sharded");
  std::filesystem::copy_file(hf_tiny("tokcls") + "/config.json", dir + "/config.json");
  save_safetensors(dir + "/model-00001-of-00002.safetensors", b);
  save_safetensors(dir + "/model-00002-of-00002.safetensors", a);
  write_file_atomic(dir + "/model.safetensors.index.json", index.dump());
  LoadReport report;
  auto model = load_pretrained(dir, quiet(), &report);
  EXPECT_TRUE(report.missing_keys.empty());
  auto ref = load_safetensors(hf_tiny("tokcls") + "/reference.safetensors");
  EXPECT_TRUE(close_rel("logits", eval_forward(model, batch_from(ref, torch::kCPU), padded_like_hf()).logits,
                        ref.at("logits"), 1e-5));
  // A shard missing a tensor its index promises is an InputError naming it.
  index["weight_map"]["classifier.extra"] = "model-00001-of-00002.safetensors";
  write_file_atomic(dir + "/model.safetensors.index.json", index.dump());
  try {
    load_pretrained(dir, quiet());
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("classifier.extra"), std::string::npos);
  }
}

TEST(Load, PytorchModelBinThroughTorchPickle) {
  BERTKIT_NEED_SHARED("fixtures/hf-tiny/qa");
  auto weights = load_safetensors(hf_tiny("qa") + "/model.safetensors");
  c10::Dict<std::string, torch::Tensor> dict;
  for (auto& [k, v] : weights) dict.insert(k, v);
  auto bytes = torch::pickle_save(dict);
  std::string dir = make_temp_dir("bin");
  std::filesystem::copy_file(hf_tiny("qa") + "/config.json", dir + "/config.json");
  std::ofstream(dir + "/pytorch_model.bin", std::ios::binary).write(bytes.data(), bytes.size());
  auto model = load_pretrained(dir, quiet());
  auto ref = load_safetensors(hf_tiny("qa") + "/reference.safetensors");
  EXPECT_TRUE(close_rel("start_logits", eval_forward(model, batch_from(ref, torch::kCPU)).start_logits,
                        ref.at("start_logits"), 1e-5));
  // Garbage is an InputError telling the user to convert.
  std::ofstream(dir + "/pytorch_model.bin", std::ios::binary | std::ios::trunc) << "not a pickle";
  try {
    load_pretrained(dir, quiet());
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("safetensors"), std::string::npos) << e.what();
  }
}

// A state dict exactly as Python's pickle writes it for torch.save (protocol 2:
// OrderedDict, _rebuild_tensor_v2 over typed storages, a shared storage with a
// transposed view, an offset, the OrderedDict's _metadata BUILD). The bytes were
// produced by CPython's pickle module; the zip is written here.
TEST(Load, TorchSaveStateDictFromPython) {
  const std::string pickle_hex =
      "800263636f6c6c656374696f6e730a4f726465726564446963740a71002952710128580100000077710263746f726368"
      "2e5f7574696c730a5f72656275696c645f74656e736f725f76320a71032828580700000073746f72616765710463746f"
      "7263680a466c6f617453746f726167650a71055801000000307106580300000063707571074b06747108514b004b024b"
      "038671094b034b0186710a8968002952710b74710c52710d5803000000775f74710e6803282868046805680668074b06"
      "74710f514b004b034b028671104b014b0386711189680029527112747113527114580100000062711568032828680468"
      "05580100000031711668074b03747117514b014b028571184b018571198968002952711a74711b52711c580300000069"
      "6473711d68032828680463746f7263680a4c6f6e6753746f726167650a711e580100000032711f68074b02747120514b"
      "006818681989680029527121747122527123757d712458090000005f6d65746164617461712568002952712658000000"
      "0071277d7128580700000076657273696f6e71294b01737373622e";
  std::string pkl;
  for (size_t i = 0; i < pickle_hex.size(); i += 2) pkl.push_back(static_cast<char>(std::stoi(pickle_hex.substr(i, 2), nullptr, 16)));
  std::vector<float> s0 = {0, 1.5f, 3, 4.5f, 6, 7.5f}, s1 = {10, 20, 30};
  std::vector<int64_t> s2 = {7, -9};
  std::string dir = make_temp_dir("torchbin");
  auto write_archive = [&](const std::string& path, const std::string& data_pkl) {
    caffe2::serialize::PyTorchStreamWriter w(path);
    w.writeRecord("data.pkl", data_pkl.data(), data_pkl.size());
    w.writeRecord("data/0", s0.data(), s0.size() * 4);
    w.writeRecord("data/1", s1.data(), s1.size() * 4);
    w.writeRecord("data/2", s2.data(), s2.size() * 8);
    w.writeRecord("version", "3\n", 2);
    w.writeEndOfFile();
  };
  write_archive(dir + "/pytorch_model.bin", pkl);
  auto sd = read_torch_state_dict(dir + "/pytorch_model.bin");
  ASSERT_EQ(sd.size(), 4u);
  auto w = torch::tensor({0.f, 1.5f, 3.f, 4.5f, 6.f, 7.5f}).view({2, 3});
  EXPECT_TRUE(torch::equal(sd.at("w"), w));
  EXPECT_TRUE(torch::equal(sd.at("w_t"), w.t()));
  EXPECT_TRUE(torch::equal(sd.at("b"), torch::tensor({20.f, 30.f})));
  EXPECT_TRUE(torch::equal(sd.at("ids"), torch::tensor({7, -9}, torch::kLong)));
  // Truncated pickle and garbage: InputErrors naming the file, never a crash.
  write_archive(dir + "/cut.bin", pkl.substr(0, pkl.size() / 2));
  EXPECT_THROW(read_torch_state_dict(dir + "/cut.bin"), InputError);
  std::ofstream(dir + "/junk.bin") << "junk";
  try {
    read_torch_state_dict(dir + "/junk.bin");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("junk.bin"), std::string::npos);
  }
}

TEST(Load, MissingFilesAreInputErrors) {
  std::string dir = make_temp_dir("empty");
  EXPECT_THROW(load_pretrained(dir, quiet()), InputError);  // no config.json
  write_file_atomic(dir + "/config.json", tiny_config().to_json().dump());
  EXPECT_THROW(load_pretrained(dir, quiet()), InputError);  // no weights
  EXPECT_THROW(load_pretrained(dir + "/nope", quiet()), InputError);
}

// ------------------------------------------------------------ config
TEST(Config, ParsesHfConfigAndKeepsUnknownKeys) {
  BERTKIT_NEED_SHARED("fixtures/hf-tiny/tokcls/config.json");
  auto c = BertConfig::load(hf_tiny("tokcls") + "/config.json");
  EXPECT_EQ(c.num_labels, 9);
  EXPECT_EQ(c.id2label.at(1), "B-PER");
  EXPECT_EQ(c.label2id.at("I-MISC"), 8);
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_FALSE(c.classifier_dropout.has_value());
  EXPECT_EQ(c.extra["transformers_version"], "5.17.0");
  auto j = c.to_json();
  auto c2 = BertConfig::from_json(j);
  EXPECT_EQ(c2.to_json(), j);
  EXPECT_EQ(j["use_cache"], true);
}

TEST(Config, NumLabelsAloneMakesDefaultLabels) {
  auto c = BertConfig::from_json({{"num_labels", 3}});
  EXPECT_EQ(c.id2label.at(2), "LABEL_2");
  EXPECT_EQ(c.label2id.at("LABEL_0"), 0);
}

TEST(Config, ValidationNamesTheKey) {
  auto expect_key = [](nlohmann::json j, const std::string& key) {
    try {
      BertConfig::from_json(j, "cfg.json");
      ADD_FAILURE() << "no error for " << j.dump();
    } catch (const InputError& e) {
      std::string m = e.what();
      EXPECT_NE(m.find("'" + key + "'"), std::string::npos) << m;
      EXPECT_NE(m.find("cfg.json"), std::string::npos) << m;
    }
  };
  expect_key({{"hidden_size", 100}, {"num_attention_heads", 12}}, "hidden_size");
  expect_key({{"hidden_act", "gelu_xyz"}}, "hidden_act");
  expect_key({{"vocab_size", "big"}}, "vocab_size");
  expect_key({{"hidden_dropout_prob", 1.5}}, "hidden_dropout_prob");
  expect_key({{"position_embedding_type", "relative_key"}}, "position_embedding_type");
  expect_key({{"problem_type", "ranking"}}, "problem_type");
  expect_key({{"num_labels", 3}, {"id2label", {{"0", "a"}, {"1", "b"}}}}, "num_labels");
  expect_key({{"id2label", {{"x", "a"}}}}, "id2label");
  expect_key({{"model_type", "roberta"}}, "model_type");
  expect_key({{"pad_token_id", 99999}}, "pad_token_id");
}

// ------------------------------------------------------------ heads and losses
TEST(Heads, SequenceClassificationProblemTypesAsHfInfersThem) {
  auto c = tiny_config();
  auto batch = random_batch(3, 8, c.vocab_size, 1);
  {  // regression: num_labels 1, MSE over squeezed logits
    auto rc = c;
    rc.set_num_labels(1);
    auto m = create_model(Architecture::BertForSequenceClassification, rc);
    batch.labels = torch::tensor({0.5f, -1.0f, 2.0f});
    auto out = eval_forward(m, batch);
    auto want = (out.logits.squeeze(-1) - batch.labels).pow(2).mean();
    EXPECT_NEAR(out.loss.item<double>(), want.item<double>(), 1e-6);
    EXPECT_EQ(m->config.problem_type, "regression");
  }
  {  // multi-label: float labels [B,L], BCE with logits
    auto mc = c;
    mc.set_num_labels(3);
    auto m = create_model(Architecture::BertForSequenceClassification, mc);
    batch.labels = torch::tensor({{1.f, 0.f, 1.f}, {0.f, 0.f, 0.f}, {1.f, 1.f, 1.f}});
    auto out = eval_forward(m, batch);
    auto p = torch::sigmoid(out.logits);
    auto want = -(batch.labels * torch::log(p) + (1 - batch.labels) * torch::log(1 - p)).mean();
    EXPECT_NEAR(out.loss.item<double>(), want.item<double>(), 1e-5);
    EXPECT_EQ(m->config.problem_type, "multi_label_classification");
  }
  {  // single-label: integer labels, CE
    auto sc = c;
    sc.set_num_labels(3);
    auto m = create_model(Architecture::BertForSequenceClassification, sc);
    batch.labels = torch::tensor({2, 0, 1}, torch::kLong);
    auto out = eval_forward(m, batch);
    auto lsm = torch::log_softmax(out.logits, -1);
    double want = -(lsm[0][2] + lsm[1][0] + lsm[2][1]).item<double>() / 3;
    EXPECT_NEAR(out.loss.item<double>(), want, 1e-5);
    EXPECT_EQ(m->config.problem_type, "single_label_classification");
  }
}

TEST(Heads, QuestionAnsweringClampsOutOfRangePositionsAndIgnoresThem) {
  auto c = tiny_config();
  auto m = create_model(Architecture::BertForQuestionAnswering, c);
  auto batch = random_batch(2, 8, c.vocab_size, 2);
  batch.start_positions = torch::tensor({3, 100}, torch::kLong);  // 100 -> clamped to T=8 -> ignored
  batch.end_positions = torch::tensor({5, -4}, torch::kLong);     // -4 -> clamped to 0 (kept)
  auto out = eval_forward(m, batch);
  auto ls = torch::log_softmax(out.start_logits, -1), le = torch::log_softmax(out.end_logits, -1);
  double start_loss = -ls[0][3].item<double>();
  double end_loss = -(le[0][5] + le[1][0]).item<double>() / 2;
  EXPECT_NEAR(out.loss.item<double>(), (start_loss + end_loss) / 2, 1e-5);
}

TEST(Heads, TokenClassificationIgnoresMinus100) {
  auto c = tiny_config();
  c.set_num_labels(4);
  auto m = create_model(Architecture::BertForTokenClassification, c);
  auto batch = random_batch(1, 4, c.vocab_size, 3);
  batch.labels = torch::tensor({{-100, 1, 3, -100}}, torch::kLong);
  auto out = eval_forward(m, batch);
  auto l = torch::log_softmax(out.logits[0], -1);
  EXPECT_NEAR(out.loss.item<double>(), -(l[1][1] + l[2][3]).item<double>() / 2, 1e-5);
}

TEST(Model, AttentionsAndHiddenStatesOnRequest) {
  auto c = tiny_config();
  auto m = create_model(Architecture::BertModel, c);
  auto batch = random_batch(2, 8, c.vocab_size, 4);
  ForwardOptions o;
  o.output_attentions = true;
  o.output_hidden_states = true;
  auto out = eval_forward(m, batch, o);
  ASSERT_EQ(out.attentions.size(), 2u);
  ASSERT_EQ(out.hidden_states.size(), 3u);
  EXPECT_TRUE(torch::equal(out.hidden_states.back(), out.last_hidden_state));
  for (const auto& a : out.attentions) {
    EXPECT_EQ(a.sizes(), (std::vector<int64_t>{2, 2, 8, 8}));
    EXPECT_TRUE(torch::allclose(a.sum(-1), torch::ones({2, 2, 8})));
    // Padded keys (last 3 tokens of the first sequence) get exactly zero probability.
    EXPECT_EQ(a[0].index({torch::indexing::Slice(), torch::indexing::Slice(), torch::indexing::Slice(5, 8)})
                  .abs()
                  .max()
                  .item<float>(),
              0.0f);
  }
  auto plain = eval_forward(m, batch, padded_like_hf());
  EXPECT_TRUE(plain.attentions.empty());
  EXPECT_TRUE(plain.hidden_states.empty());
  EXPECT_TRUE(torch::equal(plain.last_hidden_state, out.last_hidden_state));
}

TEST(Model, SdpaKernelMatchesTheMathKernel) {
#if BERTKIT_HAVE_SDPA
  auto c = tiny_config();
  auto m = create_model(Architecture::BertForMaskedLM, c);
  auto batch = random_batch(2, 8, c.vocab_size, 5);
  ForwardOptions o;
  o.attention_kernel = AttentionKernel::SDPA;
  auto sdpa = eval_forward(m, batch, o);
  auto math = eval_forward(m, batch);
  EXPECT_TRUE(close_rel("logits", sdpa.logits, math.logits, 1e-5));
#else
  GTEST_SKIP() << "LibTorch " << TORCH_VERSION << " has no scaled_dot_product_attention: the Math kernel is used";
#endif
}

TEST(Model, SinusoidalPositionsUseTheTransformerFormula) {
  auto table = sinusoidal_position_table(10, 6);
  EXPECT_NEAR(table[3][0].item<double>(), std::sin(3.0), 1e-6);
  EXPECT_NEAR(table[3][1].item<double>(), std::cos(3.0), 1e-6);
  EXPECT_NEAR(table[7][4].item<double>(), std::sin(7.0 / std::pow(10000.0, 4.0 / 6.0)), 1e-6);
  EXPECT_NEAR(table[7][5].item<double>(), std::cos(7.0 / std::pow(10000.0, 4.0 / 6.0)), 1e-6);
  auto c = tiny_config();
  c.position_embedding_type = "sinusoidal";
  auto m = create_model(Architecture::BertForMaskedLM, c);
  for (const auto& p : m->named_parameters()) EXPECT_EQ(p.key().find("position_embeddings"), std::string::npos);
  auto batch = random_batch(2, 8, c.vocab_size, 6);
  // Embeddings = LN(word + type + table[pos]).
  auto emb = base_model(m)->embeddings;
  emb->eval();
  auto want = emb->LayerNorm(emb->word_embeddings(batch.input_ids) + emb->token_type_embeddings(batch.token_type_ids) +
                             sinusoidal_position_table(24, 16).narrow(0, 0, 8));
  EXPECT_TRUE(close_rel("embeddings", emb(batch.input_ids, batch.token_type_ids), want, 1e-6));
  std::string dir = make_temp_dir("sin") + "/m";
  save_pretrained(m, dir);
  auto again = load_pretrained(dir, quiet());
  EXPECT_EQ(again->config.position_embedding_type, "sinusoidal");
  expect_same_outputs(eval_forward(m, batch), eval_forward(again, batch));
}

TEST(Model, HfInitialisation) {
  auto c = tiny_config();
  c.vocab_size = 4000;
  c.initializer_range = 0.05;
  auto m = create_model(Architecture::BertForPreTraining, c);
  auto p = m->named_parameters();
  EXPECT_NEAR(p["bert.embeddings.word_embeddings.weight"].std().item<double>(), 0.05, 0.003);
  EXPECT_TRUE(torch::equal(p["bert.embeddings.word_embeddings.weight"][0], torch::zeros({16})));  // padding row
  EXPECT_NEAR(p["bert.encoder.layer.0.intermediate.dense.weight"].std().item<double>(), 0.05, 0.01);
  EXPECT_TRUE(torch::equal(p["bert.encoder.layer.1.output.dense.bias"], torch::zeros({16})));
  EXPECT_TRUE(torch::equal(p["bert.encoder.layer.1.output.LayerNorm.weight"], torch::ones({16})));
  EXPECT_TRUE(torch::equal(p["cls.predictions.bias"], torch::zeros({4000})));
  EXPECT_EQ(p.find("cls.predictions.decoder.weight"), nullptr);  // tied to word embeddings
}

TEST(Model, ActivationsByHfName) {
  auto x = torch::linspace(-3, 3, 13, torch::kFloat64);
  EXPECT_TRUE(torch::allclose(apply_activation(parse_activation("gelu"), x), 0.5 * x * (1 + torch::erf(x / std::sqrt(2.0)))));
  auto tanh_gelu = 0.5 * x * (1 + torch::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x.pow(3))));
  EXPECT_TRUE(torch::allclose(apply_activation(parse_activation("gelu_new"), x), tanh_gelu));
  EXPECT_TRUE(torch::allclose(apply_activation(parse_activation("gelu_pytorch_tanh"), x), tanh_gelu));
  EXPECT_TRUE(torch::allclose(apply_activation(parse_activation("swish"), x), x * torch::sigmoid(x)));
  EXPECT_TRUE(torch::allclose(apply_activation(parse_activation("relu"), x), x.clamp_min(0)));
  EXPECT_TRUE(torch::allclose(apply_activation(parse_activation("tanh"), x), x.tanh()));
  EXPECT_THROW(parse_activation("gelu_xyz"), InputError);
}

}  // namespace
}  // namespace bertkit::test
