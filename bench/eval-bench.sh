#!/usr/bin/env bash
# Evaluation speed: examples/s of llmkit eval on PIQA and MMLU (tiny, small; 1 thread) and scored tokens/s
# against llama-bench pp128 on the same GGUF (../shared/tools/llama.cpp or $LLMKIT_LLAMA_CPP_DIR, and ../shared/data needed).
# Usage: bench/eval-bench.sh [ROUNDS]
exec "$(dirname "$0")/test-main.sh" EvalBench "$@"
