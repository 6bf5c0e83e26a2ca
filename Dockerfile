# syntax=docker/dockerfile:1
#
# audittui's container image: the same image `make image` builds without a
# Docker daemon (internal/image, cmd/mkimage), for those who build with
# Docker or BuildKit. The static binary (CGO_ENABLED=0) on an empty base, with
# /etc/passwd and /etc/group naming the non-root user 65532, its home, /tmp
# and a CA bundle for TLS to Loki and S3; user 65532:65532, entrypoint
# audittui, OCI labels. `audittui ship` runs as root on the nodes: see the
# comment in deploy/daemonset.yaml.
#
#   docker build $(bash scripts/version.sh | sed 's/^/--build-arg /') \
#     --build-arg SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) \
#     -t ghcr.io/audittui/audittui:v0.1.0 .
#
# The build context has no .git (.dockerignore), so Go's build information
# cannot say the version: VERSION, COMMIT, COMMIT_TIME and DIRTY come in as
# build args and reach the binary through -ldflags -X (internal/buildinfo).

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
ARG COMMIT=""
ARG COMMIT_TIME=""
ARG DIRTY=""
ARG TARGETOS=linux
ARG TARGETARCH
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -buildvcs=false \
      -ldflags "-s -w \
        -X github.com/audittui/audittui/internal/buildinfo.version=${VERSION} \
        -X github.com/audittui/audittui/internal/buildinfo.commit=${COMMIT} \
        -X github.com/audittui/audittui/internal/buildinfo.commitTime=${COMMIT_TIME} \
        -X github.com/audittui/audittui/internal/buildinfo.dirty=${DIRTY}" \
      -o /out/usr/local/bin/audittui ./cmd/audittui
RUN mkdir -p /out/etc/ssl/certs /out/home/nonroot /out/tmp \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ca-certificates.crt \
 && printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >/out/etc/passwd \
 && printf 'root:x:0:\nnonroot:x:65532:\n' >/out/etc/group \
 && chmod 0700 /out/home/nonroot \
 && chmod 1777 /out/tmp

FROM scratch
COPY --from=build /out/etc /etc
COPY --from=build /out/tmp /tmp
COPY --from=build /out/usr /usr
COPY --from=build --chown=65532:65532 /out/home/nonroot /home/nonroot
ARG VERSION=""
ARG COMMIT=""
ARG COMMIT_TIME=""
LABEL org.opencontainers.image.title="audittui" \
      org.opencontainers.image.description="Investigate, alert on and ship Kubernetes API-server audit logs" \
      org.opencontainers.image.source="https://github.com/audittui/audittui" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.created="${COMMIT_TIME}"
ENV PATH=/usr/local/bin:/usr/bin:/bin \
    HOME=/home/nonroot
WORKDIR /home/nonroot
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/audittui"]
