# syntax=docker/dockerfile:1
#
# hookd's container image: a static binary (CGO_ENABLED=0; the SQLite
# driver is pure Go) on distroless/static, which has CA certificates,
# time-zone data and a non-root user (nonroot, uid 65532), and no shell.
#
#   docker build -t hookd \
#     --build-arg VERSION=$(git describe --tags --always --dirty) \
#     --build-arg COMMIT=$(git rev-parse --short HEAD) \
#     --build-arg DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) .
#
# How to run it (the token secret, the /data volume, keys): deploy/README.md.

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first: this layer stays cached until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
ARG DATE=unknown
ARG TARGETOS
ARG TARGETARCH
# Cross-compiled on the build machine's platform (pure Go), so a
# multi-platform build (docker buildx --platform linux/amd64,linux/arm64)
# runs no emulated compiler.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" \
      -o /out/hookd ./cmd/hookd
# The volume's mount point, owned by nonroot: a new named volume is
# initialised from it with that owner and these modes.
RUN mkdir -p /out/data/private && chmod 0750 /out/data && chmod 0700 /out/data/private

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hookd /usr/local/bin/hookd
COPY --from=build --chown=65532:65532 /out/data /data
COPY deploy/docker/config.toml /etc/hookd/config.toml
# Every hookd command that takes -config defaults to it (hookd check,
# hookd keys jwks in docker exec).
ENV HOOKD_CONFIG=/etc/hookd/config.toml
USER 65532:65532
WORKDIR /data
# SQLite store, the "Private" storage (key files), compiled plugins.
VOLUME ["/data"]
EXPOSE 7700
# No curl in the image: hookd asks itself (GET /healthz: the store can be
# read and written).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/hookd", "health", "-addr", "http://127.0.0.1:7700", "-timeout", "4s"]
# docker stop sends SIGTERM: in-flight attempts get 15 s; give the
# container 45 s (docker stop -t 45, or stop_grace_period in compose).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/hookd"]
CMD ["serve"]
