import { describe, expect, it } from "vitest";
import { GRAPH_FORMAT, type Graph } from "../../graph/format";
import { checkConnection } from "../../graph/connect";
import { outputPorts } from "../../graph/ports";
import { scopeAt } from "../../graph/scope";
import type { AppNode } from "../../nodes/types";
import { createEditorStore } from "./index";

const sample: Graph = {
  format: GRAPH_FORMAT,
  nodes: [
    {
      id: "start",
      type: "start",
      name: "Start",
      position: { x: 0, y: 0 },
      config: { input_schema: { type: "object", properties: { message: { type: "string" } } }, state: { attempts: 0 } },
    },
    {
      id: "triage",
      type: "agent",
      name: "Triage",
      position: { x: 240, y: 0 },
      config: {
        model: "m",
        instructions: "{{ workflow.input.message }}",
        output: { type: "json_schema", schema: { type: "object", properties: { intent: { type: "string" } } } },
      },
    },
    {
      id: "route",
      type: "if_else",
      name: "Route",
      position: { x: 480, y: 0 },
      config: { cases: [{ port: "refund", label: "Refund", condition: "nodes.triage.output.intent == 'refund'" }] },
    },
    { id: "done", type: "end", name: "Done", position: { x: 720, y: 0 }, config: { output: { intent: "nodes.triage.output.intent" } } },
  ],
  edges: [
    { id: "e1", source: "start", target: "triage" },
    { id: "e2", source: "triage", target: "route" },
    { id: "e3", source: "route", source_port: "refund", target: "done" },
    { id: "e4", source: "route", source_port: "else", target: "done" },
  ],
};

const loaded = () => {
  const store = createEditorStore();
  store.getState().load(sample);
  return store;
};
const node = (store: ReturnType<typeof loaded>, id: string) => store.getState().nodes.find((n) => n.id === id)!;

