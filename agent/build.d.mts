/** Where the bundle is written: agent/dist/knot-agent.mjs. */
export const AGENT_BUNDLE: string;
/** Bundles the agent (with `ws`) into one file for plain Node 20; resolves to its path. */
export function buildAgent(): Promise<string>;
