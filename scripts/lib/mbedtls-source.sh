# mbedtls-source.sh - fetch and unpack Debian's `mbedtls` source package of
# the next Debian release, for scripts/install-mbedtls (host) and
# scripts/install-mbedtls-rv32 (firmware), and of another release for
# scripts/install-mbedtls2 (an older peer). Source it, then call
#   mbedtls_source WORKDIR PROG [LINE SUITE]
# which leaves the source tree in $MBEDTLS_SRC and its upstream version in
# $MBEDTLS_VERSION (a LINE.x release: by default MBEDTLS_LINE, from the
# Debian release MBEDTLS_SUITE), or exits with a one-line error naming
# PROG. apt-get runs with a private configuration that knows only that
# release's sources, on the mirror this machine's own apt sources use:
# no registry host is written into the repository.

MBEDTLS_LINE=3.6     # the LTS line ESP-IDF 5 and Zephyr ship
MBEDTLS_SUITE=trixie # the Debian release that carries it

mbedtls_source() {
    local work=$1 prog=$2 line=${3:-$MBEDTLS_LINE} suite=${4:-$MBEDTLS_SUITE} mirror tarball top
    mirror=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources \
                 /etc/apt/sources.list.d/*.list /etc/apt/sources.list 2>/dev/null |
             grep -vE 'security|nodesource|google' |
             sed -E 's/^URIs:[[:space:]]*//; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//; s/[[:space:]].*//' |
             head -n1 || true)
    if [ -z "$mirror" ]; then
        echo "$prog: no Debian mirror found in /etc/apt/sources.list{,.d}" >&2
        exit 1
    fi
    mkdir -p "$work/apt/lists/partial" "$work/src"
    echo "deb-src [trusted=yes] $mirror $suite main" >"$work/apt/sources.list"
    local apt_opts=(-o "Dir::Etc::sourcelist=$work/apt/sources.list" -o "Dir::Etc::sourceparts=-"
                    -o "Dir::State::Lists=$work/apt/lists" -o "APT::Sandbox::User=root"
                    -o "Acquire::AllowInsecureRepositories=true" -qq)
    apt-get "${apt_opts[@]}" update >&2
    (cd "$work/src" && apt-get "${apt_opts[@]}" source --download-only mbedtls >&2) || {
        echo "$prog: could not fetch Debian's mbedtls source from $mirror ($suite)" >&2
        exit 1
    }
    tarball=$(ls "$work"/src/mbedtls_*.orig.tar.* 2>/dev/null | head -n1 || true)
    MBEDTLS_VERSION=$(basename "${tarball:-none}" | sed -nE 's/^mbedtls_([0-9.]+)\.orig\.tar\..*/\1/p')
    case "$MBEDTLS_VERSION" in
        "$line".*) ;;
        *) echo "$prog: $suite has mbedtls '${MBEDTLS_VERSION:-?}', not $line.x" >&2
           exit 1 ;;
    esac
    tar -xf "$tarball" -C "$work/src"
    # The top directory is mbedtls-VERSION in 3.6's tarball, but named
    # after a commit in 2.28's: then take the one the tarball has.
    top=mbedtls-$MBEDTLS_VERSION
    [ -d "$work/src/$top" ] || top=$(tar -tf "$tarball" | sed -n '1s|/.*||p')
    MBEDTLS_SRC="$work/src/$top"
    if [ -z "$top" ] || [ ! -f "$MBEDTLS_SRC/CMakeLists.txt" ]; then
        echo "$prog: $tarball did not unpack to a source tree" >&2
        exit 1
    fi
}
