# Multi-stage build: compile with the full toolchain, run on a slim image.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev libssl-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
# SQLite build options (see the file): without them appends are several times slower.
COPY .cargo .cargo
COPY src src
COPY migrations migrations
# The built-in access policies and retention rules are compiled into the binary.
COPY policies policies
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 libssl3 ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/scelle --create-home scelle
COPY --from=build /src/target/release/scelle /usr/local/bin/scelle
# A copy to edit and load with `--policies /etc/scelle/policies` (or SCELLE_POLICIES).
COPY policies /etc/scelle/policies
USER scelle
WORKDIR /var/lib/scelle
EXPOSE 8080
ENTRYPOINT ["scelle"]
# The default folder (./scelle-data, here /var/lib/scelle/scelle-data: mount a volume there) is
# the only one `serve` initializes on its own.
VOLUME /var/lib/scelle/scelle-data
CMD ["serve", "--listen", "0.0.0.0:8080"]
