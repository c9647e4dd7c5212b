# The README's commands; .ci/run uses the same ones.
.PHONY: demo test lint
demo:  ## install and serve the demo job board on http://127.0.0.1:8000/
	scripts/demo
test:  ## install and run ruff, mypy --strict and the whole test suite
	scripts/test
