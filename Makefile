# idpbot — common tasks. `make test` is what CI runs (.ci/run).
GO      ?= go
BIN     ?= bin/idpbot
DATA    ?= $(CURDIR)/.idpbot-data
EXAMPLE := deploy/examples/catalog/all.yaml

.PHONY: build run test bench lint fmt clean

build:
	$(GO) build -o $(BIN) ./cmd/idpbot

# Runs idpbot on the example catalog (deploy/examples/catalog) with a local
# data directory: ingest, then answer who owns payments-api.
run: build
	$(BIN) --data-dir $(DATA) catalog ingest $(EXAMPLE)
	$(BIN) --data-dir $(DATA) catalog who-owns payments-api

test:
	$(GO) vet ./...
	$(GO) test -race ./...

# Benchmarks at N = 10k and 100k entities, printed as a table
# (docs/benchmarks.md records the figures). BENCH_SIZES=10000 for a quick run.
bench:
	$(GO) run ./catalog/catalogtest/benchtable $(if $(BENCH_SIZES),-sizes $(BENCH_SIZES),)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin $(DATA)
