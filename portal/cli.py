"""`flask --app wsgi ...` commands: setup, users, import, demo, worker."""

from __future__ import annotations

import os
import sys
from datetime import date

import click
import sqlalchemy as sa
from flask import Flask, current_app

from portal.extensions import db


def init_app(app: Flask) -> None:
    app.cli.add_command(setup_command)
    app.cli.add_command(users)
    app.cli.add_command(import_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(oldparts)
    app.cli.add_command(analysis)


@click.command("setup")
@click.option(
    "--oem-name", default=None, help="The OEM's display name (renames it when run again)."
)
def setup_command(oem_name):
    """Create the OEM organisation and the default rules of a new installation (idempotent)."""
    from portal.health import schema_problem
    from portal.installation import set_up

    problem = schema_problem()
    if problem:
        click.echo(f"Error: {problem}; run `flask --app wsgi db upgrade` first.", err=True)
        sys.exit(1)
    try:
        report = set_up(oem_name)
    except ValueError as exc:
        db.session.rollback()
        click.echo(f"Error: {exc}.", err=True)
        sys.exit(1)
    db.session.commit()
    for line in report.lines:
        click.echo(line)
    if report.changed:
        click.echo(
            "Set up. Next: `flask --app wsgi users create ... --org OEM` for the first admin."
        )
    else:
        click.echo("Nothing to do: everything exists.")


@click.group()
def users():
    """Manage portal users."""


@users.command("create")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["station", "auditor", "finance", "supplier", "admin"]),
)
@click.option(
    "--org", "org_code", required=True, help="Organisation code: OEM, a station or a supplier."
)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "full_name", default="", help="Full name shown in the portal.")
def create_user_command(username, role, org_code, password, full_name):
    """Create USERNAME with ROLE in organisation ORG_CODE."""
    from portal.auth.operations import create_user
    from portal.errors import ValidationFailed
    from portal.masterdata.models import OEM_CODE, Organisation

    try:
        user = create_user(username, role, org_code, password, full_name=full_name)
    except ValidationFailed as exc:
        db.session.rollback()
        click.echo(f"Error: {exc.message}", err=True)
        for name, problem in exc.fields.items():
            click.echo(f"  {name}: {problem}", err=True)
        if org_code.strip() == OEM_CODE and not db.session.scalar(
            sa.select(Organisation.id).where(Organisation.code == OEM_CODE)
        ):
            click.echo("  (run `flask --app wsgi setup` to create the OEM organisation)", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Created {user.username} ({user.role.value}) in {user.organisation.code}.")


@click.command("import")
@click.argument("kind")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_command(kind, path):
    """Import master data of KIND from a UTF-8 CSV file (see README for kinds and columns)."""
    from portal.masterdata.importer import KINDS, ImportRejected, import_csv

    if kind not in KINDS:
        click.echo(f"Error: unknown kind {kind!r}; one of: {', '.join(KINDS)}", err=True)
        sys.exit(2)
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        result = import_csv(kind, data)
    except ImportRejected as exc:
        db.session.rollback()
        click.echo(f"Error: {path} was not imported: {len(exc.errors)} problem(s).", err=True)
        for error in exc.errors:
            click.echo(f"  {error}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Imported {kind}: {result.created} created, {result.updated} updated.")


@click.command("demo")
@click.option("--seed", default=2026, show_default=True, help="Random seed for the demo data.")
def demo_command(seed):
    """Load the demo data set and print the demo logins."""
    from portal.demo import DEMO_PASSWORD, load_demo

    logins = load_demo(seed=seed)
    db.session.commit()
    click.echo("")
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for username, role, org in logins:
        click.echo(f"  {role:<9} {username:<16} {org}")
    # `make demo` tells the address it serves on (HOST, PORT); flask run's default otherwise.
    click.echo(f"Open {os.environ.get('DEMO_URL', 'http://127.0.0.1:5000')} and sign in.")


@click.command("worker")
@click.option("--queues", default=None, help="Comma-separated queue names (default: RQ_QUEUES).")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker_command(queues, burst):
    """Run an RQ worker (with the scheduler) for the portal's queues."""
    from portal.jobs import run_worker

    if not current_app.config.get("REDIS_URL"):
        click.echo("Error: REDIS_URL is not set; without it jobs run in-process.", err=True)
        sys.exit(2)
    names = queues.split(",") if queues else current_app.config["RQ_QUEUES"]
    from portal.analysis.tasks import schedule_next as schedule_warnings
    from portal.oldparts.tasks import schedule_next

    schedule_next()  # the daily overdue check of old parts; the same job id from every worker
    schedule_warnings()  # the nightly early-warning check, likewise
    run_worker(current_app._get_current_object(), names, burst=burst)


@click.group()
def oldparts():
    """Old parts (旧件) housekeeping."""


@oldparts.command("mark-overdue")
@click.option("--today", default=None, help="The day to check as (YYYY-MM-DD); default today.")
def mark_overdue_command(today):
    """Mark old parts not shipped by their deadline as overdue (charged back to the station)."""
    from portal.oldparts.operations import mark_overdue
    from portal.oldparts.tasks import local_today

    day = local_today()
    if today:
        try:
            day = date.fromisoformat(today)
        except ValueError:
            click.echo(f"Error: --today must be YYYY-MM-DD, not {today!r}", err=True)
            sys.exit(2)
    marked = mark_overdue(day)
    db.session.commit()
    click.echo(f"{marked} old part(s) marked overdue as of {day.isoformat()}.")


@click.group()
def analysis():
    """Analysis (统计分析) housekeeping."""


@analysis.command("warnings")
@click.option("--as-of", default=None, help="The day to check as (YYYY-MM-DD); default today.")
def warnings_command(as_of):
    """Run the early-warning check: cohorts whose claims run above what is expected."""
    from portal.analysis.tasks import local_today, raise_warnings

    day = local_today()
    if as_of:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            click.echo(f"Error: --as-of must be YYYY-MM-DD, not {as_of!r}", err=True)
            sys.exit(2)
    raised = raise_warnings(day)
    db.session.commit()
    click.echo(f"{len(raised)} early warning(s) raised as of {day.isoformat()}.")
