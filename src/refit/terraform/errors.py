"""The two ways an offline evaluation can fail, kept apart on purpose.

- `InvalidExpression`: Terraform itself would fail here too (duplicate for-expression key, attribute of
  null, wrong type). `try()` and `can()` catch these, exactly as in Terraform.
- `Unsupported`: Terraform could evaluate it but refit cannot offline (a function refit does not
  implement, a provider-defined function, a template directive in a heredoc). Never caught by `try()`:
  swallowing it would be a guess.
Both carry the file:line and the exact expression text so the report names what was not evaluated.
"""

from __future__ import annotations


class EvalError(Exception):
    def __init__(self, summary: str, detail: str = "", where: str = "", text: str = "") -> None:
        self.summary = summary
        self.detail = detail
        self.where = where
        self.text = text
        super().__init__(self.message())

    def message(self) -> str:
        head = f"{self.where}: " if self.where else ""
        body = f"{self.summary}: {self.detail}" if self.detail else self.summary
        expr = f" in `{_one_line(self.text)}`" if self.text else ""
        return f"{head}{body}{expr}"

    def located(self, where: str, text: str) -> EvalError:
        """Attach the innermost location once (the first one set wins)."""
        if not self.where:
            self.where = where
            self.text = text
            self.args = (self.message(),)
        return self


class InvalidExpression(EvalError):
    """Terraform would report this error as well."""


class Unsupported(EvalError):
    """Valid Terraform that refit does not evaluate offline: refused, named, never guessed."""


def _one_line(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
