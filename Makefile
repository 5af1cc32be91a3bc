# One command runs every test: `make test`. CI (.ci/run) calls the same target.
# Each area keeps its own target below; `test` runs them all.
GO ?= go
RACE_PKGS := ./sync/... ./storage/... ./httpapi/...

.PHONY: test lint test-go test-race fuzz-crdt
test: lint test-go test-race fuzz-crdt

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test-go:
	$(GO) test ./...

test-race:
	$(GO) test -race $(RACE_PKGS)

# Fuzz the crdt decoders (~20 s each): malformed input must return an error,
# never panic, and never change the document.
fuzz-crdt:
	$(GO) test ./crdt -run '^$$' -fuzz '^FuzzApplyUpdate$$' -fuzztime 20s
	$(GO) test ./crdt -run '^$$' -fuzz '^FuzzDecodeStateVector$$' -fuzztime 20s
