import type { EndConfig } from "./types";

export const endDefaults = (): EndConfig => ({ output: { result: "input" } });
