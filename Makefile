# vitals: `make run` serves on http://127.0.0.1:8080, `make test` checks
# everything. Both install what they need first (npm packages from
# package-lock.json, copied into static/vendor/).

GO      ?= go
# gin's MessagePack renderer (the ugorji codec) is never used here; without
# it the binary is 9 MB smaller and idles about 6 MiB lower in RSS, since
# its init code and tables are pages the process no longer touches.
# GOFLAGS reaches every go command make runs, the binaries the e2e tests
# and bench/report build included.
export GOFLAGS := -tags=nomsgpack $(GOFLAGS)
BIN     ?= bin/vitals
ARGS    ?=
VENDOR  := static/vendor/uPlot.esm.js static/vendor/uPlot.min.css

.PHONY: run build install test assets generate check-generated lint bench clean

run: build
	./$(BIN) $(ARGS)

# -buildvcs=auto stamps the git commit and version into the binary
# (--version, vitals_build_info) even where GOFLAGS turns stamping off, and
# still builds outside a git checkout.
build: assets
	$(GO) build -buildvcs=auto -o $(BIN) .

# make install [PREFIX=/usr/local] [DESTDIR=] [UNITDIR=/lib/systemd/system]
# puts the binary in $(PREFIX)/bin and the hardened systemd unit of
# deploy/vitals.service, pointed at that binary, in $(UNITDIR); DESTDIR
# stages both under another root for packaging. Then:
# systemctl daemon-reload && systemctl enable --now vitals
PREFIX  ?= /usr/local
DESTDIR ?=
UNITDIR ?= /lib/systemd/system
install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/vitals
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|^ExecStart=/usr/local/bin/vitals|ExecStart=$(PREFIX)/bin/vitals|' deploy/vitals.service >$(DESTDIR)$(UNITDIR)/vitals.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/vitals.service

# npm ci only when the lock file changed since the last install. It also
# installs the devDependencies: the SSE clients the e2e tests run in
# Chromium (eventsource, @microsoft/fetch-event-source), served from
# node_modules at test time and never copied into static/.
node_modules/.package-lock.json: package-lock.json package.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(VENDOR): node_modules/.package-lock.json
	@mkdir -p static/vendor
	cp node_modules/uplot/dist/uPlot.esm.js node_modules/uplot/dist/uPlot.min.css static/vendor/

assets: $(VENDOR)

generate:
	$(GO) tool templ generate -log-level error

# The committed *_templ.go files must be what templ generates from the
# .templ sources.
check-generated: generate
	@git diff --exit-code -- '*_templ.go' || { echo "generated templ files are stale: run 'make generate' and commit"; exit 1; }
	@test -z "$$(git ls-files --others --exclude-standard -- '*_templ.go')" || { echo "uncommitted generated templ files: run 'make generate' and commit"; exit 1; }

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

# Race-checked tests of every package, the end-to-end tests in e2e/
# included (they build and run the real binary; the browser and Redis ones
# skip locally when Chromium or redis-server is missing, and fail when
# CI=true), then every benchmark once so none rots, then the JS unit tests.
test: assets check-generated lint
	$(GO) test -race -count=1 -timeout 20m ./...
	$(GO) test -run '^$$' -bench . -benchtime=1x -count=1 ./...
	node --test static/

# Micro-benchmarks and the load scenarios (about ten minutes),
# written to BENCHMARKS.md. BENCHARGS passes flags to bench/report, e.g.
# BENCHARGS=-full for the full durations, or -note "...".
BENCHARGS ?=
bench: assets
	$(GO) run ./bench/report -out BENCHMARKS.md $(BENCHARGS)

clean:
	rm -rf bin static/vendor
