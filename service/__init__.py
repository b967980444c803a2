"""autostack's processes and commands: the web tier (app, webhooks, serving, metrics_port), the
worker's start and its upkeep thread (due jobs, Redis outages, the liveness stamp), the command
line and what it runs, and the local stack (launcher, processes, demo).

``__version__`` is the release's one version: pyproject.toml reads it, ``autostack --version`` prints it.
"""

__version__ = "0.1.0"
