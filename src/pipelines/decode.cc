// Ids and tokens back to text, as HF tokenizers decode.
#include "bertkit/pipelines/pipelines.h"



namespace bertkit::pipelines {

static std::string cleanup(std::string s) {
  static const std::pair<const char*, const char*> rules[] = {
      {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
      {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (auto& [from, to] : rules) {
    std::string f(from), t(to);
    std::size_t p = 0;
    while ((p = s.find(f, p)) != std::string::npos) {
      s.replace(p, f.size(), t);
      p += t.size();
    }
  }
  return s;
}

std::string decode_tokens(const std::vector<std::string>& tokens) {
  std::string out;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    std::string t = tokens[i];
    if (i != 0) {
      if (t.rfind("##", 0) == 0)
        t = t.substr(2);
      else
        t = " " + t;
    }
    out += cleanup(t);
  }
  return out;
}

static bool is_special_id(const Tokenizer& tok, int32_t id) {
  const auto& sp = tok.special_tokens();
  return id == sp.pad || id == sp.unk || id == sp.cls || id == sp.sep || id == sp.mask;
}

std::string decode_ids(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip_special_tokens) {
  std::vector<std::string> tokens;
  for (int32_t id : ids) {
    if (skip_special_tokens && is_special_id(tok, id)) continue;
    tokens.push_back(tok.id_to_token(id));
  }
  return decode_tokens(tokens);
}

}  // namespace bertkit::pipelines
