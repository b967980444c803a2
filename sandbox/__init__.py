"""A local stand-in for the Frame.io V4 REST API (see ``sandbox/README.md``).

Modules, one per concept: ``config`` (every knob, each with its default and reason), ``state``
and ``model`` (the in-memory world), ``stacking`` (version stack rules), ``uploads`` (created ->
uploaded -> transcoded), ``views`` (JSON as the SDK's models name it), ``paging`` (cursor pages),
``ratelimit`` (leaky buckets), ``faults`` (injected failures), ``gateway`` (auth, account, rate
limit, latency and faults around every call), ``events``/``deliveries``/``signing`` (signed
webhook deliveries with Frame.io's retry rules), ``clicks`` (a person running a Custom Action),
``routes_*`` (the endpoints), ``app`` and ``cli``.

Where Frame.io's documentation is silent the sandbox picks the least convenient plausible answer:
a file moved into a stack lands at the bottom; stack children list top first; a stack cannot be
created from (nor a file moved into one while it is) a file still ``created``; an emptied stack is
gone while a one-file stack survives; a stack keeps the name it was created with; a no-op reorder
still emits ``file.versioned``; unsorted folder listings follow ``updated_at`` (newest first);
comma-separated ``include`` values are refused; limits are per account; no ``Retry-After``.
Each of these is a knob in :class:`sandbox.config.SandboxConfig`.
"""
