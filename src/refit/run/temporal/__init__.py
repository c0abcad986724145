"""Campaigns as Temporal workflows (docs/temporal.md): `workflows` (the campaign's own decisions, driven by a
workflow), `activities` (each VM step's requests, reading live state first), `worker` (`refit worker`), `client`
(start, follow into the journal, signal), `devserver` (`refit temporal dev`)."""
