#!/usr/bin/env bash
# Decode/prefill tokens/s of llmkit's engine beside llama.cpp (de.kherud:llama, test scope) on the
# same F32 GGUF, 1 and 2 threads, tiny and small presets, in ROUNDS rounds (default 3) whose medians it prints.
# Usage: bench/decode-bench.sh [TOKENS [ROUNDS]]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/jdk.sh
llmkit_find_jdk || exit 2
export JAVA_HOME="$LLMKIT_JAVA_HOME"
mvn -B -ntp -q install -DskipTests >/dev/null
mvn -B -ntp -q test-compile -pl cli >/dev/null
cp=$(mvn -B -ntp -q -Dstyle.color=never -pl cli dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=/dev/stdout | sed "s/\x1b\[[0-9;]*m//g")
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC \
  -cp "cli/target/test-classes:cli/target/classes:$cp" dev.llmkit.cli.DecodeBench "$@" 2> >(grep -v "^WARNING: Using incubator" >&2)
