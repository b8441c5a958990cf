/**
 * Every GraphQL operation the UI sends, in one place so a schema change is found by one search.
 * Their result and variable types are inferred from the schema (see schema/client/graphql.ts).
 */
import { graphql } from '../../../../schema/client/graphql.js';

const SpaceFields = graphql(`
  fragment SpaceFields on Space {
    id name shell altNames status error pullProgress updateAvailable health healthReason
    autoStopAt autoStopReason autoStopWarning stoppedReason
    template { id name platform }
    owner { id username }
    sharedWith { id username }
    services { terminal codeServer codeServerUrl desktop desktopUrl ssh vscodeTunnel { name connected } ports { name port protocol url } }
  }
`);

const RoleFields = graphql(`fragment RoleFields on Role { id name builtIn permissions }`);

const UserFields = graphql(
  `fragment UserFields on User { id username email active preferredShell timezone sshPublicKey twoFactorEnabled twoFactorSetupRequired hasPassword singleSignOn { issuer name } groupIds quotaOverride { maxSpaces computeUnits storageUnits } roles { ...RoleFields } }`,
  [RoleFields],
);

const TemplateFields = graphql(`
  fragment TemplateFields on Template {
    id name description platform job volumes withTerminal withCodeServer withVSCodeTunnel withSSH shell active groupIds computeUnits storageUnits autoRestart warnings
    schedule { days from to } maxUptimeSeconds idleTimeoutSeconds
  }
`);

const GroupFields = graphql(`fragment GroupFields on Group { id name description maxSpaces computeUnits storageUnits }`);

const UsageFields = graphql(`fragment UsageFields on Usage { spaces maxSpaces computeUnits maxComputeUnits storageUnits maxStorageUnits }`);

const VariableFields = graphql(`fragment VariableFields on Variable { id name protected value }`);

const ServerInfoFields = graphql(`fragment ServerInfoFields on ServerInfo { setupRequired url wildcardDomain }`);

/** The shapes the UI's components take, named after the fragments that select them. */
export { SpaceFields, RoleFields, UserFields, TemplateFields, VariableFields, ServerInfoFields, GroupFields, UsageFields };

export const SESSION = graphql(`query Session { serverInfo { ...ServerInfoFields } me { ...UserFields servicePassword } }`, [ServerInfoFields, UserFields]);
export const SETUP = graphql(`mutation Setup($input: SetupInput!) { setup(input: $input) { id } }`);
export const LOGIN = graphql(
  `mutation Login($username: String!, $password: String!, $totp: String, $recoveryCode: String) { login(username: $username, password: $password, totp: $totp, recoveryCode: $recoveryCode) { id } }`,
);
export const LOGOUT = graphql(`mutation Logout { logout }`);
export const UPDATE_PROFILE = graphql(`mutation UpdateProfile($input: UpdateProfileInput!) { updateProfile(input: $input) { ...UserFields servicePassword } }`, [UserFields]);
export const ENABLE_TOTP = graphql(`mutation EnableTotp { enableTotp { secret uri qrCode } }`);
export const CONFIRM_TOTP = graphql(`mutation ConfirmTotp($code: String!) { confirmTotp(code: $code) }`);
export const DISABLE_TOTP = graphql(`mutation DisableTotp($code: String, $password: String) { disableTotp(code: $code, password: $password) }`);
export const RESET_USER_TOTP = graphql(`mutation ResetUserTotp($userId: ID!) { resetUserTotp(userId: $userId) { id } }`);
export const SERVER_SETTINGS = graphql(`query ServerSettings { serverSettings { requireTwoFactor } }`);
export const UPDATE_SERVER_SETTINGS = graphql(
  `mutation UpdateServerSettings($input: ServerSettingsInput!) { updateServerSettings(input: $input) { requireTwoFactor } }`,
);

