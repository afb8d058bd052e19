#!/usr/bin/env bash
# The container built from the Dockerfile (issue #29, item 10): it answers /healthz, keeps its
# data across a restart on its volume, runs as the service user with its files private, and
# prints no secret. CI runs this; it stops, saying so, where no Docker engine answers (this
# project's CI machines have the Docker client only).
#
# No image registry is reachable here, so the base image comes from Debian's packages:
# debootstrap into a folder, then `docker import`; the binary is built on the host and copied in
# (`--target runtime-prebuilt`).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! docker info >/dev/null 2>&1; then
    echo "container check: no Docker engine answers here (docker info failed); skipped"
    exit 0
fi
base=scelle-base:bookworm
if ! docker image inspect "$base" >/dev/null 2>&1; then
    command -v debootstrap >/dev/null || apt-get install -y --no-install-recommends debootstrap
    root=$(mktemp -d)
    debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian
    tar -C "$root" -c . | docker import - "$base"
    rm -rf "$root"
fi
cargo build --release --locked
docker build --target runtime-prebuilt --build-arg RUNTIME_IMAGE="$base" -t scelle:check .

volume=scelle-check-$$
name=scelle-check-$$
port=$((20000 + $$ % 20000))
cleanup() {
    docker rm -f "$name" >/dev/null 2>&1 || true
    docker volume rm "$volume" >/dev/null 2>&1 || true
}
trap cleanup EXIT

healthy() {
    for _ in $(seq 60); do
        if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then return 0; fi
        sleep 1
    done
    echo "container check: /healthz never answered"; docker logs "$name"; return 1
}

docker run -d --name "$name" -p "127.0.0.1:$port:8080" -v "$volume:/var/lib/scelle/scelle-data" scelle:check >/dev/null
healthy
token=$(docker exec "$name" cat /var/lib/scelle/scelle-data/first-admin.token)
curl -fsS -X POST "http://127.0.0.1:$port/api/v1/agencies" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d '{"id":"bj.police.ocrc","name":"OCRC"}' >/dev/null
size_before=$(curl -fsS "http://127.0.0.1:$port/log/checkpoint" -H "Authorization: Bearer $token" | sed -n 2p)

# The service user owns the data and keys, which nobody else may read; the output holds no token.
owner=$(docker exec "$name" stat -c '%U %a' /var/lib/scelle/scelle-data /var/lib/scelle/scelle-data/node.key)
[ "$owner" = $'scelle 700\nscelle 600' ] || { echo "container check: owners and modes: $owner"; exit 1; }
if docker logs "$name" 2>&1 | grep -qF "$token"; then
    echo "container check: the admin token is in the container's log"; exit 1
fi

docker restart "$name" >/dev/null
healthy
size_after=$(curl -fsS "http://127.0.0.1:$port/log/checkpoint" -H "Authorization: Bearer $token" | sed -n 2p)
[ "$size_after" -ge "$size_before" ] || { echo "container check: the log shrank from $size_before to $size_after"; exit 1; }
again=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/api/v1/agencies" \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{"id":"bj.police.ocrc","name":"OCRC"}')
[ "$again" = 409 ] || { echo "container check: the agency made before the restart is gone ($again)"; exit 1; }
status=starting
for _ in $(seq 60); do
    status=$(docker inspect -f '{{.State.Health.Status}}' "$name")
    [ "$status" = starting ] || break
    sleep 1
done
[ "$status" = healthy ] || { echo "container check: Docker's health check says $status"; exit 1; }
echo "container check: healthy, log size $size_before then $size_after after a restart, data owned by scelle"
