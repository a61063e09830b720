# Sourced by ./llmkit, ./test.sh and .ci/run: sets LLMKIT_JAVA_HOME to a JDK >= 25.
# Order: $JAVA_HOME if it is a JDK >= 25, else the newest JDK >= 25 under /usr/lib/jvm
# (then /opt, ~/.sdkman/candidates/java, ~/.jdks). Prints a hint and returns 1 if none is found.

llmkit_jdk_feature() { # prints the feature version (17, 25, ...) of the JDK at $1, or nothing
  local rel="$1/release" v
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  if [ -f "$rel" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$rel")
  else
    v=$("$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
  fi
  echo "$v"
}

llmkit_find_jdk() {
  local want=25 best="" bestv=0 d v
  if [ -n "${JAVA_HOME:-}" ]; then
    v=$(llmkit_jdk_feature "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge "$want" ]; then LLMKIT_JAVA_HOME="$JAVA_HOME"; return 0; fi
  fi
  for d in /usr/lib/jvm/* /opt/* /opt/java/* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*; do
    [ -d "$d" ] || continue
    v=$(llmkit_jdk_feature "$d")
    [ -n "$v" ] || continue
    if [ "$v" -ge "$want" ] && [ "$v" -gt "$bestv" ]; then best="$d"; bestv="$v"; fi
  done
  if [ -z "$best" ]; then
    echo "llmkit: no JDK $want or newer found (JAVA_HOME=${JAVA_HOME:-unset}; looked under /usr/lib/jvm, /opt, ~/.sdkman, ~/.jdks)." >&2
    echo "hint: install one, e.g. 'apt-get install temurin-25-jdk' (Adoptium repository) or 'sdk install java 25-tem', or set JAVA_HOME to it." >&2
    return 1
  fi
  LLMKIT_JAVA_HOME="$best"
}
