# The demo job board behind the guard. Built by docker-compose.yml; see README.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY guard ./guard
RUN pip install --no-cache-dir ".[demo,redis]"
EXPOSE 8000
CMD ["guard", "demo", "--host", "0.0.0.0", "--port", "8000"]
