"""KqlError and the HTTP 400 body Resource Graph answers an invalid query with."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

# The first detail of every invalid-query answer, verbatim from Resource Graph.
# Source: Azure/aztfexport#485 (full 400 body, 2023-12), Azure/azure-powershell#13762 (2020-12),
# scautomation/AzureResourceGraph-Examples#2 (2022-08): identical text in all three.
INVALID_QUERY_MESSAGE = (
    "Query is invalid. Please refer to the documentation for the Azure Resource Graph service "
    "and fix the error before retrying."
)

# KqlError.code values.
PARSER_FAILURE = "ParserFailure"  # syntax: ARG's own detail code (aztfexport#485)
UNKNOWN_TABLE = "DisallowedLogicalTableName"  # ARG's code for a table it does not have (see below)
SEMANTIC_ERROR = "SemanticError"  # INFERRED: parses but does not bind (unknown column, bad types)
NOT_SUPPORTED = "NotSupportedByEmulator"  # refit's own: valid KQL that this engine does not run
INTERNAL_ERROR = "InternalError"  # refit's own: a bug in this engine, never the user's query


class KqlError(Exception):
    """A query refit cannot parse or run. .message is one line a user understands, naming the token/position.

    ``line`` is 1-based and ``position`` 0-based within that line, as Resource Graph reports them in
    ``characterPositionInLine`` (aztfexport#485: the stray quote at index 42 of
    ``Resources | where resourceGroup =~ DEV-T24' and ...`` is reported as 42).
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = PARSER_FAILURE,
        line: int = 1,
        position: int = 0,
        token: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.line = line
        self.position = position
        self.token = token

    def __str__(self) -> str:
        return self.message


def error_body(
    err: KqlError, *, timestamp: datetime | None = None, correlation_id: str | None = None
) -> dict:
    """The JSON body of Resource Graph's HTTP 400 answer to an invalid query.

    Shape, codes and texts are copied from a real answer quoted in full in Azure/aztfexport#485
    (``POST .../providers/Microsoft.ResourceGraph/resources`` -> 400)::

        {"error": {"code": "BadRequest",
                   "message": "Please provide below info when asking for support: timestamp = 2023-12-04T16:43:28.2015623Z, correlationId = c2c2c2f0-....",
                   "details": [{"code": "InvalidQuery", "message": "Query is invalid. ..."},
                               {"code": "ParserFailure", "message": "ParserFailure", "line": 1,
                                "characterPositionInLine": 42, "token": "' and type contains '"}]}}

    An unknown table is answered with the detail code ``DisallowedLogicalTableName`` and the message
    ``Table <name> is invalid, unsupported or disallowed.`` (Azure/azqr's fixtures in
    ``internal/graph`` tests). INFERRED: the envelope around it (we keep the InvalidQuery detail first,
    as for parser failures), and the detail for semantic errors and for features refit does not run,
    for which no captured body was found; those carry ``code`` and the one-line ``message``.
    """
    ts = (timestamp or datetime.now(UTC)).astimezone(UTC)
    # .NET prints 7 fractional digits ("2023-12-04T16:43:28.2015623Z").
    stamp = ts.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"
    cid = correlation_id or str(uuid.uuid4())
    details: list[dict] = [{"code": "InvalidQuery", "message": INVALID_QUERY_MESSAGE}]
    if err.code == PARSER_FAILURE:
        details.append(
            {
                "code": PARSER_FAILURE,
                "message": PARSER_FAILURE,
                "line": err.line,
                "characterPositionInLine": err.position,
                "token": err.token,
            }
        )
    elif err.code == UNKNOWN_TABLE:
        details.append(
            {"code": UNKNOWN_TABLE, "message": f"Table {err.token} is invalid, unsupported or disallowed."}
        )
    else:
        details.append({"code": err.code, "message": err.message})
    return {
        "error": {
            "code": "BadRequest",
            "message": f"Please provide below info when asking for support: timestamp = {stamp}, correlationId = {cid}.",
            "details": details,
        }
    }
