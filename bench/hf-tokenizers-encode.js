#!/usr/bin/env node
// Encoding speed and token count of Hugging Face tokenizers (Rust, official Node bindings) on a
// text file, one sequence per line (newline kept), encodeBatch over 1,000 lines at a time (it uses
// all cores). Used by `llmkit tokenizer bench` as the anchor for our encoder.
// Setup once: npm install --no-save tokenizers@0.23.2 (in a folder on NODE_PATH)
// Usage: node hf-tokenizers-encode.js tokenizer.json TEXT.txt
// Prints one JSON line: bytes, lines, tokens, seconds.
const t = require('tokenizers');
const fs = require('fs');
const [,, tokFile, textFile] = process.argv;
if (!tokFile || !textFile) { console.error('usage: hf-tokenizers-encode.js tokenizer.json TEXT.txt'); process.exit(2); }
const tok = t.Tokenizer.fromFile(tokFile);
const text = fs.readFileSync(textFile, 'utf8');
const lines = text.match(/[^\n]*\n|[^\n]+$/g) || [];
(async () => {
  let tokens = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < lines.length; i += 1000) {
    const enc = await tok.encodeBatch(lines.slice(i, i + 1000), { addSpecialTokens: false });
    for (const e of enc) tokens += e.getIds().length;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ anchor: 'hf-tokenizers-encode', bytes: Buffer.byteLength(text, 'utf8'), lines: lines.length,
    tokens, seconds: +seconds.toFixed(3) }));
})();
