#!/usr/bin/env bash
# Runs the whole test suite with JDK 25 (found as ./llmkit finds it). Extra args go to Maven,
# e.g. ./test.sh -Dtest.excludedGroups=slow  (skip slow tests) or  ./test.sh -pl data -am
# The optional Spark module (-Pspark) is built and tested too.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$ROOT/scripts/jdk.sh"
llmkit_find_jdk || exit 2
cd "$ROOT"
JAVA_HOME="$LLMKIT_JAVA_HOME" exec mvn -B -ntp -Pspark verify "$@"
