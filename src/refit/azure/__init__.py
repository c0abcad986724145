"""refit.azure: the ONLY code that talks to Azure (or to the emulator, over the same HTTPS and SDK).

`connect()` picks the target from the global options: `--azure` (real Azure, DefaultAzureCredential),
`--endpoint URL` (a running emulator or ARM endpoint), or neither (the embedded emulator on the default
data dir, started in-process unless one is already serving that data dir).
"""

from refit.azure.session import Session, StaticCredential, connect, default_data_dir

__all__ = ["Session", "StaticCredential", "connect", "default_data_dir"]
