# Passerelle: every command a newcomer needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
GO      ?= go
BIN     := bin/passerelle
URL     := http://$(or $(PASSERELLE_HTTP_ADDR),127.0.0.1:8080)

# Test services run on their own ports (Neo4j 7688, Redis 6380), apart from
# the dev ones that `make up` starts (7687, 6379).
TEST_ENV := PASSERELLE_TEST_NEO4J_URI=bolt://127.0.0.1:7688 PASSERELLE_TEST_REDIS_ADDR=127.0.0.1:6380

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

.PHONY: deps
deps: ## install what a fresh machine lacks (Debian's redis-server, Maven, a JDK)
	@scripts/deps.sh

.PHONY: build
build: ## build bin/passerelle
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/passerelle

.PHONY: services
services: deps build ## start the dev Neo4j and Redis and wait until they answer
	@scripts/services.sh start dev
	@$(BIN) ready --neo4j-uri bolt://127.0.0.1:7687 --redis-addr 127.0.0.1:6379

.PHONY: services-down
services-down: ## stop the dev and test services (data is kept in .local/)
	@scripts/app.sh stop || true
	@scripts/services.sh stop dev
	@scripts/services.sh stop test
	@NEO4J_INSTANCE=bench scripts/neo4j.sh stop
	@scripts/pds.sh stop
	@scripts/gotosocial.sh stop

.PHONY: services-test
services-test: deps build ## start the test Neo4j and Redis (ports 7688, 6380), the local PDS and GoToSocial; install the test browser
	@scripts/browser.sh install
	@scripts/services.sh start test
	@scripts/pds.sh start
	@scripts/gotosocial.sh start
	@$(BIN) ready --neo4j-uri bolt://127.0.0.1:7688 --redis-addr 127.0.0.1:6380

.PHONY: services-networks
services-networks: deps ## start the local Bluesky PDS + PLC and GoToSocial (first run: ~1 min npm, ~4 min Go build)
	@scripts/pds.sh start
	@scripts/gotosocial.sh start

.PHONY: up
up: services services-networks ## start everything (services, the local PDS and GoToSocial, serve, work), seed the demo and print the URL
	@scripts/app.sh start
	@scripts/demo.sh seed
	@echo
	@echo "Passerelle is up: $(URL)   (readiness: $(URL)/readyz; metrics from this machine: $(URL)/metrics)"
	@echo "Logs in .local/app/; stop with: make down"

.PHONY: down
down: ## stop serve, work, the dev services and the local networks
	@scripts/app.sh stop
	@scripts/services.sh stop dev
	@scripts/pds.sh stop
	@scripts/gotosocial.sh stop

.PHONY: test
test: services-test ## run every test against the real test services
	$(TEST_ENV) $(GO) test -p 1 -count=1 -timeout 60m ./...

.PHONY: bench
bench: services-test bench-world ## run the benchmarks (figures go in BENCHMARKS.md)
	@scripts/wrk.sh install
	$(TEST_ENV) PASSERELLE_BENCH_NEO4J_URI=bolt://127.0.0.1:7689 $(GO) test -p 1 -run '^$$' -bench . -benchmem -timeout 60m ./...

# The bench world: 100k members, 1M X accounts, over 10M FOLLOWS edges,
# generated and bulk-imported into its own Neo4j (port 7689) when missing or
# when its generator changed.
WORLD := .local/bench-world
.PHONY: bench-world
bench-world: $(WORLD)/.imported ## generate and import the 10M-edge bench world, start its Neo4j
	@NEO4J_INSTANCE=bench NEO4J_PAGECACHE=3g scripts/neo4j.sh start
	@PASSERELLE_DEV=1 $(BIN) migrate --neo4j-uri bolt://127.0.0.1:7689

$(WORLD)/.imported: fixtures/world.go | build
	$(BIN) fixtures world --out $(WORLD)
	NEO4J_INSTANCE=bench scripts/neo4j.sh import-world $(WORLD)
	rm -f $(WORLD)/*.csv
	touch $@

.PHONY: fmt
fmt: ## gofmt and go vet
	gofmt -l -w $$(git ls-files '*.go')
	$(GO) vet ./...
