"""refit: change Azure VM fleets safely."""

__version__ = "0.1.0"
