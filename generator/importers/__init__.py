"""Importers: SLOs written for other tools (Sloth, OpenSLO) as slokit spec files and a catalog."""
