import { describe, expect, it } from "vitest";
import { runListQuery, untilCursor } from "./history";

describe("runListQuery", () => {
  it("passes filters and the cursor", () => {
    expect(runListQuery({ status: "failed", workflow: "w1" }, "abc", 20)).toBe("status=failed&workflow=w1&cursor=abc&limit=20");
  });

  it("starts a 'to' date at the end of that day with a keyset cursor the server decodes", () => {
    const q = new URLSearchParams(runListQuery({ until: "2026-03-01" }));
    const cursor = q.get("cursor")!;
    expect(cursor).toBe(untilCursor("2026-03-01"));
    const raw = atob(cursor.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (cursor.length % 4)) % 4));
    expect(raw).toBe("2026-03-01T23:59:59.999999+00:00|ffffffff-ffff-ffff-ffff-ffffffffffff");
  });

  it("lets a page cursor win over the 'to' date", () => {
    expect(new URLSearchParams(runListQuery({ until: "2026-03-01" }, "next")).get("cursor")).toBe("next");
  });
});
