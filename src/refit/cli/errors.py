"""The CLI's one error boundary: any exception a command lets out becomes one line and an exit code.

0 done; 1 done but failed; 2 bad input, nothing changed; 3 Azure or the emulator could not be reached
(docs/cli.md). A traceback only with `refit --debug`.
"""

from __future__ import annotations

import errno
import ssl

from refit.arm.errors import ArmError, Unreachable, UserError
from refit.azure.session import REACH_HINT

BAD_INPUT, FAILED, UNREACHABLE = 2, 1, 3



def _chain(e: BaseException):
    seen = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        yield e
        e = e.__cause__ or e.__context__  # type: ignore[assignment]


def _reason(e: BaseException) -> str | None:
    """Why a connection failed, in words, if `e` (or what caused it) is a connection failure."""
    for x in _chain(e):
        if isinstance(x, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(x):
            return ("its TLS certificate is not trusted: set REQUESTS_CA_BUNDLE to the emulator's certificate "
                    "(`eval \"$(refit emulator env)\"` does)")
        if isinstance(x, ConnectionRefusedError) or "Connection refused" in str(x):
            return "connection refused"
        if isinstance(x, TimeoutError) or "timed out" in str(x).lower():
            return "timed out"
        if isinstance(x, ConnectionError) or (isinstance(x, OSError) and x.errno in (
                errno.ECONNRESET, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL)):
            return str(x.strerror or x).lower() if isinstance(x, OSError) else str(x)
        if "Name or service not known" in str(x) or "nodename nor servname" in str(x):
            return "unknown host"
    return None


def explain(e: BaseException, endpoint: str | None) -> tuple[int, str]:
    """(exit code, one line) for an exception a command raised."""
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError

    where = endpoint or "the emulator"
    if isinstance(e, UserError):
        return BAD_INPUT, str(e)
    if isinstance(e, Unreachable):
        return UNREACHABLE, str(e)
    if isinstance(e, ArmError):
        return FAILED, f"Azure refused: ({e.code}) {e.message}"
    if isinstance(e, ClientAuthenticationError):
        return UNREACHABLE, (f"cannot authenticate to Azure: {_first_line(e.message)}; sign in (`az login`) or "
                             "check the credential DefaultAzureCredential uses")
    reason = _reason(e)
    if reason is not None and reason.startswith("its TLS certificate"):  # reached, but not trusted
        return UNREACHABLE, f"cannot reach {where}: {reason}"
    if reason is not None or isinstance(e, ServiceRequestError):
        return UNREACHABLE, f"cannot reach {where}: {reason or _first_line(str(e))}; {REACH_HINT}"
    if isinstance(e, HttpResponseError):
        code = getattr(getattr(e, "error", None), "code", None) or e.reason or str(e.status_code)
        message = getattr(getattr(e, "error", None), "message", None) or _first_line(e.message)
        return FAILED, f"Azure refused: ({code}) {_first_line(message)}"
    if isinstance(e, OSError):  # a file the user named: missing, a directory, not writable
        name = f" {e.filename}" if e.filename else ""
        return BAD_INPUT, f"cannot use{name}: {e.strerror or e}; check the path and its permissions"
    return FAILED, (f"internal error ({type(e).__name__}: {_first_line(str(e))}); this is a refit bug: rerun with "
                    "`refit --debug ...` for the traceback and report it")


def _first_line(text: str | None) -> str:
    lines = [x.strip() for x in (text or "").splitlines() if x.strip()]
    return lines[0] if lines else ""
