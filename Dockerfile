# Build: docker build -t switchboard .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/switchboard ./cmd/switchboard

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /data switchboard && mkdir -p /data && chown switchboard /data
COPY --from=build /out/switchboard /usr/local/bin/switchboard
USER switchboard
ENV SWITCHBOARD_DATA=/data SWITCHBOARD_ADDR=:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
ENTRYPOINT ["/usr/local/bin/switchboard"]
CMD ["serve"]
