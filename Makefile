# dnnexp: set-up, tests, and the course's comparisons as sweeps.
#
#   make demo              create .venv, install, run a first experiment (< 1 min)
#   make test              the whole test suite
#   make init-compare      Day 2 §1: activation × initializer (784-40-20-10)
#   make rnn-compare       Day 3: simple RNN, LSTM, GRU, bidirectional on Fashion-MNIST rows
#   make rnn-vanishing     Day 3 §1–2: the gradient through 100 time steps: vanishing, exploding, clipped, LSTM
#   make seq2seq           Day 3 §5: seq2seq on addition (with and without reversed input), dates
#   make hred              Day 3 §5: HRED vs VHRED on template dialogues, diversity of replies
#   make word2vec-compare  Day 3 §6: skip-gram and CBOW, negative sampling vs the plain softmax
#   make attention-compare Day 3 §7: seq2seq plain, reversed + peeky, with attention, on addition and dates
#   make cnn-compare       Day 2 §4, Day 4: MLP vs SimpleConvNet vs the Keras CNN (~25 min)
#   make rl-compare        Day 4 §2: reinforcement learning, every configs/sweeps/rl-*.yaml sweep
#   make -j2 optimizer-compare DATASET=mnist
#   make bench             every speed benchmark against its peer (PyTorch, gensim, stable-baselines3)
#   make bench-cores       dnnexp against PyTorch CPU on both cores (BENCH_FLAGS=--busy: one core taken)
#
# Every sweep (configs/sweeps/) trains into a fresh folder runs/<sweep>-<time>/ and leaves
# comparison.md and comparison.png there; `make -j2` trains two trials at a time.

PYTHON   ?= python3
VENV     ?= .venv
BIN      := $(VENV)/bin
DATASET  ?= fashion_mnist
RUNS     ?= runs
DNNEXP   := $(BIN)/dnnexp
DEBIAN_FASHION := /usr/share/datasets/fashion-mnist

.PHONY: install data browser demo test bench bench-cores clean-runs help sweep optimizer-paths binary-addition course

help:
	@sed -n '2,17p' Makefile | sed 's/^# \{0,1\}//'

