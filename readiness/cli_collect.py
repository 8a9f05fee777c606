"""`readiness collect ...` (fact sources) and `readiness facts SYSTEM_ID`."""

import typer

collect_app = typer.Typer(help="Collect facts from a source and store them.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add top-level commands of this module (e.g. `facts`) to the main app."""
