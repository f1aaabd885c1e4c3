# dnnexp: set-up, tests, and the course's comparisons as sweeps.
#
#   make demo              create .venv, install, run a first experiment (< 1 min)
#   make test              the whole test suite
#   make init-compare      Day 2 §1: activation × initializer (784-40-20-10)
#   make rnn-compare       Day 3: simple RNN, LSTM, GRU, bidirectional on Fashion-MNIST rows
#   make rnn-vanishing     Day 3 §1–2: the gradient through 100 time steps: vanishing, exploding, clipped, LSTM
#   make seq2seq           Day 3 §5: seq2seq on addition (with and without reversed input), dates
#   make hred              Day 3 §5: HRED vs VHRED on template dialogues, diversity of replies
#   make cnn-compare       Day 2 §4, Day 4: MLP vs SimpleConvNet vs the Keras CNN (~25 min)
#   make -j2 optimizer-compare DATASET=mnist
#
# Every sweep trains into a fresh folder runs/<sweep>-<time>/ and leaves comparison.md and
# comparison.png there; `make -j2` trains two specs at a time.

PYTHON   ?= python3
VENV     ?= .venv
BIN      := $(VENV)/bin
DATASET  ?= fashion_mnist
RUNS     ?= runs
STAMP    := $(shell date +%Y%m%d-%H%M%S)
DNNEXP   := $(BIN)/dnnexp
DEBIAN_FASHION := /usr/share/datasets/fashion-mnist

.PHONY: install data demo test bench clean-runs help sweep \
        init-compare init-deep-compare optimizer-compare optimizer-paths batchnorm-compare overfit course \
        rnn-compare rnn-vanishing binary-addition cnn-compare seq2seq hred

help:
	@sed -n '2,13p' Makefile | sed 's/^# \{0,1\}//'

# Debian ships venv separately (python3-venv); install it when we may.
$(DNNEXP): pyproject.toml
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || \
		{ [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && apt-get update -qq && apt-get install -y -qq python3-venv; } || \
		{ echo "error: $(PYTHON) cannot make virtual environments; install python3-venv"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

install: $(DNNEXP) data

# Fashion-MNIST from Debian's package where we may install it; else dnnexp downloads on first use.
data:
	@if [ -d $(DEBIAN_FASHION) ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null) \
		|| echo "note: could not install dataset-fashion-mnist; dnnexp will download Fashion-MNIST when first needed"; \
	else \
		echo "note: not root or no apt-get: run 'sudo apt-get install dataset-fashion-mnist', or 'dnnexp data fetch fashion_mnist'"; \
	fi

demo: install
	$(DNNEXP) train configs/day2/init/relu_he.yaml --runs-dir $(RUNS)
	@echo "next: open the run folder's learning_curves.png, or try 'make -j2 init-compare'"

test: install
	$(BIN)/python -m pytest -n 2

bench: install
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/python bench/mlp_speed.py
	$(BIN)/python bench/lstm_speed.py
	$(BIN)/python bench/cnn_speed.py

clean-runs:
	find $(RUNS) -mindepth 1 -maxdepth 1 ! -name .keep -exec rm -rf {} +

# ---- sweeps -----------------------------------------------------------------------------
# `make sweep SWEEP=name SPECS="a.yaml b.yaml"` trains each spec (in parallel under -j) into
# $(RUNS)/name-<time>/, then writes the comparison table (sorted by SORT) and plot there.
SWEEP_DIR = $(RUNS)/$(SWEEP)-$(STAMP)
SORT     ?= best_val_acc
IMAGE_SET = $(if $(filter $(DATASET),fashion_mnist),,--set data.name=$(DATASET))

sweep: $(patsubst %,$(SWEEP_DIR)/.trained/%,$(SPECS))
	$(DNNEXP) compare $(SWEEP_DIR) --sort $(SORT)
	$(DNNEXP) compare $(SWEEP_DIR) --sort $(SORT) --format markdown > $(SWEEP_DIR)/comparison.md
	$(DNNEXP) plot $(SWEEP_DIR) -o $(SWEEP_DIR)/comparison.png
	@if ls $(SWEEP_DIR)/*/time_grads.csv >/dev/null 2>&1; then \
		$(DNNEXP) plot $(SWEEP_DIR) --time-grads -o $(SWEEP_DIR)/time_grads.png; fi
	@echo "comparison: $(SWEEP_DIR)/comparison.md and comparison.png"

# A diverged run (exit code 3) is a result worth comparing, not a failed sweep.
$(SWEEP_DIR)/.trained/%: % | $(DNNEXP)
	$(DNNEXP) train $< --runs-dir $(SWEEP_DIR) --quiet $(IMAGE_SET) $(TRAIN_ARGS) || [ $$? -eq 3 ]
	@mkdir -p $(@D) && touch $@

define sweep_target
$(1): $(DNNEXP)
	@$$(MAKE) --no-print-directory sweep SWEEP=$(1) STAMP=$(STAMP) SPECS="$(sort $(wildcard $(2)))"
endef

$(eval $(call sweep_target,init-compare,configs/day2/init/*.yaml))
$(eval $(call sweep_target,init-deep-compare,configs/day2/init_deep/*.yaml))
$(eval $(call sweep_target,optimizer-compare,configs/day2/optimizers/*.yaml))
$(eval $(call sweep_target,batchnorm-compare,configs/day2/batchnorm/*.yaml))
$(eval $(call sweep_target,overfit,configs/day2/overfit/*.yaml))
$(eval $(call sweep_target,rnn-compare,configs/day3/rnn/*.yaml))
$(eval $(call sweep_target,rnn-vanishing,configs/day3/vanishing/*.yaml))
rnn-vanishing: export SORT = best_val_loss# a regression: no accuracy to sort by
$(eval $(call sweep_target,seq2seq,configs/day3/seq2seq/*.yaml))
$(eval $(call sweep_target,hred,configs/day3/hred/*.yaml))
$(eval $(call sweep_target,cnn-compare,configs/day2/cnn/mlp.yaml configs/day2/cnn/simple_convnet.yaml configs/day4/keras_cnn.yaml))

optimizer-paths: $(DNNEXP)
	$(DNNEXP) train configs/day2/optimizer_paths.yaml --runs-dir $(RUNS)

binary-addition: $(DNNEXP)
	$(DNNEXP) train configs/day4/simple_rnn_binary_addition.yaml --runs-dir $(RUNS)

course: init-compare init-deep-compare optimizer-compare optimizer-paths batchnorm-compare overfit \
        rnn-compare rnn-vanishing binary-addition seq2seq hred
