"""Semantic validation of a graph: the issues the editor marks and that block publishing.

`validate_graph(graph)` returns issues `{severity, node_id, field, message}` in a stable order.
`field` is a path the editor can point at: `config.cases[0].condition` on a node, `edges.<edge id>.target`
for an edge, or `nodes`/`graph` for the whole graph.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from jsonschema.exceptions import best_match

from accounts.models import ModelProvider, Secret
from builder import expressions, topology
from builder.catalog import NODE_TYPES, ports_for
from builder.services.graph import edge_port, shape_errors, triples
from builder.services.mcp_checks import check_mcp_references
from trellis.errors import ApplicationError

ERROR = "error"
WARNING = "warning"


class Issue(dict):
    """A validation issue: a plain dict (JSON-ready) that also reads as attributes."""

    def __init__(self, severity: str, node_id: str | None, field: str | None, message: str):
        super().__init__(severity=severity, node_id=node_id, field=field, message=message)

    severity = property(lambda self: self["severity"])
    node_id = property(lambda self: self["node_id"])
    field = property(lambda self: self["field"])
    message = property(lambda self: self["message"])


def has_errors(issues: list[Issue]) -> bool:
    return any(issue["severity"] == ERROR for issue in issues)


def _path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def schema_issues(node: dict, config: dict) -> list[Issue]:
    node_type = NODE_TYPES[node["type"]]
    if node_type.fast_validator.is_valid(config):
        return []
    issues = []
    for error in sorted(node_type.validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        if error.context:
            error = best_match(error.context) or error
        parts = ["config", *error.absolute_path]
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {})
            for key in sorted(k for k in error.instance if k not in known):
                issues.append(Issue(ERROR, node["id"], _path([*parts, key]), f"Unknown field '{key}'."))
            continue
        issues.append(Issue(ERROR, node["id"], _path(parts), error.message))
    return sorted(issues, key=lambda i: i["field"])


# The runs app's name for the provider configured by OPENAI_API_KEY/OPENAI_BASE_URL.
ENVIRONMENT_PROVIDER = "environment"


def _auths(config: dict):
    yield "config.auth", config.get("auth")
    tools = config.get("tools")
    if isinstance(tools, list):
        for i, tool in enumerate(tools):
            if isinstance(tool, dict):
                yield f"config.tools[{i}].auth", tool.get("auth")


class ValidationTimeout(Exception):
    pass


class _Validator:
    def __init__(self, graph: dict, workspace_id=None, deadline: float | None = None):
        self.deadline = deadline  # time.monotonic() by which validation gives up (ValidationTimeout)
        self.graph = graph
        self.workspace_id = workspace_id
        self.providers: list[tuple[str, str, str]] = []  # (node id, field, provider name)
        self.secrets: list[tuple[str, str, str]] = []  # (node id, field, secret name)
        self.mcp_nodes: list[tuple[str, dict]] = []  # (node id, mcp node config)
        self.mcp_tools: list[tuple[str, str, dict]] = []  # (node id, field, agent MCP tool)
        self.declared_state: set[str] = set()  # Start's state variables (set by check_nodes; types' checks read it)
        self.issues: list[Issue] = []
        self.nodes = graph["nodes"]
        self.edges = graph["edges"]
        self.by_id = {node["id"]: node for node in self.nodes}

    def check_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise ValidationTimeout()

    def add(self, severity: str, node_id: str | None, field: str | None, message: str) -> None:
        self.issues.append(Issue(severity, node_id, field, message))

    def run(self) -> list[Issue]:
        self.check_start_and_end()
        self.check_edges()
        self.check_cycles()
        self.check_connections()
        self.check_nodes()
        self.check_workspace_references()
        check_mcp_references(
            workspace_id=self.workspace_id, nodes=self.mcp_nodes, agent_tools=self.mcp_tools, add=self.add
        )
        return self.issues

    def check_workspace_references(self) -> None:
        """Model providers must exist (the run would fail for sure); a missing secret is a warning,
        since it is often added after the workflow is drawn."""
        if self.workspace_id is None or not (self.providers or self.secrets):
            return

        providers = set(ModelProvider.objects.filter(workspace_id=self.workspace_id).values_list("name", flat=True))
        for node_id, field, name in self.providers:
            if name not in providers and name != ENVIRONMENT_PROVIDER:
                self.add(ERROR, node_id, field, f"No model provider named '{name}' in this workspace.")
        secrets = set(Secret.objects.filter(workspace_id=self.workspace_id).values_list("name", flat=True))
        for node_id, field, name in self.secrets:
            if name not in secrets:
                self.add(WARNING, node_id, field, f"Secret '{name}' does not exist in this workspace yet.")

    # --- structure --------------------------------------------------------------------------

    def check_start_and_end(self) -> None:
        starts = [node for node in self.nodes if node["type"] == "start"]
        if not starts:
            self.add(ERROR, None, "nodes", "The workflow needs a Start node.")
        for extra in starts[1:]:
            self.add(ERROR, extra["id"], "type", "A workflow has exactly one Start node; remove this one.")
        self.start = starts[0] if starts else None
        ends = [node for node in self.nodes if node["type"] == "end"]
        if not ends:
            self.add(ERROR, None, "nodes", "The workflow needs an End node.")

    def check_edges(self) -> None:
        self.ports = {node["id"]: ports_for(node) for node in self.nodes}
        seen: set[tuple[str, str, str]] = set()
        self.valid_edges: list[dict] = []
        for edge in self.edges:
            where = f"edges.{edge['id']}"
            source, target, port = edge["source"], edge["target"], edge_port(edge)
            ok = True
            if source not in self.by_id:
                self.add(ERROR, None, f"{where}.source", f"Edge {edge['id']} starts at unknown node '{source}'.")
                ok = False
            if target not in self.by_id:
                self.add(ERROR, None, f"{where}.target", f"Edge {edge['id']} ends at unknown node '{target}'.")
                ok = False
            if not ok:
                continue
            source_type, target_type = self.by_id[source]["type"], self.by_id[target]["type"]
            if port not in self.ports[source]:
                if not self.ports[source]:
                    message = f"{NODE_TYPES[source_type].label} nodes have no output ports."
                else:
                    message = f"'{source}' has no port '{port}' (ports: {', '.join(self.ports[source])})."
                self.add(ERROR, source, f"{where}.source_port", message)
                continue
            if target_type == "start":
                self.add(ERROR, target, f"{where}.target", "Start cannot have incoming edges.")
                continue
            if target_type == "note":
                self.add(ERROR, target, f"{where}.target", "Notes cannot be connected.")
                continue
            key = (source, port, target)
            if key in seen:
                self.add(ERROR, source, f"{where}", f"Duplicate edge from '{source}' ({port}) to '{target}'.")
                continue
            seen.add(key)
            self.valid_edges.append(edge)
        self.triples = triples({"edges": self.valid_edges})
        self.succ = topology.successors(self.triples)

    def check_cycles(self) -> None:
        # A cycle is allowed only through a while node's `loop` port: without those edges, no cycles.
        whiles = {node["id"] for node in self.nodes if node["type"] == "while"}
        for members in topology.cycles([node["id"] for node in self.nodes], self.triples, allowed=whiles):
            path = " → ".join([*members, members[0]])
            self.add(ERROR, members[0], None, f"Cycle {path} does not go through a While node's loop port.")

    def check_connections(self) -> None:
        into: dict[str, int] = defaultdict(int)
        out: dict[str, int] = defaultdict(int)
        for source, _, target in self.triples:
            into[target] += 1
            out[source] += 1
        reached: set[str] = set()
        if self.start is not None:
            reached = topology.reachable([self.start["id"]], self.succ)
            ends = [node["id"] for node in self.nodes if node["type"] == "end"]
            if ends and not any(end in reached for end in ends):
                self.add(ERROR, None, "nodes", "No End node can be reached from Start.")
        for node in self.nodes:
            node_id, node_type = node["id"], NODE_TYPES[node["type"]]
            if not node_type.executable:
                continue
            if node["type"] == "start":
                if not out[node_id]:
                    self.add(WARNING, node_id, None, "Start is not connected to anything.")
            elif not into[node_id] and not out[node_id]:
                self.add(WARNING, node_id, None, f"'{node_id}' is not connected and will never run.")
            elif not into[node_id]:
                self.add(WARNING, node_id, None, f"'{node_id}' has no incoming edge and will never run.")
            elif self.start is not None and node_id not in reached:
                self.add(WARNING, node_id, None, f"'{node_id}' cannot be reached from Start and will never run.")

    # --- nodes: config, expressions, references -----------------------------------------------

    def check_nodes(self) -> None:
        if self.start is not None and isinstance((self.start.get("config") or {}).get("state"), dict):
            self.declared_state = set(self.start["config"]["state"])
        declared_state = self.declared_state
        bit, ancestors = topology.upstream_masks([node["id"] for node in self.nodes], self.triples)
        whiles = [node["id"] for node in self.nodes if node["type"] == "while"]
        in_loop: set[str] = set()
        for w, body in topology.loop_bodies(whiles, self.succ).items():
            in_loop |= body | {w}
        for node in self.nodes:
            self.check_time()
            node_id = node["id"]
            node_type = NODE_TYPES[node["type"]]
            config = node.get("config") or {}
            if not node_type.available:
                self.add(ERROR, node_id, "type", f"{node_type.label}: {node_type.unavailable_reason}")
            self.issues.extend(schema_issues(node, config))
            self.check_node_specifics(node, config)
            for field, source, kind in node_type.fields(config):
                self.check_source(node_id, field, source, kind, declared_state, bit, ancestors, in_loop)

    def refer(self, kind: str, node_id: str, field: str, value) -> None:
        """A type's check noting a reference to a workspace object; all are checked together in `run`."""
        {
            "provider": self.providers,
            "mcp_node": self.mcp_nodes,
            "mcp_tool": self.mcp_tools,
        }[kind].append((node_id, value) if kind == "mcp_node" else (node_id, field, value))

    def check_node_specifics(self, node: dict, config: dict) -> None:
        node_id = node["id"]
        for field, auth in _auths(config):
            if isinstance(auth, dict) and isinstance(auth.get("secret"), str):
                self.secrets.append((node_id, f"{field}.secret", auth["secret"]))
        check = NODE_TYPES[node["type"]].check
        if check is not None:
            check(self, node_id, config)

    def check_source(self, node_id, field, source, kind, declared_state, bit, ancestors, in_loop) -> None:
        self.check_time()
        if kind == "template":
            errors = expressions.check_template(source)
            if errors:
                for error in errors:
                    self.add(ERROR, node_id, field, error.message)
                return
            sources = [s for s, _ in expressions.template_expressions(source)]
        else:
            try:
                expressions.compile_expression(source)
            except expressions.ExpressionError as exc:
                self.add(ERROR, node_id, field, exc.message)
                return
            sources = [source]
        for text in sources:
            info = expressions.analyze(text)
            for root in sorted(info.roots - expressions.SCOPE_ROOTS):
                self.add(ERROR, node_id, field, f"Unknown name '{root}'.")
            for ref in sorted(info.nodes):
                if ref not in self.by_id:
                    self.add(ERROR, node_id, field, f"Node '{ref}' does not exist.")
                elif not ancestors.get(node_id, 0) & bit[ref]:
                    self.add(ERROR, node_id, field, f"Node '{ref}' is not upstream of '{node_id}'.")
            for var in sorted(info.state):
                if var not in declared_state:
                    self.add(ERROR, node_id, field, f"State variable '{var}' is not declared on Start.")
            if "loop" in info.roots and node_id not in in_loop:
                self.add(ERROR, node_id, field, "'loop' is only available inside a While loop.")


def validate_graph(graph: Any, *, workspace_id=None, timeout_s: float | None = None) -> list[Issue]:
    """Every problem with `graph`, errors and warnings; empty means publishable and clean.

    With `workspace_id`, references to workspace objects (providers, secrets, MCP servers) are checked too. With
    `timeout_s`, a validation still going after that long stops with ApplicationError `validation_timeout`
    (422), checked between expressions: no half list of issues."""
    started = time.monotonic()
    malformed = shape_errors(graph)
    if malformed:
        return [Issue(ERROR, e["node_id"], e["field"], e["message"]) for e in malformed]
    try:
        return _Validator(graph, workspace_id, None if timeout_s is None else started + timeout_s).run()
    except ValidationTimeout:
        raise ApplicationError(
            "validation_timeout",
            f"Validating this graph took longer than {timeout_s:g} s and was stopped: it is too large or its "
            "expressions too heavy to check in one request.",
            [{"limit_s": timeout_s}],
            status=422,
        ) from None
