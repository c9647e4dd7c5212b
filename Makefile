# The README's commands; .ci/run uses the same ones.
.PHONY: demo test lock audit bench bench-peers bench-peers-standard bench-scale bench-hot-path bench-breakdown bench-redis-cost bench-adversarial bench-memory bench-eviction bench-redis-faults soak bench-model bench-detection bench-attacks bench-people loadtest train
demo:  ## install and serve the demo job board on http://127.0.0.1:8000/
	scripts/demo
test:  ## install and run ruff, mypy --strict and the whole test suite
	scripts/test
lock:  ## pin every dev dependency with its hashes in requirements/dev.lock (what CI installs)
	scripts/bootstrap dev
	.venv/bin/pip-compile --quiet --extra dev --generate-hashes --strip-extras --allow-unsafe \
	  --no-emit-index-url --no-emit-find-links -o requirements/dev.lock pyproject.toml
audit:  ## known vulnerabilities in what requirements/dev.lock pins (pip-audit)
	scripts/bootstrap dev
	scripts/audit
bench:  ## overhead benchmark: the guard (memory and Redis stores) against the bare demo
	scripts/bootstrap dev
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	.venv/bin/python benchmarks/overhead.py

bench-peers:  ## the guard beside slowapi and limits (Redis storage) on the same page, interleaved
	scripts/bootstrap dev
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	.venv/bin/python benchmarks/overhead.py --modes off,memory,redis,slowapi,limits --output benchmarks/results/peers.json

bench-peers-standard:  ## the same on uvicorn[standard] (httptools, uvloop) with 2 workers
	scripts/bootstrap dev
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	.venv/bin/python benchmarks/overhead.py --modes off,memory,redis,slowapi,limits \
	  --http httptools --loop uvloop --workers 2 --output benchmarks/results/peers_standard_2w.json

bench-scale:  ## what the guard costs its Redis at 10k, 100k and 1M clients, and what a site would need
	scripts/bootstrap dev
	.venv/bin/python benchmarks/scale.py

bench-hot-path:  ## the guard's own cost a request, in process (memory and Redis stores)
	scripts/bootstrap dev
	.venv/bin/python benchmarks/hot_path.py

bench-breakdown:  ## where the guard's cost a request goes, step by step, in process and served (py-spy)
	scripts/bootstrap dev
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	.venv/bin/python benchmarks/breakdown.py
	.venv/bin/python benchmarks/breakdown.py --served

bench-redis-cost:  ## where a request's Redis CPU goes: commands, Lua, each family of checks
	scripts/bootstrap dev
	.venv/bin/python benchmarks/redis_cost.py

bench-adversarial:  ## the worst a request an attacker's 8-16 KiB headers, paths and cookies can cost
	scripts/bootstrap dev
	.venv/bin/python benchmarks/adversarial.py

bench-memory:  ## the memory store's bound under a spray of a million addresses, and a harvester's budget
	scripts/bootstrap dev
	.venv/bin/python benchmarks/memory_bound.py

bench-eviction:  ## what each Redis eviction policy does to budgets when a spray overfills it
	scripts/bootstrap dev
	.venv/bin/python benchmarks/eviction.py

bench-redis-faults:  ## traffic through a slow, blocked, full, flushed Redis and a killed cluster master
	scripts/bootstrap dev
	.venv/bin/python benchmarks/redis_faults.py

soak:  ## ten minutes of people and scrapers on two workers sharing a Redis: errors, RSS, keys
	scripts/bootstrap dev
	.venv/bin/python benchmarks/soak.py

bench-model:  ## cost of scoring one request with the behaviour model (features + model)
	scripts/bootstrap dev
	.venv/bin/python benchmarks/model_cost.py

bench-detection:  ## a scraper rotating 200 addresses against the guarded demo (10,000 requests)
	scripts/bootstrap dev
	.venv/bin/python benchmarks/detection.py

bench-attacks:  ## harvesting campaigns of many shapes (rotation, order, cookies, assets, solvers, slow, accounts) against the guarded demo
	scripts/bootstrap dev
	.venv/bin/python benchmarks/attack_matrix.py

bench-people:  ## people from an independent generator and real Chromium, by hour, model off and on
	scripts/bootstrap dev
	.venv/bin/python benchmarks/people.py

loadtest:  ## locust: people and scrapers against the guarded demo, then guarded vs bare demo (60 s each)
	scripts/bootstrap dev
	.venv/bin/python benchmarks/loadtest.py --keep benchmarks/results/loadtest

train:  ## retrain the shipped model on simulated traffic (models/)
	scripts/bootstrap dev
	.venv/bin/guard train --out models
