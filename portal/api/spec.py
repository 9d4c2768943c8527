"""Declared endpoints: one declaration per view validates its input, shapes its answer and
describes it in the OpenAPI 3.1 document served at `/api/v1/openapi.json`.

    @bp.route("/claims", methods=["POST"])
    @api_view(Role.STATION)
    @declare(body=ClaimCreate, answer=Claim, status=201, errors=(422,), location=True)
    def create_claim(user, body): ...

`declare` reads the query string into `query=` and the JSON body into `body=` (pydantic v2), and
refuses malformed input in the API's error shape, naming each field (400 `malformed`, or
422 `invalid` where `refuse=ValidationFailed`). A view returns a model (or a pydantic
dataclass), which is written as JSON with `status`, or a ready response. The document is built
from the app's routes and these declarations: its paths are the routes, its schemas the models
(`model_json_schema`), the summary the view's docstring, the roles those of `api_view`.

Why not spectree or flask-openapi3: both validate before the view runs, so a request without a
token would be told its body is malformed instead of 401, and both answer every validation
failure with one status and their own body, while this API answers 400 `malformed` or 422
`invalid` per endpoint in `{"error": {"code", "message", "fields"}}` with fields named
`lines[0].qty`; spectree also names components with a hash suffix and flask-openapi3 replaces
the blueprint. The layer below is what remains of them once those are removed: pydantic does the
work, this module wires it to Flask.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, wraps
from typing import Any

import sqlalchemy as sa
from flask import Response, current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.dataclasses import is_pydantic_dataclass
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from portal.api.blueprint import bp, not_found
from portal.errors import DomainError, Malformed
from portal.extensions import db
from portal.fields import MAX_INT, field_errors

RESPONSES = {
    400: ("Malformed", "Malformed: bad JSON, an unknown value, a field of the wrong form."),
    401: ("Unauthorized", "No bearer token, or an unknown or expired one, or a disabled account."),
    403: ("Forbidden", "The user's role may never do this."),
    404: ("NotFound", "No such record for this user (other organisations' records included)."),
    409: (
        "Conflict",
        "The record's state does not allow it (e.g. submitting a submitted claim), or it changed "
        "since the revision the request names.",
    ),
    413: ("TooLarge", "The upload is too large."),
    422: ("Refused", "A rule refused it; `fields` names each field and the rule."),
    428: (
        "PreconditionRequired",
        "The request must name the revision it changes (If-Match, or `revision` in the body).",
    ),
    429: ("RateLimited", "Too many attempts; wait a minute."),
    503: (
        "Unavailable",
        "Background jobs are not available (Redis does not answer): nothing was started; try "
        "again later.",
    ),
}
MAX_PATH_TEXT = 200  # longer than any claim number, tag or VIN: no such record
PATH_PARAMETERS = {
    "number": "the claim number, e.g. RP-ST-A-2611-0001",
    "tag": "the number on the old part's tag",
    "vin": "the vehicle identification number (17 characters)",
    "code": "the campaign's code",
}


@dataclass(frozen=True)
class Declared:
    """What a view accepts and answers, and what the document says of it."""

    tag: str  # the document's group
    answer: Any = None  # the model of a success
    status: int = 200  # of a success
    body: Any = None  # the model of the JSON body (or of the form fields of a multipart one)
    query: Any = None  # the model of the query string
    refuse: type[DomainError] = Malformed  # malformed input: 400 malformed, or 422 invalid
    errors: tuple[int, ...] = ()  # the answers other than success the operation may give
    open: bool = False  # no bearer token needed
    etag: bool = False  # the success carries an ETag
    location: bool = False  # the success carries the new record's Location
    upload: dict | None = None  # the multipart body's schema
    download: bool = False  # the success is a file
    headers: list[dict] = field(default_factory=list)  # request headers it reads


def declare(**options: Any) -> Callable:
    """Declare a view's input and answer (see the module docstring); innermost decorator."""

    def decorator(view: Callable) -> Callable:
        declared = Declared(**options)

        @wraps(view)
        def wrapped(*args, **kwargs):
            for value in kwargs.values():
                if isinstance(value, str) and (len(value) > MAX_PATH_TEXT or "\x00" in value):
                    raise not_found()
            if declared.query is not None:
                args_ = {k: v for k, v in request.args.items() if v.strip()}
                kwargs["query"] = read(
                    declared.query, args_, declared.refuse, _l("The query is malformed.")
                )
            if declared.body is not None:
                kwargs["body"] = read(
                    declared.body, _body(declared), declared.refuse, _l("The request is malformed.")
                )
            return respond(view(*args, **kwargs), declared.status)

        wrapped.declared = declared
        return wrapped

    return decorator


