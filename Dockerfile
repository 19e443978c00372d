# syntax=docker/dockerfile:1.7
# Build stage: compile the release binary with cached registry and target folders, stripped of
# its symbols (about a third of its size).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
ENV CARGO_PROFILE_RELEASE_STRIP=symbols
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
# The SQLite database and the file outbox live here: keep it on a volume.
VOLUME ["/data"]
EXPOSE 8080
# Ready when /readyz answers 200 (the database is reachable); bash's /dev/tcp needs no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /readyz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["digimentor"]
CMD ["serve"]
