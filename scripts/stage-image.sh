#!/usr/bin/env bash
# Builds a local Docker image FROM scratch around one dynamically linked binary, without any
# registry: the binary, the shared libraries ldd lists (at their own paths), the dynamic loader,
# the CA bundle when present, a minimal /etc/passwd, /etc/group, /etc/nsswitch.conf and /tmp.
#
#   scripts/stage-image.sh <binary> <image:tag> [--expose PORT[/tcp|/udp] ...]
#                          [--entrypoint-arg ARG ...] [--healthcheck "CMD [...]"]
#
# --healthcheck takes what follows HEALTHCHECK in a Dockerfile, e.g.
#   --healthcheck '--interval=2s CMD ["/usr/local/bin/berth-whoami","healthcheck","--port","80"]'
# (exec form only: the image has no shell). Prints the image id. Running it again with the same
# inputs gives the same image (Docker's build cache).
set -euo pipefail

usage() {
  sed -n '6,7p' "$0" | sed 's/^# *//' >&2
  exit 2
}

die() {
  echo "stage-image: $*" >&2
  exit 1
}

[ $# -ge 2 ] || usage
binary=$1
tag=$2
shift 2

[ -f "$binary" ] && [ -x "$binary" ] || die "binary '$binary' is not an executable file"
[ -n "$tag" ] || die "image tag is empty"

exposes=()
entry_args=()
healthcheck=""
while [ $# -gt 0 ]; do
  case $1 in
    --expose)
      [ $# -ge 2 ] || die "--expose needs a port"
      [[ $2 =~ ^[0-9]{1,5}(/(tcp|udp))?$ ]] || die "bad --expose '$2': want PORT or PORT/tcp|udp"
      exposes+=("$2")
      shift 2
      ;;
    --entrypoint-arg)
      [ $# -ge 2 ] || die "--entrypoint-arg needs a value"
      entry_args+=("$2")
      shift 2
      ;;
    --healthcheck)
      [ $# -ge 2 ] || die "--healthcheck needs a value"
      [[ $2 == *CMD* || $2 == NONE ]] || die "bad --healthcheck '$2': want '[options] CMD [...]' or NONE"
      healthcheck=$2
      shift 2
      ;;
    *) die "unknown option '$1'" ;;
  esac
done

command -v docker >/dev/null || die "docker is not installed"

context=$(mktemp -d "${TMPDIR:-/tmp}/stage-image.XXXXXX")
trap 'rm -rf "$context"' EXIT
root=$context/rootfs

# Copies a file to the same path inside the image, following symlinks so the file itself lands there.
stage() {
  local source=$1 target=$root$2
  mkdir -p "$(dirname "$target")"
  cp -L "$source" "$target"
}

name=$(basename "$binary")
stage "$binary" "/usr/local/bin/$name"
chmod 0755 "$root/usr/local/bin/$name"

# ldd prints "lib => /path (0x...)" for libraries, "/path (0x...)" for the loader and nothing with a
# path for the vDSO; a static binary makes it fail, and then there is nothing more to stage.
if ldd_output=$(ldd "$binary" 2>&1); then
  if grep -q 'not found' <<<"$ldd_output"; then
    die "missing libraries: $(grep 'not found' <<<"$ldd_output" | tr -s ' \t' ' ')"
  fi
  while read -r path; do
    stage "$path" "$path"
  done < <(sed -nE 's#^\s*(\S+ => )?(/\S+) \(0x[0-9a-f]+\)$#\2#p' <<<"$ldd_output")
fi

if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  stage /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
fi

mkdir -p "$root/etc" "$root/tmp"
chmod 1777 "$root/tmp"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' \
  >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"

# JSON string for the exec-form ENTRYPOINT.
json() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

entrypoint=$(json "/usr/local/bin/$name")
for arg in "${entry_args[@]}"; do
  entrypoint+=", $(json "$arg")"
done

{
  echo "FROM scratch"
  echo "COPY rootfs/ /"
  echo "LABEL org.berth.staged=\"1\""
  for port in "${exposes[@]}"; do
    echo "EXPOSE $port"
  done
  if [ -n "$healthcheck" ]; then
    echo "HEALTHCHECK $healthcheck"
  fi
  echo "ENTRYPOINT [$entrypoint]"
} >"$context/Dockerfile"

# The legacy builder's deprecation notice goes to stderr: show stderr only when the build fails.
if ! docker build --quiet --iidfile "$context/iid" --tag "$tag" "$context" >/dev/null \
  2>"$context/build.log"; then
  cat "$context/build.log" >&2
  die "docker build failed for $tag"
fi
printf '%s\n' "$(cat "$context/iid")"
