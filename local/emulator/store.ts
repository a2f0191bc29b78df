/**
 * The emulated Datagrid's state and rules: API keys and teamspaces, MCP servers, caller-managed and
 * Datagrid-managed secrets, and the tool re-sync that follows a change of connectivity or auth.
 * Transport-free: the HTTP layer (../datagrid-emulator.ts) and tests call it directly.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { McpServer } from 'datagrid-ai/resources/organization/mcp-servers';
import type { Secret } from 'datagrid-ai/resources/secrets';
import { syncTools } from './mcp-sync.ts';
import { LIMITS } from './validation.ts';
import type { PageQuery, SecretFields, ServerFields } from './validation.ts';

export type { McpServer, Secret };

/** An error the API answers with: status plus the JSON body `{ message, type, param? }` the official client reads. */
export class ApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | undefined;
  constructor(status: number, type: string, message: string, param?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.type = type;
    this.param = param;
  }
}

export interface StatusVocabulary {
  /** Status after a re-sync that worked. @default 'active' */
  healthy: string;
  /** Status after a re-sync that failed. @default 'error' */
  failed: string;
  /** Status while a re-sync runs. @default 'syncing' */
  pending: string;
}

export interface SyncSettings {
  /** `sync`: a write answers after the re-sync; `async`: it answers with the pending status at once. */
  mode: 'sync' | 'async';
  /** Async mode: wait this long before the background re-sync starts. */
  asyncDelayMs: number;
  statuses: StatusVocabulary;
  /** Upper bound of one re-sync (connect + tools/list). */
  syncTimeoutMs: number;
  /**
   * What `authorization` does to an already linked managed secret: rotate it in place (`stable` id) or replace it
   * by a new secret (`new-per-rotation`, so `authorization_secret_id` changes). Datagrid does not document which.
   */
  managedSecretIds: 'stable' | 'new-per-rotation';
  maxServersPerTeamspace: number;
}

export interface SyncSettingsInput extends Partial<Omit<SyncSettings, 'statuses'>> {
  statuses?: Partial<StatusVocabulary>;
}

export const DEFAULT_SYNC_SETTINGS: SyncSettings = {
  mode: 'sync',
  asyncDelayMs: 0,
  statuses: { healthy: 'active', failed: 'error', pending: 'syncing' },
  syncTimeoutMs: 5_000,
  managedSecretIds: 'stable',
  maxServersPerTeamspace: LIMITS.serversPerTeamspace,
};

export interface ApiKeySpec {
  key: string;
  /** Used when a request has no `Datagrid-Teamspace` header. @default 'ts_default' */
  teamspace?: string;
  /** Teamspaces the key may name; others answer 403. @default any */
  teamspaces?: string[];
}

/** What the emulator stores for one server: the public object plus what only a test may see. */
export interface EmulatedServer {
  teamspace: string;
  /** Exactly what `GET /organization/mcp-servers/{id}` returns. */
  server: McpServer;
  /** The Authorization value Datagrid would send to the MCP server now (test-only: it is a credential). */
  authorization: string | null;
  authorizationSource: 'managed' | 'caller' | null;
  /** Every Authorization value the server was given, oldest first (test-only). */
  authorizationHistory: string[];
  managedSecretId: string | null;
  /** Re-syncs that completed (worked or failed). */
  syncCount: number;
  /** Why the last re-sync failed (`HTTP 401`, `timeout`, ...), null when it worked. */
  lastSyncError: string | null;
  /** A re-sync is scheduled or running. */
  syncing: boolean;
}

interface ServerRecord {
  teamspace: string;
  server: McpServer;
  managedSecretId: string | null;
  authorizationHistory: string[];
  lastSyncedMs: number;
  syncGeneration: number;
  syncCount: number;
  lastSyncError: string | null;
  syncing: boolean;
  deleted: boolean;
}

