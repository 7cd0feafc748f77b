# hookd — `make help` lists the targets.
GO ?= go
PKGS := ./...
# VERSION is stamped into release builds (hookd version, the User-Agent): the
# nearest v* tag, else the commit; "make release VERSION=v1.2.0" for a release.
VERSION ?= $(shell git describe --tags --always --dirty --match 'v*' 2>/dev/null || echo dev)

.PHONY: help run test failure-summary test-short test-long test/short test/race cross bench fuzz lint format check tidy plugins fixtures

help: ## show this help
	@grep -hE '^[a-zA-Z/_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-12s %s\n", $$1, $$2}'

run: ## run the daemon on the default config.toml
	$(GO) run ./cmd/hookd serve -config config.toml

# The tests (docs/development.md, "Tests"). make test is what CI runs: every
# test with the race detector, examples/embed included; make test-short is
# the edit loop; make test-long adds the long soak cases, and CI runs it.
#
# TESTFLAGS: -p 4 runs up to four test binaries (or builds) at once where
# go test's default is one per CPU. Most of the slow packages (cmd/hookd,
# runtime, the plugins') wait on daemons, receivers and retry steps more
# than they compute, and with two slots a 2-core machine sat idle behind
# them. -ldflags=-w links the ~46 test binaries without DWARF: a quarter
# less CPU per link (5.2 s → 3.9 s for cmd/hookd's under -race), and
# nothing reads it (stack traces and race reports name files and lines
# from the symbol table). examples/embed (its own module) runs beside the
# main module, once `go build -race ./runtime` has compiled what both need.
TESTFLAGS ?= -p 4 -ldflags=-w
# The slowest packages first: go test starts test binaries in the order it
# is given the packages (./... repeats none), and runtime, last but one in
# path order, was the run's tail, starting at 2 min. Only when PKGS is the
# whole module.
SLOW_PKGS := ./runtime ./internal/engine ./cmd/hookd ./plugins/examples ./plugins/pdk ./internal/wasmhost ./builtin/httpevents ./internal/store
TEST_PKGS = $(if $(filter ./...,$(PKGS)),$(SLOW_PKGS)) $(PKGS)
# What make test-short skips by name, in files that do not call
# testsupport.Short yet: the admin page in Chromium, a daemon built and
# SIGKILLed, and max_age's expiry (10 s of waiting per store).
# A package's time limit: the long soaks (10,000 ordered events on SQLite
# under -race: ~5 min of internal/engine's ~11) get more. Every wait in a
# test is bounded on its own, so a hang fails by name well before either.
TEST_TIMEOUT ?= 20m
SHORT_SKIP ?= ^TestAdminBrowser$$|^TestCrashRecovery$$|^TestMaxAge$$

test: ## the full test suite with the race detector, examples/embed included (PostgreSQL cases run when HOOKD_TEST_POSTGRES_DSN is set)
	$(GO) build -race ./runtime
	@rc=0; log=$$(mktemp); \
	(cd examples/embed && $(GO) test -race -count=1 -timeout 10m ./...) & embed=$$!; \
	{ $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(TESTFLAGS) $(TEST_PKGS) 2>&1 || echo $$? > $$log.rc; } | tee $$log; \
	if [ -s $$log.rc ]; then rc=$$(cat $$log.rc); $(MAKE) --no-print-directory failure-summary LOG=$$log; fi; \
	wait $$embed || rc=$$?; \
	rm -f $$log $$log.rc; \
	exit $$rc

# failure-summary repeats, at the end of a failed run, what failed and the
# tests a timeout caught running: CI shows the end of the output, and a
# timeout's goroutine dump otherwise pushes the names out of it.
failure-summary:
	@echo "== what failed (from $(LOG)):"
	@grep -E -A12 '^panic: test timed out|^running tests:' $(LOG) | grep -v '^goroutine' | head -40 || true
	@grep -E '^(--- FAIL|    --- FAIL|FAIL)' $(LOG) | head -60 || true

test-short: ## the edit loop: go test -short without the race detector, cached results reused; skips what needs a built binary, Chromium, PostgreSQL or long waits
	HOOKD_TEST_POSTGRES_DSN= HOOKD_REQUIRE_POSTGRES= HOOKD_TEST_LONG= $(GO) test -short -skip '$(SHORT_SKIP)' $(TESTFLAGS) $(TEST_PKGS)

test-long: ## make test with the long soak cases too (HOOKD_TEST_LONG=1): 1,000 plugin reloads under load and the like; CI runs it
	HOOKD_TEST_LONG=1 $(MAKE) test TEST_TIMEOUT=40m