export const SPACES = graphql(`query Spaces($userId: ID) { spaces(userId: $userId) { ...SpaceFields } }`, [SpaceFields]);
export const SPACE = graphql(`query Space($id: ID!) { space(id: $id) { ...SpaceFields } }`, [SpaceFields]);
// The change's fields are written out, not a fragment in a fragment: every spread counts as a level
// against the server's query depth limit.
export const SPACES_CHANGED = graphql(
  `subscription SpacesChanged($userId: ID) { spacesChanged(userId: $userId) { kind spaceId space { ...SpaceFields } usage { ...UsageFields } } }`,
  [SpaceFields, UsageFields],
);
/** The viewer's own usage against their quotas (the Spaces page's meter, the Create Space form). */
export const MY_USAGE = graphql(`query MyUsage { me { id usage { ...UsageFields } } }`, [UsageFields]);
export const SPACE_CHANGED = graphql(`subscription SpaceChanged($id: ID!) { spaceChanged(id: $id) { kind spaceId space { ...SpaceFields } } }`, [SpaceFields]);
export const CREATE_SPACE = graphql(`mutation CreateSpace($input: CreateSpaceInput!) { createSpace(input: $input) { id } }`);
export const UPDATE_SPACE = graphql(`mutation UpdateSpace($id: ID!, $input: UpdateSpaceInput!) { updateSpace(id: $id, input: $input) { ...SpaceFields } }`, [SpaceFields]);
export const START_SPACE = graphql(`mutation StartSpace($id: ID!) { startSpace(id: $id) { ...SpaceFields } }`, [SpaceFields]);
export const STOP_SPACE = graphql(`mutation StopSpace($id: ID!) { stopSpace(id: $id) { ...SpaceFields } }`, [SpaceFields]);
export const RESTART_SPACE = graphql(`mutation RestartSpace($id: ID!) { restartSpace(id: $id) { ...SpaceFields } }`, [SpaceFields]);
export const KEEP_SPACE_RUNNING = graphql(`mutation KeepSpaceRunning($id: ID!) { keepSpaceRunning(id: $id) { ...SpaceFields } }`, [SpaceFields]);
export const DELETE_SPACE = graphql(`mutation DeleteSpace($id: ID!) { deleteSpace(id: $id) }`);
export const TERMINAL_SESSIONS = graphql(`query TerminalSessions($id: ID!) { space(id: $id) { id terminalSessions { id createdAt attached expiresAt } } }`);
export const CLOSE_TERMINAL_SESSION = graphql(`mutation CloseTerminalSession($spaceId: ID!, $sessionId: ID!) { closeTerminalSession(spaceId: $spaceId, sessionId: $sessionId) }`);
export const SHARE_SPACE = graphql(`mutation ShareSpace($id: ID!, $userId: ID!) { shareSpace(id: $id, userId: $userId) { ...SpaceFields } }`, [SpaceFields]);
export const UNSHARE_SPACE = graphql(`mutation UnshareSpace($id: ID!, $userId: ID!) { unshareSpace(id: $id, userId: $userId) }`);
export const TRANSFER_SPACE = graphql(`mutation TransferSpace($id: ID!, $userId: ID!) { transferSpace(id: $id, userId: $userId) { id } }`);
/** Users the owner may share a space with (names only). */
export const SHARE_CANDIDATES = graphql(`query ShareCandidates($spaceId: ID!, $search: String!) { shareCandidates(spaceId: $spaceId, search: $search) { id username } }`);
export const CREATE_AGENT_TOKEN = graphql(`mutation CreateAgentToken($spaceId: ID!) { createAgentToken(spaceId: $spaceId) { token environment } }`);

export const TEMPLATES = graphql(`query Templates { templates { ...TemplateFields } }`, [TemplateFields]);
export const TEMPLATE = graphql(`query Template($id: ID!) { template(id: $id) { ...TemplateFields } }`, [TemplateFields]);
export const CREATE_TEMPLATE = graphql(`mutation CreateTemplate($input: TemplateInput!) { createTemplate(input: $input) { id warnings } }`);
export const UPDATE_TEMPLATE = graphql(`mutation UpdateTemplate($id: ID!, $input: TemplateInput!) { updateTemplate(id: $id, input: $input) { id warnings } }`);
export const DELETE_TEMPLATE = graphql(`mutation DeleteTemplate($id: ID!) { deleteTemplate(id: $id) }`);

// Starters and image pulls stay out of TemplateFields: the template form edits that fragment.
const ImagePullFields = graphql(`fragment ImagePullFields on TemplateImagePull { templateId image present pulling percent status error }`);
export const STARTER_TEMPLATES = graphql(`query StarterTemplates { starterTemplates { id name description gives image platform } }`);
export const CREATE_TEMPLATE_FROM_STARTER = graphql(`mutation CreateTemplateFromStarter($starterId: ID!) { createTemplateFromStarter(starterId: $starterId) { id name } }`);
export const TEMPLATE_IMAGE_PULLS = graphql(`query TemplateImagePulls { templates { id imagePull { ...ImagePullFields } } }`, [ImagePullFields]);
export const PULL_TEMPLATE_IMAGE = graphql(`mutation PullTemplateImage($id: ID!) { pullTemplateImage(id: $id) { ...ImagePullFields } }`, [ImagePullFields]);
export const TEMPLATE_IMAGE_PULL = graphql(
  `subscription TemplateImagePull($templateId: ID!) { templateImagePull(templateId: $templateId) { ...ImagePullFields } }`,
  [ImagePullFields],
);