def _body(declared: Declared) -> Any:
    if declared.upload is not None and request.mimetype == "multipart/form-data":
        return request.form.to_dict()
    return json_body()


def json_body() -> dict:
    """The request's JSON object; a body that is not one is malformed (400)."""
    data = request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        raise Malformed(str(_l("The body must be a JSON object.")))
    return data


@cache
def _adapter(kind: Any) -> TypeAdapter:
    return TypeAdapter(kind)


def read(kind: Any, data: Any, refuse: type[DomainError], message: str) -> Any:
    """`data` validated as `kind`; a refusal names every field."""
    try:
        return _adapter(kind).validate_python(data)
    except ValidationError as error:
        fields = field_errors(error)
        if "" in fields:
            raise Malformed(str(_l("The body must be a JSON object."))) from None
        raise refuse(str(message), fields) from None


def dump(answer: Any) -> Any:
    """A model (or a pydantic dataclass) as JSON-ready data."""
    return _adapter(type(answer)).dump_python(answer, mode="json")


def respond(result: Any, status: int = 200) -> Any:
    """A view's result as a response: a model (or `(model, status, headers)`) is written as JSON
    with `status`; anything else (a response, a file) is the view's own answer."""
    answer = result[0] if isinstance(result, tuple) else result
    if isinstance(answer, Response) or not (
        isinstance(answer, BaseModel) or is_pydantic_dataclass(type(answer))
    ):
        return result
    headers: dict = {}
    if isinstance(result, tuple):
        result, status, *rest = result
        headers = rest[0] if rest else {}
    response = jsonify(dump(result))
    response.status_code = status
    response.headers.update(headers)
    return response


