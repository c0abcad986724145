"""The house's layers (DESIGN.md "The house", docs/architecture.md): the emulator is a server, not a library.

Nothing outside `refit.emulator` and `refit.cli` imports `refit.emulator` (not even lazily, inside a
function); `refit.platform` sits below everything but `refit.arm`; and a command run against an ARM
endpoint that is not the emulator never loads a single `refit.emulator` module.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "refit"


def _imports(path: Path, pkg: str | None = None) -> set[str]:
    """Every module a file imports, at any depth of the file (function-level imports included)."""
    tree = ast.parse(path.read_text(), str(path))
    if pkg is None:
        pkg = ".".join(path.relative_to(SRC.parent).with_suffix("").parts[:-1])
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def _modules(under: str = "") -> list[Path]:
    return sorted((SRC / under).rglob("*.py"))


def _layer(path: Path) -> str:
    return path.relative_to(SRC).parts[0] if len(path.relative_to(SRC).parts) > 1 else path.stem


def test_only_the_emulator_and_the_cli_import_the_emulator():
    offenders = [f"{p.relative_to(SRC.parent)} imports {m}" for p in _modules()
                 if _layer(p) not in ("emulator", "cli")
                 for m in sorted(_imports(p)) if m == "refit.emulator" or m.startswith("refit.emulator.")]
    assert offenders == []


def test_the_platform_sits_below_everything_but_arm():
    allowed = ("refit.platform", "refit.arm")
    offenders = [f"{p.relative_to(SRC.parent)} imports {m}" for p in _modules("platform")
                 for m in sorted(_imports(p)) if m.startswith("refit.") and not m.startswith(allowed)]
    assert offenders == []


def test_the_scan_sees_lazy_and_relative_imports(tmp_path):
    """The scan itself: an import inside a function and a relative one are both found."""
    f = tmp_path / "probe.py"
    f.write_text("def f():\n    from refit.emulator import core\n    from ..emulator import dispatch\n")
    assert {"refit.emulator", "refit.emulator.core", "refit.emulator.dispatch"} <= _imports(f, "refit.plan")


# ---- a command against an ARM endpoint that is not the emulator --------------------------------------------
SUB = "11111111-2222-4333-8444-555555555555"


def _fake_arm(tmp_path: Path):
    """A minimal ARM over HTTPS: one subscription and a Resource Graph that knows one VM."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from refit.emulator.tls import ensure_certificate  # only for the test's own certificate

    cert, key = ensure_certificate(tmp_path)
    vm = {"id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
          "name": "vm1", "type": "microsoft.compute/virtualmachines", "location": "eastus", "resourceGroup": "rg",
          "zones": None, "tags": {}}

    async def subscriptions(request):
        return JSONResponse({"value": [{"id": f"/subscriptions/{SUB}", "subscriptionId": SUB, "displayName": "x",
                                        "state": "Enabled"}]})

    async def graph(request):
        return JSONResponse({"totalRecords": 1, "count": 1, "resultTruncated": "false", "data": [vm], "facets": []})

    app = Starlette(routes=[Route("/subscriptions", subscriptions, methods=["GET"]),
                            Route("/providers/Microsoft.ResourceGraph/resources", graph, methods=["POST"])])
    config = uvicorn.Config(app, host="127.0.0.1", port=0, ssl_certfile=str(cert), ssl_keyfile=str(key),
                            log_level="error")
    server = uvicorn.Server(config)
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the fake ARM endpoint did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, t, f"https://127.0.0.1:{port}", cert


PROBE = """
import json, sys
from refit.cli import main
code = 0
try:
    main()
except SystemExit as e:
    code = e.code or 0
loaded = sorted(m for m in sys.modules if m == "refit.emulator" or m.startswith("refit.emulator."))
sys.stderr.write("LOADED " + json.dumps({"code": code, "emulator_modules": loaded}) + "\\n")
"""


@pytest.mark.timeout(120)
def test_a_command_against_another_endpoint_loads_no_emulator_module(tmp_path):
    server, thread, url, cert = _fake_arm(tmp_path)
    try:
        env = {**os.environ, "REQUESTS_CA_BUNDLE": str(cert), "REFIT_DATA_DIR": str(tmp_path / "nowhere")}
        r = subprocess.run([sys.executable, "-c", PROBE, "--endpoint", url, "-o", "json", "inventory"],
                           capture_output=True, text=True, env=env, timeout=90)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    line = next(x for x in r.stderr.splitlines() if x.startswith("LOADED "))
    report = json.loads(line[len("LOADED "):])
    assert report == {"code": 0, "emulator_modules": []}, r.stderr
    rows = json.loads(r.stdout)
    assert [row["name"] for row in rows] == ["vm1"]
