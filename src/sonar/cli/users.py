"""`sonar users add|list`: manage local users who sign in to the API."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from sonar.config import Settings

if TYPE_CHECKING:
    from sonar.auth.users import UserDirectory

users_cli = typer.Typer(help="Local users and their roles.", no_args_is_help=True)
console = Console()


def _directory() -> UserDirectory:
    from sonar.auth.users import UserDirectory  # noqa: PLC0415 - keep `--help` fast
    from sonar.bootstrap import build_record_store  # noqa: PLC0415

    return UserDirectory(build_record_store(Settings()))


@users_cli.command("add")
def add(username: str,
        role: Annotated[str, typer.Option(help="custody_nurse, sms_worker, auditor, ...")],
        org: Annotated[str, typer.Option(help="Organisation the user acts for.")],
        site: Annotated[str, typer.Option(help="Site (establishment, suite, service).")],
        password_stdin: Annotated[bool, typer.Option(
            "--password-stdin", help="Read the password from standard input.")] = False,
        actor_id: Annotated[str | None, typer.Option(
            help="Id their actions are attributed to (default: the username).")] = None,
        patient_id: Annotated[str | None, typer.Option(
            help="For the patient role: whose diary this is.")] = None) -> None:
    """Add a user; the password is prompted for (never a command-line argument)."""
    from sonar.auth.users import UserRefused  # noqa: PLC0415
    from sonar.domain.errors import InvalidValue  # noqa: PLC0415

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = _directory().add(username, password, role=role, organisation=org, site=site,
                                actor_id=actor_id, patient_id=patient_id)
    except (UserRefused, InvalidValue) as refused:
        typer.echo(f"Refused: {refused}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"Added {user.username} ({user.role}, {user.organisation}, {user.site}).")


@users_cli.command("list")
def list_users() -> None:
    """Every user with role, organisation, site and whether they are active."""
    table = Table("username", "actor id", "role", "organisation", "site", "active", "created")
    for user in _directory().list():
        table.add_row(user.username, user.actor_id, user.role, user.organisation, user.site,
                      "yes" if user.active else "no", user.created_at or "")
    console.print(table)
