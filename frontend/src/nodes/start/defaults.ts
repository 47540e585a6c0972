import type { StartConfig } from "./types";

export const startDefaults = (): StartConfig => ({
  input_schema: {
    type: "object",
    properties: { message: { type: "string" } },
    required: ["message"],
  },
  state: {},
});
