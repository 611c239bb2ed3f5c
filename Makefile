# attnbench: `make bench` measures, `make test` checks. Knobs can be overridden: make verify THREADS=2
SWIFT    ?= swift
THREADS  ?= 1
SEED     ?= 42
PRESET   ?= default
# RESUME=1 continues an interrupted Results/$(PRESET).csv instead of replacing it.
RESUME   ?=
RUN_FLAGS ?=
# make bench PRESET=linformer-table3: the budget of its max-batch table (the paper's 16 GB V100) and
# the cells whose predicted maxima are confirmed by runs (at the maximum and the maximum + 1):
# standard's and Linformer k = 128's at the smallest, a middle and the largest n.
TABLE3_BUDGET ?= 16G
TABLE3_VERIFY ?= --verify-n 512,8192,65536 --verify-k 128
# make bench PRESET=lra-table2: the budget of its max-batch replay (a TPU V3 core's 16 GB), whose
# fixed and per-sample heap give the report's memory at LRA's batch of 32.
LRA_BUDGET ?= 16G
# make test-slurm: shards of its test sweep.
SHARDS   ?= 3
# make bench-peers passes these to Tests/peers/peers.py (e.g. PEERS_FLAGS="--rounds 5 --n 1024...4096"
# or --peers pytorch,jax) and writes PEERS_OUTPUT (and its .meta.json sidecar); make readme-peers reads it.
PEERS_FLAGS ?=
PEERS_OUTPUT ?= Results/peers.csv
# make profile splits these presets' calls into phases (attnbench profile).
PROFILE_PRESETS ?= profile profile-layer
# ...and traces what fills each call's peak at this n (attnbench profile-memory).
PROFILE_MEMORY_FLAGS ?= --n 4096
# make profile-memory: the grid it traces (on top of PRESET), and where its files go (Results/memory/,
# Plots/memory/ and Results/REPORT-memory.md for the default preset; <preset>/ and REPORT-memory-<preset>.md otherwise).
MEMORY_FLAGS ?= --n 512 --k 128 --hash-rounds 1 --batch 1 --scope core,layer --pass forward,train --threads 1
MEMORY_OUT    ?= $(if $(filter default,$(PRESET)),memory,memory/$(PRESET))
MEMORY_REPORT ?= $(if $(filter default,$(PRESET)),Results/REPORT-memory.md,Results/REPORT-memory-$(PRESET).md)
# make bench runs these presets (or only PRESET when it is given on the command line).
BENCH_PRESETS ?= default rnn-generation train
ifeq ($(origin PRESET),command line)
BENCH_PRESETS := $(PRESET)
endif
# Where make plots writes figures and the report: Plots/ and Results/REPORT.md for the default
# preset, Plots/<preset>/ and Results/REPORT-<preset>.md for the others.
PLOTS    ?= $(if $(filter default,$(PRESET)),Plots,Plots/$(PRESET))
REPORT   ?= $(if $(filter default,$(PRESET)),Results/REPORT.md,Results/REPORT-$(PRESET).md)
PACKAGES := libopenblas-dev libjemalloc-dev gnuplot-nox pkg-config
RELEASE  := .build/release/attnbench
# Release builds are tuned for the machine that runs them (the package itself carries no unsafe
# flags, so it can be used as a dependency; see the README).
TUNING   := -Xswiftc -target-cpu -Xswiftc native -Xswiftc -enforce-exclusivity=unchecked
# SEED and THREADS reach the sweeps only when given on the command line (presets set their own).
SWEEP_FLAGS := $(if $(filter command line,$(origin SEED)),--seed $(SEED)) $(if $(filter command line,$(origin THREADS)),--threads $(THREADS))

.PHONY: deps build test lint format test-slurm verify crosscheck bench bench-kernels bench-peers readme-peers profile profile-memory plots claims check baseline clean

## deps: install the system packages (apt-get) that are missing; a no-op when all are present.
deps:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "deps: all system packages present"; fi

## build: the release binary that every measurement uses.
build: deps
	$(SWIFT) build -c release $(TUNING)

## test: the whole test suite, then the NumPy cross-check of `attnbench eval` (never skipped).
## Tests that need OpenBLAS's process-wide thread count to themselves (HeapReplayTests) measure in
## child processes of their own, so one `swift test` runs everything.
test: deps lint
	$(SWIFT) test
	$(MAKE) crosscheck

## lint: the code as swift-format (the toolchain's, .swift-format) writes it; `make format` rewrites it so.
lint:
	$(SWIFT) format lint --strict --recursive --parallel Sources Tests Package.swift

