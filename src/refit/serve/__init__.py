"""`refit serve`: the local web page over the same journals, live state and code as the CLI.

Pages: campaigns (the journal's runs, live while one runs, with pause / resume / abort through
`refit.run.control`, what `refit campaign` calls), plan (a plan file or a fresh plan from a goal), fleet (image
versions per region, replication, reservations, doctor findings with their check pages).

Modules, one job each:
  access.py     the access token and the CSRF tokens; the middleware that refuses everything else (403)
  context.py    what the pages read: the journal, the session to Azure or the emulator, the plan sources
  campaigns.py  a run of the journal + live state -> page data (reusing `refit.run.refresh.status`)
  plans.py      a plan (file or fresh) -> waves, dependencies, downtime per resource, rollback
  fleet.py      live state -> versions per region, replication, reservations, doctor findings
  html.py       escaping and the page layout
  pages.py      page data -> HTML (one renderer: the first response and the live updates use it)
  markdown.py   a check's page (refit.checks.docs) as HTML
  app.py        the starlette routes, the server-sent events
  server.py     binding 127.0.0.1, running uvicorn, stopping on Ctrl-C
The page reads the journal on every request and every tick of the event stream, never its own memory, so a
campaign run by another process shows the same as one run by this one.
"""
