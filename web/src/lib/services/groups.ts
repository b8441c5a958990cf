import { mutate, query } from '../api/client.js';
import { CREATE_GROUP, DELETE_GROUP, GROUP, GROUPS, MY_USAGE, UPDATE_GROUP, UPDATE_USER } from '../api/documents.js';
import type { Usage } from '../api/types.js';

/** A group's editable fields; a null limit is unlimited. */
export interface GroupInput {
  name: string;
  description: string;
  maxSpaces: number | null;
  computeUnits: number | null;
  storageUnits: number | null;
}

export const listGroups = async () => (await query(GROUPS)).groups;
export const getGroup = async (id: string) => (await query(GROUP, { id })).group;
export const myUsage = async (): Promise<Usage | null> => (await query(MY_USAGE)).me?.usage ?? null;

/** Form actions throw ApiError so the form can show the message next to its field. */
export const createGroup = async (input: GroupInput) => (await mutate(CREATE_GROUP, { ...input })).createGroup.id;
export const updateGroup = (id: string, input: GroupInput) => mutate(UPDATE_GROUP, { id, ...input });
/** Refused with GROUP_IN_USE while templates are open to the group. */
export const deleteGroup = (id: string) => mutate(DELETE_GROUP, { id });

/** Replaces a user's groups (membership lives on the user: updateUser's groupIds). */
export const setUserGroups = (userId: string, groupIds: string[]) => mutate(UPDATE_USER, { id: userId, input: { groupIds } });

/** Limits set on one user that replace their groups' (each null: from the groups). */
export interface QuotaOverride {
  maxSpaces: number | null;
  computeUnits: number | null;
  storageUnits: number | null;
}

/** Groups and per-user limits in one save; no limit set clears the override. */
export const setUserGroupsAndLimits = (userId: string, groupIds: string[], limits: QuotaOverride) => {
  const none = limits.maxSpaces === null && limits.computeUnits === null && limits.storageUnits === null;
  return mutate(UPDATE_USER, { id: userId, input: { groupIds, quotaOverride: none ? null : limits } });
};

/** A cleared number input binds null (sometimes undefined or NaN): all mean "no limit here". */
export const limitValue = (value: number | null | undefined): number | null =>
  value === undefined || value === null || Number.isNaN(value) ? null : value;

/** A limit for people: "unlimited" for null. */
export const limitText = (limit: number | null) => (limit === null ? 'unlimited' : String(limit));
