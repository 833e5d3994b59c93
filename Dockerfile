# Multi-stage build of the one binary, for compose.yaml.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /passerelle ./cmd/passerelle

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /passerelle /passerelle
EXPOSE 8080
ENTRYPOINT ["/passerelle"]
