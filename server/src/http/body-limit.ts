import type { IncomingMessage, ServerResponse } from 'node:http';
import getRawBody from 'raw-body';

/**
 * Reads a request body of at most `limit` bytes, counting as it streams: a chunked body has no
 * Content-Length to check, and one that lies about it is cut off at the limit too. Past the limit
 * the request is answered 413, reading stops and the connection is closed, so nothing beyond the
 * limit is buffered. Resolves to null when the request was answered (or went away) instead.
 */
export async function readBodyWithin(req: IncomingMessage, res: ServerResponse, limit: number, tooLarge: string): Promise<Buffer | null> {
  try {
    return await getRawBody(req, { limit, length: req.headers['content-length'] });
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status === 413) {
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ errors: [{ message: tooLarge, extensions: { code: 'BAD_USER_INPUT' } }] }));
    } else if (!res.headersSent && !req.destroyed) {
      // A body shorter than its Content-Length, or a broken stream.
      res.writeHead(400, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ errors: [{ message: 'The request body could not be read.', extensions: { code: 'BAD_USER_INPUT' } }] }));
    }
    return null;
  }
}
