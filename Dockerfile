# The node in a container: its data folder on a volume, owned by the service user, a health check,
# and no secret in its output (the first admin token of a node `serve` makes goes to a 0600 file
# in the volume, `first-admin.token`).
#
#   docker build -t scelle .                                   # compiles in the Rust image
#   docker build --target runtime-prebuilt -t scelle .         # the binary built on the host
#   docker run -d -p 8080:8080 -v scelle-data:/var/lib/scelle/scelle-data scelle
#
# Where no image registry is reachable, scripts/container_check.sh makes the base image from
# Debian's packages (debootstrap, then `docker import`) and passes it as RUNTIME_IMAGE.
ARG BUILD_IMAGE=rust:1.95-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${BUILD_IMAGE} AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev libssl-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
# SQLite build options (see the file): without them appends are several times slower.
COPY .cargo .cargo
COPY src src
COPY migrations migrations
COPY verifier verifier
COPY templates templates
COPY static static
# The built-in access policies and retention rules are compiled into the binary.
COPY policies policies
RUN cargo build --release --locked

FROM ${RUNTIME_IMAGE} AS runtime-base
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 libssl3 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /var/lib/scelle --create-home --shell /usr/sbin/nologin scelle
# A copy to edit and load with `--policies /etc/scelle/policies` (or SCELLE_POLICIES).
COPY policies /etc/scelle/policies
USER scelle
WORKDIR /var/lib/scelle
# Made here, by the service user, mode 0700: a volume mounted on it starts with that owner.
RUN mkdir -m 0700 /var/lib/scelle/scelle-data
# The default folder (./scelle-data) is the only one `serve` initializes on its own.
VOLUME /var/lib/scelle/scelle-data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["scelle"]
CMD ["serve", "--listen", "0.0.0.0:8080"]

FROM runtime-base AS runtime-prebuilt
COPY target/release/scelle /usr/local/bin/scelle

FROM runtime-base AS runtime
COPY --from=build /src/target/release/scelle /usr/local/bin/scelle
