#!/usr/bin/env bash
# Evaluation speed: examples/s of llmkit eval on PIQA and MMLU (tiny, small; 1 thread) and scored tokens/s
# against llama-bench pp128 on the same GGUF (../shared/tools/llama.cpp and ../shared/data needed).
# Usage: bench/eval-bench.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/jdk.sh
llmkit_find_jdk || exit 2
export JAVA_HOME="$LLMKIT_JAVA_HOME"
mvn -B -ntp -q install -DskipTests >/dev/null
mvn -B -ntp -q test-compile -pl cli >/dev/null
cp=$(mvn -B -ntp -q -Dstyle.color=never -pl cli dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=/dev/stdout | sed "s/\x1b\[[0-9;]*m//g")
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Dllmkit.shared.dir=../shared \
  -cp "cli/target/test-classes:cli/target/classes:$cp" dev.llmkit.cli.EvalBench "$@" 2> >(grep -v "^WARNING: Using incubator" >&2)
