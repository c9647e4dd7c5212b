"""Administration while serving: the live policy's HTTP API, and its spread to every worker."""
