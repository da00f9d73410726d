# whoknows: `make demo` runs the product on the demo corpus, `make test` runs the tests.
# `make chaos` kills ingest, reindex, a worker and the server at random points (minutes).
# `make e2e` plays several machines: replicas and workers on PostgreSQL and Redis (~30 s).
# `make test-postgresql` runs the store's, the access rules', the model moves' and the kill -9
# tests again on PostgreSQL (a server the tests start on loopback; apt-get install postgresql).
# `make multilingual` tests the multilingual embedders (a one-time e5 export, ~1 min).
# `make screenshots` refreshes docs/screenshots/ through the browser tests (tests alone
# never change a tracked file).
# All install what they need first (torch's CPU build before anything that wants torch).
PYTHON ?= python3
DATA ?= whoknows-data
WHOKNOWS = $(PYTHON) -m api.cli

.PHONY: install demo test test-postgresql chaos e2e fuzz multilingual screenshots bench lint

install:
	$(PYTHON) -m pip install -q torch==2.13.0
	$(PYTHON) -m pip install -q -e '.[dev]'

demo: install
	$(WHOKNOWS) ingest corpus/ --data-dir $(DATA)
	$(WHOKNOWS) experts "who knows about route optimization?" --data-dir $(DATA) --limit 3
	@echo "Search page on http://127.0.0.1:8000/ ; API docs at /docs; try /api/search?q=kafka+consumer+lag"
	$(WHOKNOWS) serve --data-dir $(DATA) --port 8000

test: install
	$(PYTHON) -m ruff check indexer ingest search api bench tests
	$(PYTHON) -m pytest -q

chaos: install
	$(PYTHON) -m pytest -q -m chaos

e2e: install
	$(PYTHON) -m pytest -q -m e2e

fuzz: install
	$(PYTHON) -m pytest -q -m fuzz

# The tests that hold for either engine: the store and its users, the access rules, the moves
# to another model, kill -9.
POSTGRESQL_TESTS = tests/test_store.py tests/test_changes.py tests/test_identity.py \
	tests/test_pipeline.py tests/test_search.py tests/test_experts.py tests/test_filters.py \
	tests/test_rules_everywhere.py tests/test_indirect_leaks.py tests/test_open_door.py \
	tests/test_reembed.py tests/test_language_advice.py tests/test_casing.py tests/chaos

test-postgresql: install
	WHOKNOWS_TEST_ENGINE=postgresql $(PYTHON) -m pytest -q -m 'not multilingual' $(POSTGRESQL_TESTS)

multilingual: install
	$(PYTHON) -m pytest -q -m multilingual

screenshots: install
	WHOKNOWS_SCREENSHOTS=docs/screenshots $(PYTHON) -m pytest -q tests/test_browser.py

bench: install
	$(PYTHON) bench/eval_scifact.py
	$(PYTHON) bench/eval_experts.py

lint:
	$(PYTHON) -m ruff check indexer ingest search api bench tests
