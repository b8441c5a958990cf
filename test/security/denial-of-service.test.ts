import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { print, type DocumentNode } from 'graphql';
import WebSocket from 'ws';
import * as uiDocuments from '../../web/src/lib/api/documents.js';
import * as cliDocuments from '../../cli/src/documents.js';
import type { GraphQLTestClient } from '../helpers/graphql.js';
import { createUser, startTestServer, setupAdmin, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Found: a 5 MB chunked body passed the 1 MB limit; one anonymous query with 3,000 aliases ran
 * 3,000 operations; 5,000 subscriptions on one socket by an ordinary user were accepted.
 */
describe('denial of service limits', () => {
  let server: TestServer;
  let userToken: string;
  let userSpaceId: string;

  beforeAll(async () => {
    server = await startTestServer();
    const admin = await setupAdmin(server);
    const user = await createUser(server, admin.client, 'ordinary');
    userToken = user.token;
    // A manual space (no container): its spaceChanged answers with a SNAPSHOT at once.
    const template = await admin.client.data<{ createTemplate: { id: string } }>(
      `mutation($input: TemplateInput!) { createTemplate(input: $input) { id } }`,
      { input: { name: 'laptop', platform: 'MANUAL', job: '' } },
    );
    const space = await admin.client.data<{ createSpace: { id: string } }>(`mutation($input: CreateSpaceInput!) { createSpace(input: $input) { id } }`, {
      input: { templateId: template.createTemplate.id, name: 'laptop', userId: user.userId },
    });
    userSpaceId = space.createSpace.id;
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe('request bodies', () => {
    /** POSTs `body` in 64 KiB chunks with no Content-Length; resolves with the answer and how much got written. */
    const postChunked = (url: string, body: Buffer) =>
      new Promise<{ status: number; connection: string | undefined; text: string }>((resolve, reject) => {
        const req = httpRequest(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } });
        req.on('response', (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, text }));
        });
        req.on('error', reject);
        let offset = 0;
        const pump = () => {
          while (offset < body.length) {
            const chunk = body.subarray(offset, offset + 64 * 1024);
            offset += chunk.length;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
      });

    it('answers 413 to a 5 MB chunked body, and runs nothing of it', async () => {
      // A real operation (the one-time setup) followed by 5 MB of JSON whitespace: Yoga would run it.
      const operation = JSON.stringify({
        query: 'mutation($i: SetupInput!) { setup(input: $i) { id } }',
        variables: { i: { username: 'intruder', email: 'i@example.com', password: 'correct-horse' } },
      });
      const fresh = await startTestServer();
      try {
        const res = await postChunked(fresh.url, Buffer.concat([Buffer.from(operation.slice(0, -1)), Buffer.alloc(5 * 1024 * 1024, ' '), Buffer.from('}')]));
        expect(res.status).toBe(413);
        expect(res.connection).toBe('close');
        expect(JSON.parse(res.text).errors[0]).toMatchObject({ message: 'The request is too large (at most 1 MB).', extensions: { code: 'BAD_USER_INPUT' } });
        const info = await fresh.anonymous.data<{ serverInfo: { setupRequired: boolean } }>('{ serverInfo { setupRequired } }');
        expect(info.serverInfo.setupRequired).toBe(true);
        // Under the limit, chunked still works.
        const small = await postChunked(fresh.url, Buffer.from(JSON.stringify({ query: '{ serverInfo { setupRequired } }' })));
        expect(small.status).toBe(200);
      } finally {
        await fresh.stop();
      }
    });
  });

  describe('query limits', () => {
    const post = (query: string, token?: string) => server.client(token).request(query);

    it('refuses 3,000 aliased logins as one error before any runs', async () => {
      const query = `mutation { ${Array.from({ length: 3000 }, (_, i) => `a${i}: login(username: "admin", password: "guess${i}") { id }`).join(' ')} }`;
      const res = await post(query);
      expect(res.data ?? undefined).toBeUndefined();
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0]!.extensions?.code).toBe('QUERY_TOO_COMPLEX');
      // The admin was not locked out by 3,000 wrong guesses: none of them ran.
      await server.anonymous.login('admin', 'correct-horse');
    });

    it('refuses too many aliases, too deep a selection, and too many tokens, saying which', async () => {
      const aliases = await post(`{ ${Array.from({ length: 16 }, (_, i) => `a${i}: serverInfo { url }`).join(' ')} }`);
      expect(aliases.errors![0]).toMatchObject({ message: 'The query is too complex: Aliases limit of 15 exceeded, found 16.', extensions: { code: 'QUERY_TOO_COMPLEX' } });

      const deep = await post(`{ me { ${'... on User { '.repeat(9)}id${' }'.repeat(9)} } }`, userToken);
      expect(deep.errors![0]!.extensions?.code).toBe('QUERY_TOO_COMPLEX');
      expect(deep.errors![0]!.message).toMatch(/depth limit of 8 exceeded/);

      const tokens = await post(`{ serverInfo { ${'url '.repeat(2100)}} }`);
      expect(tokens.errors![0]).toMatchObject({ message: 'The query is too complex: Token limit of 2000 exceeded.', extensions: { code: 'QUERY_TOO_COMPLEX' } });
    });

    it("lets every operation of the web UI and the CLI through", async () => {
      const documents = [...operations('web', uiDocuments), ...operations('cli', cliDocuments)];
      expect(documents.length).toBeGreaterThan(20);
      const client = server.client(userToken);
      try {
        for (const [name, query] of documents) {
          // Without variables some fail later, at execution; none may fail the limits.
          const codes = query.trimStart().startsWith('subscription') ? await subscriptionCodes(client, query) : ((await post(query, userToken)).errors ?? []).map((e) => e.extensions?.code);
          expect(codes, name).not.toContain('QUERY_TOO_COMPLEX');
        }
        // And a subscription over the limits is refused on the socket too.
        const deep = `subscription($userId: ID) { ${'... on Subscription { '.repeat(9)}spacesChanged(userId: $userId) { kind }${' }'.repeat(9)} }`;
        expect(await subscriptionCodes(client, deep)).toEqual(['QUERY_TOO_COMPLEX']);
      } finally {
        await client.close();
      }
    });
  });

  interface SseStream {
    readonly text: string;
    readonly done: boolean;
    close(): Promise<void>;
  }
  /** spaceChanged as a server-sent event stream, read in the background. */
  const openSse = async (token: string, spaceId: string): Promise<SseStream> => {
    const abort = new AbortController();
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'subscription($id: ID!) { spaceChanged(id: $id) { kind } }', variables: { id: spaceId } }),
      signal: abort.signal,
    });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const stream = { text: '', done: false, close: async () => {} };
    const pump = (async () => {
      try {
        for (;;) {
          const chunk = await reader.read();
          if (chunk.done) break;
          stream.text += decoder.decode(chunk.value, { stream: true });
        }
      } catch {
        // aborted by close()
      }
      stream.done = true;
    })();
    stream.close = async () => {
      abort.abort();
      await pump;
    };
    return stream;
  };

  /** Every operation a client module exports (its fragments alone are not requests), as the text it sends. */
  const operations = (client: string, module: Record<string, unknown>): [string, string][] =>
    Object.entries(module)
      .filter((entry): entry is [string, DocumentNode] => (entry[1] as DocumentNode | undefined)?.kind === 'Document')
      .filter(([, document]) => document.definitions.some((d) => d.kind === 'OperationDefinition'))
      .map(([name, document]) => [`${client} ${name}`, print(document)]);

  /** The codes a subscription's first answer carries: none when its first event arrives. */
  const subscriptionCodes = async (client: GraphQLTestClient, query: string) => {
    // Someone else's ids: past the limits, the subscription is refused at once (NOT_FOUND, FORBIDDEN).
    const elsewhere = '00000000-0000-4000-8000-000000000000';
    const sub = client.subscribe(query, { id: elsewhere, userId: elsewhere });
    await waitFor(() => sub.events.length > 0 || sub.errors.length > 0, { what: 'a first answer' });
    sub.close();
    return (sub.errors.flat() as { extensions?: { code?: string } }[]).map((e) => e.extensions?.code);
  };

  describe('WebSocket caps', () => {
    interface RawSocket {
      ws: WebSocket;
      closed: Promise<{ code: number; reason: string }>;
      acked: Promise<boolean>;
    }
    const sockets: WebSocket[] = [];
    const open = (token: string): RawSocket => {
      const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
      sockets.push(ws);
      const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
      const acked = new Promise<boolean>((resolve) => {
        ws.on('message', (data) => JSON.parse(String(data)).type === 'connection_ack' && resolve(true));
        void closed.then(() => resolve(false));
      });
      ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { token } })));
      return { ws, closed, acked };
    };
    afterAll(() => {
      for (const ws of sockets) ws.terminate();
    });

    it('closes a socket with 4429 once it holds more than 100 subscriptions, and says why', async () => {
      const socket = open(userToken);
      expect(await socket.acked).toBe(true);
      for (let i = 0; i < 5000 && socket.ws.readyState === WebSocket.OPEN; i++) {
        socket.ws.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: { query: 'subscription { spacesChanged { kind } }' } }));
      }
      expect(await socket.closed).toEqual({ code: 4429, reason: 'Too many subscriptions on one connection (at most 100)' });
    });

    it('accepts 50 sockets of one user and closes the 51st with 4429; another user is unaffected', async () => {
      const first = Array.from({ length: 50 }, () => open(userToken));
      expect(await Promise.all(first.map((s) => s.acked))).toEqual(Array(50).fill(true));
      const extra = open(userToken);
      expect(await extra.closed).toEqual({ code: 4429, reason: 'Too many connections for this user (at most 50)' });
      const admin = (await setupAdminToken()) as string;
      expect(await open(admin).acked).toBe(true);
      // A closed socket frees its place.
      first[0]!.ws.close();
      await first[0]!.closed;
      await waitFor(async () => open(userToken).acked, { what: 'a socket accepted again' });
    });

    it('caps subscriptions over server-sent events at 50 per user, and frees a place when one ends', async () => {
      const streams: SseStream[] = [];
      try {
        for (let i = 0; i < 50; i++) streams.push(await openSse(userToken, userSpaceId));
        await waitFor(() => streams.every((s) => s.text.includes('SNAPSHOT')), { what: '50 snapshots' });
        const refused = await openSse(userToken, userSpaceId);
        streams.push(refused);
        await waitFor(() => refused.done, { what: 'the 51st stream to end' });
        expect(refused.text).toContain('TOO_MANY_SUBSCRIPTIONS');
        expect(refused.text).not.toContain('SNAPSHOT');

        await streams[0]!.close();
        await waitFor(
          async () => {
            const again = await openSse(userToken, userSpaceId);
            streams.push(again);
            await waitFor(() => again.done || again.text.includes('SNAPSHOT'), { what: 'an answer' });
            return again.text.includes('SNAPSHOT');
          },
          { what: 'a stream accepted again after one closed' },
        );
      } finally {
        await Promise.all(streams.map((s) => s.close()));
      }
    });

    const setupAdminToken = async () => (await server.anonymous.login('admin', 'correct-horse')).createToken('second');
  });
});
