// The shape of the library, as a rule (`npm run lint:deps`, part of `npm test`; see
// docs/ARCHITECTURE.md). Each room of src/ stands on a floor and imports only rooms on
// floors below it: never a room above, never a neighbour on its own floor. No circle of
// imports, type-only ones included. Tests, benchmarks and examples stand outside and may
// import anything; the library never imports them. test/dependency-rules.test.ts plants
// one violation of each rule and checks that the rule reports it.

/** From the ground up: each floor's rooms, by path (a folder or one file). */
export const FLOORS = [
  // The ground: public types, errors, validation, options, the engine contract; paths of the package.
  { api: '^src/api/', paths: '^src/paths\\.ts$' },
  // The SQL catalogue of operations; engine-neutral diagnostics (index requirements, report, stats);
  // telemetry, which wraps any engine through the contract.
  { catalogue: '^src/catalogue/', diagnostics: '^src/diagnostics/', telemetry: '^src/telemetry/' },
  // The services (argument checks, then a catalogue operation on an engine) and the two engines.
  { services: '^src/services/', sqlite: '^src/sqlite/', postgres: '^src/postgres/' },
  // The composition root; the SQLite-to-PostgreSQL copier; the thread entry files.
  { store: '^src/store\\.ts$', copy: '^src/copy/', workers: '^workers/' },
  // The package entry, the framework adapters (each its own entry), the command line.
  { index: '^src/index\\.ts$', langgraph: '^src/langgraph/', adk: '^src/adk/', cli: '^src/cli/' },
  // The benchmark's one way in (src/internal.ts): it re-exports engine pieces and the CLI's helpers.
  { internal: '^src/internal\\.ts$' },
];

const roomRules = FLOORS.flatMap((rooms, i) => {
  const below = FLOORS.slice(0, i).flatMap((floor) => Object.values(floor));
  return Object.entries(rooms).map(([room, path]) => ({
    name: `room-${room}`,
    severity: 'error',
    comment:
      `${path} stands on floor ${i + 1}: it imports only itself and the floors below ` +
      `(${below.length === 0 ? 'none: it is the ground' : below.join(' ')}); docs/ARCHITECTURE.md says why`,
    from: { path },
    to: { path: '^(src|workers)/', pathNot: [path, ...below] },
  }));
});

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A circle of imports: no room may reach itself again, type-only imports included.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'library-imports-no-test-or-bench',
      severity: 'error',
      comment: 'The library and its threads never import the tests, the benchmark or the examples.',
      from: { path: '^(src|workers)/' },
      to: { path: '^(test|bench|examples)/' },
    },
    ...roomRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are arrows too: a type that runs upward ties the floors as much as a value.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