describe("graph operations", () => {
  it("round-trips the wire graph without changing it", () => {
    expect(loaded().getState().toGraph()).toEqual(sample);
  });

  it("adds a node after the selected one and connects it", () => {
    const store = loaded();
    const id = store.getState().addNode("transform", { after: "triage" });
    expect(id).toBe("transform");
    expect(store.getState().edges.some((e) => e.source === "triage" && e.target === "transform")).toBe(true);
    expect(store.getState().inspectedId).toBe("transform");
    expect(node(store, "transform").data.name).toBe("Transform");
  });

  it("gives added nodes unique ids", () => {
    const store = createEditorStore();
    expect([store.getState().addNode("agent"), store.getState().addNode("agent"), store.getState().addNode("agent")]).toEqual([
      "agent",
      "agent_2",
      "agent_3",
    ]);
  });

  it("deletes selected nodes with their edges", () => {
    const store = loaded();
    store.getState().selectOnly(["route"]);
    store.getState().deleteSelected();
    expect(store.getState().nodes.map((n) => n.id)).toEqual(["start", "triage", "done"]);
    expect(store.getState().edges.map((e) => e.id)).toEqual(["e1"]);
  });

  it("renaming a node id updates edges and expressions that reference it", () => {
    const store = loaded();
    expect(store.getState().changeNodeId("triage", "classify")).toBeNull();
    const g = store.getState().toGraph();
    expect(g.nodes.map((n) => n.id)).toEqual(["start", "classify", "route", "done"]);
    expect(g.edges[0]).toEqual({ id: "e1", source: "start", target: "classify" });
    expect((g.nodes[2].config.cases as { condition: string }[])[0].condition).toBe("nodes.classify.output.intent == 'refund'");
    expect(g.nodes[3].config.output).toEqual({ intent: "nodes.classify.output.intent" });
  });

  it("refuses an invalid or taken node id and changes nothing", () => {
    const store = loaded();
    expect(store.getState().changeNodeId("triage", "Bad Id")).toMatch(/lowercase/);
    expect(store.getState().changeNodeId("triage", "route")).toMatch(/taken/);
    expect(store.getState().toGraph()).toEqual(sample);
  });

  it("pastes copied nodes with fresh ids and internal edges rewired", () => {
    const store = loaded();
    store.getState().selectOnly(["triage", "route"]);
    const clip = store.getState().copySelected()!;
    const ids = store.getState().paste(clip);
    expect(ids).toEqual(["triage_2", "route_2"]);
    const pasted = store.getState().toGraph();
    expect(pasted.edges.filter((e) => e.source === "triage_2").map((e) => e.target)).toEqual(["route_2"]);
    const route2 = pasted.nodes.find((n) => n.id === "route_2")!;
    expect((route2.config.cases as { condition: string }[])[0].condition).toBe("nodes.triage_2.output.intent == 'refund'");
    expect(store.getState().nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(["triage_2", "route_2"]);
  });

  it("connect refuses duplicates and edges into start", () => {
    const store = loaded();
    expect(store.getState().connect({ source: "start", target: "triage", sourceHandle: "out", targetHandle: null }).ok).toBe(false);
    expect(store.getState().connect({ source: "done", target: "start", sourceHandle: "out", targetHandle: null }).ok).toBe(false);
    expect(store.getState().edges).toHaveLength(4);
  });
});

describe("history", () => {
  it("undoes and redoes each change", () => {
    const store = loaded();
    store.getState().addNode("note");
    store.getState().updateConfig("note", { text: "hello" });
    expect(node(store, "note").data.config).toEqual({ text: "hello" });
    store.getState().undo();
    expect(node(store, "note").data.config).toEqual({ text: "Write a note…" });
    store.getState().undo();
    expect(store.getState().nodes.find((n) => n.id === "note")).toBeUndefined();
    store.getState().redo();
    store.getState().redo();
    expect(node(store, "note").data.config).toEqual({ text: "hello" });
  });

  it("keeps at least 100 steps", () => {
    const store = createEditorStore();
    for (let i = 0; i < 150; i++) store.getState().addNode("note");
    for (let i = 0; i < 150; i++) store.getState().undo();
    expect(store.getState().nodes).toHaveLength(0);
  });

  it("a new change clears the redo stack", () => {
    const store = loaded();
    store.getState().addNode("note");
    store.getState().undo();
    store.getState().addNode("agent");
    store.getState().redo();
    expect(store.getState().nodes.map((n) => n.type)).not.toContain("note");
  });
});

describe("variable scope per node", () => {
  it("offers the start input, upstream outputs with their fields and state", () => {
    const store = loaded();
    const { nodes, edges } = store.getState();
    const paths = scopeAt("route", nodes, edges).map((e) => e.path);
    expect(paths).toContain("workflow.input.message");
    expect(paths).toContain("nodes.triage.output.intent");
    expect(paths).toContain("nodes.start.output");
    expect(paths).toContain("input.intent");
    expect(paths).toContain("state.attempts");
    expect(paths).not.toContain("nodes.route.output");
    expect(paths).not.toContain("nodes.done.output");
    expect(paths).not.toContain("loop.index");
  });

  it("offers loop.index only inside a while body", () => {
    const store = createEditorStore();
    const s = store.getState();
    s.addNode("start");
    s.addNode("while");
    s.addNode("agent");
    s.addNode("end");
    const c = (source: string, target: string, sourceHandle = "out") =>
      expect(store.getState().connect({ source, target, sourceHandle, targetHandle: null }).ok).toBe(true);
    c("start", "while");
    c("while", "agent", "loop");
    c("agent", "while");
    c("while", "end", "exit");
    const { nodes, edges } = store.getState();
    expect(scopeAt("agent", nodes, edges).map((e) => e.path)).toContain("loop.index");
    expect(scopeAt("end", nodes, edges).map((e) => e.path)).not.toContain("loop.index");
  });
});

describe("port derivation", () => {
  const mk = (type: AppNode["type"], config: Record<string, unknown>) =>
    ({ id: "n", type, position: { x: 0, y: 0 }, data: { name: "n", config } }) as unknown as AppNode;

  it("if_else has a port per case plus else", () => {
    expect(outputPorts(mk("if_else", { cases: [{ port: "a", label: "A", condition: "true" }, { port: "b", label: "B", condition: "false" }] })).map((p) => p.id)).toEqual(["a", "b", "else"]);
  });

  it("branching types have their fixed ports", () => {
    expect(outputPorts(mk("while", {})).map((p) => p.id)).toEqual(["loop", "exit"]);
    expect(outputPorts(mk("user_approval", {})).map((p) => p.id)).toEqual(["approved", "rejected"]);
    expect(outputPorts(mk("guardrails", {})).map((p) => p.id)).toEqual(["pass", "fail"]);
    expect(outputPorts(mk("end", {}))).toEqual([]);
    expect(outputPorts(mk("note", {}))).toEqual([]);
  });

  it("on_error=route adds an error port", () => {
    expect(outputPorts(mk("agent", { on_error: "route" })).map((p) => p.id)).toEqual(["out", "error"]);
    expect(outputPorts(mk("agent", { on_error: "fail" })).map((p) => p.id)).toEqual(["out"]);
  });
});

describe("connection checks", () => {
  it("refuses a cycle unless it passes through a while loop port", () => {
    const store = loaded();
    const { nodes, edges } = store.getState();
    const verdict = checkConnection(nodes, edges, { source: "route", target: "triage", sourceHandle: "else", targetHandle: null });
    expect(verdict).toEqual({ ok: false, reason: "That would make a cycle (loops go through a While node)" });
  });
});

describe("run events", () => {
  it("lights nodes, streams text and marks the waiting step", () => {
    const store = loaded();
    store.getState().startRun("r1");
    const ev = (seq: number | null, type: string, node_id: string | null, data: Record<string, unknown>) =>
      store.getState().applyEvent({ seq, type, run_id: "r1", node_id, ts: "", data } as never);
    ev(1, "run.status", null, { status: "running" });
    ev(2, "step.started", "triage", { step_id: "s1" });
    ev(null, "step.delta", "triage", { step_id: "s1", text: "Hel" });
    ev(null, "step.delta", "triage", { step_id: "s1", text: "lo" });
    ev(2, "step.started", "triage", { step_id: "s1" });
    expect(store.getState().nodeStatus.triage).toBe("running");
    expect(store.getState().steps[0].text).toBe("Hello");
    ev(3, "step.finished", "triage", { step_id: "s1", status: "succeeded", output: { intent: "x" }, duration_ms: 12 });
    ev(4, "step.finished", "route", { step_id: "s2", status: "waiting", wait: { message: "ok?" } });
    ev(5, "run.waiting", null, { steps: [{ step_id: "s2", node_id: "route", wait: { message: "ok?" } }] });
    expect(store.getState().nodeStatus).toEqual({ triage: "succeeded", route: "waiting" });
    expect(store.getState().runStatus).toBe("waiting");
    expect(store.getState().waiting).toEqual([{ stepId: "s2", nodeId: "route", message: "ok?" }]);
    expect(store.getState().steps[0]).toMatchObject({ status: "succeeded", output: { intent: "x" }, durationMs: 12, text: "Hello" });
    ev(6, "run.status", null, { status: "running" });
    ev(7, "step.finished", "route", { step_id: "s2", status: "succeeded", port: "approved" });
    ev(8, "run.finished", null, { status: "succeeded", output: { a: 1 }, error: null });
    expect(store.getState().runStatus).toBe("succeeded");
    expect(store.getState().runOutput).toEqual({ a: 1 });
    expect(store.getState().waiting).toEqual([]);
    expect(store.getState().nodeStatus.done).toBe("skipped");
  });

  it("shows a timer wait (a delay) as waiting, with nothing to approve", () => {
    const store = loaded();
    store.getState().startRun("r1");
    const ev = (seq: number, type: string, node_id: string | null, data: Record<string, unknown>) =>
      store.getState().applyEvent({ seq, type, run_id: "r1", node_id, ts: "", data } as never);
    const wait = { kind: "timer", timeout_at: "2026-12-06T05:00:00Z", on_timeout: { port: "out", output: null } };
    ev(1, "run.status", null, { status: "running" });
    ev(2, "step.finished", "pause", { step_id: "s1", status: "waiting", wait });
    ev(3, "run.waiting", null, { steps: [{ step_id: "s1", node_id: "pause", wait }] });
    expect(store.getState().nodeStatus.pause).toBe("waiting");
    expect(store.getState().runStatus).toBe("waiting");
    expect(store.getState().waiting).toEqual([]);
  });

  it("ignores events of another run", () => {
    const store = loaded();
    store.getState().startRun("r1");
    store.getState().applyEvent({ seq: 1, type: "run.status", run_id: "r2", node_id: null, ts: "", data: { status: "failed" } });
    expect(store.getState().runStatus).toBe("queued");
  });
});

describe("step details", () => {
  it("adds step inputs from the run detail without touching other runs", () => {
    const store = loaded();
    store.getState().startRun("r1");
    store.getState().applyEvent({ seq: 1, type: "step.started", run_id: "r1", node_id: "triage", ts: "", data: { step_id: "s1" } });
    store.getState().mergeStepDetails("r2", [{ id: "s1", node_id: "triage", input: { wrong: true } }]);
    expect(store.getState().steps[0].input).toBeUndefined();
    store.getState().mergeStepDetails("r1", [{ id: "s1", node_id: "triage", input: { message: "hi" } }]);
    expect(store.getState().steps[0].input).toEqual({ message: "hi" });
  });
});