test/short: test-short ## alias of test-short

test/race: test ## alias of test

cross: ## build everything for linux, darwin and windows on amd64 and arm64
	@for os in linux darwin windows; do for arch in amd64 arm64; do \
		echo "GOOS=$$os GOARCH=$$arch"; \
		GOOS=$$os GOARCH=$$arch $(GO) build -o /dev/null ./... || exit 1; \
		(cd examples/embed && GOOS=$$os GOARCH=$$arch $(GO) build -o /dev/null ./...) || exit 1; \
	done; done

.PHONY: release
release: ## build hookd and hookd-load for linux, darwin, windows × amd64, arm64 into dist/, with SHA256SUMS
	rm -rf dist && mkdir -p dist
	@commit=$$(git rev-parse --short HEAD 2>/dev/null || echo unknown); \
	date=$$(date -u +%Y-%m-%dT%H:%M:%SZ); \
	ldflags="-s -w -X main.version=$(VERSION) -X main.commit=$$commit -X main.date=$$date"; \
	for os in linux darwin windows; do for arch in amd64 arm64; do \
		ext=; if [ $$os = windows ]; then ext=.exe; fi; \
		for cmd in hookd hookd-load; do \
			out=dist/$$cmd-$(VERSION)-$$os-$$arch$$ext; echo "$$out"; \
			CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -buildvcs=false -ldflags "$$ldflags" -o $$out ./cmd/$$cmd || exit 1; \
		done; \
	done; done
	cd dist && if command -v sha256sum >/dev/null; then sha256sum hookd*; else shasum -a 256 hookd*; fi > SHA256SUMS
	@echo "dist/SHA256SUMS"

bench: ## the benchmarks recorded in docs/benchmarks.md
	$(GO) test -run '^$$' -bench 'BenchmarkEmit' -benchtime 3000x ./runtime/
	$(GO) test -run '^$$' -bench 'BenchmarkEndToEnd' -benchtime 3000x -count 3 ./builtin/jwtwebhook/
	$(GO) test -run '^$$' -bench 'BenchmarkSign' -benchtime 2000x ./internal/jwtsign/
	$(GO) test -run '^$$' -bench 'BenchmarkFanOut' -benchtime 3000x -count 2 ./builtin/httpevents/
	$(GO) test -run '^$$' -bench 'BenchmarkSignup' -benchtime 5000x -count 3 ./builtin/webapi/
	$(GO) test -run '^$$' -bench . -benchtime 2000x ./internal/wasmhost/
	cd bench/extism && $(GO) test -run '^$$' -bench . -benchtime 20000x -count 3

fuzz: ## run every fuzz test for 30 s each
	$(GO) test -run '^$$' -fuzz FuzzParseConfig -fuzztime 30s ./runtime/
	$(GO) test -run '^$$' -fuzz FuzzParseEvent -fuzztime 30s ./internal/api/
	$(GO) test -run '^$$' -fuzz FuzzParsePrivateKeyPEM -fuzztime 30s ./internal/jwtsign/
	$(GO) test -run '^$$' -fuzz FuzzParseRetryAfter -fuzztime 30s ./internal/outbound/
	$(GO) test -run '^$$' -fuzz FuzzParse$$ -fuzztime 30s ./internal/xmlmsg/
	$(GO) test -run '^$$' -fuzz FuzzHostFunctions -fuzztime 30s ./internal/hostfn/
	$(GO) test -run '^$$' -fuzz FuzzParseAnswer -fuzztime 30s ./builtin/webapi/
	$(GO) test -run '^$$' -fuzz FuzzRender -fuzztime 30s ./builtin/webapi/

lint: ## go vet, of the main module and examples/embed (golangci-lint is not installable offline here; see docs/development.md)
	$(GO) vet $(PKGS)
	cd examples/embed && $(GO) vet ./...

format: ## gofmt the tree
	gofmt -w $$(git ls-files '*.go')

plugins: ## build the example WASM plugins into bin/plugins (GOOS=wasip1, -buildmode=c-shared)
	sh plugins/build.sh

fixtures: ## rebuild the hand-written .wat test fixtures (needs wabt's wat2wasm)
	cd internal/wasmhost/testdata && for f in *.wat; do wat2wasm "$$f" -o "$${f%.wat}.wasm"; done

tidy: ## go mod tidy, of every module
	$(GO) mod tidy
	cd examples/embed && $(GO) mod tidy
	cd bench/extism && $(GO) mod tidy

check: format lint tidy ## format, vet and tidy, then fail on a dirty tree
	git diff --exit-code
