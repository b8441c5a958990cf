// Placement constraints in Swarm's own syntax (`node.hostname == build-1`), matched by Knot when it
// picks a space's node on its first start. Later starts are pinned to that node by id instead.

export interface NodeFacts {
  id: string;
  hostname: string;
  role: 'manager' | 'worker';
  labels: Record<string, string>;
  engineLabels: Record<string, string>;
  platform: { os: string; arch: string };
}

const CONSTRAINT = /^\s*([A-Za-z0-9_.-]+)\s*(==|!=)\s*(.+?)\s*$/;

/** Null when the constraint is one Swarm understands; otherwise why not, for the template's author. */
export function constraintProblem(text: string): string | null {
  const m = CONSTRAINT.exec(text);
  if (!m) return `"${text}" is not a constraint like "node.hostname == build-1"`;
  if (factOf(m[1]!) === null) return `"${m[1]}" is not a node attribute Swarm knows (node.id, node.hostname, node.role, node.platform.os, node.platform.arch, node.labels.<name>, engine.labels.<name>)`;
  return null;
}

function factOf(key: string): ((n: NodeFacts) => string | undefined) | null {
  switch (key) {
    case 'node.id': return (n) => n.id;
    case 'node.hostname': return (n) => n.hostname;
    case 'node.role': return (n) => n.role;
    case 'node.platform.os': return (n) => n.platform.os;
    case 'node.platform.arch': return (n) => n.platform.arch;
  }
  if (key.startsWith('node.labels.')) return (n) => n.labels[key.slice('node.labels.'.length)];
  if (key.startsWith('engine.labels.')) return (n) => n.engineLabels[key.slice('engine.labels.'.length)];
  return null;
}

/** Swarm compares case-insensitively, and a missing label equals nothing. */
export function satisfies(node: NodeFacts, constraints: string[]): boolean {
  return constraints.every((text) => {
    const m = CONSTRAINT.exec(text);
    const fact = m && factOf(m[1]!);
    if (!m || !fact) return false;
    const value = fact(node);
    const equal = value !== undefined && value.toLowerCase() === m[3]!.toLowerCase();
    return m[2] === '==' ? equal : !equal;
  });
}
