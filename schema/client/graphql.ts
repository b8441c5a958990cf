/**
 * The typed `graphql()` the web UI and the CLI write their documents with. The types of every
 * result and variable are inferred from graphql-env.d.ts, which `npm run schema:print` generates
 * from schema/schema.graphql next to it (a test fails when it drifts), so a client that asks for
 * a field the schema no longer has, or passes a wrong variable, fails `npm run check`.
 */
import { initGraphQLTada } from 'gql.tada';
import type { introspection } from './graphql-env.js';

export const graphql = initGraphQLTada<{
  introspection: introspection;
  scalars: { DateTime: string; JSON: unknown };
  // Fragments only share field lists between documents; results carry their fields directly.
  disableMasking: true;
}>();

export type { FragmentOf, ResultOf, TadaDocumentNode, VariablesOf } from 'gql.tada';

/** The schema's enums, as the clients see them. */
type Enum<Name extends string> = ReturnType<typeof graphql.scalar<Name>>;
export type SpaceStatus = Enum<'SpaceStatus'>;
export type SpaceChangeKind = Enum<'SpaceChangeKind'>;
export type Shell = Enum<'Shell'>;
export type Permission = Enum<'Permission'>;
export type Platform = Enum<'Platform'>;
export type PortProtocol = Enum<'PortProtocol'>;
