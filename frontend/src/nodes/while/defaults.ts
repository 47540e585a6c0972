import type { WhileConfig } from "./types";

export const whileDefaults = (): WhileConfig => ({ condition: "loop.index < 3", max_iterations: 10 });
