#!/usr/bin/env bash
# Regenerates tokenizer.json: a GPT-2-style byte-level BPE written by Hugging Face tokenizers itself
# (Rust, official Node bindings, default trainer), for HfParityTest. Its corpus is the parity text
# set plus the first 12 kB of tiny shakespeare, so its alphabet lacks most bytes (as HF's trainer
# keeps only the characters it saw), which exercises the "byte without a token" path too.
# Needs: node, NODE_PATH with tokenizers@0.23.2, ../shared/data/pretrain_tinyshakespeare.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../../.." && pwd)
tmp=$(mktemp -d)
node -e 'const t=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); process.stdout.write(t.join("\n")+"\n")' \
  "$here/../parity/texts.json" > "$tmp/corpus.txt"
head -c 12000 "$root/../shared/data/pretrain_tinyshakespeare/input.txt" >> "$tmp/corpus.txt"
node "$root/../shared/bench/hf-tokenizers-train.js" "$tmp/corpus.txt" "$here/tokenizer.json"
rm -rf "$tmp"
