/** Type guards for messages that arrive as untrusted JSON (from an agent, or from the server). */

/** Longest name (a port's label, a tunnel's name, a shell) either side accepts. */
export const MAX_NAME = 100;

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const isId = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0 && (v as number) <= 0xffffffff;
export const isPort = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0 && (v as number) <= 65535;
export const isSize = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0 && (v as number) <= 10_000;
export const isName = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_NAME;
