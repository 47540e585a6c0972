import type { SetStateConfig } from "./types";

export const setStateDefaults = (): SetStateConfig => ({ assignments: [] });
