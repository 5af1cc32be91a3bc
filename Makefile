# One command runs every test: `make test`. CI (.ci/run) calls the same target.
# Each area keeps its own target below; `test` runs them all.
GO ?= go
RACE_PKGS := ./sync/... ./storage/... ./httpapi/...

.PHONY: test lint test-go test-race
test: lint test-go test-race frontend-check

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
