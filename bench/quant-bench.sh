#!/usr/bin/env bash
# Decode (tg128) and prefill (pp128) tokens/s of llmkit's engine beside llama.cpp's llama-bench (../shared/tools/llama.cpp or $LLMKIT_LLAMA_CPP_DIR;
# where it cannot run, llama.cpp's Java binding)
# on the same GGUF files: F32, Q8_0, Q4_0, Q4_K_M of the tiny and small presets, 1 and 2 threads, in ROUNDS rounds.
# Usage: bench/quant-bench.sh [ROUNDS]
exec "$(dirname "$0")/test-main.sh" QuantBench "$@"
