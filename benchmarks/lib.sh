# Shared by the benchmark commands (run.sh, cluster.sh, slack.sh); sourced from the repository's root.

# install_missing "<why>" <package> <command>...: installs the Debian package when one of the commands is missing.
install_missing() {
  local why=$1 package=$2 cmd
  shift 2
  for cmd in "$@"; do
    if ! command -v "$cmd" >/dev/null; then
      echo "installing $package ($*) $why"
      apt-get update -qq && apt-get install -y -qq "$package"
      return
    fi
  done
}

# The node's jar (target/scairelay.jar) and the harness's (benchmarks/target/scairelay-bench.jar).
build_node_and_harness() {
  echo "building the node and the benchmark harness"
  mvn -q -DskipTests package
  mvn -q -f benchmarks/pom.xml package
}
