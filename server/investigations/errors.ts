/** Something the caller named does not exist: the API answers 404 with the message. */
export class NotFoundError extends Error {}

export class InvestigationNotFoundError extends NotFoundError {
  constructor(readonly id: string) {
    super(`no investigation ${id}`);
  }
}
