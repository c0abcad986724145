"""refit.azure: the ONLY code that talks to Azure (or to the emulator, over the same HTTPS and SDK).

A `Session` is one target: real Azure (`connect_azure`, DefaultAzureCredential) or a local ARM endpoint
(`connect_endpoint`). Which one a command uses is the CLI's choice (refit.cli.embedded).
"""

from refit.azure.session import Session, StaticCredential, connect_azure, connect_endpoint

__all__ = ["Session", "StaticCredential", "connect_azure", "connect_endpoint"]
