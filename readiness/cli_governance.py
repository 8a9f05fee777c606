"""`readiness review ...` and `readiness waiver ...` (team-managed checks and waivers)."""

import typer

review_app = typer.Typer(help="Team-managed checks: submit answers, approve, reject.", no_args_is_help=True)
waiver_app = typer.Typer(help="Waivers: request, approve, revoke.", no_args_is_help=True)
