/**
 * The authorization matrix: who may call every GraphQL root field and every HTTP and WebSocket
 * route, and how everyone else is refused. docs/security.md and docs/permissions.md say why.
 *
 * One row per field or route (a few fields have extra rows, named `Field (case)`, for the cases
 * that guard against a role growing itself). Columns are the actors, in this order:
 *
 *   anonymous   no credential at all
 *   other       an ordinary user who is not the owner of anything the request targets
 *   SPACES      holds MANAGE_SPACES only        USERS      holds MANAGE_USERS only
 *   ROLES       holds MANAGE_ROLES only         TEMPLATES  holds MANAGE_TEMPLATES only
 *   owner       an ordinary user who owns the space (or API token) the request targets
 *   admin       holds the built-in Admin role
 *
 * Outcomes:
 *   GraphQL   'ok' (data, no error) or the error's `extensions.code`. A code that is not a refusal
 *             (INVALID_TRANSITION, …) means the caller got past every authorization check.
 *   HTTP      'HTTP <status>', sometimes with what the answer was (e.g. 'HTTP 302 login').
 *   WebSocket 'WS open' (the far end answered), 'WS <close code>', or 'HTTP <status>' when the
 *             handshake itself was refused.
 *
 * When you change who may do something, change its row here in the same commit. A row that
 * encodes today's behaviour while a stricter rule is pending says so in a `pending:` comment.
 */

export const ACTORS = ['anonymous', 'other', 'SPACES', 'USERS', 'ROLES', 'TEMPLATES', 'owner', 'admin'] as const;
export type Actor = (typeof ACTORS)[number];
export type Row = readonly [string, string, string, string, string, string, string, string];

const OK = 'ok';
const UNAUTH = 'UNAUTHENTICATED';
const FORBID = 'FORBIDDEN';
const NOT_FOUND = 'NOT_FOUND';
/** Got past authorization; refused only because a manual space is not started or stopped from Knot. */
const PASSED = 'INVALID_TRANSITION';

