import { describe, expect, it } from "vitest";
import { runListQuery } from "./runs";

describe("runListQuery", () => {
  it("sends every filter to the server, with the cursor and the page size", () => {
    const q = runListQuery(
      { workflow: "w1", status: "failed", version: "draft", trigger: "webhook", since: "2026-03-01", until: "2026-03-02" },
      "abc",
      20,
    );
    expect(q).toBe("workflow=w1&status=failed&version=draft&trigger=webhook&since=2026-03-01&until=2026-03-02&cursor=abc&limit=20");
  });

  it("leaves out empty filters and, on the first page, the cursor", () => {
    expect(runListQuery({ status: "", trigger: undefined, until: "2026-03-01" })).toBe("until=2026-03-01&limit=50");
  });
});
