# shellcheck shell=bash
# Shared JDK discovery for ./mvnw and ./tinygrad4j. Source this file, then call
#   tg4j_find_jdk || exit 1
# On success JAVA_HOME is exported pointing to a JDK (with javac) whose feature
# version is >= TG4J_MIN_JAVA (default 25). Search order:
#   1. $JAVA_HOME
#   2. /usr/lib/jvm/temurin-25-jdk-amd64, then every other /usr/lib/jvm/* (newest first)
#   3. the `java` found on PATH
# On failure a message is printed to stderr and the function returns 1.

: "${TG4J_MIN_JAVA:=25}"

# Prints the feature (major) version of the JDK at $1, or nothing.
tg4j_jdk_feature_version() {
  local home=$1 ver=""
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 1
  if [ -r "$home/release" ]; then
    ver=$(sed -n 's/^JAVA_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$home/release" | head -n 1)
  fi
  if [ -z "$ver" ]; then
    ver=$("$home/bin/java" -version 2>&1 | sed -n 's/.* version "\([^"]*\)".*/\1/p' | head -n 1)
  fi
  [ -n "$ver" ] || return 1
  case $ver in
    1.*) ver=${ver#1.} ;;
  esac
  ver=${ver%%[!0-9]*}
  [ -n "$ver" ] || return 1
  printf '%s\n' "$ver"
}

# Succeeds if $1 is a JDK home with feature version >= TG4J_MIN_JAVA.
tg4j_is_suitable_jdk() {
  local v
  [ -n "${1:-}" ] && [ -d "$1" ] || return 1
  v=$(tg4j_jdk_feature_version "$1") || return 1
  [ "$v" -ge "$TG4J_MIN_JAVA" ] 2>/dev/null
}

tg4j_find_jdk() {
  local looked=() cand best="" best_v=0 v java_bin
  # 1. JAVA_HOME
  if [ -n "${JAVA_HOME:-}" ]; then
    looked+=("JAVA_HOME=$JAVA_HOME")
    if tg4j_is_suitable_jdk "$JAVA_HOME"; then
      export JAVA_HOME
      return 0
    fi
  else
    looked+=("JAVA_HOME (unset)")
  fi
  # 2. /usr/lib/jvm: preferred Temurin 25 first, otherwise the newest suitable one
  looked+=("/usr/lib/jvm/*")
  if tg4j_is_suitable_jdk /usr/lib/jvm/temurin-25-jdk-amd64; then
    best=/usr/lib/jvm/temurin-25-jdk-amd64
  else
    for cand in /usr/lib/jvm/*; do
      [ -d "$cand" ] || continue
      v=$(tg4j_jdk_feature_version "$cand" 2>/dev/null) || continue
      if [ "$v" -ge "$TG4J_MIN_JAVA" ] && [ "$v" -gt "$best_v" ]; then
        best=$cand
        best_v=$v
      fi
    done
  fi
  if [ -n "$best" ]; then
    export JAVA_HOME=$best
    return 0
  fi
  # 3. java on PATH
  if java_bin=$(command -v java 2>/dev/null); then
    java_bin=$(readlink -f "$java_bin" 2>/dev/null || printf '%s' "$java_bin")
    cand=$(dirname "$(dirname "$java_bin")")
    looked+=("java on PATH ($java_bin)")
    if tg4j_is_suitable_jdk "$cand"; then
      export JAVA_HOME=$cand
      return 0
    fi
  else
    looked+=("java on PATH (none)")
  fi
  {
    echo "error: JDK $TG4J_MIN_JAVA or newer is required (a full JDK with javac), but none was found."
    echo "Looked at:"
    for cand in "${looked[@]}"; do echo "  - $cand"; done
    echo "Install a JDK $TG4J_MIN_JAVA+ (e.g. Temurin 25) or set JAVA_HOME to one."
  } >&2
  return 1
}