format:
	$(SWIFT) format format --in-place --recursive --parallel Sources Tests Package.swift

## test-slurm: a sharded sweep on a real one-node Slurm started for the test (root; installs slurm-wlm
## and munge when missing; stops exactly the daemons it started), in a few minutes.
test-slurm: build
	SHARDS=$(SHARDS) ATTNBENCH=$(RELEASE) Scripts/slurm/test-one-node.sh

## verify: every kernel and backward pass against the Float64 reference (what `make bench` runs before timing).
verify: build
	$(RELEASE) verify --threads $(THREADS) --seed $(SEED)

## bench: set-up, release build, verify, then each of $(BENCH_PRESETS) into Results/<preset>.csv, its plots and report.
bench: build
	$(RELEASE) verify --threads $(THREADS) --seed $(SEED)
	@for p in $(BENCH_PRESETS); do \
	  echo "bench: preset $$p"; \
	  $(RELEASE) run --preset $$p $(if $(RESUME),--resume,--overwrite) $(SWEEP_FLAGS) $(RUN_FLAGS) || exit 1; \
	  if [ $$p = linformer-table3 ]; then \
	    $(RELEASE) max-batch --preset $$p --predict --memory-budget $(TABLE3_BUDGET) $(TABLE3_VERIFY) \
	      --output Results/$$p-max-batch.csv --overwrite $(SWEEP_FLAGS) || exit 1; \
	  fi; \
	  if [ $$p = lra-table2 ]; then \
	    $(RELEASE) max-batch --preset $$p --predict --memory-budget $(LRA_BUDGET) \
	      --output Results/$$p-max-batch.csv --overwrite $(SWEEP_FLAGS) || exit 1; \
	  fi; \
	  $(MAKE) --no-print-directory plots PRESET=$$p || exit 1; \
	done

## bench-kernels: each kernel against its own GEMMs, the sgemm ceiling and 1 thread → Results/kernels.csv,
## with its targets judged in Results/REPORT-kernels.md.
bench-kernels: build
	$(RELEASE) kernels --output Results/kernels.csv --report Results/REPORT-kernels.md --overwrite | tee Results/kernels.txt

