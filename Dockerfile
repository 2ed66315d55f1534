# Streamfront: one image for every role (origin, edge, web) and the S3
# server of the demo stack. Multi-stage: Go and Node build, Debian runs with
# ffmpeg.

FROM golang:1.26-bookworm AS go-deps
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
# The S3 server of the demo stack, pinned (the same one `make run` uses).
RUN go install github.com/versity/versitygw/cmd/versitygw@v1.8.0

FROM node:20-bookworm-slim AS player
WORKDIR /src/player
COPY player/package.json player/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY player/ ./
RUN npm run build

FROM go-deps AS build
COPY . .
COPY --from=player /src/player/dist/ ./player/dist/
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/streamfront ./cmd/streamfront

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /var/lib/streamfront streamfront \
 && mkdir -p /var/lib/streamfront/cache /var/lib/streamfront/s3 /var/lib/streamfront/work /var/lib/streamfront/nats \
 && chown -R streamfront /var/lib/streamfront
COPY --from=build /out/streamfront /usr/local/bin/streamfront
COPY --from=go-deps /go/bin/versitygw /usr/local/bin/versitygw
# The deployment file; docker-compose.yml mounts the repository's over it.
COPY streamfront.yaml /etc/streamfront/streamfront.yaml
USER streamfront
WORKDIR /var/lib/streamfront
ENTRYPOINT ["streamfront"]
CMD ["--help"]
