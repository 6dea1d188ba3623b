"""The scenario schema: frozen pydantic models whose field docstrings are the format reference.

`base` (bounds and value types), `world` (meta, time, powers, states, blocs), `parameters`
(rules), `events` and `expectations` (one module per registered type), `scenario` (the whole),
`effects` (what event handlers and evaluators may touch), `refs` (reference checks), `examples`
(the small world every type's example runs in). No module here imports the model or Mesa.
"""
