/** Every GraphQL operation the UI sends, in one place so a schema change is found by one search. */

const SPACE_FIELDS = `
  id name shell altNames status error pullProgress updateAvailable
  template { id name platform }
  owner { id }
  services { terminal codeServer desktop ssh vscodeTunnel { name connected } ports { name port protocol url } }
`;

const USER_FIELDS = `id username email active preferredShell timezone sshPublicKey roles { id name builtIn permissions }`;

const TEMPLATE_FIELDS = `id name description platform job volumes withTerminal withCodeServer withVSCodeTunnel withSSH active`;

export const SESSION = `query Session { serverInfo { setupRequired url wildcardDomain } me { ${USER_FIELDS} servicePassword } }`;
export const SETUP = `mutation Setup($input: SetupInput!) { setup(input: $input) { id } }`;
export const LOGIN = `mutation Login($username: String!, $password: String!) { login(username: $username, password: $password) { id } }`;
export const LOGOUT = `mutation Logout { logout }`;
export const UPDATE_PROFILE = `mutation UpdateProfile($input: UpdateProfileInput!) { updateProfile(input: $input) { ${USER_FIELDS} servicePassword } }`;

export const SPACES = `query Spaces($userId: ID) { spaces(userId: $userId) { ${SPACE_FIELDS} } }`;
export const SPACES_CHANGED = `subscription SpacesChanged($userId: ID) { spacesChanged(userId: $userId) { kind spaceId space { ${SPACE_FIELDS} } } }`;
export const SPACE_CHANGED = `subscription SpaceChanged($id: ID!) { spaceChanged(id: $id) { kind spaceId space { ${SPACE_FIELDS} } } }`;
export const CREATE_SPACE = `mutation CreateSpace($input: CreateSpaceInput!) { createSpace(input: $input) { id } }`;
export const UPDATE_SPACE = `mutation UpdateSpace($id: ID!, $input: UpdateSpaceInput!) { updateSpace(id: $id, input: $input) { ${SPACE_FIELDS} } }`;
export const START_SPACE = `mutation StartSpace($id: ID!) { startSpace(id: $id) { ${SPACE_FIELDS} } }`;
export const STOP_SPACE = `mutation StopSpace($id: ID!) { stopSpace(id: $id) { ${SPACE_FIELDS} } }`;
export const RESTART_SPACE = `mutation RestartSpace($id: ID!) { restartSpace(id: $id) { ${SPACE_FIELDS} } }`;
export const DELETE_SPACE = `mutation DeleteSpace($id: ID!) { deleteSpace(id: $id) }`;

export const TEMPLATES = `query Templates { templates { ${TEMPLATE_FIELDS} } }`;
export const TEMPLATE = `query Template($id: ID!) { template(id: $id) { ${TEMPLATE_FIELDS} } }`;
export const CREATE_TEMPLATE = `mutation CreateTemplate($input: TemplateInput!) { createTemplate(input: $input) { id } }`;
export const UPDATE_TEMPLATE = `mutation UpdateTemplate($id: ID!, $input: TemplateInput!) { updateTemplate(id: $id, input: $input) { id } }`;
export const DELETE_TEMPLATE = `mutation DeleteTemplate($id: ID!) { deleteTemplate(id: $id) }`;

export const USERS = `query Users { users { ${USER_FIELDS} } }`;
export const CREATE_USER = `mutation CreateUser($input: CreateUserInput!) { createUser(input: $input) { id } }`;
export const UPDATE_USER = `mutation UpdateUser($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { id } }`;

export const ROLES = `query Roles { roles { id name builtIn permissions } }`;
export const CREATE_ROLE = `mutation CreateRole($name: String!, $permissions: [Permission!]!) { createRole(name: $name, permissions: $permissions) { id } }`;
export const UPDATE_ROLE = `mutation UpdateRole($id: ID!, $name: String, $permissions: [Permission!]) { updateRole(id: $id, name: $name, permissions: $permissions) { id } }`;
export const DELETE_ROLE = `mutation DeleteRole($id: ID!) { deleteRole(id: $id) }`;

export const VARIABLES = `query Variables { variables { id name protected value } }`;
export const CREATE_VARIABLE = `mutation CreateVariable($name: String!, $value: String!, $protected: Boolean) { createVariable(name: $name, value: $value, protected: $protected) { id } }`;
export const UPDATE_VARIABLE = `mutation UpdateVariable($id: ID!, $value: String, $protected: Boolean) { updateVariable(id: $id, value: $value, protected: $protected) { id } }`;
export const DELETE_VARIABLE = `mutation DeleteVariable($id: ID!) { deleteVariable(id: $id) }`;
export const SPACE = `query Space($id: ID!) { space(id: $id) { ${SPACE_FIELDS} } }`;
export const CREATE_AGENT_TOKEN = `mutation CreateAgentToken($spaceId: ID!) { createAgentToken(spaceId: $spaceId) { token environment } }`;
