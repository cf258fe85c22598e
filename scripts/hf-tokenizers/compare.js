#!/usr/bin/env node
// Compare two tokenize outputs line by line (HF reference first, bertkit second).
//   node compare.js HF.jsonl BERTKIT.jsonl [--fields ids,tokens,type_ids,offsets,...] [--show N]
// Prints {"lines", "mismatched", "by_field": {...}} and the first N differing lines.
'use strict';
const fs = require('fs');
const args = process.argv.slice(2);
const [a, b] = args;
let fields = ['ids', 'tokens', 'type_ids', 'offsets', 'word_ids', 'special_tokens_mask', 'attention_mask', 'decoded', 'overflowing'];
let show = 3;
for (let i = 2; i < args.length; i++) {
  if (args[i] === '--fields') fields = args[++i].split(',');
  else if (args[i] === '--show') show = parseInt(args[++i], 10);
}
const load = (p) => fs.readFileSync(p, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
const A = load(a), B = load(b);
const by = {};
let bad = 0;
const n = Math.max(A.length, B.length);
for (let i = 0; i < n; i++) {
  const x = A[i], y = B[i];
  if (!x || !y) { bad++; continue; }
  let lineBad = false;
  for (const f of fields) {
    if (!(f in x) || !(f in y)) continue;
    if (JSON.stringify(x[f]) !== JSON.stringify(y[f])) {
      by[f] = (by[f] || 0) + 1;
      lineBad = true;
      if (bad < show) console.error(`line ${i + 1} field ${f}\n  input: ${JSON.stringify(x.text).slice(0, 300)}\n  hf:      ${JSON.stringify(x[f]).slice(0, 400)}\n  bertkit: ${JSON.stringify(y[f]).slice(0, 400)}`);
    }
  }
  if (lineBad) bad++;
}
console.log(JSON.stringify({ hf: a, bertkit: b, lines: n, mismatched: bad, by_field: by }));
