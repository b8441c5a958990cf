import { createAgentToken, type CreatedAgentToken } from '../agent-gateway/tokens.js';
import { builder } from './builder.js';
import { requireViewer } from './context.js';
import { SpaceRef } from './spaces.js';

const AgentTokenRef = builder.objectRef<CreatedAgentToken>('AgentToken').implement({
  description: "A manual space's agent credential. The token is shown once; asking again replaces it.",
  fields: (t) => ({
    token: t.exposeString('token'),
    space: t.field({ type: SpaceRef, resolve: (a) => a.space }),
    environment: t.string({
      description: 'The environment that starts the agent for this space, one VAR=value per line.',
      resolve: (a) => `KNOT_SERVER=${a.server}\nKNOT_SPACE_ID=${a.space.id}\nKNOT_AGENT_TOKEN=${a.token}\n`,
    }),
  }),
});

builder.mutationFields((t) => ({
  createAgentToken: t.field({
    type: AgentTokenRef,
    description:
      'A new agent token for a space of a manual template (the owner only, not even an admin: the agent serves the owner). The space runs while an agent holding it is connected.',
    args: { spaceId: t.arg.id({ required: true }) },
    resolve: (_root, { spaceId }, ctx) => createAgentToken(ctx.services, requireViewer(ctx), String(spaceId)),
  }),
}));