def paged(query, order_by, page: int | None, per_page: int | None, shape, *options) -> dict:
    """A page of `query`'s records shaped by `shape`, with the page, its size and the total."""
    page = page or 1
    per_page = per_page or current_app.config["PAGE_SIZE"]
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    items = db.session.scalars(
        query.options(*options).order_by(*order_by).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return {
        "items": [shape(item) for item in items],
        "page": page,
        "per_page": per_page,
        "total": total,
    }


# -- the document ----------------------------------------------------------------------------------


class _Schema(GenerateJsonSchema):
    """JSON Schema without a title on every property (the property name says it)."""

    def field_title_should_be_set(self, schema) -> bool:
        return False


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _path_parameter(rule, name: str) -> dict:
    converter = rule._converters.get(name)
    if converter is not None and getattr(converter, "num_convert", None) is int:
        schema = {"type": "integer", "minimum": 1, "maximum": MAX_INT}
    else:
        schema = {"type": "string", "minLength": 1, "maxLength": MAX_PATH_TEXT}
    parameter = {"name": name, "in": "path", "required": True, "schema": schema}
    if name in PATH_PARAMETERS:
        parameter["description"] = PATH_PARAMETERS[name]
    return parameter


def _query_parameters(model: type[BaseModel]) -> list[dict]:
    schema = model.model_json_schema(schema_generator=_Schema)
    parameters = []
    for name, prop in schema["properties"].items():
        description = prop.pop("description", None)
        prop.pop("default", None)
        if "anyOf" in prop:  # optional: the parameter is simply left out
            prop = next(p for p in prop["anyOf"] if p.get("type") != "null")
        parameter = {"name": name, "in": "query", "schema": prop}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _describe(view: Callable) -> tuple[str, str]:
    doc = (view.__doc__ or "").strip()
    summary, _sep, rest = doc.partition("\n")
    roles = getattr(view, "roles", ())
    description = " ".join(line.strip() for line in rest.splitlines()).strip()
    if roles:
        who = "Roles: " + ", ".join(role.value for role in roles) + "."
        description = f"{who} {description}".strip()
    return summary.strip().rstrip("."), description


def _operation(rule, endpoint: str, view: Callable, refs: dict) -> dict:
    declared: Declared = view.declared
    summary, description = _describe(view)
    operation: dict[str, Any] = {
        "operationId": _camel(endpoint.removeprefix("api.")),
        "summary": summary,
        "tags": [declared.tag],
    }
    if description:
        operation["description"] = description
    if declared.open:
        operation["security"] = []
    parameters = list(declared.headers)
    if declared.query is not None:
        parameters += _query_parameters(declared.query)
    if parameters:
        operation["parameters"] = parameters
    content: dict[str, Any] = {}
    if declared.body is not None:
        content["application/json"] = {"schema": refs[declared.body, "validation"]}
    if declared.upload is not None:
        content["multipart/form-data"] = {"schema": declared.upload}
    if content:
        operation["requestBody"] = {"required": True, "content": content}

    ok: dict[str, Any] = {"description": "Success"}
    if declared.answer is not None:
        ok["content"] = {"application/json": {"schema": refs[declared.answer, "serialization"]}}
    if declared.download:
        ok["content"] = {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
        }
    headers = {}
    if declared.etag:
        headers["ETag"] = {
            "schema": {"type": "string"},
            "description": "the claim's revision as a strong entity tag, "
            'e.g. "RP-ST-A-2611-0001-r3"',
        }
    if declared.location:
        headers["Location"] = {
            "schema": {"type": "string"},
            "description": "the new record's URL",
        }
    if headers:
        ok["headers"] = headers
    responses: dict[str, Any] = {str(declared.status): ok}
    errors = set(declared.errors)
    if not declared.open:
        errors |= {401, 403}
    if rule.arguments:
        errors.add(404)
    if declared.body is not None or declared.upload is not None:
        errors.add(400)
    if declared.body is not None or declared.query is not None:
        errors.add(declared.refuse.status)
    for status in sorted(errors):
        responses[str(status)] = {"$ref": f"#/components/responses/{RESPONSES[status][0]}"}
    operation["responses"] = responses
    return operation


def _models() -> list[tuple[Any, str]]:
    from portal.api.schemas import Error

    models = {(Error, "serialization")}
    for view in current_app.view_functions.values():
        declared = getattr(view, "declared", None)
        if declared is None:
            continue
        if declared.answer is not None:
            models.add((declared.answer, "serialization"))
        if declared.body is not None:
            models.add((declared.body, "validation"))
    return sorted(models, key=lambda pair: (pair[0].__name__, pair[1]))


def build_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the app's API routes."""
    refs, definitions = models_json_schema(
        _models(), ref_template="#/components/schemas/{model}", schema_generator=_Schema
    )
    paths: dict[str, dict] = {}
    prefix = request.path.removesuffix("/openapi.json")  # where the blueprint is mounted
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith(f"{bp.name}."):
            continue
        view = current_app.view_functions[rule.endpoint]
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix(prefix))
        item = paths.setdefault(path, {})
        for name in rule.arguments:
            parameters = item.setdefault("parameters", [])
            if all(p["name"] != name for p in parameters):
                parameters.append(_path_parameter(rule, name))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            item[method.lower()] = _operation(rule, rule.endpoint, view, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Warranty-claim portal API",
            "version": "1.0.0",
            "description": "Claims and old parts for dealer systems (DMS) and scripts. Money is "
            "text with two decimals (CNY), dates are YYYY-MM-DD, timestamps ISO 8601 in UTC. "
            'Errors are `{"error": {"code", "message", "fields"}}`.',
        },
        "servers": [{"url": prefix}],
        "security": [{"bearer": []}],
        "tags": [
            {"name": name}
            for name in (
                "auth",
                "vehicles",
                "claims",
                "audit",
                "fulfilment",
                "old-parts",
                "settlement",
                "audit-log",
                "campaigns",
                "meta",
            )
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from POST /auth/token: `Authorization: Bearer TOKEN`.",
                }
            },
            "schemas": definitions.get("$defs", {}),
            "responses": {
                name: {
                    "description": description,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                    **(
                        {"headers": {"WWW-Authenticate": {"schema": {"type": "string"}}}}
                        if status == 401
                        else {}
                    ),
                }
                for status, (name, description) in RESPONSES.items()
            },
        },
    }


@bp.route("/openapi.json", methods=["GET"])
@declare(open=True, tag="meta")
def openapi():
    """This document: the API described in OpenAPI 3.1."""
    cache = current_app.extensions.setdefault("portal.api", {})  # the routes do not change
    if "openapi" not in cache:
        cache["openapi"] = build_document()
    return jsonify(cache["openapi"])
