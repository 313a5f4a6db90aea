# delab developer tasks. `make test` is what CI runs (see .ci/run).
GO ?= go
# Every package but the learners' own labs/...: their local tests fail on
# the untouched starters by design (checker/labproof proves them instead).
PKGS = $$($(GO) list ./... | grep -v '^github.com/delab-dev/delab/labs/')

.PHONY: all build test test-short vet golden sweep generate starters bench margins class-bench images clean

all: build test

## build: the delab binary in bin/
build:
	$(GO) build -o bin/delab ./cmd/delab

## test: vet, then every test (lab proofs, isolation, CLI, reports). One
## package at a time: two packages each starting Kafka, HDFS and Spark at
## once would starve a 2-core machine. The time limit is per package and
## checker/labproof is the long one: it proves all 19 labs, the Docker-free
## ones in a lane beside the service labs (one lab at a time in each lane),
## 40-50 minutes on a 2-core machine (the Kafka track, with its broker
## crashes and group rebalances, is most of it). 60m leaves room for a
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

## sweep: grade every reference with SEEDS seeds (default 50; a fifth of
## them, at least 2, for service labs) and every wrong solution with up to 5,
## in the process sandbox. Long (an hour or more with the service labs): run it
## before resolving grader work; CI's make test runs a sample of 4 and 1 seeds.
## LABS=<regexp> narrows it, e.g. LABS='^(start|serialization)$$'.
SEEDS ?= 50
LABS ?= .
SWEEP_LOG ?= /tmp/delab-sweep.log
sweep:
	@echo "grading with DELAB_SWEEP_SEEDS=$(SEEDS); full log in $(SWEEP_LOG)"
	@DELAB_SWEEP_SEEDS=$(SEEDS) $(GO) test -timeout 180m ./checker/labproof -run 'Test(ReferencesPass|WrongSolutionsFail)UnderOtherSeeds//$(LABS)' -v > $(SWEEP_LOG) 2>&1; \
	status=$$?; grep -E -- '--- (FAIL|PASS): Test|^(FAIL|ok)|Error:|must' $(SWEEP_LOG) | grep -v -- '--- PASS: Test.*/' ; \
	echo "$$(grep -c -- '--- PASS: .*/seed-' $(SWEEP_LOG)) gradings passed, $$(grep -c -- '--- FAIL: .*/seed-' $(SWEEP_LOG)) failed"; exit $$status

## golden: rewrite grader transcripts after an intended change (review the diff!).
## LAB=<id> (or its start, e.g. LAB=kafka/03) rewrites that lab's only.
golden:
	@run=TestLabsProveTheirGraders; \
	if [ -n "$(LAB)" ]; then \
	  set -- checker/labs/$(LAB)*/proof.yaml; \
	  if [ $$# -ne 1 ] || [ ! -f "$$1" ]; then echo "LAB=$(LAB) must name one lab, e.g. LAB=kafka/03 or LAB=kafka/03-reliable-producer" >&2; exit 2; fi; \
	  id=$${1#checker/labs/}; id=$${id%/proof.yaml}; \
	  run="$$run//^$${id%%/*}\$$/^$${id#*/}\$$/"; \
	  echo "rewriting the golden transcripts of $$id"; \
	fi; \
	echo $(GO) test -timeout 60m ./checker/labproof -run "'$$run'" -update; \
	$(GO) test -timeout 60m ./checker/labproof -run "$$run" -update

## generate: refresh the grader registry after adding a lab under checker/labs
## or changing the services a lab.yaml lists (they give the lab its kits)
generate:
	$(GO) generate ./checker/registry

## starters: snapshot each lab's starter code (labs/...) into checker/labs/.../starter.txtar.
## A lab whose labs/ files differ from its committed starter (your own
## solution, perhaps) is left alone unless FORCE=1; LAB=<id> does one lab.
starters:
	@FORCE=$(FORCE) bash checker/labs/starters.sh $(LAB)

## bench: time `delab check` on the first lab (warm and empty build cache), the
## format table of serialization/04, the reference Kafka producer's rate, then
## service cold starts, warm checks of the smoke labs and memory (needs Docker)
bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x ./checker/labproof/
	$(GO) run ./checker/bench/formats
	$(GO) run ./checker/bench/producer
	$(GO) run ./checker/bench -repo .

## margins: peak memory of right and wrong solutions on the checks that judge
## memory, with the limit lifted, and how far right and wrong reports lie
## from the window of serialization/04's timings (10 seeds each);
## SERVICES=1 adds spark/02 in-spark and kafka/03 throughput, ONLY=<regexp of "lab check"> narrows
margins:
	$(GO) run ./checker/bench/margins -repo . -runs $${RUNS:-10} $(if $(SERVICES),-services) $(if $(ONLY),-only '$(ONLY)')

## class-bench: grade a class of 6 checkouts (reference, starter, wrong,
## compile errors, hangs, panics) over every lab with warm services at
## --jobs 1 and 2; prints per-student and whole-class times (needs Docker,
## about an hour). JOBS=1,2 and LABS=<regexp of lab ids> narrow it.
class-bench:
	$(GO) run ./checker/bench/class -repo . -jobs $${JOBS:-1,2} -labs '$(LABS)'

## images: build the offline stand-in images (root, Docker, Maven, pip); prints the DELAB_*_IMAGE exports
images:
	bash checker/services/images/build.sh

clean:
	rm -rf bin
