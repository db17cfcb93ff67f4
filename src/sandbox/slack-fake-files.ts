// Slack's file upload flow, as the fake serves it: `files.getUploadURLExternal` reserves a file id
// and a one-time upload URL for a declared length; the bytes are POSTed there (raw, or multipart as
// @slack/web-api's filesUploadV2 sends them); `files.completeUploadExternal` shares the uploaded
// files into a channel or a thread, where they appear as a message. The console shows images from
// GET /files/<id>.
// It must never complete a file whose bytes did not arrive, accept more or fewer bytes than were
// declared, or take an upload URL twice: the three steps are separate in Slack and can fail apart.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, isRecord, randomId, readBytes, str } from './slack-fake-api.ts';

export interface FakeFile {
  id: string;
  name: string;
  title: string;
  mimetype: string;
  size: number;
  alt_text?: string;
  bytes: Buffer;
}

/** Larger than any chart; Slack's own limit is 1 GB. */
const MAX_FILE_BYTES = 8 * 1024 * 1024;
const UPLOAD_TTL_MS = 10 * 60_000;

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const mimetypeOf = (b: Buffer, name: string): string =>
  b.subarray(0, 8).equals(PNG) ? 'image/png' : name.endsWith('.json') ? 'application/json' : 'application/octet-stream';

export class FakeFiles {
  private readonly reserved = new Map<string, { file_id: string; filename: string; length: number; alt_text?: string; expires: number }>();
  private readonly files = new Map<string, FakeFile>();

  constructor(private readonly baseUrl: () => string) {}

  /** files.getUploadURLExternal */
  reserve(args: Record<string, unknown>): { upload_url: string; file_id: string } {
    const filename = str(args.filename);
    const length = Number(args.length);
    if (!filename) throw new ApiError('invalid_arguments', { detail: 'filename is required' });
    if (!Number.isInteger(length) || length <= 0) throw new ApiError('invalid_arguments', { detail: 'length must be a positive integer' });
    if (length > MAX_FILE_BYTES) throw new ApiError('file_too_large');
    const file_id = `F${randomId(10).toUpperCase()}`;
    const token = randomId(24);
    const alt = str(args.alt_text);
    this.reserved.set(token, { file_id, filename, length, ...(alt ? { alt_text: alt } : {}), expires: Date.now() + UPLOAD_TTL_MS });
    return { upload_url: `${this.baseUrl()}/upload/${token}`, file_id };
  }

  /** POST /upload/<token>: the bytes, raw or as the one file of a multipart form. */
  async receive(req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
    const slot = this.reserved.get(token);
    const raw = await readBytes(req, MAX_FILE_BYTES + 64 * 1024);
    if (!slot || slot.expires < Date.now()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('upload URL unknown or expired');
      return;
    }
    const type = req.headers['content-type'] ?? '';
    let bytes = raw;
    if (type.startsWith('multipart/form-data')) {
      const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': type } }).formData();
      const part = [...form.values()].find((v): v is File => typeof v !== 'string');
      if (!part) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('multipart upload without a file part');
        return;
      }
      bytes = Buffer.from(await part.arrayBuffer());
    }
    if (bytes.length !== slot.length) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`declared ${slot.length} bytes, received ${bytes.length}`);
      return;
    }
    this.reserved.delete(token);
    this.files.set(slot.file_id, {
      id: slot.file_id,
      name: slot.filename,
      title: slot.filename,
      mimetype: mimetypeOf(bytes, slot.filename),
      size: bytes.length,
      ...(slot.alt_text ? { alt_text: slot.alt_text } : {}),
      bytes,
    });
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${bytes.length}`);
  }

  /** files.completeUploadExternal: the uploaded files with their titles; throws for a file whose bytes never came. */
  complete(args: Record<string, unknown>): FakeFile[] {
    let list: unknown = args.files;
    if (typeof list === 'string') {
      try {
        list = JSON.parse(list);
      } catch {
        throw new ApiError('invalid_arguments', { detail: 'files must be a JSON array' });
      }
    }
    if (!Array.isArray(list) || list.length === 0) throw new ApiError('invalid_arguments', { detail: 'files must be a non-empty array' });
    return list.map((f) => {
      const id = isRecord(f) ? str(f.id) : undefined;
      const file = id ? this.files.get(id) : undefined;
      if (!file) throw new ApiError('file_not_found');
      const title = isRecord(f) ? str(f.title) : undefined;
      if (title) file.title = title;
      return file;
    });
  }

  get(id: string): FakeFile | undefined {
    return this.files.get(id);
  }

  /** What a message's `files` shows of a file (Slack's file object, without the bytes). */
  json(f: FakeFile): Record<string, unknown> {
    return {
      id: f.id,
      name: f.name,
      title: f.title,
      mimetype: f.mimetype,
      filetype: f.mimetype === 'image/png' ? 'png' : 'binary',
      size: f.size,
      ...(f.alt_text ? { alt_txt: f.alt_text } : {}),
      url_private: `${this.baseUrl()}/files/${f.id}`,
    };
  }

  /** GET /files/<id> */
  serve(res: ServerResponse, id: string): void {
    const f = this.files.get(id);
    if (!f) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such file');
      return;
    }
    res.writeHead(200, { 'content-type': f.mimetype, 'content-length': f.bytes.length, 'cache-control': 'no-store' }).end(f.bytes);
  }
}
