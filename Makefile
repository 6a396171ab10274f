# The two commands: `make run` (the product, on embedded defaults) and `make test` (the suite).
.PHONY: setup run test test-fast bench lint

setup:
	@scripts/setup.sh

run: setup
	@scripts/run.sh

test: setup
	@scripts/test.sh

# SQLite only, for a quick loop while developing.
test-fast: setup
	@SKIP_POSTGRES=1 scripts/test.sh -m "not slow"

bench: setup
	.venv/bin/python bench/queue_overhead.py
	.venv/bin/python bench/extract.py tests/fixtures/pdfs/GeoTopo-komprimiert.pdf
