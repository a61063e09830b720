#!/usr/bin/env bash
# Decode (tg128) and prefill (pp128) tokens/s of llmkit's engine beside llama.cpp's llama-bench (../shared/tools/llama.cpp)
# on the same GGUF files: F32, Q8_0, Q4_0, Q4_K_M of the tiny and small presets, 1 and 2 threads, in ROUNDS rounds.
# Usage: bench/quant-bench.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/jdk.sh
llmkit_find_jdk || exit 2
export JAVA_HOME="$LLMKIT_JAVA_HOME"
mvn -B -ntp -q install -DskipTests >/dev/null
mvn -B -ntp -q test-compile -pl cli >/dev/null
cp=$(mvn -B -ntp -q -Dstyle.color=never -pl cli dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=/dev/stdout | sed "s/\x1b\[[0-9;]*m//g")
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Dllmkit.shared.dir=../shared \
  -cp "cli/target/test-classes:cli/target/classes:$cp" dev.llmkit.cli.QuantBench "$@" 2> >(grep -v "^WARNING: Using incubator" >&2)
