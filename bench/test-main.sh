#!/usr/bin/env bash
# Builds the project and runs one main class of the cli module's test sources (the benchmarks) with the
# test classpath and the JVM flags the engine needs. Usage: bench/test-main.sh CLASS [ARGS...]
# The benchmarks measure the warm engine in process, so its first-second cold kernels are off here
# (llmkit.coldStartSeconds=0); FirstCallBench measures fresh ./llmkit processes, which have them.
# LLMKIT_JAVA_OPTS adds JVM options, as for ./llmkit (e.g. -Dllmkit.sgemm.rows=6).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/jdk.sh
llmkit_find_jdk || exit 2
export JAVA_HOME="$LLMKIT_JAVA_HOME"
# Maven's quiet output goes to stdout; shown only when a build fails (a compile error, say), which would
# otherwise end the benchmark without a word
quiet() { local out; out=$("$@" 2>&1) || { printf '%s\n' "$out" | grep -v '^WARNING' >&2; exit 1; }; }
quiet mvn -B -ntp -q install -DskipTests
quiet mvn -B -ntp -q test-compile -pl cli
cp=$(mvn -B -ntp -q -Dstyle.color=never -pl cli dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=/dev/stdout | sed "s/\x1b\[[0-9;]*m//g")
main="$1"
shift
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Dllmkit.coldStartSeconds=0 -Dllmkit.shared.dir=../shared \
  ${LLMKIT_JAVA_OPTS:-} -cp "cli/target/test-classes:cli/target/classes:$cp" "dev.llmkit.cli.$main" "$@" 2> >(grep -v "^WARNING: Using incubator" >&2)
