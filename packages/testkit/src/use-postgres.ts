/**
 * A throwaway PostgreSQL shared by the tests of one `describe` block: started once before them
 * (initdb and the start take seconds), stopped with its folder removed after them, whatever
 * happened. Each test keeps its rows apart by its own tokens; the server is not reset between tests.
 */
import { startPostgres, type TestPostgres } from './postgres.js';

export interface PostgresBed {
  /** The server (set in `before`). */
  readonly db: TestPostgres;
}

/** Call inside a `describe`: registers the hooks and returns the bed. */
export function usePostgres(): PostgresBed {
  let db: TestPostgres | undefined;
  before(async function () {
    this.timeout(60_000);
    db = await startPostgres();
  });
  after(() => {
    db?.stop();
    db = undefined;
  });
  return {
    get db(): TestPostgres {
      if (db === undefined) throw new Error('the test PostgreSQL exists only inside the tests of its describe block');
      return db;
    },
  };
}
