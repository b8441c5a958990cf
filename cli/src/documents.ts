/** Every GraphQL operation the CLI sends; results and variables are typed from the schema (schema/client/graphql.ts). */
import { graphql, type ResultOf } from '../../schema/client/graphql.js';

const SpaceFields = graphql(`
  fragment CliSpaceFields on Space {
    id name altNames status error pullProgress updateAvailable
    autoStopAt autoStopReason autoStopWarning stoppedReason
    template { name }
    owner { username }
    services { ssh ports { port name protocol url } }
  }
`);

export type Space = ResultOf<typeof SpaceFields>;
export type { SpaceStatus } from '../../schema/client/graphql.js';

export const SPACES = graphql(`query CliSpaces { spaces { ...CliSpaceFields } }`, [SpaceFields]);
// Fields written out rather than a fragment in a fragment: every spread counts against the query depth limit.
export const SPACE_CHANGED = graphql(`subscription CliSpaceChanged($id: ID!) { spaceChanged(id: $id) { kind spaceId space { ...CliSpaceFields } } }`, [SpaceFields]);
export const SPACES_CHANGED = graphql(`subscription CliSpacesChanged { spacesChanged { kind spaceId space { ...CliSpaceFields } } }`, [SpaceFields]);
export type SpaceChange = ResultOf<typeof SPACE_CHANGED>['spaceChanged'];

export const START_SPACE = graphql(`mutation CliStartSpace($id: ID!) { space: startSpace(id: $id) { status } }`);
export const STOP_SPACE = graphql(`mutation CliStopSpace($id: ID!) { space: stopSpace(id: $id) { status } }`);
export const RESTART_SPACE = graphql(`mutation CliRestartSpace($id: ID!) { space: restartSpace(id: $id) { status } }`);

export const KEEP_SPACE_RUNNING = graphql(`mutation CliKeepSpaceRunning($id: ID!) { space: keepSpaceRunning(id: $id) { name autoStopAt autoStopReason } }`);

export const SSH_SPACES = graphql(`query CliSshSpaces { me { username } spaces { name owner { username } services { ssh } template { withSSH } } }`);

export const LOGIN = graphql(
  `mutation CliLogin($username: String!, $password: String!, $totp: String, $recoveryCode: String) { login(username: $username, password: $password, totp: $totp, recoveryCode: $recoveryCode) { id } }`,
);
export const CREATE_API_TOKEN = graphql(`mutation CliCreateApiToken($name: String!) { createApiToken(name: $name) { token } }`);
export const LOGOUT = graphql(`mutation CliLogout { logout }`);
export const ME = graphql(`query CliMe { me { username } }`);
