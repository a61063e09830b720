#!/usr/bin/env bash
# What a user sees: fresh `./llmkit generate` processes against fresh llama-cli processes
# (../shared/tools/llama.cpp or $LLMKIT_LLAMA_CPP_DIR; llama-completion where present) on the same small-preset GGUF, F32 and Q8_0: wall, peak RSS, tokens/s,
# time to model loaded and to first token, first-call prefill against warm prefill, in ROUNDS
# alternating rounds (default 3).
# Usage: bench/first-call-bench.sh [ROUNDS]
exec "$(dirname "$0")/test-main.sh" FirstCallBench "$@"
