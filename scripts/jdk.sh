# Sourced by ./llmkit, ./test.sh and bench/test-main.sh: sets LLMKIT_JAVA_HOME to a JDK >= 25.
# Order: $JAVA_HOME if it is a JDK >= 25, else the newest JDK >= 25 under /usr/lib/jvm
# (then /opt, ~/.sdkman/candidates/java, ~/.jdks). Prints a hint and returns 1 if none is found.

# Sets REPLY to the feature version (17, 25, ...) of the JDK at $1, or to nothing. Bash builtins only where
# the JDK has a release file: each fork and exec costs a launch 10-15 ms on a VM whose page faults are dear
# (sed in a command substitution per JDK took ./llmkit 67 ms to find one among four).
llmkit_jdk_feature() {
  REPLY=""
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  if [ -f "$1/release" ]; then
    local line re='^JAVA_VERSION="([0-9]+)'
    while IFS= read -r line || [ -n "$line" ]; do
      if [[ $line =~ $re ]]; then REPLY="${BASH_REMATCH[1]}"; return 0; fi
    done < "$1/release"
  else
    REPLY=$("$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1) || REPLY=""
  fi
}

llmkit_find_jdk() {
  local want=25 best="" bestv=0 d v
  if [ -n "${JAVA_HOME:-}" ]; then
    llmkit_jdk_feature "$JAVA_HOME"; v="$REPLY"
    if [ -n "$v" ] && [ "$v" -ge "$want" ]; then LLMKIT_JAVA_HOME="$JAVA_HOME"; return 0; fi
  fi
  for d in /usr/lib/jvm/* /opt/* /opt/java/* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*; do
    [ -d "$d" ] || continue
    llmkit_jdk_feature "$d"; v="$REPLY"
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
