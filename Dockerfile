# The demo job board behind the guard. Built by docker-compose.yml; see README.
# Only what the wheel is built from goes in: pyproject.toml, README.md (the package's readme),
# hatch_build.py (compiles the C parts; this slim image has no compiler, so pure Python serves),
# the shipped model (pyproject force-includes models/behaviour.json as guard/model/behaviour.json)
# and the package. tests/test_docker.py replays these COPYs and builds the wheel from them.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md hatch_build.py ./
COPY models/behaviour.json ./models/
COPY guard ./guard
RUN pip install --no-cache-dir --disable-pip-version-check ".[demo,redis]"
EXPOSE 8000
CMD ["guard", "demo", "--host", "0.0.0.0", "--port", "8000"]
