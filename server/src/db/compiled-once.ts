import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { Database } from './schema.js';

/**
 * Stands for one argument while a query is built: Kysely puts it among the query's parameters, where
 * each run's value goes. Any other use (arithmetic, a template string, a comparison) would bake one
 * run's value into the SQL, so it throws on the first build instead.
 */
class Argument {
  constructor(readonly name: string) {}
  [Symbol.toPrimitive](): never {
    throw new Error(`compiledOnce: argument "${this.name}" was used while building the query; hand it to Kysely as a value, unchanged`);
  }
}

interface Compiled<Row> {
  query: CompiledQuery<Row>;
  /** For each parameter, the argument it takes, or null for a value fixed when the query was built. */
  arguments: (string | null)[];
}

/** Compiled queries by dialect (adapter), then by each plugin in the chain (a plugin may rewrite queries as they compile), then by variant. */
interface CacheNode<Row> {
  variants: Map<string | number, Compiled<Row>>;
  next: WeakMap<object, CacheNode<Row>>;
}

/** The compiled query under `path` (the adapter, then each plugin) and `variant`, compiled now if it is not yet. */
function cachedOrCompiled<Row>(
  roots: WeakMap<object, CacheNode<Row>>,
  path: readonly object[],
  variant: string | number,
  compile: () => Compiled<Row>,
): Compiled<Row> {
  let level = roots;
  let node: CacheNode<Row> | undefined;
  for (const step of path) {
    node = level.get(step);
    if (!node) {
      node = { variants: new Map(), next: new WeakMap() };
      level.set(step, node);
    }
    level = node.next;
  }
  if (!node) throw new Error('compiledOnce: the executor has no adapter');
  let compiled = node.variants.get(variant);
  if (!compiled) {
    compiled = compile();
    node.variants.set(variant, compiled);
  }
  return compiled;
}

/**
 * A query that Kysely builds and compiles once, then runs with each call's values. On the login path,
 * building and compiling a statement cost the server more than SQLite's execution of it (measured under
 * load; docs/performance.md), and its SQL text is the same on every call, so that work is done once per
 * database and each run only binds its values.
 *
 * `build` gets the database (it may ask its dialect) and stand-ins for the arguments, and must hand each
 * stand-in to Kysely as a value, unchanged: a `where` operand, an inserted value, an item of an `in`
 * list. Anything else throws when the query is first built. A query whose shape varies (how many keys
 * an `in` list holds) takes a `variant` that says which shape; each variant is compiled once (a variant
 * that is not a string or number gives its cache key through `variantKey`).
 *
 * @example
 * const findUser = compiledOnce((db, args: { id: string }) => db.selectFrom('users').selectAll().where('id', '=', args.id));
 * const [user] = (await findUser(db, { id })).rows;
 */
export function compiledOnce<Args extends Record<string, unknown>, Row, Variant = ''>(
  build: (db: Kysely<Database>, args: Args, variant: Variant) => Compilable<Row>,
  /** The cache key of a variant that is not itself a string or number: equal keys must mean the same shape. */
  variantKey: (variant: Variant) => string | number = (variant) => variant as string | number,
): (db: Kysely<Database>, args: Args, ...variant: Variant extends '' ? [] : [Variant]) => Promise<QueryResult<Row>> {
  const cache = new WeakMap<object, CacheNode<Row>>();
  // A database's executor is the same object on every call (a transaction's is new each time): the queries
  // compiled for it, found without walking its adapter and plugins.
  const byExecutor = new WeakMap<object, Map<string | number, Compiled<Row>>>();
  const compile = (db: Kysely<Database>, variant: Variant): Compiled<Row> => {
    const standIns = new Proxy({} as Args, { get: (_target, name) => new Argument(String(name)) });
    const query = build(db, standIns, variant).compile();
    return { query, arguments: query.parameters.map((value) => (value instanceof Argument ? value.name : null)) };
  };
  return async (db, args, ...rest) => {
    const variant = (rest[0] ?? '') as Variant;
    const key = variantKey(variant);
    const executor = db.getExecutor();
    let known = byExecutor.get(executor);
    if (!known) {
      known = new Map();
      byExecutor.set(executor, known);
    }
    let compiled = known.get(key);
    if (!compiled) {
      compiled = cachedOrCompiled(cache, [executor.adapter, ...executor.plugins], key, () => compile(db, variant));
      known.set(key, compiled);
    }
    const names = compiled.arguments;
    const parameters = compiled.query.parameters.map((value, index) => {
      const name = names[index];
      if (name === null || name === undefined) return value;
      const argument = args[name];
      if (argument === undefined) throw new Error(`compiledOnce: argument "${name}" is missing`);
      return argument;
    });
    return db.executeQuery({ ...compiled.query, parameters });
  };
}