## profile: where the time goes, for the $(PROFILE_PRESETS) presets: `attnbench profile` (each point plainly,
## then with its phases marked; the sgemm and STREAM-triad roofs) → Results/<preset>.csv and
## Results/<preset>-roofline.csv, then `attnbench profile-report` → Plots/<preset>/ (phase bars, roofline)
## and Results/REPORT-<preset>.md, with what fills each call's peak at the largest n (`attnbench profile-memory`:
## Results/<preset>-memory/, Plots/<preset>/memory/, Results/REPORT-<preset>-memory.md). Replaces its own earlier outputs.
profile: build
	@for p in $(PROFILE_PRESETS); do \
	  $(RELEASE) profile --preset $$p $(SWEEP_FLAGS) --output Results/$$p.csv --roofline Results/$$p-roofline.csv --overwrite \
	  && $(RELEASE) profile-memory --preset $$p $(SWEEP_FLAGS) $(PROFILE_MEMORY_FLAGS) --output Results/$$p-memory \
	       --plots Plots/$$p/memory --report Results/REPORT-$$p-memory.md --overwrite \
	  && $(RELEASE) profile-report --input Results/$$p.csv --roofline Results/$$p-roofline.csv --plots Plots/$$p \
	       --append Results/REPORT-$$p-memory.md --report Results/REPORT-$$p.md --overwrite \
	  && for f in Plots/$$p/*.gp; do echo "gnuplot $$f"; gnuplot $$f || exit 1; done || exit 1; done

## bench-peers: every installed peer (PyTorch, ONNX Runtime, OpenVINO, JAX, fast-transformers) on the
## $(PRESET) grid, interleaved with attnbench over 3 rounds → $(PEERS_OUTPUT), after checking each peer's
## forms against NumPy and `attnbench eval` (a missing peer is skipped with a message; with none, nothing
## is written). Then the README's peer table is regenerated from it (only for Results/peers.csv), and
## `make plots` draws it.
bench-peers: build
	python3 Tests/peers/peers.py $(RELEASE) --preset $(PRESET) --output $(PEERS_OUTPUT) --overwrite $(PEERS_FLAGS)
	@if [ "$(PEERS_OUTPUT)" = Results/peers.csv ] && [ -f Results/peers.csv ]; then $(MAKE) readme-peers; fi

## readme-peers: the README's performance table (between its `peers` markers) from $(PEERS_OUTPUT):
## the report's peer table, naming the CPU from its sidecar.
readme-peers: build
	$(RELEASE) readme --peers $(PEERS_OUTPUT) --readme README.md --overwrite

## plots: gnuplot scripts for Results/$(PRESET).csv into $(PLOTS)/, rendered to PNG and SVG, then $(REPORT)
## (figures the run no longer draws are removed). For the default preset with Results/peers.csv, the
## peers' own session (attnbench and its peers interleaved) is drawn apart, in Plots/peers/, and the
## README's peer table is regenerated from it.
plots: build
	$(RELEASE) plot --input Results/$(PRESET).csv --output $(PLOTS) --overwrite
	@for f in $(PLOTS)/*.gp; do echo "gnuplot $$f"; gnuplot $$f || exit 1; done
	@if [ "$(PRESET)" = default ] && [ -f Results/peers.csv ]; then \
	  $(RELEASE) plot --input Results/peers.csv --output Plots/peers --overwrite && \
	  for f in Plots/peers/*.gp; do echo "gnuplot $$f"; gnuplot $$f || exit 1; done && \
	  $(RELEASE) readme --peers Results/peers.csv --readme README.md --overwrite; fi
	$(RELEASE) report --input Results/$(PRESET).csv --output $(REPORT) --plots $(PLOTS) --overwrite
	$(RELEASE) claims --overwrite

## profile-memory: one traced call per point of PRESET narrowed by MEMORY_FLAGS: the live tensor heap over the
## call (Results/$(MEMORY_OUT)/*.csv), what fills its peak (*.peak.csv, $(MEMORY_REPORT)) and a figure per point
## (Plots/$(MEMORY_OUT)/), rendered here. Memory is deterministic: a busy machine gives the same files.
profile-memory: build
	$(RELEASE) profile-memory --preset $(PRESET) $(MEMORY_FLAGS) --output Results/$(MEMORY_OUT) \
	  --plots Plots/$(MEMORY_OUT) --report $(MEMORY_REPORT) --overwrite
	@for f in Plots/$(MEMORY_OUT)/*.gp; do echo "gnuplot $$f"; gnuplot $$f || exit 1; done

## claims: the claims ledger, Results/CLAIMS.md, from the committed runs and Data/ (make plots runs it too).
claims: build
	$(RELEASE) claims --overwrite

## check: the regression check (exit 1 on a regression), in two parts.
## Memory and the cost model: the ci preset against Baselines/ci.csv (memory is deterministic).
## Time and exponents of time in n: this build against the base commit's (BASE=<rev>, default the
## commit that measured Baselines/ci.csv), both measured interleaved in one session (compare
## --interleave), so the verdict never compares two machines or two moments.
## INJECT=linear:time=0.25 makes the head side (and the run) deliberately slower: the check must fail.
BASE   ?=
INJECT ?=
CHECK_TIMING := --warmups 1 --min-reps 5 --min-time 0.05
check: build
	$(RELEASE) run --preset ci --overwrite --quiet --output .build/check/ci.csv $(if $(INJECT),--inject-regression $(INJECT))
	$(RELEASE) check --baseline Baselines/ci.csv --current .build/check/ci.csv --thresholds Baselines/thresholds.txt \
	  --skip-time-ratios $(if $(INJECT),--inject-regression $(INJECT))
	base=$$(Scripts/base-binary.sh $(BASE)) && \
	$(RELEASE) compare --interleave "$$base" $(RELEASE) --preset ci $(CHECK_TIMING) \
	  --thresholds Baselines/thresholds.txt --fail-on-slower --output .build/check/interleaved.csv --overwrite \
	  $(if $(INJECT),--inject-regression $(INJECT))

## baseline: re-measure the ci preset (median of 3 runs) into Baselines/ after an intended change; commit it.
baseline: build
	$(RELEASE) baseline --preset ci --runs 3 --output Baselines/ci.csv

## crosscheck: `attnbench eval` (outputs and, with --grad-out, gradients) against NumPy on the same
## .npy files; then Performer against performer-pytorch on the same features, when it is installed. NumPy is installed when no python3 has it (python3-numpy through apt-get, else pip);
## without it the target fails.
crosscheck: build
	@python=$$(Scripts/python-with-numpy.sh) && echo "crosscheck: $$python" && $$python Tests/numpy_crosscheck.py $(RELEASE) \
	  && $$python Tests/peers/performer_agreement.py $(RELEASE)

clean:
	rm -rf .build