// prettier-ignore
export const FIELD_RULES: Record<string, Row> = {
  //                                                                 anonymous          other      SPACES     USERS      ROLES      TEMPLATES  owner      admin
  'Query.me':                                                       [OK,                OK,        OK,        OK,        OK,        OK,        OK,        OK],
  'Query.serverInfo':                                               [OK,                OK,        OK,        OK,        OK,        OK,        OK,        OK],
  // Which sign-in methods exist: public (the login page asks before anyone is signed in), no secrets.
  'Query.signInMethods':                                            [OK,                OK,        OK,        OK,        OK,        OK,        OK,        OK],
  // About the asker's own session only.
  'Query.providerLogoutUrl':                                        [UNAUTH,            OK,        OK,        OK,        OK,        OK,        OK,        OK],
  'Query.apiTokens':                                                [UNAUTH,            OK,        OK,        OK,        OK,        OK,        OK,        OK],
  'Query.auditLog':                                                 [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  'Query.roles':                                                    [UNAUTH,            OK,        OK,        OK,        OK,        OK,        OK,        OK],
  'Query.users':                                                    [UNAUTH,            FORBID,    OK,        OK,        FORBID,    FORBID,    FORBID,    OK],
  'Query.space':                                                    [UNAUTH,            NOT_FOUND, OK,        NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        OK],
  'Query.spaces':                                                   [UNAUTH,            FORBID,    OK,        FORBID,    FORBID,    FORBID,    OK,        OK],
  'Query.templates':                                                [UNAUTH,            OK,        OK,        OK,        OK,        OK,        OK,        OK],
  'Query.starterTemplates':                                         [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    OK,        FORBID,    OK],
  'Query.template':                                                 [UNAUTH,            OK,        OK,        OK,        OK,        OK,        OK,        OK],
  // Inactive templates are for template managers only, as in `templates`.
  'Query.template (inactive)':                                      [UNAUTH,            NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        NOT_FOUND, OK],
  // Open only to a group the owner is in: everyone else but template managers hears NOT_FOUND.
  'Query.template (open only to the owner\'s group)':               [UNAUTH,            NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        OK,        OK],
  // Readable by the admins whose forms pick groups (users, templates) and by MANAGE_GROUPS.
  'Query.groups':                                                   [UNAUTH,            FORBID,    FORBID,    OK,        FORBID,    OK,        FORBID,    OK],
  'Query.group':                                                    [UNAUTH,            FORBID,    FORBID,    OK,        FORBID,    OK,        FORBID,    OK],
  'Query.variables':                                                [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],

  'Mutation.setup':                                                 ['ALREADY_SET_UP',  'ALREADY_SET_UP', 'ALREADY_SET_UP', 'ALREADY_SET_UP', 'ALREADY_SET_UP', 'ALREADY_SET_UP', 'ALREADY_SET_UP', 'ALREADY_SET_UP'],
  'Mutation.login':                                                 [OK,                OK,        OK,        OK,        OK,        OK,        OK,        OK],
  'Mutation.logout':                                                [UNAUTH,            OK,        OK,        OK,        OK,        OK,        OK,        OK],
  'Mutation.createApiToken':                                        [UNAUTH,            OK,        OK,        OK,        OK,        OK,        OK,        OK],
  // Only your own tokens: anyone else's answers like a missing one.
  'Mutation.revokeApiToken':                                        [UNAUTH,            NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        NOT_FOUND],
  'Mutation.updateProfile':                                         [UNAUTH,            OK,        OK,        OK,        OK,        OK,        OK,        OK],
  // Two-factor sign-in: each user's own. A wrong code (confirm) and nothing to turn off (disable) mean the caller got past authorization.
  'Query.serverSettings':                                           [UNAUTH,            OK,        OK,        OK,        OK,        OK,        OK,        OK],
  'Mutation.enableTotp':                                            [UNAUTH,            OK,        OK,        OK,        OK,        OK,        OK,        OK],
  'Mutation.confirmTotp':                                           [UNAUTH,            'TOTP_INVALID', 'TOTP_INVALID', 'TOTP_INVALID', 'TOTP_INVALID', 'TOTP_INVALID', 'TOTP_INVALID', 'TOTP_INVALID'],
  'Mutation.disableTotp':                                           [UNAUTH,            'BAD_USER_INPUT', 'BAD_USER_INPUT', 'BAD_USER_INPUT', 'BAD_USER_INPUT', 'BAD_USER_INPUT', 'BAD_USER_INPUT', 'BAD_USER_INPUT'],
  // The same rule as editing the user (MANAGE_USERS, and no permission beyond the actor's).
  'Mutation.resetUserTotp':                                         [UNAUTH,            FORBID,    FORBID,    OK,        FORBID,    FORBID,    FORBID,    OK],
  // Installation-wide settings (require two-factor for everyone): admins only.
  'Mutation.updateServerSettings':                                  [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],

  'Mutation.createUser':                                            [UNAUTH,            FORBID,    FORBID,    OK,        FORBID,    FORBID,    FORBID,    OK],
  'Mutation.createUser (with a role holding a permission the actor lacks)':
                                                                    [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  'Mutation.updateUser':                                            [UNAUTH,            FORBID,    FORBID,    OK,        FORBID,    FORBID,    FORBID,    OK],
  // Nobody acts on a user holding a permission they lack.
  'Mutation.updateUser (target holds a permission the actor lacks)':
                                                                    [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  // Membership and per-user limits need MANAGE_GROUPS, which only the admin column holds.
  'Mutation.updateUser (groupIds)':                                 [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  'Mutation.deleteUser':                                            [UNAUTH,            FORBID,    FORBID,    OK,        FORBID,    FORBID,    FORBID,    OK],
  'Mutation.deleteUser (target holds a permission the actor lacks)':
                                                                    [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  // Signs a user out everywhere: the same rule as editing them.
  'Mutation.revokeUserSessions':                                    [UNAUTH,            FORBID,    FORBID,    OK,        FORBID,    FORBID,    FORBID,    OK],
  'Mutation.revokeUserSessions (target holds a permission the actor lacks)':
                                                                    [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],

  'Mutation.createRole':                                            [UNAUTH,            FORBID,    FORBID,    FORBID,    OK,        FORBID,    FORBID,    OK],
  // Nobody grants a permission they lack.
  'Mutation.createRole (with a permission the actor lacks)':
                                                                    [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  'Mutation.updateRole':                                            [UNAUTH,            FORBID,    FORBID,    FORBID,    OK,        FORBID,    FORBID,    OK],
  // Nobody grants a permission they lack, not even to a role they hold.
  'Mutation.updateRole (adds a permission the actor lacks)':
                                                                    [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  'Mutation.deleteRole':                                            [UNAUTH,            FORBID,    FORBID,    FORBID,    OK,        FORBID,    FORBID,    OK],

  'Mutation.createGroup':                                           [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  'Mutation.updateGroup':                                           [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  'Mutation.deleteGroup':                                           [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  // Webhooks need MANAGE_WEBHOOKS, which only the admin column holds: their URLs, events and delivery logs are an admin's.
  'Query.webhooks':                                                 [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  'Query.webhook':                                                  [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  'Query.webhookEvents':                                            [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  'Mutation.createWebhook':                                         [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  'Mutation.updateWebhook':                                         [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  'Mutation.deleteWebhook':                                         [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  'Mutation.redeliverWebhookDelivery':                              [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],

  'Mutation.createTemplate':                                        [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    OK,        FORBID,    OK],
  'Mutation.createTemplateFromStarter':                             [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    OK,        FORBID,    OK],
  'Mutation.pullTemplateImage':                                     [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    OK,        FORBID,    OK],
  // Root-equivalent job keys only from an Admin, at every save.
  'Mutation.createTemplate (privileged: true)':                     [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  'Mutation.createTemplate (host bind mount)':                      [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  'Mutation.createTemplate (network: host)':                        [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  'Mutation.createTemplate (cap_add)':                              [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  'Mutation.createTemplate (devices)':                              [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  'Mutation.createTemplate (ports published on the host)':          [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  'Mutation.updateTemplate':                                        [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    OK,        FORBID,    OK],
  'Mutation.updateTemplate (privileged: true)':                     [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  'Mutation.deleteTemplate':                                        [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    OK,        FORBID,    OK],
  'Mutation.createVariable':                                        [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  'Mutation.updateVariable':                                        [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],
  'Mutation.deleteVariable':                                        [UNAUTH,            FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    FORBID,    OK],

  // Creates a space for the owner: yourself, or anyone with MANAGE_SPACES.
  'Mutation.createSpace':                                           [UNAUTH,            FORBID,    OK,        FORBID,    FORBID,    FORBID,    OK,        OK],
  'Mutation.updateSpace':                                           [UNAUTH,            NOT_FOUND, OK,        NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        OK],
  'Mutation.startSpace':                                            [UNAUTH,            NOT_FOUND, PASSED,    NOT_FOUND, NOT_FOUND, NOT_FOUND, PASSED,    PASSED],
  'Mutation.stopSpace':                                             [UNAUTH,            NOT_FOUND, PASSED,    NOT_FOUND, NOT_FOUND, NOT_FOUND, PASSED,    PASSED],
  'Mutation.restartSpace':                                          [UNAUTH,            NOT_FOUND, PASSED,    NOT_FOUND, NOT_FOUND, NOT_FOUND, PASSED,    PASSED],
  // Got past authorization; refused only because the (manual, stopped) space is not running.
  'Mutation.keepSpaceRunning':                                      [UNAUTH,            NOT_FOUND, 'SPACE_NOT_RUNNING', NOT_FOUND, NOT_FOUND, NOT_FOUND, 'SPACE_NOT_RUNNING', 'SPACE_NOT_RUNNING'],
  'Mutation.deleteSpace':                                           [UNAUTH,            NOT_FOUND, OK,        NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        OK],
  // Only the owner mints a manual space's agent token: those who may see the space hear FORBIDDEN.
  'Mutation.createAgentToken':                                      [UNAUTH,            NOT_FOUND, FORBID,    NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        FORBID],
  // A terminal session is a shell acting as the owner: only the owner lists or ends one (those who may see the space hear FORBIDDEN).
  'Query.space (terminalSessions)':                                 [UNAUTH,            NOT_FOUND, FORBID,    NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        FORBID],
  'Mutation.closeTerminalSession':                                  [UNAUTH,            NOT_FOUND, FORBID,    NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        FORBID],

  // Over graphql-ws; a socket without a valid credential is closed with 4403 before it can subscribe.
  'Subscription.spaceChanged':                                      ['WS 4403',         NOT_FOUND, OK,        NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        OK],
  'Subscription.spacesChanged':                                     ['WS 4403',         FORBID,    OK,        FORBID,    FORBID,    FORBID,    OK,        OK],
  'Subscription.templateImagePull':                                 ['WS 4403',         FORBID,    FORBID,    FORBID,    FORBID,    OK,        FORBID,    OK],
  // The same over server-sent events (POST /graphql, Accept: text/event-stream).
  'Subscription.spaceChanged (server-sent events)':                 [UNAUTH,            NOT_FOUND, OK,        NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        OK],
  'Subscription.spacesChanged (server-sent events)':                [UNAUTH,            FORBID,    OK,        FORBID,    FORBID,    FORBID,    OK,        OK],

  // Sharing (docs/permissions.md). Rows named `(shared with other)` target a space of the owner's
  // shared with the `other` actor: that column is what a user a space is shared with gets.
  'Query.space (shared with other)':                                [UNAUTH,            OK,        OK,        NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        OK],
  // Whoever sees the space sees whom it is shared with.
  'Query.space (sharedWith)':                                       [UNAUTH,            NOT_FOUND, OK,        NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        OK],
  'Query.space (sharedWith, shared with other)':                    [UNAUTH,            OK,        OK,        NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        OK],
  // A user it is shared with lists and ends their own terminal sessions in it.
  'Query.space (terminalSessions, shared with other)':              [UNAUTH,            OK,        FORBID,    NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        FORBID],
  'Mutation.closeTerminalSession (shared with other)':              [UNAUTH,            OK,        FORBID,    NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        FORBID],
  // Start, stop and restart: yes (refused only by the manual space's state machine); edit and delete: no.
  'Mutation.startSpace (shared with other)':                        [UNAUTH,            PASSED,    PASSED,    NOT_FOUND, NOT_FOUND, NOT_FOUND, PASSED,    PASSED],
  'Mutation.stopSpace (shared with other)':                         [UNAUTH,            PASSED,    PASSED,    NOT_FOUND, NOT_FOUND, NOT_FOUND, PASSED,    PASSED],
  'Mutation.restartSpace (shared with other)':                      [UNAUTH,            PASSED,    PASSED,    NOT_FOUND, NOT_FOUND, NOT_FOUND, PASSED,    PASSED],
  'Mutation.keepSpaceRunning (shared with other)':                  [UNAUTH,            'SPACE_NOT_RUNNING', 'SPACE_NOT_RUNNING', NOT_FOUND, NOT_FOUND, NOT_FOUND, 'SPACE_NOT_RUNNING', 'SPACE_NOT_RUNNING'],
  'Mutation.updateSpace (shared with other)':                       [UNAUTH,            FORBID,    OK,        NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        OK],
  'Mutation.deleteSpace (shared with other)':                       [UNAUTH,            FORBID,    OK,        NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        OK],
  'Subscription.spaceChanged (shared with other)':                  ['WS 4403',         OK,        OK,        NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        OK],
  'Subscription.spaceChanged (server-sent events, shared with other)':[UNAUTH,          OK,        OK,        NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        OK],
  // Only the owner shares: sharing hands out the use of the space, which MANAGE_SPACES lacks.
  'Mutation.shareSpace':                                            [UNAUTH,            NOT_FOUND, FORBID,    NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        FORBID],
  'Mutation.shareSpace (shared with other)':                        [UNAUTH,            FORBID,    FORBID,    NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        FORBID],
  'Query.shareCandidates':                                          [UNAUTH,            NOT_FOUND, FORBID,    NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        FORBID],
  'Query.shareCandidates (shared with other)':                      [UNAUTH,            FORBID,    FORBID,    NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        FORBID],
  // Withdrawing a share: the owner or MANAGE_SPACES; a user it is shared with may leave it, and only that.
  'Mutation.unshareSpace':                                          [UNAUTH,            NOT_FOUND, OK,        NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        OK],
  'Mutation.unshareSpace (shared with other, who leaves)':          [UNAUTH,            OK,        OK,        NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        OK],
  'Mutation.unshareSpace (shared with other, removing someone else)':[UNAUTH,           FORBID,    OK,        NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        OK],
  // Handing over: the owner or MANAGE_SPACES, as for deleting.
  'Mutation.transferSpace':                                         [UNAUTH,            NOT_FOUND, OK,        NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        OK],
  'Mutation.transferSpace (to the caller)':                          [UNAUTH,            NOT_FOUND, FORBID,    NOT_FOUND, NOT_FOUND, NOT_FOUND, 'BAD_USER_INPUT', FORBID],
  'Mutation.transferSpace (shared with other)':                     [UNAUTH,            FORBID,    OK,        NOT_FOUND, NOT_FOUND, NOT_FOUND, OK,        OK],
};

const H = (status: number, what = '') => `HTTP ${status}${what ? ` ${what}` : ''}`;
const WS_OPEN = 'WS open';

/**
 * Routes, as `HTTP <path>` or `WS <path>` (a WebSocket upgrade). Requests into a space target the
 * owner's running space; they carry the actor's API token (`Authorization: Bearer`), except
 * port-login, which reads only the session cookie.
 */
// prettier-ignore
export const ROUTE_RULES: Record<string, Row> = {
  //                                                anonymous          other              SPACES             USERS              ROLES              TEMPLATES          owner              admin
  'HTTP /graphql':                                 [H(200),            H(200),            H(200),            H(200),            H(200),            H(200),            H(200),            H(200)],
  'WS /graphql':                                   ['WS 4403',         'WS ack',          'WS ack',          'WS ack',          'WS ack',          'WS ack',          'WS ack',          'WS ack'],
  'HTTP /healthz':                                 [H(200),            H(200),            H(200),            H(200),            H(200),            H(200),            H(200),            H(200)],
  // Only the operator's KNOT_METRICS_TOKEN: no user credential, an Admin's included (test/security/operator-surface).
  'HTTP /metrics':                                 [H(401),            H(401),            H(401),            H(401),            H(401),            H(401),            H(401),            H(401)],
  // Agents only: a user's credential is never an agent token, not even the owner's.
  'WS /agent':                                     ['WS 4401',         'WS 4401',         'WS 4401',         'WS 4401',         'WS 4401',         'WS 4401',         'WS 4401',         'WS 4401'],
  // Single sign-on (KNOT_OIDC_ISSUER set): anyone may begin a sign-in, which goes to the provider; a callback
  // that no sign-in begun in this browser's flow cookie matches is refused back to the login page.
  'HTTP /auth/oidc/login':                         [H(303, 'provider'), H(303, 'provider'), H(303, 'provider'), H(303, 'provider'), H(303, 'provider'), H(303, 'provider'), H(303, 'provider'), H(303, 'provider')],
  'HTTP /auth/oidc/callback':                      [H(303, 'OIDC_STATE_INVALID'), H(303, 'OIDC_STATE_INVALID'), H(303, 'OIDC_STATE_INVALID'), H(303, 'OIDC_STATE_INVALID'), H(303, 'OIDC_STATE_INVALID'), H(303, 'OIDC_STATE_INVALID'), H(303, 'OIDC_STATE_INVALID'), H(303, 'OIDC_STATE_INVALID')],
  'HTTP /agent/knot-agent.mjs':                    [H(200),            H(200),            H(200),            H(200),            H(200),            H(200),            H(200),            H(200)],
  // Replicas only (a request signed with their shared key): no user credential opens it, the owner's included.
  'WS /internal/relay':                            [H(401),            H(401),            H(401),            H(401),            H(401),            H(401),            H(401),            H(401)],

  'HTTP /spaces/port-login':                       [H(302, 'login'),   H(404),            H(404),            H(404),            H(404),            H(404),            H(302, 'ticket'),  H(404)],
  'HTTP /spaces/<id>/terminal':                    [H(426),            H(426),            H(426),            H(426),            H(426),            H(426),            H(426),            H(426)],
  'WS /spaces/<id>/terminal':                      ['WS 4401',         'WS 4404',         'WS 4404',         'WS 4404',         'WS 4404',         'WS 4404',         WS_OPEN,           'WS 4404'],
  'HTTP /spaces/<id>/forward/<port>':              [H(426),            H(426),            H(426),            H(426),            H(426),            H(426),            H(426),            H(426)],
  'WS /spaces/<id>/forward/<port>':                ['WS 4401',         'WS 4404',         'WS 4404',         'WS 4404',         'WS 4404',         'WS 4404',         WS_OPEN,           'WS 4404'],
  'HTTP /spaces/<id>/code-server/*':               [H(401),            H(404),            H(404),            H(404),            H(404),            H(404),            H(200),            H(404)],
  'WS /spaces/<id>/code-server/*':                 [H(401),            H(404),            H(404),            H(404),            H(404),            H(404),            WS_OPEN,           H(404)],
  'HTTP /spaces/<id>/desktop/*':                   [H(401),            H(404),            H(404),            H(404),            H(404),            H(404),            H(200),            H(404)],
  'WS /spaces/<id>/desktop/*':                     [H(401),            H(404),            H(404),            H(404),            H(404),            H(404),            WS_OPEN,           H(404)],
  'HTTP /spaces/<id>/ports/<port>/*':              [H(401),            H(404),            H(404),            H(404),            H(404),            H(404),            H(200),            H(404)],
  'WS /spaces/<id>/ports/<port>/*':                [H(401),            H(404),            H(404),            H(404),            H(404),            H(404),            WS_OPEN,           H(404)],

  // A stopped space: the owner hears why (409), everyone else the same as before.
  'WS /spaces/<id>/terminal (space stopped)':      ['WS 4401',         'WS 4404',         'WS 4404',         'WS 4404',         'WS 4404',         'WS 4404',         'WS 4409',         'WS 4404'],
  'WS /spaces/<id>/forward/<port> (space stopped)':['WS 4401',         'WS 4404',         'WS 4404',         'WS 4404',         'WS 4404',         'WS 4404',         'WS 4409',         'WS 4404'],
  'HTTP /spaces/<id>/code-server/* (space stopped)':[H(401),           H(404),            H(404),            H(404),            H(404),            H(404),            H(409),            H(404)],
  'HTTP /spaces/<id>/ports/<port>/* (space stopped)':[H(401),          H(404),            H(404),            H(404),            H(404),            H(404),            H(409),            H(404)],
  'HTTP <port host>/* (space stopped)':            [H(401),            H(404),            H(404),            H(404),            H(404),            H(404),            H(409),            H(404)],

  // A running space of the owner's shared with `other`: that user reaches in as the owner does (its port host keeps the owner's name).
  'HTTP /spaces/port-login (shared with other)':   [H(302, 'login'),   H(302, 'ticket'),  H(404),            H(404),            H(404),            H(404),            H(302, 'ticket'),  H(404)],
  'WS /spaces/<id>/terminal (shared with other)':  ['WS 4401',         WS_OPEN,           'WS 4404',         'WS 4404',         'WS 4404',         'WS 4404',         WS_OPEN,           'WS 4404'],
  'WS /spaces/<id>/forward/<port> (shared with other)':['WS 4401',      WS_OPEN,           'WS 4404',         'WS 4404',         'WS 4404',         'WS 4404',         WS_OPEN,           'WS 4404'],
  'HTTP /spaces/<id>/code-server/* (shared with other)':[H(401),        H(200),            H(404),            H(404),            H(404),            H(404),            H(200),            H(404)],
  'WS /spaces/<id>/code-server/* (shared with other)':[H(401),          WS_OPEN,           H(404),            H(404),            H(404),            H(404),            WS_OPEN,           H(404)],
  'HTTP /spaces/<id>/desktop/* (shared with other)':[H(401),            H(200),            H(404),            H(404),            H(404),            H(404),            H(200),            H(404)],
  'HTTP /spaces/<id>/ports/<port>/* (shared with other)':[H(401),       H(200),            H(404),            H(404),            H(404),            H(404),            H(200),            H(404)],
  'WS /spaces/<id>/ports/<port>/* (shared with other)':[H(401),         WS_OPEN,           H(404),            H(404),            H(404),            H(404),            WS_OPEN,           H(404)],
  'HTTP <port host>/* (shared with other)':        [H(401),            H(200),            H(404),            H(404),            H(404),            H(404),            H(200),            H(404)],
  'WS <port host>/* (shared with other)':          [H(401),            WS_OPEN,           H(404),            H(404),            H(404),            H(404),            WS_OPEN,           H(404)],

  // The port host's login callback: only a ticket from port-login opens it, and only the owner gets one.
  'HTTP <port host>/__knot/auth':                  [H(401),            H(401),            H(401),            H(401),            H(401),            H(401),            H(302),            H(401)],
  'HTTP <port host>/*':                            [H(401),            H(404),            H(404),            H(404),            H(404),            H(404),            H(200),            H(404)],
  'WS <port host>/*':                              [H(401),            H(404),            H(404),            H(404),            H(404),            H(404),            WS_OPEN,           H(404)],

  // Anything else: the web UI's static files for everyone (or, before `npm run build`, the same 503 for everyone).
  'HTTP * (web UI)':                               ['web UI',          'web UI',          'web UI',          'web UI',          'web UI',          'web UI',          'web UI',          'web UI'],
  'WS * (no route)':                               [H(404),            H(404),            H(404),            H(404),            H(404),            H(404),            H(404),            H(404)],
};
