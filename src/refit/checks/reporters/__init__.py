"""Reporters: text (rich, grouped by severity with the fix), JSON, SARIF 2.1.0."""
