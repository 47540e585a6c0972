"""Small graph builders for tests."""

import copy

FORMAT = "trellis.graph/1"


def node(node_id: str, node_type: str, **config) -> dict:
    return {"id": node_id, "type": node_type, "name": node_id.title(), "config": config}


def edge(source: str, target: str, port: str | None = None, edge_id: str | None = None) -> dict:
    out = {"id": edge_id or f"{source}-{port or 'out'}-{target}", "source": source, "target": target}
    if port:
        out["source_port"] = port
    return out


def graph(nodes: list[dict], edges: list[dict]) -> dict:
    return {"format": FORMAT, "nodes": copy.deepcopy(nodes), "edges": copy.deepcopy(edges)}


def start(**config) -> dict:
    config.setdefault("input_schema", {"type": "object", "properties": {"message": {"type": "string"}}})
    config.setdefault("state", {"count": 0})
    return node("start", "start", **config)


def end(node_id: str = "done", output=None) -> dict:
    return node(node_id, "end", output=output if output is not None else {"message": "workflow.input.message"})


def linear() -> dict:
    """start -> work (transform) -> done: valid and clean."""
    return graph(
        [start(), node("work", "transform", output={"upper": "workflow.input.message"}), end()],
        [edge("start", "work"), edge("work", "done")],
    )
