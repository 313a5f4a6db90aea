# delab developer tasks. `make test` is what CI runs (see .ci/run).
GO ?= go
# Every package but the learners' own labs/...: their local tests fail on
# the untouched starters by design (checker/labproof proves them instead).
PKGS = $$($(GO) list ./... | grep -v '^github.com/delab-dev/delab/labs/')

.PHONY: all build test test-short vet golden generate starters bench images clean

all: build test

## build: the delab binary in bin/
build:
	$(GO) build -o bin/delab ./cmd/delab

## test: vet, then every test (lab proofs, isolation, CLI, reports). One
## package at a time: two packages each starting Kafka, HDFS and Spark at
## once would starve a 2-core machine. The time limit is per package and
## checker/labproof is the long one: it proves all 13 labs against real
## services, 24-27 minutes on a 2-core machine (the Kafka track, with its
## broker crashes and group rebalances, is most of it). 60m leaves room for a
## slower CI machine without letting a hung proof run past CI's 90 minutes.
test: vet
	$(GO) test -p 1 -timeout 60m $(PKGS)

## test-short: vet, then every test except the lab proofs and the tests
## that need Docker, which skip under -short: catalog, engine isolation,
## reports, progress, CLI. 1-3 minutes with a warm build cache; for the
## edit-test loop. CI runs the full `make test`.
test-short: vet
	$(GO) test -short -timeout 10m $(PKGS)

vet:
	$(GO) vet ./...
	@# No `tee /dev/stderr` here: tee reopens it with O_TRUNC and wipes a log file.
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "$$out"; echo "gofmt needed on the files above"; exit 1; fi

## golden: rewrite grader transcripts after an intended change (review the diff!)
golden:
	$(GO) test -timeout 60m ./checker/labproof -run TestLabsProveTheirGraders -update

## generate: refresh the grader registry after adding a lab under checker/labs
generate:
	$(GO) generate ./checker/graders

## starters: snapshot each lab's starter code (labs/...) into checker/labs/.../starter.txtar
starters:
	@for d in checker/labs/*/*/; do \
	  id=$${d#checker/labs/}; id=$${id%/}; [ -d labs/$$id ] || continue; out=$$d/starter.txtar; : > $$out; \
	  for f in labs/$$id/*.go; do case $$f in *_test.go) continue;; esac; printf -- '-- %s --\n' "$$(basename $$f)" >> $$out; cat $$f >> $$out; done; \
	  echo "wrote $$out"; done

## bench: time `delab check` on the first lab (warm and empty build cache), the
## format table of serialization/04, the reference Kafka producer's rate, then
## service cold starts, warm checks of the smoke labs and memory (needs Docker)
bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x ./checker/labproof/
	$(GO) run ./checker/bench/formats
	$(GO) run ./checker/bench/producer
	$(GO) run ./checker/bench -repo .

## images: build the offline stand-in images (root, Docker, Maven, pip); prints the DELAB_*_IMAGE exports
images:
	bash checker/services/images/build.sh

clean:
	rm -rf bin
