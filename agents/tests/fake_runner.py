"""A stateful stand-in for the SkyBot runner, served by pytest-httpserver: it keeps workflows by
idempotency key (the same key → the same workflow) and counts what it was asked to do."""

from __future__ import annotations

import json
import re
from typing import Any

from werkzeug import Request, Response

WORKFLOW_ACTION = re.compile(r"^/workflows/(?P<id>[^/]+)/(?P<action>activate|deactivate)$")
WORKFLOW = re.compile(r"^/workflows/(?P<id>[^/]+)$")


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def runner_error(status: int, message: str, code: str = "runner_error") -> Response:
    return _json({"error": {"code": code, "message": message}}, status)


class FakeRunner:
    def __init__(self, server: Any) -> None:
        self.server = server
        self.created = 0
        self.by_key: dict[str, str] = {}
        self.definitions: dict[str, dict[str, Any]] = {}
        self.status: dict[str, str] = {}
        self.deleted: list[str] = []
        server.expect_request("/workflows", method="POST").respond_with_handler(self._create)
        server.expect_request(WORKFLOW_ACTION, method="POST").respond_with_handler(self._toggle)
        server.expect_request(WORKFLOW, method="DELETE").respond_with_handler(self._delete)

    def add_workflow(self, workflow_id: str, status: str = "active") -> None:
        """A workflow the runner already has (an agent deployed before the test)."""
        self.status[workflow_id] = status

    def _create(self, request: Request) -> Response:
        key = request.headers["Idempotency-Key"]
        if key not in self.by_key:
            self.created += 1
            workflow_id = f"wf-{self.created}"
            self.by_key[key] = workflow_id
            self.definitions[workflow_id] = request.get_json()
            self.status[workflow_id] = "inactive"
        workflow_id = self.by_key[key]
        return _json({"id": workflow_id, "status": self.status[workflow_id]}, 201)

    def _toggle(self, request: Request) -> Response:
        match = WORKFLOW_ACTION.match(request.path)
        assert match is not None
        workflow_id = match["id"]
        if workflow_id not in self.status:
            return runner_error(404, f"No workflow {workflow_id}.", "not_found")
        self.status[workflow_id] = "active" if match["action"] == "activate" else "inactive"
        return _json({"id": workflow_id, "status": self.status[workflow_id]})

    def _delete(self, request: Request) -> Response:
        match = WORKFLOW.match(request.path)
        assert match is not None
        workflow_id = match["id"]
        if self.status.pop(workflow_id, None) is None:
            return runner_error(404, f"No workflow {workflow_id}.", "not_found")
        self.deleted.append(workflow_id)
        return Response(status=204)

    def requests(self, method: str | None = None, path: str | None = None) -> list[Request]:
        """Requests the runner received (in order), optionally only those of a method and path pattern."""
        found = [request for request, _response in self.server.log]
        if method is not None:
            found = [r for r in found if r.method == method]
        if path is not None:
            found = [r for r in found if re.fullmatch(path, r.path)]
        return found
