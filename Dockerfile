# syntax=docker/dockerfile:1.7
# Build stage: compile the release binary with cached registry and target folders.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin digimentor \
    && cp target/release/digimentor /usr/local/bin/digimentor

# Runtime stage: a small Debian with CA roots (for SMTP over TLS), run as an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --create-home digimentor
COPY --from=build /usr/local/bin/digimentor /usr/local/bin/digimentor
USER digimentor
WORKDIR /data
ENV BIND=0.0.0.0:8080 \
    DATABASE_URL=sqlite:///data/digimentor.db?mode=rwc \
    LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["digimentor"]
CMD ["serve"]
