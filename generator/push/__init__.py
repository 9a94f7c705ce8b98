"""`slokit push`: upload generated outputs to running systems.

Each target has a module of its own (grafana, rules); both compute a plan of
changes first (what to create, update, delete and leave alone), print it,
and apply it unless `--dry-run`. They touch only what slokit owns: Grafana
dashboards with a slokit UID and the `slokit` tag, ruler groups named
`slokit-...` in `slokit-<service>` namespaces.
"""
