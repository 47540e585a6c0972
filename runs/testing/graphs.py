"""Graph builders for tests and benches (plain dicts: importable before Django is set up)."""

START_SCHEMA = {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}
MESSAGE_SCHEMA = {"type": "object", "properties": {"message": {"type": "string"}}}


def node(id: str, type: str, **config) -> dict:  # noqa: A002
    return {"id": id, "type": type, "name": id.title(), "position": {"x": 0, "y": 0}, "config": config}


def edge(source: str, target: str, port: str | None = None) -> dict:
    e = {"id": f"{source}-{port or 'out'}-{target}", "source": source, "target": target}
    if port:
        e["source_port"] = port
    return e


def graph(nodes: list[dict], edges: list[dict]) -> dict:
    return {"format": "trellis.graph/1", "nodes": nodes, "edges": edges}


def line(*nodes: dict) -> dict:
    """Nodes connected one after the other on their default port, laid out left to right (the editor shows
    them side by side)."""
    placed = [{**n, "position": {"x": 300 * i, "y": 0}} for i, n in enumerate(nodes)]
    return graph(placed, [edge(a["id"], b["id"]) for a, b in zip(nodes, nodes[1:], strict=False)])


def start(schema: dict | None = None, state: dict | None = None) -> dict:
    config = {"input_schema": schema or {"type": "object"}}
    if state is not None:
        config["state"] = state
    return node("start", "start", **config)


def shout_graph(expression: str = "workflow.input.message.upperAscii()") -> dict:
    """start → shout (the message upper-cased) → end: a workflow that runs in a few milliseconds."""
    return line(
        start(START_SCHEMA),
        node("shout", "transform", output={"text": expression}),
        node("end", "end", output={"text": "nodes.shout.output.text"}),
    )


def agent_graph(
    agent_id: str = "ask",
    *,
    instructions: str = "{{ workflow.input.message }}",
    output=None,
    schema: dict = MESSAGE_SCHEMA,
    model: str = "gpt-4.1-mini",
) -> dict:
    """start → one agent → done, which answers {"reply": <the agent's text>} unless `output` says otherwise."""
    return line(
        start(schema),
        node(agent_id, "agent", model=model, instructions=instructions),
        node("done", "end", output={"reply": f"nodes.{agent_id}.output"} if output is None else output),
    )
