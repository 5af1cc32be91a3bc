# One command runs every test: `make test`. CI (.ci/run) calls the same target.
# Each area keeps its own target below; `test` runs them all.
GO ?= go
RACE_PKGS := ./sync/... ./storage/... ./httpapi/...

.PHONY: test lint test-go test-race bench-storage fuzz-crdt
test: lint oracle-deps content-deps test-go test-race frontend-check fuzz-crdt load-smoke oracle-fresh e2e-yjs e2e-browser e2e-hocuspocus

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test-go:
	$(GO) test ./...

test-race:
	$(GO) test -race $(RACE_PKGS)

# Every Node folder's dependencies, installed from its lockfile (again when it changes).
%/node_modules: %/package-lock.json
	cd $* && npm ci --no-audit --no-fund
	@touch $@

# Browser app (frontend/): dist/ is committed so `go run` needs no Node; the check rebuilds
# into a temporary folder, fails if the committed bundle differs, and runs the unit tests.
.PHONY: frontend-build frontend-check
frontend-build: frontend/node_modules
	cd frontend && node build.mjs

frontend-check: frontend/node_modules
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && (cd frontend && node build.mjs "$$tmp") && \
	  if ! diff -r frontend/dist "$$tmp" >/dev/null; then diff -rq frontend/dist "$$tmp"; \
	    echo "frontend/dist differs from a fresh build: run 'make frontend-build' and commit frontend/dist"; exit 1; fi
	cd frontend && node --test --test-timeout=60000 test/

# CRDT oracle (crdt/testdata/oracle): real Yjs 13.6.33 checks the Go CRDT.
# oracle-fresh replays freshly generated sessions (set QUIRE_ORACLE_SEED to
# reproduce a run; the seed is printed); bench-crdt compares Go, Yjs and ywasm.
ORACLE_DIR := crdt/testdata/oracle
ORACLE_SESSIONS ?= 2000
.PHONY: oracle-deps oracle-fresh bench-crdt
oracle-deps: $(ORACLE_DIR)/node_modules

oracle-fresh: oracle-deps
	QUIRE_ORACLE_SESSIONS=$(ORACLE_SESSIONS) $(GO) test ./crdt -run '^TestOracleFresh$$' -count=1 -v -timeout 20m

bench-crdt: oracle-deps
	@out=$$(mktemp) && trap 'rm -f "$$out"' EXIT && \
	  { $(GO) test ./crdt -run '^$$' -bench 'ReplayAutomergePaper$$' -benchtime 3x -count 1 > "$$out" && \
	    $(GO) test ./crdt -run '^$$' -bench '(Apply|Encode|Load)AutomergePaper$$' -benchtime 2s -count 1 >> "$$out"; \
	    st=$$?; cat "$$out"; [ $$st -eq 0 ]; } && \
	  node --expose-gc $(ORACLE_DIR)/bench.mjs --go "$$out"

# End-to-end (e2e/yjs/): the real quire binary, built once, against real Yjs clients
# (y-websocket's WebsocketProvider) in Node. QUIRE_E2E_VERBOSE=1 echoes the server logs.
E2E_YJS_DIR := e2e/yjs
.PHONY: e2e-yjs
e2e-yjs: $(E2E_YJS_DIR)/node_modules
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  $(GO) build -o "$$tmp/quire" ./cmd/quire && \
	  cd $(E2E_YJS_DIR) && QUIRE_BIN="$$tmp/quire" node --test --test-concurrency=1 --test-timeout=60000 test/

# Fuzz the crdt decoders (~20 s each): malformed input must return an error,
# never panic, and never change the document.
fuzz-crdt:
	$(GO) test ./crdt -run '^$$' -fuzz '^FuzzApplyUpdate$$' -fuzztime 20s
	$(GO) test ./crdt -run '^$$' -fuzz '^FuzzDecodeStateVector$$' -fuzztime 20s
	$(GO) test ./crdt -run '^$$' -fuzz '^FuzzRawUpdates$$' -fuzztime 20s

# Not part of `test`: storage benchmarks with real fsync (see storage/bolt_test.go).
bench-storage:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./storage/

# Live collaboration server (sync/, httpapi/, cmd/quire). Its tests run in test-go and
# test-race; sync-golden regenerates the y-protocols golden messages with real y-protocols.
.PHONY: run build-server sync-golden bench-server
run:
	$(GO) run ./cmd/quire

build-server:
	$(GO) build -o quire ./cmd/quire

sync-golden:
	cd sync/testdata/yprotocols && npm ci --no-audit --no-fund && node gen.mjs > golden.json

# One edit through the whole server (apply, fsync, fan-out to every client).
bench-server:
	$(GO) test -run '^$$' -bench EditFanOut -benchtime 300x ./httpapi/

# Content formats (httpapi/content): goldens written by real TipTap 3 editors through
# y-tiptap, read back by y-prosemirror (content-goldens regenerates them); the Go
# tests also open the documents they write in real TipTap editors (content-deps).
PM_ORACLE_DIR := httpapi/content/testdata/pm
.PHONY: content-deps content-goldens
content-deps: $(PM_ORACLE_DIR)/node_modules

content-goldens: content-deps
	cd $(PM_ORACLE_DIR) && node gen.mjs

# Browser tests (e2e/browser/): the real binary and Debian's Chromium (/usr/bin/chromium,
# `apt-get install -y chromium`), driven by playwright-core. Screenshots: e2e/browser/test-results/.
.PHONY: e2e-browser
e2e-browser: e2e/browser/node_modules
	cd e2e/browser && node --test --test-concurrency=1 --test-timeout=180000

# Load tool (cmd/quire-load): a tiny load against the real binary (4 docs x 3 editors, 5 s);
# fails if any edit is lost, duplicated or diverges. Figures come from e2e/load runs, not here.
.PHONY: load-smoke
load-smoke:
	e2e/load/run.sh quire -docs 4 -clients 3 -rate 5 -duration 5s -drain 10s

# Hocuspocus clients (e2e/hocuspocus): the real @hocuspocus/provider 4.8.0 (and y-websocket)
# against the real binary, built once here for every test file.
HOCUS_DIR := e2e/hocuspocus
.PHONY: e2e-hocuspocus
e2e-hocuspocus: $(HOCUS_DIR)/node_modules
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && $(GO) build -o "$$tmp/quire" ./cmd/quire && \
	  cd $(HOCUS_DIR) && QUIRE_BIN="$$tmp/quire" node --test --test-concurrency=1
