"""Front ends that read a running Prometheus: status, gate, report.

Each command is a module of its own over the same model and plan: the
recorded series it reads are named in `slokit.naming`, the queries of SLIs
and budgets come from the plan, and nothing here recomputes a window, a burn
factor or an error budget.
"""
