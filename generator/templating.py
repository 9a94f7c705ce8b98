"""Where a repository's own Jinja2 templates live, for every command that renders from templates.

`slokit report` and the runbooks of `slokit generate` both render from the
templates shipped in the package (`slokit/templates/`); a repository
overrides any of them by putting a file of the same name into one directory,
found the same way for every command.
"""

from __future__ import annotations

from pathlib import Path

TEMPLATES_DIR = "templates"


def template_dir(option: Path | None, paths: tuple[Path, ...]) -> Path | None:
    """--templates, else templates/ beside slokit.yaml, else templates/ beside the SLO files, else none."""
    from slokit.config import find_config

    if option is not None:
        return option
    config = find_config()
    bases = [config.parent] if config is not None else []
    bases += [p if p.is_dir() else p.parent for p in (paths or (Path("slos"),))]
    for base in bases:
        if (base / TEMPLATES_DIR).is_dir():
            return base / TEMPLATES_DIR
    return None


def loader(templates: Path | None):
    """The repository's directory first, then the shipped templates."""
    import jinja2

    loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("slokit", TEMPLATES_DIR)]
    if templates is not None:
        loaders.insert(0, jinja2.FileSystemLoader(str(templates)))
    return jinja2.ChoiceLoader(loaders)
