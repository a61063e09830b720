#!/usr/bin/env bash
# Decode/prefill tokens/s of llmkit's engine beside llama.cpp (de.kherud:llama, test scope) on the
# same F32 GGUF, 1 and 2 threads, tiny and small presets, in ROUNDS rounds (default 3) whose medians it prints.
# Usage: bench/decode-bench.sh [TOKENS [ROUNDS]]
exec "$(dirname "$0")/test-main.sh" DecodeBench "$@"
