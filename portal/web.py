"""One request pattern for the pages: load -> authorize -> act -> commit once (as indico's `RH`).

A page view that changes something is wrapped in `page_action`. The view loads its record
(`load_or_404`: a missing record, or one the user may not see, is a 404), checks the object
permission, calls the operation(s) and says what happened (`flash`) and where to go next.
`page_action` does the rest in one place:

- the session is committed once, after the view answered without a refusal; the jobs the
  operations asked for (`jobs.enqueue_after_commit`) start then, and only then;
- a refusal (`DomainError`, raised by an operation or by the view) rolls everything back and is
  answered centrally: `NotFound` is a 404 page; `Conflict` (someone acted first) is a warning;
  with `forbidden=True` a rule refusing the user is a 403 page; any other refusal is a message.
  The message is shown on the page the action came from (`back`), or on the record's page
  rendered again with the refusal's status (`page`: 409 / 422);
- a refused form is shown again with its fields marked: `with invalid_renders(render): ...`
  around the operation makes a `ValidationFailed` render `render(error)` after the rollback;
- what can only be said once the work is committed and its jobs ran (an in-process job's
  result) is answered through `after_commit(respond)`.

An answer with a 4xx/5xx status (a form shown again) is rolled back too: nothing of a refused
request is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort, flash, make_response, redirect
from flask.typing import ResponseReturnValue

from portal.errors import Conflict, DomainError, NotFound, ValidationFailed
from portal.extensions import db

T = TypeVar("T")


def load_or_404(model: type[T], ident: Any, *, visible: Callable[[T], bool] | None = None) -> T:
    """The record `model` with primary key `ident`; 404 when there is none or `visible` says
    the user may not see it (its existence is not leaked)."""
    found = db.session.get(model, ident)
    if found is None or (visible is not None and not visible(found)):
        abort(404)
    return found


def one_or_404(stmt: sa.Select) -> Any:
    """The one record `stmt` (already scoped to what the user may see) selects; else 404."""
    found = db.session.scalar(stmt)
    if found is None:
        abort(404)
    return found


def authorize(allowed: bool) -> None:
    """The object-level permission check: a user the record is not for gets a 403 page."""
    if not allowed:
        abort(403)


def refusal_message(error: DomainError) -> str:
    """The refusal's message, with its field problems when they are not shown beside fields."""
    details = "; ".join(str(v) for v in error.fields.values())
    return f"{error.message} ({details})" if details else error.message


class AfterCommit:
    """An answer made once the action is committed and its jobs started (see `after_commit`)."""

    def __init__(self, respond: Callable[[], ResponseReturnValue]):
        self.respond = respond


def after_commit(respond: Callable[[], ResponseReturnValue]) -> AfterCommit:
    """Answer with `respond()`, called after the commit (an in-process job has run by then)."""
    return AfterCommit(respond)


class _Rerender(Exception):
    def __init__(self, error: DomainError, render: Callable[[Any], ResponseReturnValue]):
        super().__init__(error.message)
        self.error = error
        self.render = render


@contextmanager
def invalid_renders(
    render: Callable[[Any], ResponseReturnValue],
    on: type[DomainError] | tuple[type[DomainError], ...] = ValidationFailed,
) -> Iterator[None]:
    """A refusal of kind `on` raised inside the block is answered by `render(error)`, after
    the rollback (the form shown again, its fields marked)."""
    try:
        yield
    except on as error:
        raise _Rerender(error, render) from error


def rollback() -> None:
    """Nothing of the request is kept; the jobs it asked for are dropped with it."""
    db.session.rollback()


def commit(response: ResponseReturnValue | AfterCommit) -> ResponseReturnValue:
    """Commit the request's work once (its jobs start then) and answer."""
    db.session.commit()
    if isinstance(response, AfterCommit):
        return response.respond()
    return response


def _status(response: ResponseReturnValue) -> int:
    if isinstance(response, AfterCommit):
        return 200
    if isinstance(response, tuple) and len(response) > 1 and isinstance(response[1], int):
        return response[1]
    return getattr(response, "status_code", 200)


def page_action(
    view: Callable | None = None,
    *,
    back: Callable[..., str] | None = None,
    page: Callable[..., ResponseReturnValue] | None = None,
    category: str = "warning",
    forbidden: bool = False,
) -> Callable:
    """Wrap a page view that acts: commit once on success, roll back and answer a refusal.

    `back(**view_args)`: the URL to go back to with the refusal's message; `page(error,
    **view_args)`: instead, the page to render again (with the refusal's status); `category`:
    the message's kind for a refusal other than a conflict ("warning" or "danger");
    `forbidden`: a plain rule refusal (not a conflict, not invalid input) is a 403.
    """

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            try:
                response = view(*args, **kwargs)
            except _Rerender as refused:
                rollback()
                return refused.render(refused.error)
            except DomainError as error:
                rollback()
                return _refuse(error, kwargs)
            except BaseException:
                rollback()
                raise
            if _status(response) >= 400:
                rollback()
                return response
            try:
                return commit(response)
            except DomainError as error:  # committed, but a job it asked for could not start
                return _refuse(error, kwargs)

        def _refuse(error: DomainError, view_args: dict) -> ResponseReturnValue:
            if isinstance(error, NotFound):
                abort(404)
            conflict = isinstance(error, Conflict)
            if forbidden and not conflict and not isinstance(error, ValidationFailed):
                abort(403)
            flash(refusal_message(error), "warning" if conflict else category)
            if page is not None:
                return make_response(page(error, **view_args))
            if back is None:
                abort(error.status)
            return redirect(back(**view_args))

        return wrapped

    return decorate(view) if view is not None else decorate
