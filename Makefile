# make demo: set up .venv if needed, then the user's own chain: lit-robust fit the quick-start config on
#            Fashion-MNIST (CPU) && lit-robust test its last checkpoint; logs in lightning_logs/quickstart/demo.
#            DEMO_ARGS adds lit-robust arguments to both commands (e.g. DEMO_ARGS=--trainer.max_epochs=1).
# make test: set up .venv if needed and run the test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FASHION_MNIST := /usr/share/datasets/fashion-mnist
QUICKSTART ?= configs/quickstart.yaml
DEMO_RUN := lightning_logs/quickstart/demo
DEMO_ARGS ?=

.PHONY: demo test lint format data clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

data:
	@if [ -d $(FASHION_MNIST) ] || [ -f data/FashionMNIST/raw/train-images-idx3-ubyte.gz ]; then \
		echo "Fashion-MNIST found."; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; \
	else \
		echo "Fashion-MNIST is missing: run 'sudo apt-get install dataset-fashion-mnist' (Debian/Ubuntu)"; \
		echo "or set 'data.source.init_args.download: true' in configs/quickstart.yaml."; \
	fi

demo: $(STAMP) data
	rm -rf $(DEMO_RUN)
	$(BIN)/lit-robust fit --config $(QUICKSTART) --trainer.logger.init_args.version=demo $(DEMO_ARGS) \
		&& $(BIN)/lit-robust test --config $(QUICKSTART) --ckpt_path $(DEMO_RUN)/checkpoints/last.ckpt $(DEMO_ARGS)
	@echo "Logs of the run and its test: $(DEMO_RUN). Browse them with:"
	@echo "  $(BIN)/tensorboard --logdir lightning_logs   (then open http://localhost:6006)"

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check lit_robust tests tools
	$(BIN)/ruff format --check lit_robust tests tools

format: $(STAMP)
	$(BIN)/ruff format lit_robust tests tools
	$(BIN)/ruff check --fix lit_robust tests tools

clean:
	rm -rf lightning_logs .pytest_cache build *.egg-info
