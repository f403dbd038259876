import { DomainError } from '@ctxlab/contracts';

/**
 * One finding about an imported file. `message` stands alone ("config.json: num_hidden_layers is
 * missing …") so a list of them reads without the other fields.
 */
export interface HubIssue {
  /** The file, relative to the repository root. */
  file: string;
  /** The JSON field (Hugging Face's name), a tensor name, or 'header' for a safetensors header. */
  field: string;
  message: string;
  /** 'error': the import is refused (HubImportError); 'warning': imported, but read this. */
  severity: 'error' | 'warning';
}

/** The import was refused: `issues` lists every error found (and the warnings beside them). */
export class HubImportError extends DomainError<'HUB_IMPORT'> {
  override readonly name = 'HubImportError';
  constructor(readonly issues: HubIssue[]) {
    const errors = issues.filter((i) => i.severity === 'error');
    super('BAD_REQUEST', errors.map((i) => i.message).join('\n'), errors[0]?.field, { code: 'HUB_IMPORT', fieldIsInput: false });
  }
}

/** Collects issues while a file is read; `fail` throws at once for problems nothing after can work around. */
export class IssueLog {
  readonly issues: HubIssue[] = [];
  error(file: string, field: string, message: string): void {
    this.issues.push({ file, field, message: `${file}: ${message}`, severity: 'error' });
  }
  warn(file: string, field: string, message: string): void {
    this.issues.push({ file, field, message: `${file}: ${message}`, severity: 'warning' });
  }
  fail(file: string, field: string, message: string): never {
    this.error(file, field, message);
    throw new HubImportError(this.issues);
  }
  get hasErrors(): boolean {
    return this.issues.some((i) => i.severity === 'error');
  }
  /** Throws the collected issues when any is an error. */
  throwIfErrors(): void {
    if (this.hasErrors) throw new HubImportError(this.issues);
  }
}
