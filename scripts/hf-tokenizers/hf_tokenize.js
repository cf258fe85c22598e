#!/usr/bin/env node
// HuggingFace tokenizers (npm `tokenizers`) as the reference for bertkit's
// WordPiece: builds the tokenizer.json that BertTokenizerFast would have for a
// vocab.txt (BertNormalizer, BertPreTokenizer, WordPiece, TemplateProcessing),
// then either
//   - encodes a JSONL ({"text", "text_pair"} lines, or plain text lines with
//     --text-lines) into the fixture format, the same as `bertkit tokenize`:
//       node hf_tokenize.js --vocab V.txt [--lowercase true|false]
//         [--strip-accents true|false|null] [--max-length N]
//         [--truncation longest_first|only_first|only_second] [--stride N]
//         [--overflowing] [--all-fields] [--decode] [--text-lines]
//         --input IN --output OUT.jsonl
//   - or measures its speed on a text file (one line = one text, no specials):
//       node hf_tokenize.js --vocab V.txt --bench FILE|DIR [--batch 1000]
//     Threads: RAYON_NUM_THREADS=1 for one thread (unset: all cores).
// Setup: (cd scripts/hf-tokenizers && npm install)
'use strict';
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

function parseArgs(argv) {
  const args = { lowercase: 'true', 'strip-accents': 'null', batch: '1000' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const key = a.slice(2);
    if (['overflowing', 'all-fields', 'decode', 'text-lines', 'words'].includes(key)) args[key] = true;
    else args[key] = argv[++i];
  }
  if (!args.vocab && !args.tokenizer) throw new Error('--vocab VOCAB.txt or --tokenizer tokenizer.json is required');
  return args;
}

function bool(s) {
  if (s === 'null' || s === 'auto') return null;
  if (s === 'true') return true;
  if (s === 'false') return false;
  throw new Error(`expected true|false|null, got ${s}`);
}

function tokenizerJson(vocabPath, lowercase, stripAccents) {
  const lines = fs.readFileSync(vocabPath, 'utf8').split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const vocab = {};
  lines.forEach((t, i) => { vocab[t.replace(/\s+$/, '')] = i; });
  const added = [];
  for (const t of ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']) {
    if (t in vocab) added.push({ id: vocab[t], content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  }
  added.sort((a, b) => a.id - b.id);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: stripAccents, lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

function record(e, all) {
  const r = { ids: e.getIds(), type_ids: e.getTypeIds(), tokens: e.getTokens(), offsets: e.getOffsets() };
  if (all) {
    r.word_ids = e.getWordIds().map((w) => (w === null || w === undefined ? -1 : w));
    r.special_tokens_mask = e.getSpecialTokensMask();
    r.attention_mask = e.getAttentionMask();
  }
  return r;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const tok = args.tokenizer
    ? Tokenizer.fromFile(args.tokenizer)
    : Tokenizer.fromString(JSON.stringify(tokenizerJson(args.vocab, bool(args.lowercase), bool(args['strip-accents']))));

  if (args.bench) {
    // A file, or every file of a directory (sorted), as bench_tokenizers reads them.
    const files = fs.statSync(args.bench).isDirectory()
      ? fs.readdirSync(args.bench).sort().map((f) => require('path').join(args.bench, f))
      : [args.bench];
    const lines = files.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n')).filter((l) => l.trim().length > 0);
    const batch = parseInt(args.batch, 10);
    const run = async () => {
      let tokens = 0;
      for (let i = 0; i < lines.length; i += batch) {
        const encs = await tok.encodeBatch(lines.slice(i, i + batch), { addSpecialTokens: false });
        for (const e of encs) tokens += e.getLength();
      }
      return tokens;
    };
    await run();  // warm-up
    const t0 = process.hrtime.bigint();
    const tokens = await run();
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const threads = process.env.RAYON_NUM_THREADS || 'all';
    console.log(JSON.stringify({ tokenizer: 'hf-tokenizers', threads, lines: lines.length, tokens, seconds: secs, tokens_per_s: Math.round(tokens / secs) }));
    return;
  }

  if (args['max-length'] || args.truncation) {
    const strategy = { longest_first: 'LongestFirst', only_first: 'OnlyFirst', only_second: 'OnlySecond' }[args.truncation || 'longest_first'];
    if (!strategy) throw new Error(`--truncation: expected longest_first|only_first|only_second`);
    tok.setTruncation(parseInt(args['max-length'] || '512', 10), { strategy, stride: parseInt(args.stride || '0', 10) });
  }
  const text = fs.readFileSync(args.input, 'utf8');
  const inputs = [];
  for (const line of text.split('\n')) {
    if (args['text-lines']) {
      if (line.trim().length > 0) inputs.push({ text: line });
    } else if (line.length > 0) {
      inputs.push(JSON.parse(line));
    }
  }
  const out = [];
  for (const inp of inputs) {
    let e;
    if (args.words) e = await tok.encode(inp.words, null, { isPretokenized: true });
    else e = await tok.encode(inp.text, inp.text_pair === undefined ? null : inp.text_pair);
    const r = Object.assign({}, args.words ? { words: inp.words } : { text: inp.text });
    if (inp.text_pair !== undefined) r.text_pair = inp.text_pair;
    Object.assign(r, record(e, args['all-fields']));
    if (args.overflowing) r.overflowing = e.getOverflowing().map((o) => record(o, args['all-fields']));
    if (args.decode) r.decoded = await tok.decode(e.getIds(), true);
    out.push(JSON.stringify(r));
  }
  fs.writeFileSync(args.output, out.join('\n') + (out.length ? '\n' : ''));
}

main().catch((err) => {
  console.error(`error: ${err.message}`);
  process.exit(2);
});
