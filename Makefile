# make demo: set up .venv if needed, train the quick-start config on Fashion-MNIST (CPU), test it, print the logs' place.
# make test: set up .venv if needed and run the test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FASHION_MNIST := /usr/share/datasets/fashion-mnist

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
		echo "or set 'data.init_args.download: true' in configs/quickstart.yaml."; \
	fi

demo: $(STAMP) data
	$(BIN)/python tools/demo.py --config configs/quickstart.yaml

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