export const USERS = graphql(`query Users { users { ...UserFields } }`, [UserFields]);
/** For Create Space For: the owner's usage, read only by those who may read it. */
export const USERS_WITH_USAGE = graphql(`query UsersWithUsage { users { ...UserFields usage { ...UsageFields } } }`, [UserFields, UsageFields]);
export const CREATE_USER = graphql(`mutation CreateUser($input: CreateUserInput!) { createUser(input: $input) { id } }`);
export const REVOKE_USER_SESSIONS = graphql(`mutation RevokeUserSessions($id: ID!) { revokeUserSessions(id: $id) }`);
export const UPDATE_USER = graphql(`mutation UpdateUser($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id } }`);

export const ROLES = graphql(`query Roles { roles { ...RoleFields } }`, [RoleFields]);
export const CREATE_ROLE = graphql(`mutation CreateRole($name: String!, $permissions: [Permission!]!) { createRole(name: $name, permissions: $permissions) { id } }`);
export const UPDATE_ROLE = graphql(`mutation UpdateRole($id: ID!, $name: String, $permissions: [Permission!]) { updateRole(id: $id, name: $name, permissions: $permissions) { id } }`);
export const DELETE_ROLE = graphql(`mutation DeleteRole($id: ID!) { deleteRole(id: $id) }`);

export const VARIABLES = graphql(`query Variables { variables { ...VariableFields } }`, [VariableFields]);
export const CREATE_VARIABLE = graphql(`mutation CreateVariable($name: String!, $value: String!, $protected: Boolean) { createVariable(name: $name, value: $value, protected: $protected) { id } }`);
export const UPDATE_VARIABLE = graphql(`mutation UpdateVariable($id: ID!, $value: String, $protected: Boolean) { updateVariable(id: $id, value: $value, protected: $protected) { id } }`);
export const DELETE_VARIABLE = graphql(`mutation DeleteVariable($id: ID!) { deleteVariable(id: $id) }`);

export const GROUPS = graphql(`query Groups { groups { ...GroupFields } }`, [GroupFields]);
export const GROUP = graphql(`query Group($id: ID!) { group(id: $id) { ...GroupFields users { id username } } }`, [GroupFields]);
export const CREATE_GROUP = graphql(`
  mutation CreateGroup($name: String!, $description: String, $maxSpaces: Int, $computeUnits: Int, $storageUnits: Int) {
    createGroup(name: $name, description: $description, maxSpaces: $maxSpaces, computeUnits: $computeUnits, storageUnits: $storageUnits) { id }
  }
`);
export const UPDATE_GROUP = graphql(`
  mutation UpdateGroup($id: ID!, $name: String, $description: String, $maxSpaces: Int, $computeUnits: Int, $storageUnits: Int) {
    updateGroup(id: $id, name: $name, description: $description, maxSpaces: $maxSpaces, computeUnits: $computeUnits, storageUnits: $storageUnits) { id }
  }
`);
export const DELETE_GROUP = graphql(`mutation DeleteGroup($id: ID!) { deleteGroup(id: $id) }`);

export const SIGN_IN_METHODS = graphql(`query SignInMethods { signInMethods { password sso { name loginUrl } } }`);
export const PROVIDER_LOGOUT_URL = graphql(`query ProviderLogoutUrl { providerLogoutUrl }`);

const WebhookDeliveryFields = graphql(
  `fragment WebhookDeliveryFields on WebhookDelivery { id event status attempts lastStatusCode lastError lastResponseBody createdAt lastAttemptAt nextAttemptAt }`,
);
export const WEBHOOKS = graphql(
  `query Webhooks { webhookEvents webhooks { id url events active lastDelivery { ...WebhookDeliveryFields } deliveries(first: 20) { ...WebhookDeliveryFields } } }`,
  [WebhookDeliveryFields],
);
export const CREATE_WEBHOOK = graphql(`mutation CreateWebhook($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`);
export const UPDATE_WEBHOOK = graphql(`mutation UpdateWebhook($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) { id } }`);
export const DELETE_WEBHOOK = graphql(`mutation DeleteWebhook($id: ID!) { deleteWebhook(id: $id) }`);
export const REDELIVER_WEBHOOK_DELIVERY = graphql(`mutation RedeliverWebhookDelivery($id: ID!) { redeliverWebhookDelivery(id: $id) { id } }`);
