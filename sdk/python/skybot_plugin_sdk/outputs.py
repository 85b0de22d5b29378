"""What the platform checks on a plugin's answer before acting on it.

The platform refuses an answer with any problem (the run fails, nothing is applied); the SDK's
`run_execute` and `skybot-plugin test` call the same function, so an author sees the refusal locally.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from typing import Any

from skybot_plugin_sdk.types import ACTION_PERMISSIONS, PRIORITIES, AgentOutput

MAX_RESPONSE_CHARS = 4096
MAX_ACTIONS = 20
MAX_LABEL_CHARS = 50
MAX_HANDOFF_REASON_CHARS = 500
MAX_TEXT_FIELD_CHARS = 200
LEAD_STATUSES = ("new", "qualified", "nurture", "won", "lost")
OUTPUT_FIELDS = ("response", "actions", "metadata")


def output_problems(output: object, *, permissions: Collection[str]) -> list[str]:
    """Every reason the platform would refuse `output` (an `AgentOutput` or its `to_dict()`), given
    the permissions granted; [] when it would act on it."""
    if isinstance(output, AgentOutput):
        output = output.to_dict()
    if not isinstance(output, dict):
        return [f"The answer must be an AgentOutput (got {type(output).__name__})."]
    problems = [
        f"{name}: unknown field in the answer (it has only {', '.join(OUTPUT_FIELDS)})."
        for name in output
        if name not in OUTPUT_FIELDS
    ]
    problems += _response_problems(output.get("response"), permissions)
    problems += _actions_problems(output.get("actions", []), permissions)
    metadata = output.get("metadata", {})
    if not isinstance(metadata, dict):
        problems.append(f"metadata: must be an object (got {type(metadata).__name__}).")
    try:
        json.dumps(output, allow_nan=False)
    except (TypeError, ValueError) as exc:
        problems.append(f"The answer is not plain JSON: {exc}.")
    return problems


def _response_problems(response: object, permissions: Collection[str]) -> list[str]:
    if response is None:
        return []
    if not isinstance(response, str):
        return [f"response: must be text or None (got {type(response).__name__})."]
    problems = []
    if len(response) > MAX_RESPONSE_CHARS:
        problems.append(f"response: at most {MAX_RESPONSE_CHARS} characters (got {len(response)}).")
    if response and "messages:send" not in permissions:
        problems.append("response: answering the customer needs the messages:send permission.")
    return problems


def _actions_problems(actions: object, permissions: Collection[str]) -> list[str]:
    if not isinstance(actions, list):
        return [f"actions: must be a list (got {type(actions).__name__})."]
    problems = []
    if len(actions) > MAX_ACTIONS:
        problems.append(f"actions: at most {MAX_ACTIONS} (got {len(actions)}).")
    for index, action in enumerate(actions[: MAX_ACTIONS + 1]):
        problems += [f"actions[{index}]{problem}" for problem in _action_problems(action, permissions)]
    return problems


def _action_problems(action: object, permissions: Collection[str]) -> list[str]:
    if not isinstance(action, dict):
        return [f": must be an Action (got {type(action).__name__})."]
    kind = action.get("type")
    if kind not in ACTION_PERMISSIONS:
        return [f": {kind!r} is not an action (one of {', '.join(ACTION_PERMISSIONS)})."]
    problems = [f" ({kind}): unknown field {name!r}." for name in action if name not in ("type", "params")]
    params = action.get("params", {})
    if not isinstance(params, dict):
        return [*problems, f" ({kind}): params must be an object."]
    problems += [f" ({kind}): {problem}" for problem in _PARAM_CHECKS[kind](params)]
    permission = ACTION_PERMISSIONS[kind]
    if permission not in permissions:
        problems.append(f" ({kind}): needs the {permission} permission, which the manifest does not ask for.")
    return problems


# --- each action's params ------------------------------------------------------------------------------


def _unknown(params: dict[str, Any], allowed: tuple[str, ...], where: str = "") -> list[str]:
    return [f"{where}{name!r} is not allowed (only {', '.join(allowed)})." for name in params if name not in allowed]


def _text(value: object, name: str, limit: int = MAX_TEXT_FIELD_CHARS) -> list[str]:
    if not isinstance(value, str):
        return [f"{name} must be text."]
    if len(value) > limit:
        return [f"{name} must be at most {limit} characters."]
    return []


def _fields(params: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    fields = params.get("fields")
    if not isinstance(fields, dict) or not fields:
        return None, ["fields must be an object naming at least one field to change."]
    return fields, []


def _update_lead(params: dict[str, Any]) -> list[str]:
    problems = _unknown(params, ("lead_id", "fields"))
    lead_id = params.get("lead_id")
    if lead_id is not None and (not isinstance(lead_id, int) or isinstance(lead_id, bool)):
        problems.append("lead_id must be an integer or None (the lead of the contact who writes).")
    fields, field_problems = _fields(params)
    if fields is None:
        return problems + field_problems
    problems += _unknown(fields, ("status", "score", "name", "email", "company", "metadata"), "fields: ")
    if "status" in fields and fields["status"] not in LEAD_STATUSES:
        problems.append(f"status {fields['status']!r} is not one of {', '.join(LEAD_STATUSES)}.")
    if "score" in fields:
        score = fields["score"]
        if not isinstance(score, int) or isinstance(score, bool) or not 0 <= score <= 100:
            problems.append(f"score must be an integer from 0 to 100 (got {score!r}).")
    for name in ("name", "email", "company"):
        if name in fields:
            problems += _text(fields[name], name)
    if "metadata" in fields and not isinstance(fields["metadata"], dict):
        problems.append("metadata must be an object (it is merged into the lead's).")
    return problems


def _update_contact(params: dict[str, Any]) -> list[str]:
    problems = _unknown(params, ("fields",))
    fields, field_problems = _fields(params)
    if fields is None:
        return problems + field_problems
    problems += _unknown(fields, ("name", "email", "attributes"), "fields: ")
    for name in ("name", "email"):
        if name in fields:
            problems += _text(fields[name], name)
    if "attributes" in fields and not isinstance(fields["attributes"], dict):
        problems.append("attributes must be an object (it is merged into the contact's).")
    return problems


def _add_label(params: dict[str, Any]) -> list[str]:
    problems = _unknown(params, ("label",))
    label = params.get("label")
    if not isinstance(label, str) or not 1 <= len(label.strip()) <= MAX_LABEL_CHARS:
        problems.append(f"label must be text of 1 to {MAX_LABEL_CHARS} characters.")
    return problems


def _set_priority(params: dict[str, Any]) -> list[str]:
    problems = _unknown(params, ("priority",))
    if params.get("priority") not in PRIORITIES:
        problems.append(f"priority {params.get('priority')!r} is not one of {', '.join(PRIORITIES)}.")
    return problems


def _handoff(params: dict[str, Any]) -> list[str]:
    return _unknown(params, ("reason",)) + _text(params.get("reason", ""), "reason", MAX_HANDOFF_REASON_CHARS)


_PARAM_CHECKS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "update_lead": _update_lead,
    "update_contact": _update_contact,
    "add_label": _add_label,
    "set_priority": _set_priority,
    "handoff": _handoff,
}
