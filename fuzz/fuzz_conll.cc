// CoNLL NER files (token ... tag per line, blank lines between sentences);
// the first byte picks the tag column, scheme and labelled/unlabelled.
#include "bertkit/data/conll.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  bertkit::ConllReadOptions options;
  const bertkit::TagScheme schemes[] = {bertkit::TagScheme::Auto, bertkit::TagScheme::IOB1, bertkit::TagScheme::IOB2};
  options.scheme = schemes[data[0] % 3];
  options.labelled = (data[0] >> 2) & 1;
  options.tag_column = ((data[0] >> 3) & 3) - 1;  // -1 (last), 0, 1, 2
  std::string path = bertkit::fuzz::write_input("train.txt", bertkit::fuzz::as_text(data + 1, size - 1));
  bertkit::fuzz::expect_input_errors([&] {
    auto sentences = bertkit::read_conll(path, options);
    bertkit::collect_tags(sentences);
    bertkit::looks_like_iob1(sentences);
  });
  return 0;
}
