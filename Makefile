# One command runs every test: `make test`. CI (.ci/run) calls the same target.
# Each area keeps its own target below; `test` runs them all.
GO ?= go
RACE_PKGS := ./sync/... ./storage/... ./httpapi/...

.PHONY: test lint test-go test-race
test: lint oracle-deps test-go test-race frontend-check e2e-yjs

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test-go:
	$(GO) test ./...

test-race:
	$(GO) test -race $(RACE_PKGS)

# Browser app (frontend/): dist/ is committed so `go run` needs no Node; the check rebuilds
# into a temporary folder and fails if the committed bundle differs.
.PHONY: frontend-build frontend-check
frontend/node_modules:
	cd frontend && npm ci --no-audit --no-fund

frontend-build: frontend/node_modules
	cd frontend && node build.mjs

frontend-check: frontend/node_modules
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && (cd frontend && node build.mjs "$$tmp") && \
	  if ! diff -r frontend/dist "$$tmp" >/dev/null; then diff -rq frontend/dist "$$tmp"; \
	    echo "frontend/dist differs from a fresh build: run 'make frontend-build' and commit frontend/dist"; exit 1; fi

# CRDT oracle (crdt/testdata/oracle): real Yjs 13.6.33 checks the Go CRDT.
# oracle-fresh replays freshly generated sessions (set QUIRE_ORACLE_SEED to
# reproduce a run; the seed is printed); bench-crdt compares Go, Yjs and ywasm.
ORACLE_DIR := crdt/testdata/oracle
ORACLE_SESSIONS ?= 2000
.PHONY: oracle-deps oracle-fresh bench-crdt
$(ORACLE_DIR)/node_modules: $(ORACLE_DIR)/package-lock.json
	cd $(ORACLE_DIR) && npm ci --no-audit --no-fund
	@touch $@

oracle-deps: $(ORACLE_DIR)/node_modules

oracle-fresh: oracle-deps
	QUIRE_ORACLE_SESSIONS=$(ORACLE_SESSIONS) $(GO) test ./crdt -run '^TestOracleFresh$$' -count=1 -v -timeout 20m

bench-crdt: oracle-deps
	@out=$$(mktemp) && trap 'rm -f "$$out"' EXIT && \
	  { $(GO) test ./crdt -run '^$$' -bench 'AutomergePaper$$' -benchtime 5x -count 1 > "$$out"; st=$$?; cat "$$out"; [ $$st -eq 0 ]; } && \
	  node --expose-gc $(ORACLE_DIR)/bench.mjs --go "$$out"

# End-to-end (e2e/yjs/): the real quire binary, built once, against real Yjs clients
# (y-websocket's WebsocketProvider) in Node. QUIRE_E2E_VERBOSE=1 echoes the server logs.
E2E_YJS_DIR := e2e/yjs
.PHONY: e2e-yjs
$(E2E_YJS_DIR)/node_modules: $(E2E_YJS_DIR)/package-lock.json
	cd $(E2E_YJS_DIR) && npm ci --no-audit --no-fund
	@touch $@

e2e-yjs: $(E2E_YJS_DIR)/node_modules
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  $(GO) build -o "$$tmp/quire" ./cmd/quire && \
	  cd $(E2E_YJS_DIR) && QUIRE_BIN="$$tmp/quire" node --test --test-concurrency=1 --test-timeout=60000 test/
