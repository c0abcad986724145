"""The checks, one per module (checkov style); discovered by refit.checks.registry."""
