// Classification datasets: GLUE TSV, RFC 4180 CSV and JSONL. The first byte
// picks the format, header or not, columns by name or index, and multi-label.
#include "bertkit/data/classification.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  using bertkit::TableFormat;
  const uint8_t choice = data[0];
  const char* names[] = {"train.tsv", "train.csv", "train.jsonl"};
  bertkit::ClassificationReadOptions options;
  options.format = TableFormat::Auto;  // from the extension
  options.header = !(choice & 4);
  if (choice & 8) options.columns = {"0", "1", "2"};
  else if (choice & 16) options.columns = {"sentence1", "sentence2", "label"};
  if (choice & 32) options.label_separator = ",";
  options.skip_unlabelled = choice & 64;
  std::string path = bertkit::fuzz::write_input(names[choice % 3], bertkit::fuzz::as_text(data + 1, size - 1));
  bertkit::fuzz::expect_input_errors([&] {
    auto examples = bertkit::read_classification(path, options);
    bertkit::collect_labels(examples);
  });
  return 0;
}
