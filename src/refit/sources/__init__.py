"""Where a World comes from (DESIGN.md: sources -> World -> checks | plan): live Azure (Resource Graph),
an ARM template with its parameters, a Terraform plan (`terraform show -json`), a snapshot file."""

from refit.sources.base import Origin, Source

__all__ = ["Origin", "Source"]
