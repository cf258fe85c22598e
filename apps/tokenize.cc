// bertkit tokenize: text -> ids/tokens/offsets in the HF fixture's JSONL format,
// or ids alone (--output-format ids).
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "bertkit/core/error.h"
#include "bertkit/core/fs.h"
#include "bertkit/tokenizers/jsonl.h"
#include "bertkit/tokenizers/wordpiece.h"
#include "bertkit/hub/resolve.h"
#include "command.h"

namespace {

struct TokenizeArgs {
  std::string tokenizer;
  bool lowercase = false, no_lowercase = false;
  std::string strip_accents;  // true|false|auto, empty: as the tokenizer's files say
  std::size_t max_length = 0;
  std::string truncation;  // none|longest_first|only_first|only_second
  std::size_t stride = 0;
  bool overflowing = false;
  std::string padding = "none";
  std::size_t pad_to_multiple_of = 0;
  bool no_special_tokens = false;
  bool all_fields = false;
  bool decode = false;
  std::string format = "jsonl";
  std::string output_format = "jsonl";
  unsigned threads = 0;
  std::string input, output;
  std::vector<std::string> texts;
};

bertkit::Truncation parse_truncation(const std::string& s) {
  if (s == "none") return bertkit::Truncation::None;
  if (s == "longest_first") return bertkit::Truncation::LongestFirst;
  if (s == "only_first") return bertkit::Truncation::OnlyFirst;
  if (s == "only_second") return bertkit::Truncation::OnlySecond;
  throw bertkit::InputError("--truncation: expected none, longest_first, only_first or only_second, got '" + s + "'");
}

int run_tokenize(const TokenizeArgs& a) {
  auto tok = bertkit::load_tokenizer(a.tokenizer);
  if (a.lowercase || a.no_lowercase || !a.strip_accents.empty()) {
    auto* wp = dynamic_cast<bertkit::WordPieceTokenizer*>(tok.get());
    if (!wp)
      throw bertkit::InputError("--lowercase/--no-lowercase/--strip-accents apply to WordPiece tokenizers; " +
                                a.tokenizer + " is not one");
    bertkit::BertNormalizerOptions n = wp->config().normalizer;
    if (a.lowercase) n.lowercase = true;
    if (a.no_lowercase) n.lowercase = false;
    if (a.strip_accents == "true") n.strip_accents = true;
    else if (a.strip_accents == "false") n.strip_accents = false;
    else if (a.strip_accents == "auto") n.strip_accents.reset();
    wp->set_normalizer(n);
  }
  bertkit::EncodeOptions opt;
  opt.add_special_tokens = !a.no_special_tokens;
  opt.max_length = a.max_length;
  std::string trunc = a.truncation.empty() ? (a.max_length ? "longest_first" : "none") : a.truncation;
  opt.truncation = parse_truncation(trunc);
  opt.stride = a.stride;
  opt.return_overflowing = a.overflowing;
  if (a.padding == "none") opt.padding = bertkit::Padding::None;
  else if (a.padding == "longest") opt.padding = bertkit::Padding::Longest;
  else if (a.padding == "max_length") opt.padding = bertkit::Padding::MaxLength;
  else throw bertkit::InputError("--padding: expected none, longest or max_length, got '" + a.padding + "'");
  opt.pad_to_multiple_of = a.pad_to_multiple_of;

  bertkit::InputFormat format;
  if (a.format == "jsonl") format = bertkit::InputFormat::Jsonl;
  else if (a.format == "text") format = bertkit::InputFormat::TextLines;
  else if (a.format == "words") format = bertkit::InputFormat::Words;
  else throw bertkit::InputError("--format: expected jsonl, text or words, got '" + a.format + "'");

  std::vector<bertkit::TokenizeInput> inputs;
  if (!a.input.empty()) {
    std::string content;
    if (a.input == "-") {
      std::ostringstream in;
      in << std::cin.rdbuf();
      content = std::move(in).str();
    } else {
      content = bertkit::read_file(a.input);
    }
    inputs = bertkit::parse_tokenize_inputs(content, a.input == "-" ? "<stdin>" : a.input, format);
  }
  for (const auto& t : a.texts) {
    bertkit::TokenizeInput in;
    in.text = t;
    inputs.push_back(std::move(in));
  }
  if (inputs.empty()) throw bertkit::InputError("tokenize: nothing to tokenize (give TEXT arguments or --input FILE)");

  bertkit::TokenizeOutputOptions out_opt;
  out_opt.overflowing = a.overflowing;
  out_opt.all_fields = a.all_fields;
  out_opt.decode = a.decode;
  out_opt.ids_only = a.output_format == "ids";
  if (out_opt.ids_only && (a.overflowing || a.all_fields || a.decode))
    throw bertkit::InputError("--output-format ids writes the ids alone: drop --overflowing, --all-fields and --decode");
  if (a.output.empty() || a.output == "-") {
    bertkit::write_tokenized(*tok, inputs, opt, out_opt, a.threads, std::cout);
    std::cout.flush();
  } else {
    std::ostringstream ss;
    bertkit::write_tokenized(*tok, inputs, opt, out_opt, a.threads, ss);
    bertkit::write_file_atomic(a.output, std::move(ss).str());
  }
  return 0;
}

bertkit::cli::Action setup(CLI::App& sub) {
  auto a = std::make_shared<TokenizeArgs>();
  sub.add_option("--tokenizer,-t", a->tokenizer,
                 "Model directory (tokenizer.json or vocab.txt + tokenizer_config.json or a .model), vocab.txt, "
                 "tokenizer.json, SentencePiece .model or Hub id (org/name[@revision])")
      ->required();
  auto* lo = sub.add_flag("--lowercase", a->lowercase, "Lowercase (WordPiece; overrides the tokenizer's files)");
  auto* nlo = sub.add_flag("--no-lowercase", a->no_lowercase, "Do not lowercase (WordPiece)");
  lo->excludes(nlo);
  sub.add_option("--strip-accents", a->strip_accents,
                 "Strip accents (WordPiece): true, false, or auto (= as lowercase, HF's null)")
      ->check(CLI::IsMember({"true", "false", "auto"}));
  sub.add_option("--max-length", a->max_length, "Truncate to this many tokens (specials included)")
      ->check(CLI::NonNegativeNumber);
  sub.add_option("--truncation", a->truncation,
                 "none, longest_first (default when --max-length is set), only_first or only_second")
      ->check(CLI::IsMember({"none", "longest_first", "only_first", "only_second"}));
  sub.add_option("--stride", a->stride, "Overlap in tokens between overflowing windows")->check(CLI::NonNegativeNumber);
  sub.add_flag("--overflowing", a->overflowing, "Add the overflowing windows (\"overflowing\": [...])");
  sub.add_option("--padding", a->padding, "none, longest (the longest line of each chunk of 4096 lines; lines mixing single texts and pairs "
                 "are padded alone) or max_length")
      ->check(CLI::IsMember({"none", "longest", "max_length"}));
  sub.add_option("--pad-to-multiple-of", a->pad_to_multiple_of, "Round padded lengths up to a multiple of N")
      ->check(CLI::NonNegativeNumber);
  sub.add_flag("--no-special-tokens", a->no_special_tokens, "Do not add [CLS]/[SEP]");
  sub.add_flag("--all-fields", a->all_fields,
               "Also write word_ids, special_tokens_mask, attention_mask and byte_offsets");
  sub.add_flag("--decode", a->decode, "Also write \"decoded\": the ids decoded back to text");
  sub.add_option("--format", a->format,
                 "Input format: jsonl ({\"text\", \"text_pair\"} lines), text (one text a line) or words "
                 "({\"words\": [...]} lines, pre-tokenised)")
      ->check(CLI::IsMember({"jsonl", "text", "words"}));
  sub.add_option("--threads", a->threads, "Encoding threads (0: all cores)");
  sub.add_option("--input,-i", a->input, "Input file (- for stdin)");
  sub.add_option("--output,-o", a->output, "Output file (default: stdout)");
  sub.add_option("--output-format", a->output_format,
                 "jsonl (text, ids, type_ids, tokens, offsets: HF's fields) or ids (one line of space-separated ids "
                 "per input, for other programs)")
      ->check(CLI::IsMember({"jsonl", "ids"}))
      ->capture_default_str();
  bertkit::cli::add_verbatim_positionals(sub, "text", a->texts, "Texts to tokenize (besides --input; passed as typed)");
  return [a] {
    a->tokenizer = bertkit::hub::resolve_model_dir(a->tokenizer, "--tokenizer");  // a Hub id -> its snapshot
    return run_tokenize(*a);
  };
}

bertkit::cli::Registrar reg({"tokenize", "Tokenize text into ids, tokens and offsets (HF fixture JSONL format)", setup});

}  // namespace
