#!/usr/bin/env node
// Build comparison inputs ({"text", "text_pair"} JSONL) from real data in
// ../shared/data: corpora, GLUE (SST-2 single, MRPC/RTE pairs), CoNLL-2003 and
// WNUT-17 sentences, SMS spam, SQuAD question/context pairs.
//   node make_inputs.js SHARED_DATA_DIR OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');

const [data, out] = process.argv.slice(2);
if (!data || !out) {
  console.error('usage: node make_inputs.js SHARED_DATA_DIR OUT_DIR');
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });

function write(name, rows) {
  fs.writeFileSync(path.join(out, name + '.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  console.log(`${name}: ${rows.length} lines`);
}
const read = (p) => fs.readFileSync(path.join(data, p), 'utf8');
const lines = (p) => read(p).split('\n').map((l) => l.replace(/\r$/, ''));
const texts = (ls) => ls.filter((l) => l.trim().length > 0).map((text) => ({ text }));

// Corpora: every non-empty line.
const gut = fs.readdirSync(path.join(data, 'corpus/gutenberg')).sort();
write('gutenberg', texts(gut.flatMap((f) => lines(path.join('corpus/gutenberg', f)))));
write('tinyshakespeare', texts(lines('corpus/tinyshakespeare.txt')));
write('wikitext', texts(lines('corpus/wikitext-2.valid.tokens.txt').concat(lines('corpus/wikitext-2.test.tokens.txt'))));

// GLUE.
const tsv = (p) => lines(p).slice(1).filter((l) => l.length > 0).map((l) => l.split('\t'));
write('sst2', ['SST-2/train.tsv', 'SST-2/dev.tsv'].flatMap((p) => tsv('glue/' + p)).map((c) => ({ text: c[0] })));
write('mrpc', ['MRPC/train.tsv', 'MRPC/dev.tsv'].flatMap((p) => tsv('glue/' + p)).filter((c) => c.length >= 5)
  .map((c) => ({ text: c[3], text_pair: c[4] })));
write('rte', ['RTE/train.tsv', 'RTE/dev.tsv'].flatMap((p) => tsv('glue/' + p)).filter((c) => c.length >= 3)
  .map((c) => ({ text: c[1], text_pair: c[2] })));

// CoNLL-style files: sentences = words joined by spaces.
function conll(p, sep) {
  const rows = [];
  let words = [];
  for (const l of lines(p)) {
    if (l.trim().length === 0 || l.startsWith('-DOCSTART-')) {
      if (words.length) rows.push({ text: words.join(' ') });
      words = [];
    } else {
      words.push(l.split(sep)[0]);
    }
  }
  if (words.length) rows.push({ text: words.join(' ') });
  return rows;
}
write('conll2003', ['train.txt', 'valid.txt', 'test.txt'].flatMap((f) => conll('conll2003/' + f, ' ')));
write('wnut17', ['wnut17train.conll', 'emerging.dev.conll', 'emerging.test.annotated'].flatMap((f) => conll('wnut17/' + f, '\t')));

// SMS spam: label \t text.
write('sms', lines('sms_spam/SMSSpamCollection').filter((l) => l.includes('\t')).map((l) => ({ text: l.split('\t')[1] })));

// SQuAD: question + context pairs.
const squad = [];
for (const part of ['squad/dev-v1.1.part1.json', 'squad/dev-v1.1.part2.json']) {
  const j = JSON.parse(read(part));
  for (const art of j.data) for (const p of art.paragraphs) for (const qa of p.qas) squad.push({ text: qa.question, text_pair: p.context });
}
write('squad', squad);
