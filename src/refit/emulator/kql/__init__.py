"""A KQL engine for the emulator's Resource Graph: `run(query, tables)` over lists of row dicts.

Real Kusto semantics for the subset Resource Graph users write (listed at the end of this docstring);
anything else is a KqlError with one line naming the token and its position, which the emulator
answers as Resource Graph does (HTTP 400, `error_body`).

Why hand-written (DESIGN.md: look for a maintained parser first). Looked at in 2026-11; the first
four as wheels fetched with `pip download --no-deps` and read, kustology from its PyPI page:

- duckdb-kql 1.1.2 (MIT, active): ANTLR grammar + translation of KQL to DuckDB SQL. Running needs
  duckdb (a large native wheel) + pytz + antlr4-python3-runtime pinned ==4.13.2; it evaluates over DuckDB
  tables, not Python dicts, so every query would load 20,000 JSON rows into DuckDB and map Kusto's
  dynamic semantics onto DuckDB JSON. Not taken: dependency weight and a second data model.
- kusto-query-language-parser 0.1.0 (MIT, one release, 2025-04): ANTLR parse tree only, no
  evaluation, pins antlr4-python3-runtime==4.13.2. We would still write the whole evaluator.
- adxpandas 0.2.3 (MIT, 2026): parser + executor over pandas DataFrames. Needs pandas (+numpy);
  dynamic columns as Python objects inside DataFrames; an emulator dependency that the rest of refit
  does not need. Not taken.
- kusto-pandas 0.1.0 (js850/KustoPandas, a single old release): pins parsimonious==0.8.1, needs pandas
  and numpy. Not taken.
- kustology (pythonnet + Microsoft's Kusto.Language .NET library): exact parser, but needs a .NET
  runtime. Not taken.
- lark (already installed): acceptable, but a grammar plus a transformer is not shorter than the
  recursive-descent parser here, and adds a runtime dependency.

Decision: no new dependency. A small recursive-descent parser (`parser`), expressions compiled to
closures once per query (`expr`), aggregates (`aggregates`), tabular operators (`engine`).

Supported subset
- tables: any name in `tables`, case-insensitively; a query that starts with an operator runs on
  Resources, as Resource Graph does.
- operators: where/filter, project (renames, computed columns), project-away, project-keep,
  project-rename, extend, order by/sort by (asc|desc, nulls first|last; default desc), take/limit,
  top N by, summarize (aggregations, `by`, `name = expr`), count, distinct, mv-expand
  (kind/bagexpansion, with_itemindex, to typeof(), limit), join (the flavours Resource Graph runs:
  innerunique, inner, leftouter, fullouter; `on col` and `$left.a == $right.b`), union (kind=inner|outer,
  withsource=, also leading a query), parse (kind=simple|regex|relaxed, typed columns, `*`).
- scalar: literals (strings ' " @'' h'', long, real, bool, dynamic([..]/{..}), datetime(), timespan
  1d/2h/30m), `.`/`['x']`/`[0]` access, == != =~ !~ < <= > >=, contains/has/hasprefix/hassuffix/
  startswith/endswith (+ `_cs`, `!` forms), matches regex, in/!in/in~/!in~, has_any/has_all,
  between/!between, and/or, + - * / %, and the functions in `expr.FUNCTIONS`.
- aggregations: count countif dcount dcountif sum sumif min max avg avgif make_list make_list_if
  make_set make_set_if any take_any take_anyif, arg_max and arg_min (with `*` or the columns to return).
- tables: Resources and ResourceContainers (resource groups, subscriptions) as the emulator's route serves them.
"""

from refit.emulator.kql.engine import run
from refit.emulator.kql.errors import KqlError, error_body

__all__ = ["KqlError", "error_body", "run"]
