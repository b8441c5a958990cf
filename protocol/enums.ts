/**
 * The value sets that the database, the server's GraphQL schema, the agent and the CLI agree on.
 * The GraphQL enums are built from these lists, so the web UI's and the CLI's generated types
 * (from schema/schema.graphql) follow them too.
 */

/** A space's state; only the server's lifecycle changes it. */
export const SPACE_STATUSES = ['STOPPED', 'STARTING', 'RUNNING', 'STOPPING', 'DELETING', 'FAILED'] as const;
export type SpaceStatus = (typeof SPACE_STATUSES)[number];

/**
 * Why subscribers hear about a space (the UI may choose a toast by it). SNAPSHOT is only ever sent
 * by a subscription itself, as the first message or after a missed event, never published.
 */
export const SPACE_CHANGE_KINDS = ['SNAPSHOT', 'CREATED', 'STATUS', 'PULL_PROGRESS', 'RENAMED', 'TEMPLATE_CHANGED', 'SERVICES', 'HEALTH', 'AUTO_STOP', 'AUTO_STOP_WARNING', 'SHARED', 'UNSHARED', 'TRANSFERRED', 'DELETED'] as const;
export type SpaceChangeKind = (typeof SPACE_CHANGE_KINDS)[number];
/**
 * AUTO_STOP: the planned automatic stop (Space.autoStopAt, autoStopReason) was set, moved or
 * cleared. AUTO_STOP_WARNING: the stop is near (KNOT_AUTOSTOP_WARNING_SECONDS); sent once per plan,
 * and Space.autoStopWarning stays true until the plan moves or the space stops. SHARED, UNSHARED:
 * who the space is shared with changed (a user it was unshared from gets the event with no space,
 * and loses it). TRANSFERRED: it has a new owner (the previous one, unless it manages spaces, gets
 * the event with no space).
 */
/** The kinds a change of a space publishes. */
export type PublishedSpaceChangeKind = Exclude<SpaceChangeKind, 'SNAPSHOT'>;

/** The login shells a space's terminal may run. */
export const SHELLS = ['bash', 'zsh', 'fish', 'sh'] as const;
export type Shell = (typeof SHELLS)[number];

/** How a port inside a space is reached. */
export const PORT_PROTOCOLS = ['HTTP', 'HTTPS', 'TCP'] as const;
export type PortProtocol = (typeof PORT_PROTOCOLS)[number];

/** What a space's health check last said; UNKNOWN while nothing checks it or it is not running. */
export const HEALTH_STATES = ['HEALTHY', 'UNHEALTHY', 'UNKNOWN'] as const;
export type HealthState = (typeof HEALTH_STATES)[number];

/** Days of a template's schedule window, in the space owner's time zone. */
export const WEEKDAYS = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Why Knot will stop (or stopped) a running space by itself. */
export const AUTO_STOP_REASONS = ['SCHEDULE', 'MAX_UPTIME', 'IDLE'] as const;
export type AutoStopReason = (typeof AUTO_STOP_REASONS)[number];
