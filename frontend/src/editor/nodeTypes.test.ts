import { afterEach, describe, expect, it } from "vitest";
import type { NodeTypeInfo } from "../api/types";
import { outputPorts } from "../graph/ports";
import { outputSchema } from "../graph/scope";
import { canvasNodeTypes, panelTypes } from "../nodes";
import { GenericNodeView } from "../nodes/GenericNode";
import { IfElseNodeView } from "../nodes/if_else/node";
import { IfElsePanel } from "../nodes/if_else/panel";
import { defaultConfig, nodeTypeInfo, nodeTypeList, setNodeTypes } from "../nodes/registry";
import type { AppNode } from "../nodes/types";
import { createEditorStore } from "./store";

const served = nodeTypeList();
afterEach(() => setNodeTypes(served));

// A type the server knows and the front end has no folder for (what adding a node type looks like).
const pause: NodeTypeInfo = {
  ...served.find((t) => t.type === "transform")!,
  type: "pause" as NodeTypeInfo["type"],
  label: "Pause",
  icon: "⏸",
  defaults: { seconds: 5 },
  ports: ["out", "late"],
  output: { schema: { type: "object", properties: { waited_s: { type: "number" } } }, schema_from: null, keys_from: null },
};

describe("the node registry", () => {
  it("holds the catalog the server serves, in palette order", () => {
    expect(served.map((t) => t.type).slice(0, 4)).toEqual(["start", "agent", "end", "note"]);
    expect(nodeTypeInfo("if_else")?.dynamic_ports).toEqual({ list_field: "cases", id_key: "port", label_key: "label" });
  });

  it("finds each folder's custom card and panel by file name", () => {
    expect(canvasNodeTypes().if_else).toBe(IfElseNodeView);
    expect(panelTypes.if_else).toBe(IfElsePanel);
    expect(Object.keys(panelTypes).every((t) => served.some((s) => s.type === t))).toBe(true);
  });

  it("gives a type without a folder its label, defaults, ports, output fields and the generic card and panel", () => {
    setNodeTypes([...served, pause]);
    const store = createEditorStore();
    const id = store.getState().addNode("pause" as AppNode["type"]);
    const node = store.getState().nodes.find((n) => n.id === id)!;
    expect(node.data).toEqual({ name: "Pause", config: { seconds: 5 } });
    expect(outputPorts(node).map((p) => [p.id, p.kind])).toEqual([["out", "out"], ["late", "branch"]]);
    expect(outputSchema(node)).toEqual(pause.output.schema);
    expect(canvasNodeTypes().pause).toBe(GenericNodeView);
    expect("pause" in panelTypes).toBe(false);
    expect(defaultConfig("pause")).not.toBe(defaultConfig("pause"));
  });
});
