#!/usr/bin/env bash
# Decode (tg) and prefill (pp) tokens/s of llmkit's engine, warm, beside llama.cpp's own llama-bench
# (../shared/tools/llama.cpp or $LLMKIT_LLAMA_CPP_DIR; where it cannot run, llama.cpp's Java binding) on the same F32 GGUF, 1 and 2
# threads, tiny and small presets (vocabulary 4096), in ROUNDS alternating rounds (default 3) whose medians
# it prints.
# Usage: bench/decode-bench.sh [TOKENS [ROUNDS]]
exec "$(dirname "$0")/test-main.sh" DecodeBench "$@"
