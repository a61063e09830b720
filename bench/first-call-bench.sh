#!/usr/bin/env bash
# What a user sees: fresh `./llmkit generate` processes against fresh llama-cli processes
# (../shared/tools/llama.cpp) on the same small-preset GGUF: wall, peak RSS, tokens/s, time to first
# token, first-call prefill against warm prefill, in ROUNDS alternating rounds (default 3).
# Usage: bench/first-call-bench.sh [ROUNDS]
exec "$(dirname "$0")/test-main.sh" FirstCallBench "$@"
