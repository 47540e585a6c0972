import { describe, expect, it } from "vitest";
import { filterProblem } from "./RunsPage";

describe("filterProblem", () => {
  it("accepts the filters the server accepts", () => {
    expect(filterProblem({})).toBeNull();
    expect(filterProblem({ version: "3", trigger: "webhook", since: "2026-03-01", until: "2026-03-01" })).toBeNull();
    expect(filterProblem({ version: "draft" })).toBeNull();
  });

  it("catches a version that is not a number or draft, before the server answers 400", () => {
    expect(filterProblem({ version: "dra" })).toMatch(/number/);
    expect(filterProblem({ version: "0" })).toMatch(/number/);
    expect(filterProblem({ version: "1.5" })).toMatch(/number/);
  });

  it("catches a From date after the To date", () => {
    expect(filterProblem({ since: "2026-03-02", until: "2026-03-01" })).toMatch(/after/);
  });
});