interface SecretRecord {
  secret: Secret;
  teamspace: string;
  value: string;
  /** Set for a Datagrid-managed secret: the server it was created for. */
  managedFor: string | null;
  seq: number;
}

interface KeyRecord {
  teamspace: string;
  teamspaces: Set<string> | undefined;
  revoked: boolean;
}

export const DEFAULT_TEAMSPACE = 'ts_default';

const notFound = (what: string, id: string): ApiError => new ApiError(404, 'not_found', `${what} ${id} not found`);
const newId = (prefix: string): string => `${prefix}_${randomBytes(8).toString('hex')}`;

export class EmulatorStore {
  settings: SyncSettings;
  readonly #keys = new Map<string, KeyRecord>();
  readonly #servers = new Map<string, ServerRecord>();
  readonly #secrets = new Map<string, SecretRecord>();
  /** Sequence numbers of every secret ever created, so a cursor stays valid after its secret is deleted. */
  readonly #secretSeq = new Map<string, number>();
  readonly #background = new Set<Promise<void>>();
  readonly #closing = new AbortController();
  #seq = 0;

  constructor(settings: SyncSettingsInput = {}) {
    this.settings = mergeSettings(DEFAULT_SYNC_SETTINGS, settings);
  }

  configure(input: SyncSettingsInput): void {
    this.settings = mergeSettings(this.settings, input);
  }

  // ---------- API keys ----------

