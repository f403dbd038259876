import { DomainError } from '@ctxlab/contracts';

interface KnownPrismaError {
  code: string;
  meta?: { target?: unknown; modelName?: string; field_name?: unknown; driverAdapterError?: { cause?: { constraint?: { fields?: string[]; index?: string }; table?: string; originalCode?: string } } };
  message: string;
}

function isKnown(e: unknown): e is KnownPrismaError {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' && /^P\d{4}$/.test((e as { code: string }).code);
}

function uniqueFields(e: KnownPrismaError): string[] {
  const t = e.meta?.target;
  if (Array.isArray(t)) return t.map(String);
  if (typeof t === 'string') return [t];
  const c = e.meta?.driverAdapterError?.cause;
  const f = c?.constraint?.fields;
  if (Array.isArray(f)) return f.map((x) => x.replace(/"/g, ''));
  // The pg adapter names the index (Prisma's convention: Table_field1_field2_key).
  const index = c?.constraint?.index;
  const table = c?.table;
  if (index && table && index.startsWith(`${table}_`) && index.endsWith('_key')) return index.slice(table.length + 1, -4).split('_');
  return [];
}

/**
 * Turns what the database refuses into domain errors with a message that names the field, so a
 * bad request never surfaces as an internal error with a stack trace.
 */
export function translateDbError(e: unknown, entity: string): never {
  if (e instanceof DomainError) throw e;
  if (isKnown(e)) {
    // What PostgreSQL refuses of a value itself; the API's schemas refuse these first, this keeps
    // a value that slipped past them a bad request.
    const sqlState = e.meta?.driverAdapterError?.cause?.originalCode;
    if (sqlState === '22021') throw new DomainError('BAD_REQUEST', `${entity}: a text value contains a NUL character`);
    if (sqlState === '22003') throw new DomainError('BAD_REQUEST', `${entity}: a number is out of range for its column`);
    switch (e.code) {
      case 'P2002': {
        const fields = uniqueFields(e);
        throw new DomainError('CONFLICT', `a ${entity} with this ${fields.join(' + ') || 'value'} already exists`, fields[0]);
      }
      case 'P2025':
      case 'P2001':
        throw new DomainError('NOT_FOUND', `${entity} not found`);
      case 'P2003':
        throw new DomainError('BAD_REQUEST', `${entity} refers to something that does not exist, or is still referred to (${String(e.meta?.field_name ?? 'foreign key')})`);
      case 'P2000':
        throw new DomainError('BAD_REQUEST', `a value is too long for ${entity}`);
      case 'P2006':
      case 'P2007':
      case 'P2009':
      case 'P2012':
      case 'P2011':
        throw new DomainError('BAD_REQUEST', `${entity}: ${e.message.split('\n').pop()}`);
    }
  }
  throw e;
}

export async function guard<T>(entity: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    translateDbError(e, entity);
  }
}
