# Streamfront. `make run` starts everything on this machine; `make test` is
# what CI runs. See README.md.

GO        ?= go
VERSITYGW := github.com/versity/versitygw/cmd/versitygw@v1.8.0
GOBIN     := $(shell $(GO) env GOPATH)/bin
# golangci-lint is installed into a directory named by its version, so a
# different golangci-lint found on PATH or in GOBIN is never the one used,
# and changing the pin installs the new version.
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT_DIR     := $(shell $(GO) env GOPATH)/tools/golangci-lint-$(GOLANGCI_LINT_VERSION)
GOLANGCI_LINT         := $(GOLANGCI_LINT_DIR)/golangci-lint
BIN       := bin/streamfront
PLAYER    := player/dist/player.js

# Fuzz targets run briefly in `make test`: package:Target.
FUZZ_TARGETS := \
	./internal/httprange:FuzzParse \
	./internal/httprange:FuzzParseContentRange \
	./internal/httpcond:FuzzParseDate \
	./edge:FuzzAddTokenToPlaylist \
	./edge:FuzzCachingFields \
	./edge/fastpath:FuzzReadRequest \
	./internal/urlsign:FuzzVerify \
	./packager/index:FuzzDecode \
	./packager/mp4box:FuzzScanTop \
	./packager/mp4box:FuzzShiftChunkOffsets \
	./packager/mp4box:FuzzNormalizeSound \
	./packager/probe:FuzzProbe \
	./packager/mpegts:FuzzNewSegment_SampleEntry \
	./internal/hlsattr:FuzzParse \
	./internal/hlsattr:FuzzMapQuoted \
	./edge/steering:FuzzSteerMaster \
	./packager/fmp4:FuzzDescribeInit \
	./origin:FuzzGrowingFiles \
	./internal/config:FuzzParse \
	./origin/webhooks:FuzzVerify \
	./packager/thumbs:FuzzParseImage \
	./packager/captions:FuzzToWebVTT \
	./origin/apikeys:FuzzAuthenticateParse \
	./internal/usage:FuzzClassify \
	./origin/live:FuzzLivePath \
	./origin/live:FuzzLadderKey \
	./origin:FuzzParseDVRObject \
	./origin:FuzzParseRecordedFile \
	./web:FuzzParseEdgeMetrics \
	./edge:FuzzLivePartTarget \
	./internal/livehdr:FuzzParseViewers \
	./edge:FuzzFastHost
# 31 targets in 22 packages: each package's instrumented build costs more
# than its fuzzing, so the short run stays short (make fuzz FUZZTIME=60s for a longer look).
FUZZTIME ?= 5s
# Each new interesting input is minimised for up to this long (Go's default
# is 60 s): with multi-kilobyte MP4 seeds the default spent a short run
# minimising instead of fuzzing (FuzzProbe: a few execs in 8 s).
FUZZMINIMIZETIME ?= 1s

.PHONY: all build run test test-go lint fuzz bench cachetests tools player clean

all: build

## build: the player bundle and the streamfront binary
build: $(PLAYER)
	$(GO) build -o $(BIN) ./cmd/streamfront

player/node_modules: player/package.json player/package-lock.json
	cd player && npm ci --no-audit --no-fund
	@touch player/node_modules

$(PLAYER): player/node_modules $(wildcard player/src/*)
	cd player && npm run build

player: $(PLAYER)

# Lighthouse (pinned; 12.2.3 is the last that runs on Node 20), which
# ./web's accessibility test runs on every page of the site.
WEBE2E_NODE := web/e2e/node_modules

$(WEBE2E_NODE): web/e2e/package.json web/e2e/package-lock.json
	cd web/e2e && npm ci --no-audit --no-fund
	@touch $(WEBE2E_NODE)

# The public HTTP cache test suite (http-cache-tests, pinned), which
# ./edge/cachetests runs against the edge in `make test`.
CACHETESTS_NODE := edge/cachetests/node_modules

$(CACHETESTS_NODE): edge/cachetests/package.json edge/cachetests/package-lock.json
	cd edge/cachetests && npm ci --no-audit --no-fund
	@touch $(CACHETESTS_NODE)

## tools: the pinned S3 server used by `make run` and the tests, and the pinned linter
tools: $(GOLANGCI_LINT)
	@command -v versitygw >/dev/null 2>&1 || test -x $(GOBIN)/versitygw || $(GO) install $(VERSITYGW)

$(GOLANGCI_LINT):
	GOBIN=$(GOLANGCI_LINT_DIR) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

## lint: golangci-lint with .golangci.yml (linters and gofmt/goimports), tests included
lint: $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) run ./...

## run: S3 server, origin, two edges and the web site, in one process
run: build tools
	./$(BIN) all -config streamfront.yaml

## test: unit, integration, end-to-end (real S3, ffmpeg, Chromium) and short fuzzing
test: build tools lint test-go fuzz

# Packages whose heart is concurrency also run under the race detector
# (edge's timeout tests stretch their timeouts under -race: timeoutScale;
# edge/cachetests only drives the suite and is left out). One package at a
# time: the router's Chromium test timed out once while origin/live's and
# the edge's race runs shared the 2 cores with it.
RACE_PACKAGES := ./internal/queue/... ./internal/usage/... ./origin/... \
	./edge/ ./edge/fastpath/... ./edge/internal/... ./edge/steering/...

# internal/stack (the whole house, its Chromium corpus, the site and live
# through edges) is the longest package: 15 min once on a machine loaded by
# other work, so each package may take 20.
#
# The race packages run only under -race: the race pass runs the same
# tests, so a second plain run of them would only cost time (about 7
# minutes of CPU). The tests that skip themselves under -race
# (PLAIN_ONLY_TESTS, each says why) run plain on their own.
PLAIN_ONLY_TESTS := TestResumable_AnUploadCutOffResumesAndPlays
test-go: $(CACHETESTS_NODE) $(WEBE2E_NODE)
	mkdir -p test-artifacts
	STREAMFRONT_ARTIFACTS=$(CURDIR)/test-artifacts $(GO) test -count=1 -timeout 20m \
		$$($(GO) list ./... | grep -vxF "$$($(GO) list $(RACE_PACKAGES))")
	$(GO) test -count=1 -timeout 8m -run '^($(PLAIN_ONLY_TESTS))$$' ./origin/
	STREAMFRONT_ARTIFACTS=$(CURDIR)/test-artifacts $(GO) test -race -p 1 -count=1 -timeout 8m $(RACE_PACKAGES)

# One instrumented build per package, each of its targets run from it
# (.ci/fuzz says why, and how the Go 1.26 coordinator's deadline race is
# told from a failing input).
fuzz:
	GO=$(GO) .ci/fuzz $(FUZZTIME) $(FUZZMINIMIZETIME) $(FUZZ_TARGETS)

## bench: side-by-side figures against nginx, Varnish, nginx-rtmp and ffmpeg (BENCH_FLAGS="-steps live" runs one step)
bench: build tools
	$(GO) run ./bench/cmd/benchtable $(BENCH_FLAGS)

## cachetests: http-cache-tests against the edge, nginx and Varnish, side by side (about 75 s)
cachetests: build $(CACHETESTS_NODE)
	$(GO) run ./bench/cmd/cachetests

clean:
	rm -rf bin player/dist/*.js player/dist/*.css player/dist/*.map test-artifacts
