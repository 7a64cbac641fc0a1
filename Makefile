# idpbot — common tasks. `make test` is what CI runs (.ci/run).
GO      ?= go
BIN     ?= bin/idpbot
DATA    ?= $(CURDIR)/data
EXAMPLE := deploy/examples/catalog/all.yaml
LISTEN  ?= 127.0.0.1:8080

.PHONY: build run test bench lint fmt clean

build:
	$(GO) build -o $(BIN) ./cmd/idpbot

# Runs the bot on its defaults: data in ./data, the example catalog ingested,
# the console chat on this terminal, HTTP (health, metrics, and Slack when
# SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET or SLACK_APP_TOKEN are set) on
# $(LISTEN); logs go to ./data/idpbot.log.
# The example actions call webhooks whose secrets come from the environment;
# make run gives them demo values (the example URLs do not resolve, so an
# approved run fails with a network error: a real deploy system goes there).
DEMO_ENV = RESTART_WEBHOOK_SECRET=$${RESTART_WEBHOOK_SECRET:-demo-only-not-a-secret} ACCESS_TENANT=$${ACCESS_TENANT:-demo} ACCESS_WEBHOOK_SECRET=$${ACCESS_WEBHOOK_SECRET:-demo-only-not-a-secret} GITHUB_TOKEN=$${GITHUB_TOKEN:-demo-not-a-token}

run: build
	$(DEMO_ENV) $(BIN) --data-dir $(DATA) serve --console --listen $(LISTEN) --catalog $(EXAMPLE) \
		--scorecards deploy/examples/scorecards --actions deploy/examples/actions

test:
	$(GO) vet ./...
	$(GO) test -race ./...

# Benchmarks at N = 10k and 100k entities, printed as tables
# (docs/benchmarks.md records the figures). BENCH_SIZES=10000 for a quick
# run; each size is ingested BENCH_RUNS times (default 3) and the median run
# is judged. Then the chat and scorecard benchmarks: who-owns through the router
# at BENCH_N entities (default 100000), the signed Slack slash-command
# handler under load on loopback, and 100k entities x 20 rules.
BENCH_N ?= 100000
bench:
	$(GO) run ./catalog/catalogtest/benchtable $(if $(BENCH_SIZES),-sizes $(BENCH_SIZES),) $(if $(BENCH_RUNS),-runs $(BENCH_RUNS),)
	@echo
	@echo "Chat and scorecard benchmarks (go test -bench; N=$(BENCH_N) for the router):"
	@echo
	@echo "| benchmark | figures |"
	@echo "|---|---|"
	@{ IDPBOT_BENCH_N=$(BENCH_N) $(GO) test -run '^$$' -bench RouterWhoOwns -benchtime 20000x ./bot/; \
	   $(GO) test -run '^$$' -bench 'SlashCommand' -benchtime 20000x ./bot/slack/; \
	   $(GO) test -run '^$$' -bench Evaluate20Rules -benchtime 3x ./scoring/; } \
	 | awk '/^Benchmark/ { out = ""; for (i = 3; i < NF; i += 2) out = out (out == "" ? "" : ", ") $$i " " $$(i+1); print "| " $$1 " | " out " |" }'

# gofmt, go vet, and the deploy artefacts: the Helm chart (helm lint and
# template; helm is built once into bin/tools with go install), the rendered
# manifests in sync with it, the Dockerfile policy and the Grafana dashboard
# (deploy/lint.sh).
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	bash deploy/lint.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin $(DATA)