# Debian ships venv separately (python3-venv); install it when we may.
$(DNNEXP): pyproject.toml
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || \
		{ [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && apt-get update -qq && apt-get install -y -qq python3-venv; } || \
		{ echo "error: $(PYTHON) cannot make virtual environments; install python3-venv"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e .
	@touch $@

# What the tests need beyond dnnexp itself (pytest, import-linter, gensim to load exported vectors, …).
TEST_DEPS := $(VENV)/.test-deps
$(TEST_DEPS): $(DNNEXP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(DNNEXP) data

# Fashion-MNIST from Debian's package where we may install it, else dnnexp downloads on first use;
# and the King James Bible (bible-kjv) for word2vec's kjv corpus.
data:
	@missing=$$(echo $$([ -d $(DEBIAN_FASHION) ] || echo dataset-fashion-mnist) $$(command -v bible >/dev/null 2>&1 || echo bible-kjv)); \
	if [ -z "$$missing" ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && apt-get install -y -qq $$missing >/dev/null) \
		|| echo "note: could not install $$missing; dnnexp downloads Fashion-MNIST when first needed, and word2vec's kjv corpus needs bible-kjv"; \
	else \
		echo "note: not root or no apt-get: run 'sudo apt-get install $$missing' (or 'dnnexp data fetch fashion_mnist' for the images)"; \
	fi

# Headless Chromium renders `dnnexp report`'s page in its tests (tests/plots/test_report.py), from
# Debian's package where we may install it; without it those tests are skipped, or fail under CI=true.
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| echo "note: could not install chromium; the report's rendering tests will be skipped"; \
	else \
		echo "note: not root or no apt-get: run 'sudo apt-get install chromium' for the report's rendering tests"; \
	fi

demo: install
	$(DNNEXP) train configs/day2/init/relu_he.yaml --runs-dir $(RUNS)
	@echo "next: open the run folder's learning_curves.png, or try 'make -j2 init-compare'"

test: install browser $(TEST_DEPS)
	$(BIN)/python -m pytest -n 2

bench: install
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/mlp_speed.py
	$(BIN)/python bench/lstm_speed.py
	$(BIN)/python bench/cnn_speed.py
	$(BIN)/python bench/attention_speed.py
	$(BIN)/python bench/sweep_speed.py --repeats 3
	$(BIN)/python bench/word2vec_speed.py
	$(BIN)/python bench/rl_speed.py

# The three tables of dnnexp against PyTorch CPU on both cores (MLP, LSTM, CNN; about 6 minutes);
# BENCH_FLAGS=--busy measures them while another process keeps one core busy.
bench-cores: install
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/mlp_speed.py --scale 0.5 --passes 5 $(BENCH_FLAGS)
	$(BIN)/python bench/lstm_speed.py --scale 0.5 --passes 5 $(BENCH_FLAGS)
	$(BIN)/python bench/cnn_speed.py --scale 0.5 --passes 5 $(BENCH_FLAGS)

clean-runs:
	find $(RUNS) -mindepth 1 -maxdepth 1 ! -name .keep -exec rm -rf {} +

# ---- sweeps ----------------------------------------------------------------------------
# Each comparison is a sweep file configs/sweeps/<target>.yaml, and `make <target>` runs it into
# $(RUNS)/<target>-<time>/ (comparison.md and comparison.png there). A new comparison is one new
# sweep file: its target exists at once. `make -jN` (or WORKERS=N) trains N trials at a time;
# otherwise the sweep's own `workers:`, else one per core. DATASET=mnist swaps the image set, and
# TRAIN_ARGS go to `dnnexp sweep` (`--set train.epochs=1`, `--quiet`).
SWEEPS  := $(basename $(notdir $(wildcard configs/sweeps/*.yaml)))
WORKERS ?= $(patsubst -j%,%,$(filter -j%,$(MAKEFLAGS)))
IMAGE_SET = $(if $(filter $(DATASET),fashion_mnist),,--set data.name=$(DATASET))
SWEEP_ARGS = --runs-dir $(RUNS) $(IMAGE_SET) $(if $(WORKERS),--workers $(WORKERS)) $(TRAIN_ARGS)

.PHONY: $(SWEEPS)
$(SWEEPS): $(DNNEXP)
	$(DNNEXP) sweep configs/sweeps/$@.yaml $(SWEEP_ARGS)

# `make sweep SWEEP=name SPECS="a.yaml b.yaml"`: a sweep of any specs, without writing its file.
sweep: $(DNNEXP)
	@mkdir -p $(RUNS)
	@printf 'name: %s\nspecs: [%s]\n' '$(SWEEP)' '$(foreach spec,$(abspath $(SPECS)),"$(spec)",)' > $(RUNS)/.$(SWEEP).sweep.yaml
	$(DNNEXP) sweep $(RUNS)/.$(SWEEP).sweep.yaml $(SWEEP_ARGS)

# Day 4 §2: the reinforcement-learning sweeps one after another (grid world, CliffWalking, FrozenLake,
# FrozenLake's ε; a new configs/sweeps/rl-NAME.yaml — DQN vs REINFORCE vs actor-critic on CartPole — joins by being there)
.PHONY: rl-compare
rl-compare: $(filter rl-%,$(SWEEPS))

optimizer-paths: $(DNNEXP)
	$(DNNEXP) train configs/day2/optimizer_paths.yaml --runs-dir $(RUNS)

binary-addition: $(DNNEXP)
	$(DNNEXP) train configs/day4/simple_rnn_binary_addition.yaml --runs-dir $(RUNS)

course: init-compare init-deep-compare optimizer-compare optimizer-paths batchnorm-compare overfit \
        rnn-compare rnn-vanishing binary-addition seq2seq hred attention-compare