  addKey(spec: ApiKeySpec): void {
    if (!spec.key) throw new Error('API key: expected a non-empty string');
    this.#keys.set(spec.key, {
      teamspace: spec.teamspace ?? DEFAULT_TEAMSPACE,
      teamspaces: spec.teamspaces ? new Set(spec.teamspaces) : undefined,
      revoked: false,
    });
  }

  revokeKey(key: string): void {
    const record = this.#keys.get(key);
    if (!record) throw new Error('revoke: that API key was never added');
    record.revoked = true;
  }

  /** The teamspace a request acts in. Messages never echo the key. */
  authenticate(authorization: string | undefined, teamspaceHeader: string | undefined): string {
    const key = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (key === undefined) {
      throw new ApiError(401, 'authentication_error', 'Missing API key: send Authorization: Bearer <API key>');
    }
    const record = this.#keys.get(key);
    if (!record || record.revoked) throw new ApiError(401, 'authentication_error', 'Invalid or revoked API key');
    const teamspace = teamspaceHeader?.trim() || record.teamspace;
    if (record.teamspaces && !record.teamspaces.has(teamspace) && teamspace !== record.teamspace) {
      throw new ApiError(403, 'permission_denied', `This API key has no access to teamspace ${teamspace}`);
    }
    return teamspace;
  }

  // ---------- MCP servers ----------

  listServers(teamspace: string): McpServer[] {
    return this.#serversOf(teamspace).map((r) => structuredClone(r.server));
  }

  getServer(teamspace: string, id: string): McpServer {
    return structuredClone(this.#server(teamspace, id).server);
  }

  async createServer(teamspace: string, fields: ServerFields): Promise<McpServer> {
    const max = this.settings.maxServersPerTeamspace;
    if (this.#serversOf(teamspace).length >= max) {
      throw new ApiError(422, 'limit_exceeded', `Teamspace ${teamspace} already has ${max} MCP servers (the limit)`);
    }
    this.#checkSecretReference(teamspace, fields, null);
    const now = new Date().toISOString();
    const record: ServerRecord = {
      teamspace,
      server: {
        object: 'mcp_server',
        id: newId('mcp'),
        name: fields.name!,
        base_url: fields.base_url!,
        transport: fields.transport ?? 'http',
        status: this.settings.statuses.pending,
        icon_url: fields.icon_url ?? null,
        protocol_version: fields.protocol_version ?? null,
        authorization_secret_id: null,
        metadata: { requires_oauth: false, oauth_configured: false, tool_count: 0 },
        created_at: now,
        updated_at: now,
      },
      managedSecretId: null,
      authorizationHistory: [],
      lastSyncedMs: 0,
      syncGeneration: 0,
      syncCount: 0,
      lastSyncError: null,
      syncing: false,
      deleted: false,
    };
    this.#servers.set(record.server.id, record);
    this.#applyAuth(record, fields);
    await this.#resync(record);
    return structuredClone(record.server);
  }

  async updateServer(teamspace: string, id: string, fields: ServerFields): Promise<McpServer> {
    const record = this.#server(teamspace, id);
    this.#checkSecretReference(teamspace, fields, record);
    const { server } = record;
    if (fields.name !== undefined) server.name = fields.name;
    if (fields.base_url !== undefined) server.base_url = fields.base_url;
    if (fields.transport !== undefined) server.transport = fields.transport ?? 'http';
    if (fields.icon_url !== undefined) server.icon_url = fields.icon_url;
    if (fields.protocol_version !== undefined) server.protocol_version = fields.protocol_version;
    this.#applyAuth(record, fields);
    server.updated_at = new Date().toISOString();
    // Datagrid re-syncs when connectivity or auth fields are sent; sending the same value again still rotates
    // the managed secret, so presence (not difference) is what counts here.
    if (
      fields.base_url !== undefined ||
      fields.authorization !== undefined ||
      fields.authorization_secret_id !== undefined
    ) {
      await this.#resync(record);
    }
    return structuredClone(server);
  }

  deleteServer(teamspace: string, id: string): void {
    const record = this.#server(teamspace, id);
    this.#unlinkManaged(record);
    record.deleted = true;
    this.#servers.delete(id);
  }

  inspect(teamspace?: string): EmulatedServer[] {
    return [...this.#servers.values()]
      .filter((r) => teamspace === undefined || r.teamspace === teamspace)
      .map((r) => this.#inspectRecord(r));
  }

  inspectOne(id: string): EmulatedServer | undefined {
    const record = this.#servers.get(id);
    return record && this.#inspectRecord(record);
  }

  // ---------- caller-managed secrets ----------

  createSecret(teamspace: string, fields: SecretFields): Secret {
    return structuredClone(this.#newSecret(teamspace, fields.name, fields.value, null).secret);
  }

  getSecret(teamspace: string, id: string): Secret {
    return structuredClone(this.#callerSecret(teamspace, id).secret);
  }

  listSecrets(teamspace: string, page: PageQuery): { object: 'list'; data: Secret[]; has_more: boolean } {
    const all = [...this.#secrets.values()]
      .filter((s) => s.teamspace === teamspace && s.managedFor === null)
      .sort((a, b) => a.seq - b.seq);
    const cursorSeq = (id: string, param: string): number => {
      const seq = this.#secretSeq.get(id);
      if (seq === undefined) throw new ApiError(422, 'validation_error', `${param}: unknown cursor ${id}`, param);
      return seq;
    };
    let window: SecretRecord[];
    if (page.after !== undefined) {
      const after = cursorSeq(page.after, 'after');
      const rest = all.filter((s) => s.seq > after);
      window = rest.slice(0, page.limit);
      return { object: 'list', data: window.map((s) => structuredClone(s.secret)), has_more: rest.length > page.limit };
    }
    if (page.before !== undefined) {
      const before = cursorSeq(page.before, 'before');
      const rest = all.filter((s) => s.seq < before);
      window = rest.slice(Math.max(0, rest.length - page.limit));
      return { object: 'list', data: window.map((s) => structuredClone(s.secret)), has_more: rest.length > page.limit };
    }
    window = all.slice(0, page.limit);
    return { object: 'list', data: window.map((s) => structuredClone(s.secret)), has_more: all.length > page.limit };
  }

  deleteSecret(teamspace: string, id: string): void {
    this.#callerSecret(teamspace, id);
    // A secret a server still uses cannot be deleted: the server would be left pointing at nothing.
    const user = [...this.#servers.values()].find((r) => !r.deleted && r.server.authorization_secret_id === id);
    if (user) {
      throw new ApiError(409, 'conflict', `Secret ${id} is referenced by MCP server ${user.server.id}`);
    }
    this.#secrets.delete(id);
  }

  /** Test-only: deletes a secret even while a server references it (as Datagrid itself might), leaving the id dangling. */
  dropSecret(id: string): void {
    if (!this.#secrets.delete(id)) throw notFound('Secret', id);
  }

  /** Test-only: sets metadata keys Datagrid maintains itself (e.g. `requires_oauth` of a server behind OAuth). */
  setMetadata(id: string, fields: Record<string, unknown>): void {
    const record = this.#servers.get(id);
    if (!record) throw notFound('MCP server', id);
    record.server.metadata = { ...record.server.metadata, ...fields };
  }

  // ---------- lifecycle ----------

  /** Resolves when no background re-sync is scheduled or running. */
  async idle(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }

  async close(): Promise<void> {
    this.#closing.abort();
    await this.idle();
  }

  // ---------- internals ----------

  #serversOf(teamspace: string): ServerRecord[] {
    return [...this.#servers.values()].filter((r) => r.teamspace === teamspace);
  }

  #server(teamspace: string, id: string): ServerRecord {
    const record = this.#servers.get(id);
    if (!record || record.teamspace !== teamspace) throw notFound('MCP server', id);
    return record;
  }

  #callerSecret(teamspace: string, id: string): SecretRecord {
    const record = this.#secrets.get(id);
    // Managed secrets belong to their server and are not part of the user-created secrets API.
    if (!record || record.teamspace !== teamspace || record.managedFor !== null) throw notFound('Secret', id);
    return record;
  }

  #newSecret(teamspace: string, name: string, value: string, managedFor: string | null): SecretRecord {
    const seq = ++this.#seq;
    const record: SecretRecord = {
      secret: { id: newId('secret'), object: 'secret', name, created_at: new Date().toISOString() },
      teamspace,
      value,
      managedFor,
      seq,
    };
    this.#secrets.set(record.secret.id, record);
    this.#secretSeq.set(record.secret.id, seq);
    return record;
  }

  /** Fails before anything changes when `authorization_secret_id` (and no `authorization`) names no usable secret. */
  #checkSecretReference(teamspace: string, fields: ServerFields, record: ServerRecord | null): void {
    const id = fields.authorization_secret_id;
    if (fields.authorization !== undefined || id === undefined || id === null) return;
    if (record && id === record.managedSecretId) return;
    const secret = this.#secrets.get(id);
    if (!secret || secret.teamspace !== teamspace || secret.managedFor !== null) {
      throw new ApiError(
        422,
        'validation_error',
        `authorization_secret_id: no secret ${id} in teamspace ${teamspace}`,
        'authorization_secret_id',
      );
    }
  }

  /** `authorization` wins over `authorization_secret_id` when both are sent (datagrid-api.md). */
  #applyAuth(record: ServerRecord, fields: ServerFields): void {
    const { server } = record;
    if (fields.authorization !== undefined) {
      const value = fields.authorization;
      if (value === null) {
        this.#unlinkManaged(record);
        server.authorization_secret_id = null;
        return;
      }
      const managed = record.managedSecretId === null ? undefined : this.#secrets.get(record.managedSecretId);
      if (managed && this.settings.managedSecretIds === 'stable') {
        managed.value = value;
      } else {
        this.#unlinkManaged(record);
        const created = this.#newSecret(record.teamspace, `mcp-server-${server.id}-authorization`, value, server.id);
        record.managedSecretId = created.secret.id;
      }
      server.authorization_secret_id = record.managedSecretId;
      record.authorizationHistory.push(value);
      return;
    }
    if (fields.authorization_secret_id !== undefined) {
      const id = fields.authorization_secret_id;
      if (id !== null && id === record.managedSecretId) return;
      this.#unlinkManaged(record);
      server.authorization_secret_id = id;
      const value = id === null ? undefined : this.#secrets.get(id)?.value;
      if (value !== undefined) record.authorizationHistory.push(value);
    }
  }

  /** Datagrid deletes only the secrets it created from `authorization`. */
  #unlinkManaged(record: ServerRecord): void {
    if (record.managedSecretId === null) return;
    this.#secrets.delete(record.managedSecretId);
    if (record.server.authorization_secret_id === record.managedSecretId) record.server.authorization_secret_id = null;
    record.managedSecretId = null;
  }

  #authorizationOf(record: ServerRecord): string | null {
    const id = record.server.authorization_secret_id;
    return id === null ? null : (this.#secrets.get(id)?.value ?? null);
  }

  #resync(record: ServerRecord): Promise<void> {
    const generation = ++record.syncGeneration;
    const settings = this.settings;
    record.server.status = settings.statuses.pending;
    record.syncing = true;
    if (settings.mode === 'sync') return this.#runSync(record, generation);
    const task = (async () => {
      if (settings.asyncDelayMs > 0) {
        await delay(settings.asyncDelayMs, undefined, { signal: this.#closing.signal }).catch(() => undefined);
      }
      if (!this.#closing.signal.aborted) await this.#runSync(record, generation);
    })();
    this.#background.add(task);
    void task.finally(() => this.#background.delete(task));
    return Promise.resolve();
  }

  async #runSync(record: ServerRecord, generation: number): Promise<void> {
    const outcome = await syncTools(record.server.base_url, this.#authorizationOf(record), this.settings.syncTimeoutMs);
    // A later write started its own re-sync: this older result must not overwrite it.
    if (record.deleted || record.syncGeneration !== generation) return;
    const { statuses } = this.settings;
    record.syncing = false;
    record.syncCount += 1;
    if (!outcome.ok) {
      record.server.status = statuses.failed;
      record.lastSyncError = outcome.error;
      return;
    }
    // Strictly increasing even within one millisecond, so "synced after the PATCH" is always decidable.
    const syncedMs = Math.max(Date.now(), record.lastSyncedMs + 1);
    record.lastSyncedMs = syncedMs;
    record.lastSyncError = null;
    record.server.status = statuses.healthy;
    record.server.metadata = {
      ...record.server.metadata,
      tool_count: outcome.toolCount,
      last_synced_at: new Date(syncedMs).toISOString(),
    };
  }

  #inspectRecord(record: ServerRecord): EmulatedServer {
    const secretId = record.server.authorization_secret_id;
    return {
      teamspace: record.teamspace,
      server: structuredClone(record.server),
      authorization: this.#authorizationOf(record),
      authorizationSource: secretId === null ? null : secretId === record.managedSecretId ? 'managed' : 'caller',
      authorizationHistory: [...record.authorizationHistory],
      managedSecretId: record.managedSecretId,
      syncCount: record.syncCount,
      lastSyncError: record.lastSyncError,
      syncing: record.syncing,
    };
  }
}

function mergeSettings(base: SyncSettings, input: SyncSettingsInput): SyncSettings {
  const merged: SyncSettings = {
    ...base,
    ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
    statuses: { ...base.statuses, ...input.statuses },
  };
  if (merged.mode !== 'sync' && merged.mode !== 'async') throw new Error('syncMode: expected "sync" or "async"');
  if (!(merged.asyncDelayMs >= 0)) throw new Error('asyncDelayMs: expected a number >= 0');
  if (!(merged.syncTimeoutMs > 0)) throw new Error('syncTimeoutMs: expected a number > 0');
  if (!(Number.isInteger(merged.maxServersPerTeamspace) && merged.maxServersPerTeamspace > 0)) {
    throw new Error('maxServersPerTeamspace: expected a positive integer');
  }
  return merged;
}
